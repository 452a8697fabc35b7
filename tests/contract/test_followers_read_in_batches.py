"""The casework follower and the change feed read a batch's entities together, on both engines.

Each reads every entity its batch needs in two queries (`Registry.read_many` with the composition
root's loader, `adapters.event_store.load_until`) instead of one `repository.get` per entity, and
makes the same rows and changes as the one-by-one reads did: an entity with several events in one
batch, and one read from a snapshot below the version the batch needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from adapters.casework_view import EntityRows, SQLiteCaseworkView
from adapters.change_store.base import open_change
from adapters.change_store.sqlite import SQLiteChangeStore
from adapters.clock import FixedDateClock
from adapters.event_store import load_latest, load_until
from adapters.publication_log.embedded import EmbeddedLog
from adapters.tracking import SQLiteTrackingStore
from domain.departments import DepartmentRegistry
from domain.entity import entity_id
from domain.personal_data import PersonalDataVault
from domain.registry import Registry
from projections.casework import CaseworkProjection, entity_rows
from projections.changes import ChangeFeed
from tests.builders import POPO_ENV, envelope, inspection_payload, penalty_payload, registered, uscc_for
from tests.unit.test_personal_data import MemoryVault

NOW = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)
TOPIC = "gongshi.changes"


def make_app(env: dict[str, str], vault: PersonalDataVault | None = None, *, batched: bool) -> Registry:
    """A reader as the composition root builds one (`batched`: with its loader), or as the unit
    tests do (no loader: one `repository.get` per entity)."""
    return Registry(
        clock=FixedDateClock(date(2026, 11, 22)),
        departments=DepartmentRegistry.load_default(),
        env=env,
        loader=load_until if batched else None,
        vault=vault,
    )


def one_at_a_time_reads(app: Registry, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every `select_events` call on the application's recorders (one aggregate's read each)."""
    reads: list[object] = []
    assert app.snapshots is not None
    for recorder in (app.recorder, app.snapshots.recorder):
        original = recorder.select_events

        def counted(*args: Any, _original: Any = original, **kw: Any) -> Any:
            reads.append(args)
            return _original(*args, **kw)

        monkeypatch.setattr(recorder, "select_events", counted)
    return reads


SNAPSHOTTED, BUSY, QUIET = uscc_for(60), uscc_for(61), uscc_for(62)


def inspection(uscc: str, n: int) -> dict[str, Any]:
    return envelope("inspection.published", inspection_payload(f"JC-{n}"), uscc=uscc, publication_id=f"I-{n}")


def penalty(uscc: str, n: int) -> dict[str, Any]:
    return envelope(
        "penalty.imposed", penalty_payload(f"津市监罚〔2025〕{n}号"), uscc=uscc, publication_id=f"P-{n}"
    )


@pytest.fixture
def history(store_env: dict[str, str]) -> Iterator[tuple[Registry, int]]:
    """Three entities, one past a snapshot (version 100), then a last stretch in which `BUSY` has
    several events and `SNAPSHOTTED` more; and the notification id before that stretch."""
    writer = make_app(store_env, MemoryVault(), batched=False)
    writer.process(registered(uscc=u, publication_id=f"R-{u[-4:]}") for u in (SNAPSHOTTED, BUSY, QUIET))
    writer.process(inspection(SNAPSHOTTED, n) for n in range(104))
    writer.process([penalty(QUIET, 1)])
    before = writer.recorder.max_notification_id()
    assert before is not None
    # recorded aggregate by aggregate: BUSY 2, 3, 4, then SNAPSHOTTED 106
    writer.process([penalty(BUSY, 2), inspection(SNAPSHOTTED, 200), penalty(BUSY, 3), inspection(BUSY, 201)])
    writer.process([penalty(BUSY, 4), inspection(SNAPSHOTTED, 202)])
    yield writer, before
    writer.close()


def test_load_until_reads_each_aggregate_at_its_version_from_the_snapshot_below(
    history: tuple[Registry, int],
) -> None:
    writer, _ = history
    assert writer.snapshots is not None
    snapshotted, busy, missing = entity_id(SNAPSHOTTED), entity_id(BUSY), entity_id(uscc_for(63))
    wanted: dict[Any, int | None] = {snapshotted: 103, busy: 2, missing: 5}

    loaded = load_until(writer.recorder, writer.snapshots.recorder, wanted)

    assert loaded.keys() == {snapshotted, busy}
    assert [s.originator_version for s in loaded[snapshotted]] == [100, 101, 102, 103]
    assert "Snapshot" in loaded[snapshotted][0].topic
    assert [s.originator_version for s in loaded[busy]] == [1, 2]
    below = load_until(writer.recorder, writer.snapshots.recorder, {snapshotted: 99})
    assert [s.originator_version for s in below[snapshotted]] == list(range(1, 100))
    latest = load_until(writer.recorder, writer.snapshots.recorder, {snapshotted: None})
    assert latest == load_latest(writer.recorder, writer.snapshots.recorder, {snapshotted})
    assert [s.originator_version for s in latest[snapshotted]] == list(range(100, 108))
    for aggregate_id, version in ((snapshotted, 103), (busy, 2)):
        read = writer.read_many({aggregate_id: version})[aggregate_id]
        assert read.__dict__ == writer.repository.get(aggregate_id, version=version).__dict__


