"""Events stored before the registry was split keep loading, and the library seam is version-checked.

`ParkedPublications` and `RejectionLog` moved from `domain.registry` to `domain.parking` and
`domain.rejections`; their stored topics did not. The rows below are what the pre-split code
(commit e044ac7) wrote to SQLite event stores, copied byte for byte: a parked inspection, a
rejected publication of an unknown kind, and a rejection log's snapshot at version 100.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from adapters.status_view import SQLiteStatusView
from domain.internals import LibraryInternals
from domain.parking import ParkedPublications
from domain.registry import Registry
from domain.rejections import RejectionLog
from projections.publication_status import PublicationStatusProjection
from tests.builders import USCC, make_registry, registered

PARKED_ID = UUID("33ec5e4855605d158be68c66a449e1df")
LOG_ID = UUID("b2a4aeda209151399745e562a0791117")
PARKED_ENVELOPE = (
    '{"schema":"gongshi.publication/1","publication_id":"OLD-PARKED-1","department":"TJ-AMR",'
    '"kind":"inspection.published","uscc":"91120116MA0000015H","occurred_on":"2024-05-01",'
    '"payload":{"inspection_no":"SSJ-OLD-1","inspection_type":"双随机抽查","inspected_on":"2024-04-20",'
    '"result":"未发现问题"}}'
)
OLD_EVENTS = [
    (
        PARKED_ID,
        1,
        "domain.registry:ParkedPublications.Opened",
        '{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-30T20:59:30.204032+00:00"},'
        '"originator_topic":"domain.registry:ParkedPublications","uscc":"91120116MA0000015H"}',
    ),
    (
        PARKED_ID,
        2,
        "domain.registry:ParkedPublications.Parked",
        '{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-30T20:59:30.204172+00:00"},'
        f'"envelope":{PARKED_ENVELOPE}}}',
    ),
    (
        LOG_ID,
        1,
        "domain.registry:RejectionLog.Opened",
        '{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-30T21:21:22.993809+00:00"},'
        '"originator_topic":"domain.registry:RejectionLog","source":"direct"}',
    ),
    (
        LOG_ID,
        2,
        "domain.registry:RejectionLog.PublicationRejected",
        '{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-30T21:21:22.993978+00:00"},'
        '"publication_id":"OLD-REJECTED-1","uscc":"91120116MA0000015H","kind":"penalty.pardoned",'
        '"department":"TJ-AMR","code":"unknown_kind","message":"未知的公示类型“penalty.pardoned”",'
        '"position":null}',
    ),
]
OLD_SNAPSHOT = (
    LOG_ID,
    100,
    "eventsourcing.domain:Snapshot",
    '{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-30T20:59:34.159685+00:00"},'
    '"topic":"domain.registry:RejectionLog","state":{"_created_on":{"_type_":"datetime_iso",'
    '"_data_":"2026-11-30T20:59:34.138377+00:00"},"_modified_on":{"_type_":"datetime_iso",'
    '"_data_":"2026-11-30T20:59:34.139413+00:00"},"source":"direct","rejected":99}}',
)


def stored(row: tuple[UUID, int, str, str]) -> StoredEvent:
    originator_id, version, topic, state = row
    return StoredEvent(
        originator_id=originator_id, originator_version=version, topic=topic, state=state.encode()
    )


@pytest.fixture
def old_store(tmp_path: Path) -> dict[str, str]:
    """A SQLite event store holding what the pre-split code wrote."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite3")}
    registry = make_registry(env)
    registry.recorder.insert_events([stored(row) for row in OLD_EVENTS])
    registry.close()
    return env


def test_the_stored_topics_are_the_ones_the_pre_split_code_wrote() -> None:
    assert get_topic(ParkedPublications) == "domain.registry:ParkedPublications"
    assert get_topic(ParkedPublications.Opened) == "domain.registry:ParkedPublications.Opened"
    assert get_topic(ParkedPublications.Parked) == "domain.registry:ParkedPublications.Parked"
    assert get_topic(ParkedPublications.Released) == "domain.registry:ParkedPublications.Released"
    assert get_topic(RejectionLog) == "domain.registry:RejectionLog"
    assert get_topic(RejectionLog.PublicationRejected) == "domain.registry:RejectionLog.PublicationRejected"
    for _, _, topic, _ in OLD_EVENTS:
        assert get_topic(resolve_topic(topic)) == topic


def test_a_publication_parked_by_the_old_code_is_found_and_released(old_store: dict[str, str]) -> None:
    registry = make_registry(old_store)
    try:
        assert [w["publication_id"] for w in registry.all_parked()] == ["OLD-PARKED-1"]
        assert [w["publication_id"] for w in registry.parked(USCC)] == ["OLD-PARKED-1"]
        outcome = registry.apply_publication(registered())
        assert [(o.status, o.publication_id) for o in outcome.released] == [("applied", "OLD-PARKED-1")]
        assert [i["inspection_no"] for i in registry.get_entity(USCC).inspections] == ["SSJ-OLD-1"]
        assert registry.all_parked() == []
        new = registry.recorder.select_events(PARKED_ID)
        assert [e.topic for e in new] == [
            "domain.registry:ParkedPublications.Opened",
            "domain.registry:ParkedPublications.Parked",
            "domain.registry:ParkedPublications.Released",
        ]
    finally:
        registry.close()


def test_a_rejection_recorded_by_the_old_code_reaches_the_status_view(old_store: dict[str, str]) -> None:
    registry = make_registry(old_store)
    view = SQLiteStatusView.open(Path(old_store["SQLITE_DBNAME"]).with_name("status.sqlite3"))
    try:
        log: RejectionLog = registry.repository.get(LOG_ID)
        assert (log.source, log.rejected, log.version) == ("direct", 1, 2)
        PublicationStatusProjection(registry, view).catch_up()
        row = view.get("OLD-REJECTED-1")
        assert row is not None and (row["status"], row["code"]) == ("rejected", "unknown_kind")
    finally:
        view.close()
        registry.close()


def test_a_rejection_log_snapshot_taken_by_the_old_code_loads(tmp_path: Path) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite3")}
    registry: Registry = make_registry(env)
    try:
        assert registry.snapshots is not None
        registry.snapshots.recorder.insert_events([stored(OLD_SNAPSHOT)])
        log: RejectionLog = registry.repository.get(LOG_ID)
        assert (type(log), log.source, log.rejected, log.version) == (RejectionLog, "direct", 99, 100)
    finally:
        registry.close()


def test_the_installed_eventsourcing_is_one_the_private_calls_were_checked_against() -> None:
    installed = metadata.version("eventsourcing")
    assert LibraryInternals.installed_version() == installed
    assert LibraryInternals.unchecked_version() is None, (
        f"eventsourcing {installed} is not in LibraryInternals.CHECKED_VERSIONS "
        f"{LibraryInternals.CHECKED_VERSIONS}: read the private calls in domain/internals.py against it "
        "(Application._record, _take_snapshots, _notify, LRUCache.cache/lock/full), run the registry's "
        "tests, then add the version"
    )


def test_an_unchecked_version_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LibraryInternals, "installed_version", staticmethod(lambda: "10.0.0"))
    assert LibraryInternals.unchecked_version() == "10.0.0"
