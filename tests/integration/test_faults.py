"""Faults on the real engines while publications flow: nothing applied twice, nothing lost.

The first test: a producer thread publishes a few thousand generated publications, mixed with
invalid ones (malformed JSON, unknown kind, bad USCC, outside the department's mandate) and with
valid ones for entities never registered (they stay parked). Meanwhile:
  (a) the ingestion worker, a subprocess (`tests.integration.worker_proc`), is killed with
      SIGKILL after some batches are recorded, and another one is started;
  (b) Kafka is restarted (`infra/provision/services.sh --instance NAME restart kafka`);
  (c) PostgreSQL is restarted (`infra/provision/services.sh --instance NAME restart postgres`).
Afterwards every valid publication id stored in the topic is applied exactly once (in an entity
event, or still parked), each entity's publications in the order produced, and every invalid
message is on the DLQ with its reason and source position. The DLQ may hold an invalid message
more than once (a worker killed, or a batch failed, after its rejections were stored on the DLQ
but before the batch was recorded reads them again): that is allowed, and reported.
The restarts are real, of engines this module has to itself (`own_engines`: a Kafka and a
PostgreSQL on other ports and directories, started for the module and destroyed after it), so
nothing else that uses the shared engines meanwhile notices.

The second test simulates an event-store outage longer than eventsourcing's own retries (which
hide a quick restart like (c)) on the Registry, without touching the engines.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from adapters.publication_log.base import Headers, LogUnavailable, PublicationLog
from domain.uscc import partition_key
from infra.bootstrap import Container
from infra.datagen.generator import generate
from infra.settings import Settings
from tests.builders import TODAY, platform_signed, uscc_for
from tests.engines import KAFKA_BOOTSTRAP, POSTGRES_DSN
from tests.integration.conftest import (
    OwnEngines,
    SettingsFactory,
    StartWorker,
    WorkerProcess,
    kafka_log_for,
)
from tests.integration.flow import encode, read_all, wait_for
from tests.integration.ordering import entity_publications, expected_order

pytestmark = [pytest.mark.engines, pytest.mark.timeout(900)]

ENTITIES = 240  # about 2,900 publications
SEED = 7
PER_INVALID_KIND = 15
PARKED_ONLY = 10
PARTITIONS = 3
PHASES = 4
WAIT_S = 180.0


# --- the stream ----------------------------------------------------------------------------------


class Stream:
    """What the producer sends: (key, value) in order, and what each distinct value is."""

    def __init__(self, generated: list[dict[str, Any]], rng: random.Random) -> None:
        self.generated = generated
        self.valid: dict[bytes, str] = {encode(m): m["publication_id"] for m in generated}
        self.invalid: dict[bytes, str] = {}  # value → the reason the DLQ must give
        extra: list[tuple[str, bytes]] = []
        registered = {m["uscc"] for m in generated}
        filings = [m for m in generated if m["kind"] == "filing.recorded"]
        for i in range(PER_INVALID_KIND):
            base = rng.choice(generated)
            uscc = base["uscc"]
            broken = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
            malformed = f'{{"schema":"gongshi.publication/1","publication_id":"FAULT-JSON-{i}","kind":'
            cases = [
                (malformed.encode(), "malformed"),
                (
                    encode({**base, "publication_id": f"FAULT-KIND-{i}", "kind": "penalty.forgiven"}),
                    "unknown_kind",
                ),
                (encode({**base, "publication_id": f"FAULT-USCC-{i}", "uscc": broken}), "invalid_uscc"),
                (
                    encode(
                        {
                            **base,
                            "publication_id": f"FAULT-MANDATE-{i}",
                            "department": "ENTERPRISE",
                            "kind": "penalty.imposed",
                        }
                    ),
                    "outside_mandate",
                ),
            ]
            for value, reason in cases:
                self.invalid[value] = reason
                extra.append((uscc, value))
        for i in range(PARKED_ONLY):
            uscc = uscc_for(900_000 + i)
            assert uscc not in registered
            m = {**rng.choice(filings), "uscc": uscc, "publication_id": f"FAULT-PARKED-{i}"}
            self.valid[encode(m)] = m["publication_id"]
            extra.append((uscc, encode(m)))
        self.items: list[tuple[str, bytes]] = [(partition_key(m["uscc"]), encode(m)) for m in generated]
        for item in extra:
            self.items.insert(rng.randrange(len(self.items) + 1), item)

    def phases(self, n: int) -> list[list[tuple[str, bytes]]]:
        size = -(-len(self.items) // n)
        return [self.items[i : i + size] for i in range(0, len(self.items), size)]


class Producer(threading.Thread):
    """Publishes the stream in phases (each after the first waits for `release`), 25 messages
    at a time; a chunk whose delivery fails (Kafka restarting) is sent again until it is stored,
    so some messages may be stored twice — as a department's retry would."""

    def __init__(
        self,
        log: PublicationLog,
        topic: str,
        phases: Sequence[Sequence[tuple[str, bytes]]],
        sign: Callable[[bytes], Headers],
    ) -> None:
        super().__init__(name="producer", daemon=True)
        self.log, self.topic, self.phases, self.sign = log, topic, phases, sign
        self.gates = [threading.Event() for _ in phases]
        self.gates[0].set()
        self.sent = 0
        self.retries = 0
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.phase_done = [threading.Event() for _ in phases]

    def release(self, phase: int) -> None:
        if phase < len(self.gates):
            self.gates[phase].set()

    def run(self) -> None:
        try:
            for gate, phase, done in zip(self.gates, self.phases, self.phase_done, strict=True):
                if not gate.wait(timeout=WAIT_S * 2):
                    raise TimeoutError("a phase was never released")
                for start in range(0, len(phase), 25):
                    self._send(phase[start : start + 25])
                    time.sleep(0.1)
                done.set()
        except BaseException as err:
            self.error = err
        finally:
            self.done.set()

    def _send(self, chunk: Sequence[tuple[str, bytes]]) -> None:
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                for key, value in chunk:
                    self.log.produce(self.topic, value, key=key, headers=self.sign(value))
                self.log.flush()
                self.sent += len(chunk)
                return
            except LogUnavailable:
                if time.monotonic() > deadline:
                    raise
                self.retries += 1
                time.sleep(1.0)