def test_the_casework_follower_reads_each_batchs_entities_together(
    history: tuple[Registry, int], store_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, _ = history
    vault = writer.vault
    rows: dict[str, list[list[EntityRows]]] = {"batched": [], "one by one": []}
    followers = {}
    for name, batched in (("batched", True), ("one by one", False)):
        view = SQLiteCaseworkView.open(tmp_path / f"{name}.sqlite3")
        kept, replace = rows[name], view.replace

        def recorded(entities: Any, tracking: Tracking, _kept: Any = kept, _replace: Any = replace) -> None:
            _kept.append(list(entities))
            _replace(entities, tracking)

        monkeypatch.setattr(view, "replace", recorded)
        followers[name] = CaseworkProjection(make_app(store_env, vault, batched=batched), view, batch_size=50)
    reads = one_at_a_time_reads(followers["batched"].registry, monkeypatch)

    for follower in followers.values():
        assert follower.catch_up() == 114

    assert reads == []  # no entity read one at a time
    assert rows["batched"] == rows["one by one"]
    assert len(rows["batched"]) == 3
    last = {r.uscc: r for r in rows["batched"][-1]}
    assert set(last) == {BUSY, SNAPSHOTTED, QUIET}  # the last batch: each once, as it is now
    for uscc, row in last.items():
        assert row == entity_rows(writer.get_entity(uscc))
    assert writer.get_entity(BUSY).version == 5 and writer.get_entity(SNAPSHOTTED).version == 107
    for follower in followers.values():
        follower.registry.close()
        follower.view.close()


def test_the_change_feed_reads_each_batchs_entities_together(
    history: tuple[Registry, int], store_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started after the snapshot (as after a restart: nothing followed), the feed reads each
    entity at the version before the batch's first event for it, from the snapshot below."""
    writer, before = history
    vault = writer.vault
    assert vault is not None
    announced: dict[str, list[dict[str, Any]]] = {}
    closables: list[Any] = []
    for name, batched in (("batched", True), ("one by one", False)):
        log = EmbeddedLog(tmp_path / f"{name}-log.sqlite3")
        tracking = SQLiteTrackingStore.open(tmp_path / f"{name}-tracking.sqlite3")
        tracking.insert_tracking(Tracking(notification_id=before, application_name="changes"))
        store = SQLiteChangeStore(tmp_path / f"{name}-changes.sqlite3")
        feed = ChangeFeed(
            make_app(store_env, vault, batched=batched),
            log,
            TOPIC,
            tracking,
            store,
            batch_size=3,
            now=lambda: NOW,
        )
        reads = one_at_a_time_reads(feed.registry, monkeypatch) if batched else None
        assert feed.catch_up() == 6
        if reads is not None:
            assert reads == []  # no entity read one at a time
        announced[name] = [  # opened: each feed seals under keys of its own (the fake vault's)
            open_change(json.loads(r.value), vault)
            for p in sorted(log.end_offsets(TOPIC))
            for r in log.read(TOPIC, p, 0, 100)
        ]
        closables += [feed, tracking, store, log]

    assert announced["batched"] == announced["one by one"]
    assert [(m["uscc"], m["entity_version"]) for m in announced["batched"]] == [
        (BUSY, 2),  # a batch of three: BUSY read at version 1, then moved on
        (BUSY, 3),
        (BUSY, 4),
        (SNAPSHOTTED, 106),  # SNAPSHOTTED read at 105 (the snapshot at 100, then five events)
        (BUSY, 5),
        (SNAPSHOTTED, 107),
    ]
    for closable in closables:
        closable.close()


def test_a_store_load_until_cannot_query_is_read_one_aggregate_at_a_time() -> None:
    """eventsourcing's in-memory recorder (unit tests) has no tables to query: `load_until` reads
    it through `select_events`, one aggregate at a time, with the same result."""
    app = Registry(
        clock=FixedDateClock(date(2026, 11, 22)),
        departments=DepartmentRegistry.load_default(),
        env=POPO_ENV,
        loader=load_until,
    )
    try:
        app.process([registered(uscc=BUSY, publication_id="R-1"), *(inspection(BUSY, n) for n in range(103))])
        assert app.snapshots is not None
        busy = entity_id(BUSY)
        stored = load_until(app.recorder, app.snapshots.recorder, {busy: 102, entity_id(QUIET): None})
        assert list(stored) == [busy]
        assert [s.originator_version for s in stored[busy]] == [100, 101, 102]
        for version in (1, 102, None):
            read = app.read_many({busy: version})[busy]
            assert read.__dict__ == app.repository.get(busy, version=version).__dict__
    finally:
        app.close()
