"""The ingestion worker's aggregate cache is authoritative — never fast-forwarded from the store
(infra.bootstrap `registry`) — so nothing may leave a stale aggregate in it: partitions that move
to another worker and back, and a batch that fails before its events are recorded. Two workers
(two containers) share one data dir: one SQLite event store and one embedded log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.entity import entity_id
from domain.uscc import partition_key
from infra.bootstrap import Container, build
from infra.settings import Settings
from tests.builders import (
    TODAY,
    envelope,
    inspection_payload,
    penalty_payload,
    platform_signed,
    registered,
    uscc_for,
)

USCC = uscc_for(4_242)


def post(container: Container, *bodies: dict) -> None:
    container.log.produce_many(
        container.settings.publications_topic,
        ((partition_key(b["uscc"]), json.dumps(b, ensure_ascii=False).encode()) for b in bodies),
        headers_for=platform_signed(container),
    )


def penalty(n: int) -> dict:
    return envelope(
        "penalty.imposed",
        penalty_payload(decision_no=f"津市监罚〔2026〕{n}号"),
        uscc=USCC,
        publication_id=f"WC-P-{n}",
    )


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Container, Container]]:
    a = build(Settings(data_dir=tmp_path, today=TODAY))
    b = build(Settings(data_dir=tmp_path, today=TODAY))
    yield a, b
    a.close()
    b.close()


def test_the_workers_cache_is_never_fast_forwarded(two: tuple[Container, Container]) -> None:
    a, _ = two
    assert a.registry.repository.fastforward is False
    assert a.reader.repository.fastforward is True  # the read side follows other writers


def watch_failures(container: Container, monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """The errors `Registry.process` raises from now on (the worker recovers from them)."""
    failures: list[BaseException] = []
    process = container.registry.process

    def watched(*args: Any, **kwargs: Any) -> Any:
        try:
            return process(*args, **kwargs)
        except BaseException as err:
            failures.append(err)
            raise

    monkeypatch.setattr(container.registry, "process", watched)
    return failures


def test_partitions_that_come_back_after_another_worker_wrote_them_are_read_afresh(
    two: tuple[Container, Container], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = two
    post(a, registered(uscc=USCC, publication_id="WC-R-1"))
    a.worker.drain()  # worker A holds the entity at version 1 in its cache
    assert a.registry.get_entity(USCC).version == 1

    post(a, penalty(1))
    b.worker.drain()  # the partition moved to worker B, which writes version 2
    assert b.worker.counts["applied"] == 1

    post(a, penalty(2))
    failures = watch_failures(a, monkeypatch)
    partitions = a.worker.consumer.assignment()
    a.worker._seek_to_recorded(partitions)  # what the consumer calls when it is given them back
    a.worker.drain()
    # applied at the first try: a stale cached version 1 would have collided with B's version 2
    # (the batch fails, the cache is dropped and the batch read again: nothing lost, one wasted)
    assert failures == []
    assert a.worker.counts["applied"] == 2  # registration and the second penalty: nothing skipped
    entity = a.reader.get_entity(USCC)
    assert entity.version == 3
    assert sorted(entity.penalties) == ["津市监罚〔2026〕1号", "津市监罚〔2026〕2号"]


def test_a_batch_that_fails_before_it_is_recorded_leaves_no_trace(
    two: tuple[Container, Container], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = two
    post(a, registered(uscc=USCC, publication_id="WC-R-1"))
    a.worker.drain()
    cached = a.registry.repository.get(entity_id(USCC), deepcopy_from_cache=False)  # the cached object

    def down(processing: object) -> None:
        raise OSError("the event store went away mid-batch")

    post(a, penalty(1))
    with monkeypatch.context() as m:
        m.setattr(a.registry.internals, "record", down)
        with pytest.raises(OSError):
            a.worker.run_once(timeout_s=0.5)
    # the cached object took the penalty in memory; the failed batch dropped it from the cache
    assert cached.penalties and cached.version == 2
    assert a.registry.get_entity(USCC).version == 1
    a.worker._seek_to_recorded(a.worker.consumer.assignment())  # the worker's retry reads again
    a.worker.drain()
    entity = a.reader.get_entity(USCC)
    assert entity.version == 2
    assert list(entity.penalties) == ["津市监罚〔2026〕1号"]


def test_registrations_cost_no_lookups_of_their_own(
    two: tuple[Container, Container], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = two
    post(a, registered(uscc=USCC, publication_id="WC-R-1"))
    a.worker.drain()
    reads: list[object] = []
    select_events = a.registry.recorder.select_events

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args[0] if args else kwargs.get("originator_id"))
        return select_events(*args, **kwargs)

    monkeypatch.setattr(a.registry.recorder, "select_events", counted)
    news = [registered(uscc=uscc_for(5_000 + n), publication_id=f"WC-R-N{n}") for n in range(40)]
    post(a, *news, penalty(1))
    a.worker.drain()
    assert a.worker.counts["applied"] == 42
    # new entities and their (absent) parked lots were found absent in one query per batch, and
    # the entity already in the cache needed none
    assert reads == []
    assert a.reader.get_entity(uscc_for(5_039)).version == 1


SNAPSHOTTED, WAITING, NEW = uscc_for(6_100), uscc_for(6_101), uscc_for(6_102)
KNOWN = [uscc_for(6_000 + n) for n in range(30)]


def known_penalty(uscc: str, n: int) -> dict:
    payload = penalty_payload(decision_no=f"津市监罚〔2026〕M{n}号")
    return envelope("penalty.imposed", payload, uscc=uscc, publication_id=f"WC-PM-{uscc[-6:]}-{n}")


def history(container: Container) -> None:
    """Entities the worker wrote and then no longer holds (as after its partitions came back): 30
    with one event, one with a snapshot and events after it, and a parked lot still waiting."""
    post(container, *(registered(uscc=u, publication_id=f"WC-R-{u[-6:]}") for u in (*KNOWN, SNAPSHOTTED)))
    post(
        container,
        *(
            envelope(
                "inspection.published",
                inspection_payload(f"JC-{i}"),
                uscc=SNAPSHOTTED,
                publication_id=f"WC-I-{i}",
            )
            for i in range(102)
        ),
    )
    post(container, known_penalty(WAITING, 0))  # parked: WAITING is not registered
    container.worker.drain()
    container.registry.forget_cached()


def the_batch(container: Container) -> None:
    post(
        container,
        *(known_penalty(u, 1) for u in KNOWN),
        known_penalty(KNOWN[0], 2),  # the same entity twice in one batch
        registered(uscc=KNOWN[1], publication_id=f"WC-R-{KNOWN[1][-6:]}"),  # a duplicate
        known_penalty(SNAPSHOTTED, 1),
        registered(uscc=WAITING, publication_id="WC-R-WAITING"),  # releases the parked penalty
        known_penalty(NEW, 1),  # parked: a new lot
    )
    container.worker.drain()


def watch_outcomes(container: Container, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    outcomes: list[dict] = []
    process = container.registry.process

    def watched(*args: Any, **kwargs: Any) -> Any:
        result = process(*args, **kwargs)
        outcomes.extend(o.as_dict() for o in result)
        return result

    monkeypatch.setattr(container.registry, "process", watched)
    return outcomes


def stored_events(container: Container) -> list[tuple[str, int, str]]:
    notifications = container.registry.recorder.select_notifications(start=1, limit=10_000)
    return sorted((str(n.originator_id), n.originator_version, n.topic) for n in notifications)


def test_a_batch_reads_the_entities_its_worker_does_not_hold_together(
    two: tuple[Container, Container], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = two
    history(a)
    assert a.registry.snapshots is not None
    assert [s.originator_version for s in a.registry.snapshots.get(entity_id(SNAPSHOTTED))] == [100]
    reads: list[object] = []

    def counted(owner: object, name: str) -> None:
        method = getattr(owner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            reads.append((name, args or kwargs))
            return method(*args, **kwargs)

        monkeypatch.setattr(owner, name, call)

    counted(a.registry.recorder, "select_events")
    counted(a.registry.snapshots.recorder, "select_events")
    counted(a.registry.repository, "get")
    outcomes = watch_outcomes(a, monkeypatch)

    the_batch(a)

    assert reads == []  # no aggregate was read on its own: each batch read them in two queries
    assert len(outcomes) == 35
    for uscc in (*KNOWN, SNAPSHOTTED, WAITING):
        cached = a.registry.repository.cache.get(entity_id(uscc))  # what the worker acts on next
        assert cached.__dict__ == a.reader.get_entity(uscc).__dict__  # what the store holds

    # the same history and batch, each aggregate read one by one, decide and record the same
    control = build(Settings(data_dir=tmp_path / "control", today=TODAY))
    try:
        history(control)
        monkeypatch.setattr(control.registry, "_loader", None)
        control_outcomes = watch_outcomes(control, monkeypatch)
        the_batch(control)
        key = lambda o: o["publication_id"]  # noqa: E731
        assert sorted(outcomes, key=key) == sorted(control_outcomes, key=key)
        assert stored_events(a) == stored_events(control)
    finally:
        control.close()
    statuses = {o["publication_id"]: o["status"] for o in outcomes}
    assert statuses["WC-R-WAITING"] == "applied" and statuses[f"WC-R-{KNOWN[1][-6:]}"] == "duplicate"
    assert statuses[f"WC-PM-{NEW[-6:]}-1"] == "parked"
    assert a.reader.get_entity(KNOWN[0]).version == 3
    assert a.reader.get_entity(SNAPSHOTTED).version == 104  # snapshot at 100, then 4 events