class Timeline(threading.Thread):
    """What happened when (printed with the test's output): the steps, and progress each second."""

    def __init__(self, progress: Callable[[], str]) -> None:
        super().__init__(name="timeline", daemon=True)
        self.progress = progress
        self.t0 = time.monotonic()
        self.lines: list[str] = []
        self._done = threading.Event()

    def note(self, what: str) -> None:
        self.lines.append(f"{time.monotonic() - self.t0:6.1f}s  {self.progress()}  {what}")

    def run(self) -> None:
        while not self._done.wait(1.0):
            self.note("")

    def stop(self) -> None:
        self._done.set()

    def __str__(self) -> str:
        return "\n".join(self.lines)


# --- the test --------------------------------------------------------------------------------------


def until(condition: Callable[[], bool], what: str, workers: Sequence[WorkerProcess] = ()) -> None:
    wait_for(
        condition,
        what,
        WAIT_S,
        interval_s=0.5,
        detail=lambda: "\n".join(f"--- {w.log_path.name}\n{w.tail()}" for w in workers),
    )


@pytest.fixture
def settings(settings_for: SettingsFactory, own_engines: OwnEngines) -> Settings:
    settings = settings_for("faults", partitions=PARTITIONS, on=own_engines)
    # what this module restarts is nobody else's
    assert settings.kafka_bootstrap != KAFKA_BOOTSTRAP and settings.postgres_dsn != POSTGRES_DSN
    return settings


