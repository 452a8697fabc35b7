"""The event store with tracking, on eventsourcing's SQLite and PostgreSQL persistence.

One suite, both adapters: events and the read position are recorded in one transaction, the
same position twice writes nothing, and aggregates, snapshots and the notification log behave
the same on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from adapters.clock import FixedDateClock
from adapters.event_store import load_latest, load_until
from domain.departments import DepartmentRegistry
from domain.entity import entity_id
from domain.internals import apply_events
from domain.parking import ParkedPublications
from domain.personal_data import PersonalDataVault
from domain.registry import Registry
from tests.builders import envelope, inspection_payload, penalty_payload, registered, resident_id, uscc_for
from tests.unit.test_personal_data import MemoryVault


def make_app(env: dict[str, str], vault: PersonalDataVault | None = None) -> Registry:
    return Registry(
        clock=FixedDateClock(date(2026, 11, 22)),
        departments=DepartmentRegistry.load_default(),
        env=env,
        vault=vault,
    )


@pytest.fixture
def registry(store_env: dict[str, str]) -> Iterator[Registry]:
    app = make_app(store_env)
    yield app
    app.close()


def test_events_and_position_are_recorded_together(registry: Registry) -> None:
    uscc = uscc_for(1)
    outcomes = registry.process(
        [registered(uscc=uscc, publication_id="TJ-AMR-R1")], tracking=Tracking("log:pubs:0", 0)
    )
    assert [o.status for o in outcomes] == ["applied"]
    assert registry.position("log:pubs:0") == 0
    assert registry.get_entity(uscc).version == 1


def test_recording_the_same_position_twice_writes_nothing(registry: Registry) -> None:
    uscc = uscc_for(2)
    registry.process([registered(uscc=uscc, publication_id="TJ-AMR-R2")], tracking=Tracking("log:pubs:0", 7))
    head = registry.recorder.max_notification_id()
    penalty = envelope("penalty.imposed", penalty_payload(), uscc=uscc, publication_id="TJ-AMR-P2")
    with pytest.raises(IntegrityError):
        registry.process([penalty], tracking=Tracking("log:pubs:0", 7))
    assert registry.recorder.max_notification_id() == head
    assert registry.get_entity(uscc).version == 1


def test_positions_are_kept_per_source(registry: Registry) -> None:
    registry.process(
        [registered(uscc=uscc_for(3), publication_id="TJ-AMR-R3")], tracking=Tracking("log:pubs:0", 4)
    )
    registry.process(
        [registered(uscc=uscc_for(4), publication_id="TJ-AMR-R4")], tracking=Tracking("log:pubs:1", 9)
    )
    assert (
        registry.position("log:pubs:0"),
        registry.position("log:pubs:1"),
        registry.position("log:pubs:2"),
    ) == (
        4,
        9,
        None,
    )


def test_a_batch_with_only_rejections_still_moves_the_position(registry: Registry) -> None:
    outcomes = registry.process([b"{not json", b"[]"], tracking=Tracking("log:pubs:0", 11))
    assert [o.code for o in outcomes] == ["malformed", "malformed"]
    assert registry.position("log:pubs:0") == 11


def test_notification_log_lists_events_in_recording_order(registry: Registry) -> None:
    uscc = uscc_for(5)
    registry.process(
        [
            registered(uscc=uscc, publication_id="TJ-AMR-R5"),
            envelope("penalty.imposed", penalty_payload(), uscc=uscc, publication_id="TJ-AMR-P5"),
        ]
    )
    notifications = registry.recorder.select_notifications(start=1, limit=10)
    topics = [n.topic.rsplit(".", 1)[-1] for n in notifications]
    assert topics == ["Registered", "PenaltyImposed"]
    assert [n.id for n in notifications] == sorted(n.id for n in notifications)


def test_an_aggregate_with_many_events_reloads_through_a_snapshot(registry: Registry) -> None:
    uscc = uscc_for(6)
    registry.process([registered(uscc=uscc, publication_id="TJ-AMR-R6")])
    inspections = [
        envelope(
            "inspection.published", inspection_payload(f"JC-{i}"), uscc=uscc, publication_id=f"TJ-AMR-I6-{i}"
        )
        for i in range(120)
    ]
    registry.process(inspections)
    assert registry.snapshots is not None
    entity = registry.get_entity(uscc)
    assert entity.version == 121
    assert len(entity.inspections) == 120
    assert entity.has_applied("TJ-AMR-I6-119")


def test_a_batch_that_fails_to_record_leaves_no_trace_in_the_aggregate_cache(registry: Registry) -> None:
    uscc = uscc_for(7)
    registry.process([registered(uscc=uscc, publication_id="TJ-AMR-R7")], tracking=Tracking("log:pubs:0", 3))
    penalty = envelope("penalty.imposed", penalty_payload(), uscc=uscc, publication_id="TJ-AMR-P7")
    with pytest.raises(IntegrityError):  # position 3 is already recorded: the batch is not applied
        registry.process([penalty], tracking=Tracking("log:pubs:0", 3))
    outcomes = registry.process([penalty], tracking=Tracking("log:pubs:0", 4))
    assert [o.status for o in outcomes] == ["applied"]  # not "duplicate": the cache was dropped
    assert registry.get_entity(uscc).version == 2


def test_the_latest_state_of_many_aggregates_is_read_together(store_env: dict[str, str]) -> None:
    vault = MemoryVault()
    app = make_app(store_env, vault)
    try:
        snapshotted, touched, quiet, waiting = (uscc_for(n) for n in range(30, 34))
        app.process(
            [registered(uscc=u, publication_id=f"TJ-AMR-RL{u[-4:]}") for u in (snapshotted, touched, quiet)]
        )
        app.process(  # 120 more events: a snapshot at version 100, and 21 events after it
            envelope(
                "inspection.published",
                inspection_payload(f"JC-{i}"),
                uscc=snapshotted,
                publication_id=f"I-{i}",
            )
            for i in range(120)
        )
        app.process(
            [envelope("penalty.imposed", penalty_payload(), uscc=touched, publication_id="TJ-AMR-PL")]
        )
        app.take_snapshot(entity_id(quiet))  # a snapshot with no events after it
        app.process(
            [envelope("penalty.imposed", penalty_payload(), uscc=waiting, publication_id="TJ-AMR-PW")]
        )
        present = {entity_id(u) for u in (snapshotted, touched, quiet)} | {ParkedPublications.id_for(waiting)}
        absent = {entity_id(waiting)} | {
            entity_id(uscc_for(n)) for n in range(100, 1_300)
        }  # > 300 per SQLite query
        assert app.snapshots is not None

        loaded = load_latest(app.recorder, app.snapshots.recorder, present | absent)

        assert loaded.keys() == present
        versions = [s.originator_version for s in loaded[entity_id(snapshotted)]]
        assert versions == list(range(100, 122))  # the snapshot, then the events after it
        assert [s.originator_version for s in loaded[entity_id(quiet)]] == [1]  # the snapshot alone
        assert "Snapshot" in loaded[entity_id(quiet)][0].topic
        assert [s.originator_version for s in loaded[entity_id(touched)]] == [1, 2]
        for aggregate_id, stored in loaded.items():
            aggregate = apply_events(None, map(app.mapper.to_domain_event, stored))
            assert aggregate is not None
            assert aggregate.__dict__ == app.repository.get(aggregate_id).__dict__
            replayed = project_aggregate(None, app.events.get(aggregate_id))
            assert aggregate.__dict__ == replayed.__dict__
        entity = apply_events(None, map(app.mapper.to_domain_event, loaded[entity_id(touched)]))
        assert resident_id(1) in repr(entity.__dict__)  # the person's sealed fields were opened
        assert all(resident_id(1).encode() not in s.state for s in loaded[entity_id(touched)])

        everything = load_latest(app.recorder, None, present | absent)  # no snapshots: every event
        assert [s.originator_version for s in everything[entity_id(snapshotted)]] == list(range(1, 122))
        assert load_latest(app.recorder, app.snapshots.recorder, set()) == {}
    finally:
        app.close()


def test_a_workers_batch_reads_what_its_cache_does_not_hold_together(
    store_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = MemoryVault()
    worker = Registry(  # as the composition root builds the ingestion worker's
        clock=FixedDateClock(date(2026, 11, 22)),
        departments=DepartmentRegistry.load_default(),
        env={**store_env, "AGGREGATE_CACHE_FASTFORWARD": "n"},
        loader=load_until,
        vault=vault,
    )
    reader = make_app(store_env, vault)
    try:
        known, waiting = [uscc_for(n) for n in range(40, 45)], uscc_for(45)
        worker.process([registered(uscc=u, publication_id=f"TJ-AMR-RW{u[-4:]}") for u in known])
        worker.process(
            envelope(
                "inspection.published", inspection_payload(f"JC-{i}"), uscc=known[0], publication_id=f"I-{i}"
            )
            for i in range(100)
        )
        worker.process(
            [envelope("penalty.imposed", penalty_payload(), uscc=waiting, publication_id="TJ-AMR-PW")]
        )
        worker.forget_cached()  # as when the worker's partitions are given back
        assert worker.snapshots is not None
        reads: list[object] = []
        for recorder in (worker.recorder, worker.snapshots.recorder):
            monkeypatch.setattr(recorder, "select_events", lambda *args, **kw: reads.append(args) or [])

        outcomes = worker.process(
            [
                *(
                    envelope(
                        "penalty.imposed", penalty_payload(), uscc=u, publication_id=f"TJ-AMR-PK{u[-4:]}"
                    )
                    for u in known
                ),
                registered(uscc=waiting, publication_id="TJ-AMR-RWAIT"),
            ]
        )

        assert reads == []  # nothing read one aggregate at a time
        assert [o.status for o in outcomes] == ["applied"] * 6
        assert [o.status for o in outcomes[-1].released] == ["applied"]
        assert worker.repository.cache is not None
        for uscc in (*known, waiting):
            cached = worker.repository.cache.get(entity_id(uscc))
            assert cached.__dict__ == reader.repository.get(entity_id(uscc)).__dict__
        assert reader.get_entity(known[0]).version == 102
        assert resident_id(1) in repr(reader.get_entity(known[1]).__dict__)  # persons opened
    finally:
        worker.close()
        reader.close()
