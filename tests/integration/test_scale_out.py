"""Scale-out: several ingestion workers in one consumer group share a topic's partitions.

Two workers (each its own Container and Registry, on the SAME PostgreSQL schema, in the same
group, each in its own thread) read a 6-partition topic while publications for 200 generated
entities are produced. The second worker joins after the first has begun (a rebalance), then the
first stops half-way (another). Every publication is applied exactly once, and each entity's
publications are applied in the order they were produced (the key is the USCC).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from domain.uscc import partition_key
from infra.bootstrap import Container
from infra.datagen.generator import generate
from infra.settings import Settings
from ingestion.worker import IngestionWorker
from tests.builders import TODAY, platform_signed
from tests.integration.conftest import SettingsFactory
from tests.integration.flow import encode, wait_for
from tests.integration.ordering import entity_publications, expected_order

pytestmark = pytest.mark.engines

ENTITIES = 200
PARTITIONS = 6
SEED = 7  # one entity's licence comes before its registration: parked, then released
WAIT_S = 90.0


class ObservedWorker(IngestionWorker):
    """The ingestion worker, noting each (re)assignment it receives."""

    def __init__(self, container: Container) -> None:
        s = container.settings
        super().__init__(
            container.registry,
            container.log,
            s.publications_topic,
            s.dlq_topic,
            s.consumer_group,
            100,
            verifier=container.verifier,
        )
        self.assignments: list[list[int]] = []

    def _seek_to_recorded(self, partitions: list[int]) -> None:
        super()._seek_to_recorded(partitions)
        self.assignments.append(sorted(partitions))

    @property
    def applied(self) -> int:
        return self.counts["applied"] + self.counts["parked"]


class WorkerThread:
    def __init__(self, settings: Settings, name: str) -> None:
        self.container = Container(settings)
        self.worker = ObservedWorker(self.container)
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run_forever()
        finally:
            self.worker.close()  # leaves the group: the others rebalance at once

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), f"{self.thread.name} did not stop"

    def close(self) -> None:
        if self.thread.is_alive():
            self.stop()
        self.container.close()


class PhasedProducer(threading.Thread):
    """Produces the messages in phases, small chunks at a time; each phase after the first waits
    for `release()` so the test decides what the workers are doing while it flows."""

    def __init__(self, container: Container, phases: Sequence[Sequence[dict[str, Any]]]) -> None:
        super().__init__(name="producer", daemon=True)
        self.log = container.log
        self.topic = container.settings.publications_topic
        self.sign = platform_signed(container)
        self.phases = phases
        self.gates = [threading.Event() for _ in phases]
        self.gates[0].set()
        self.sent = 0
        self.error: BaseException | None = None

    def release(self, phase: int) -> None:
        self.gates[phase].set()

    def run(self) -> None:
        try:
            for gate, phase in zip(self.gates, self.phases, strict=True):
                if not gate.wait(timeout=WAIT_S):
                    raise TimeoutError("a phase was never released")
                for start in range(0, len(phase), 20):
                    for m in phase[start : start + 20]:
                        value = encode(m)
                        self.log.produce(
                            self.topic, value, key=partition_key(m["uscc"]), headers=self.sign(value)
                        )
                    self.log.flush()
                    self.sent += len(phase[start : start + 20])
                    time.sleep(0.05)
        except BaseException as err:
            self.error = err


def until(condition: Callable[[], bool], what: str) -> None:
    wait_for(condition, what, WAIT_S, interval_s=0.1)


@pytest.fixture
def settings(settings_for: SettingsFactory) -> Settings:
    return settings_for("scale", partitions=PARTITIONS)


def test_two_workers_in_one_group_apply_every_publication_once_and_in_order(settings: Settings) -> None:
    messages = list(generate(ENTITIES, SEED, TODAY))
    third = len(messages) // 3
    phases = [messages[:third], messages[third : 2 * third], messages[2 * third :]]

    main = Container(settings)  # creates the tables once, before the workers share them
    try:
        registry = main.registry
        a, b = WorkerThread(settings, "worker-a"), WorkerThread(settings, "worker-b")
        producer = PhasedProducer(main, phases)
        try:
            # phase 1: worker A alone, on all six partitions
            a.start()
            producer.start()
            until(lambda: a.worker.applied > 0, "worker A to apply something")
            # worker B joins: the group rebalances while publications flow
            b.start()
            until(lambda: len(b.worker.assignments) >= 1 and len(a.worker.assignments) >= 2, "the rebalance")
            a_before = a.worker.applied
            producer.release(1)
            # phase 2: both workers apply; then A stops mid-stream and B takes over its partitions
            until(lambda: a.worker.applied > a_before and b.worker.applied > 0, "both workers to apply")
            a.stop()
            until(lambda: len(b.worker.assignments) >= 2, "worker B to take over every partition")
            producer.release(2)

            producer.join(timeout=WAIT_S)
            assert producer.error is None, repr(producer.error)
            assert producer.sent == len(messages)
            ends = main.log.end_offsets(settings.publications_topic)
            source = a.worker.source

            def all_recorded() -> bool:
                return all(registry.position(source(p)) == end - 1 for p, end in ends.items() if end)

            until(all_recorded, "every partition's last offset to be recorded")
            b.stop()
        finally:
            producer.release(1)
            producer.release(2)
            a.close()
            b.close()

        # the rebalances happened as planned: A had all six, then shared them; B ended with all six
        assert a.worker.assignments[0] == list(range(PARTITIONS)), a.worker.assignments
        # (under load the group may first rebalance with A alone again — seen in CI: A's second
        # assignment was all six — before B's join is in; what matters is that they shared)
        shared = [mine for mine in a.worker.assignments[1:] if len(mine) < PARTITIONS]
        assert shared, a.worker.assignments
        everything, theirs = list(range(PARTITIONS)), b.worker.assignments
        assert any(sorted(m + o) == everything for m in shared for o in theirs), (shared, theirs)
        assert b.worker.assignments[-1] == list(range(PARTITIONS)), b.worker.assignments
        counts = Counter(a.worker.counts) + Counter(b.worker.counts)
        assert counts["rejected"] == 0, counts
        assert sum(counts.values()) >= len(messages), counts

        # exactly once: every publication id appears in exactly one entity event, none is left parked
        applied = entity_publications(registry)
        occurrences = Counter(pid for ids in applied.values() for pid in ids)
        sent_ids = {m["publication_id"] for m in messages}
        assert set(occurrences) == sent_ids
        assert [pid for pid, n in occurrences.items() if n != 1] == []
        assert registry.all_parked() == []
        # in order: each entity's events follow the order its publications were produced
        expected = expected_order(messages)
        assert set(applied) == set(expected)
        out_of_order = [k for k in expected if applied[k] != expected[k]]
        assert out_of_order == [], f"{len(out_of_order)} entities out of order, e.g. {out_of_order[:3]}"
    finally:
        main.close()