def test_kill_9_and_engine_restarts_lose_nothing_and_apply_nothing_twice(
    settings: Settings, own_engines: OwnEngines, worker_processes: StartWorker
) -> None:
    stream = Stream(list(generate(ENTITIES, SEED, TODAY)), random.Random(SEED))
    main = Container(settings)  # creates the tables before the worker processes start
    try:
        topic = settings.publications_topic
        registry = main.registry
        sources = [f"log:{topic}:{p}" for p in range(PARTITIONS)]
        last_seen = [0]

        def recorded() -> int:
            """How many messages the event store says are done (the worker's recorded positions)."""
            with contextlib.suppress(Exception):  # PostgreSQL restarting: keep the last figure
                last_seen[0] = sum((registry.position(s) or -1) + 1 for s in sources)
            return last_seen[0]

        producer = Producer(
            kafka_log_for(settings, PARTITIONS), topic, stream.phases(PHASES), platform_signed(main)
        )
        timeline = Timeline(lambda: f"recorded {recorded():5d}, sent {producer.sent:5d}")
        workers: list[WorkerProcess] = []
        try:
            workers.append(worker_processes(settings, "worker-1"))
            producer.start()
            timeline.start()
            # (a) kill -9 the worker once some batches are recorded, start another
            until(lambda: recorded() >= 200, "the first worker to record some batches", workers)
            workers[0].kill()
            timeline.note("worker 1 killed (SIGKILL)")
            killed_at = recorded()
            producer.release(1)
            workers.append(worker_processes(settings, "worker-2"))
            timeline.note("worker 2 started")
            until(lambda: recorded() >= killed_at + 200, "the second worker to take over", workers)
            # (b) restart Kafka while publications flow
            producer.release(2)
            time.sleep(0.5)
            timeline.note("restarting Kafka")
            kafka_s = own_engines.restart("kafka")
            timeline.note(f"Kafka restarted in {kafka_s:.1f}s")
            assert producer.phase_done[2].wait(timeout=WAIT_S), (
                f"the producer did not get through the restart ({producer.retries} retries, "
                f"{producer.error!r})"
            )
            stored_so_far = sum(main.log.end_offsets(topic).values())
            until(lambda: recorded() >= stored_so_far, "the worker to catch up after the restart", workers)
            timeline.note("caught up")
            # (c) restart PostgreSQL while publications flow
            producer.release(3)
            mark = recorded()
            until(lambda: recorded() > mark, "the worker to record some of the last phase", workers)
            timeline.note("restarting PostgreSQL")
            postgres_s = own_engines.restart("postgres")
            timeline.note(f"PostgreSQL restarted in {postgres_s:.1f}s")
            producer.join(timeout=WAIT_S * 2)
            assert producer.error is None, repr(producer.error)
            timeline.note("producer done")
            ends = main.log.end_offsets(topic)
            until(lambda: recorded() == sum(ends.values()), "every stored message to be recorded", workers)
            timeline.note("everything recorded")
            assert workers[1].alive(), workers[1].tail()
            counts = workers[1].stop()
        finally:
            timeline.stop()
            print(f"\n{timeline}")
            for phase in range(PHASES):
                producer.release(phase)
            producer.log.close()
        print(f"producer retries: {producer.retries}; the second worker's counts: {counts}")

        # what the topic holds: every message sent (some twice, after a producer retry), nothing else
        stored = read_all(main.log, topic)
        values = Counter(r.value for r in stored)
        assert set(values) == set(stream.valid) | set(stream.invalid)
        valid_ids = set(stream.valid.values())

        # applied exactly once: in one entity event, or still parked — never both, never twice
        applied = entity_publications(registry)
        occurrences = Counter(pid for ids in applied.values() for pid in ids)
        parked = Counter(w["publication_id"] for w in registry.all_parked())
        assert [pid for pid, n in (occurrences + parked).items() if n != 1] == []
        assert set(occurrences) | set(parked) == valid_ids
        assert len(occurrences) + len(parked) == len(valid_ids)
        assert set(parked) == {f"FAULT-PARKED-{i}" for i in range(PARKED_ONLY)}
        expected = expected_order(stream.generated)
        out_of_order = [k for k in expected if applied.get(k) != expected[k]]
        assert out_of_order == [], f"{len(out_of_order)} entities out of order, e.g. {out_of_order[:3]}"

        # every invalid message is on the DLQ with its reason and where it was read
        dead = read_all(main.log, settings.dlq_topic)
        by_position = {(r.partition, r.offset): r.value for r in stored}
        for r in dead:
            headers = dict(r.headers)
            assert headers["reason"].decode() == stream.invalid.get(r.value), headers
            at = (int(headers["source_partition"]), int(headers["source_offset"]))
            assert by_position[at] == r.value
        assert {r.value for r in dead} == set(stream.invalid)
        on_dlq = {
            (int(dict(r.headers)["source_partition"]), int(dict(r.headers)["source_offset"])) for r in dead
        }
        invalid_positions = {(r.partition, r.offset) for r in stored if r.value in stream.invalid}
        assert on_dlq == invalid_positions
        print(
            f"valid publication ids: {len(valid_ids)} (applied {len(occurrences)}, parked {len(parked)}); "
            f"stored messages: {len(stored)} ({len(stored) - len(values)} stored twice by producer retries); "
            f"invalid: {len(stream.invalid)} distinct, {len(invalid_positions)} stored, "
            f"{len(dead)} DLQ records ({len(dead) - len(on_dlq)} duplicates)"
        )
    finally:
        main.close()


def test_worker_outlives_an_event_store_outage_longer_than_the_library_retries(settings: Settings) -> None:
    """eventsourcing retries a failed statement (10 attempts, each waiting up to the pool's 10-s
    connection timeout), then raises. An outage longer than that makes a batch fail AND the seek
    back to the recorded positions fail: the worker must keep retrying (never poll past the
    failed batch) and carry on once the store is back. Measured through a TCP proxy, a 150-s
    outage did exactly this; here it is simulated on the Registry, leaving the shared engines be."""
    messages = list(generate(60, SEED, TODAY))
    container = Container(settings)
    topic = settings.publications_topic
    registry = container.registry
    real_process, real_position = registry.process, registry.position
    outage = {"process": 1, "position": 0, "seen": 0}

    def process(*args: Any, **kwargs: Any) -> Any:
        if outage["process"]:
            outage["process"] -= 1
            outage["position"] = 2  # the seek back fails twice too
            raise OperationalError("couldn't get a connection (simulated outage)")
        return real_process(*args, **kwargs)

    def position(source: str) -> int | None:
        if outage["position"]:
            outage["position"] -= 1
            outage["seen"] += 1
            raise OperationalError("couldn't get a connection (simulated outage)")
        return real_position(source)

    registry.process = process  # type: ignore[method-assign]
    registry.position = position  # type: ignore[method-assign]
    worker = container.worker
    thread = threading.Thread(target=worker.run_forever, name="worker", daemon=True)
    try:
        container.log.produce_many(
            topic, ((m["uscc"], encode(m)) for m in messages), headers_for=platform_signed(container)
        )
        ends = container.log.end_offsets(topic)
        thread.start()

        def done() -> bool:
            return all(real_position(f"log:{topic}:{p}") == end - 1 for p, end in ends.items() if end)

        deadline = time.monotonic() + WAIT_S
        while not done() and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert thread.is_alive(), "the worker died during the outage"
        assert done(), (
            "the worker did not catch up after the outage: "
            f"assigned {worker.consumer.assignment()}, counts {dict(worker.counts)}, outage {outage}, "
            f"recorded {worker.recorded(ends)}, ends {ends}"
        )
        worker.stop()
        thread.join(timeout=60)
        assert outage == {"process": 0, "position": 0, "seen": 2}
        assert sum(worker.counts.values()) >= len(messages)
        # nothing skipped, nothing twice, in order
        applied = entity_publications(registry)
        occurrences = Counter(pid for ids in applied.values() for pid in ids)
        assert occurrences == Counter(m["publication_id"] for m in messages)
        assert applied == expected_order(messages)
    finally:
        worker.stop()
        thread.join(timeout=60)
        container.close()
