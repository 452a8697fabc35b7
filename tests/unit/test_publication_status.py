"""The publication status projection on SQLite: applied, parked, rejected — exactly once.

Rejections are recorded in the event store with the batch (`RejectionLog`), so the status of
every publication follows from the notification log alone, and a replay changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from adapters.event_store import sqlite_env
from adapters.status_view import SQLiteStatusView, StatusRow
from domain.kinds import KINDS
from domain.registry import Registry
from domain.rejections import RejectionLog
from projections.publication_status import EVENT_KINDS, PublicationStatusProjection
from tests.builders import USCC, envelope, make_registry, penalty_payload, registered, uscc_for

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def view(tmp_path: Path) -> Iterator[SQLiteStatusView]:
    v = SQLiteStatusView.open(tmp_path / "status.sqlite3")
    yield v
    v.close()


@pytest.fixture
def status(registry: Registry, view: SQLiteStatusView) -> PublicationStatusProjection:
    return PublicationStatusProjection(registry, view, batch_size=3)


def penalty(publication_id: str, uscc: str = USCC, **payload: Any) -> dict[str, Any]:
    return envelope("penalty.imposed", penalty_payload(**payload), uscc=uscc, publication_id=publication_id)


def test_an_applied_registration_reads_applied_with_its_entity_and_kind(
    registry: Registry, status: PublicationStatusProjection
) -> None:
    registry.process([registered(publication_id="R-1"), penalty("P-1")])
    status.catch_up()
    assert status.view.get("R-1") == {
        "publication_id": "R-1",
        "status": "applied",
        "uscc": USCC,
        "kind": "registration.registered",
        "department": "TJ-AMR",
        "code": None,
        "message": None,
        "position": 1,
    }
    penalty_row = status.view.get("P-1")
    assert penalty_row is not None
    assert (penalty_row["status"], penalty_row["uscc"], penalty_row["kind"]) == (
        "applied",
        USCC,
        "penalty.imposed",
    )
    assert status.lag() == 0


def test_a_parked_publication_reads_parked_then_applied_after_the_registration(
    registry: Registry, status: PublicationStatusProjection
) -> None:
    registry.apply_publication(penalty("P-EARLY"))
    status.catch_up()
    parked = status.view.get("P-EARLY")
    assert parked is not None and parked["status"] == "parked"
    assert parked["message"] and CJK.search(parked["message"])

    registry.apply_publication(registered(publication_id="R-LATE"))
    status.catch_up()

    row = status.view.get("P-EARLY")
    assert row is not None
    assert (row["status"], row["uscc"], row["kind"], row["code"]) == (
        "applied",
        USCC,
        "penalty.imposed",
        None,
    )


def test_parking_and_the_registration_in_one_batch_end_applied(
    registry: Registry, status: PublicationStatusProjection
) -> None:
    # the entity's events are recorded before the parking lot's in such a batch
    registry.process([penalty("P-SAME"), registered(publication_id="R-SAME")])
    status.catch_up()
    assert {pid: row["status"] for pid, row in status.view.get_many(["P-SAME", "R-SAME"]).items()} == {
        "P-SAME": "applied",
        "R-SAME": "applied",
    }


def test_a_rejected_publication_reads_rejected_with_its_code_and_message(
    registry: Registry, status: PublicationStatusProjection
) -> None:
    registry.process([registered(publication_id="R-2"), penalty("P-BAD", severity="critical")])
    status.catch_up()
    row = status.view.get("P-BAD")
    assert row is not None
    assert (row["status"], row["code"], row["department"], row["uscc"]) == (
        "rejected",
        "invalid_payload",
        "TJ-AMR",
        USCC,
    )
    assert row["message"] and "severity" in row["message"] and CJK.search(row["message"])


def test_a_parked_publication_rejected_on_release_reads_rejected(
    registry: Registry, status: PublicationStatusProjection
) -> None:
    revoke = envelope("penalty.revoked", {"decision_no": "NOPE", "reason": "撤销"}, publication_id="PR-1")
    registry.apply_publication(revoke)
    registry.apply_publication(registered(publication_id="R-3"))
    status.catch_up()
    row = status.view.get("PR-1")
    assert row is not None and (row["status"], row["code"]) == ("rejected", "unknown_penalty")


def test_messages_without_a_publication_id_move_the_position_but_write_no_row(
    registry: Registry, status: PublicationStatusProjection
) -> None:
    registry.process([b"{not json", b"[]"])
    assert status.catch_up() == 3  # the rejection log opened, and two rejections
    assert status.view.counts() == {}
    assert status.position() == status.head() == 3


def test_a_later_message_reusing_an_applied_id_leaves_it_applied(
    registry: Registry, status: PublicationStatusProjection
) -> None:
    registry.process([registered(publication_id="R-4"), penalty("P-4")])
    registry.apply_publication(penalty("P-4", severity="critical"))  # same id, now invalid
    status.catch_up()
    row = status.view.get("P-4")
    assert row is not None and row["status"] == "applied"


def test_a_rejection_cannot_move_another_departments_publication(
    registry: Registry, status: PublicationStatusProjection
) -> None:
    registry.apply_publication(penalty("P-THEIRS", uscc=uscc_for(40)))  # parked, TJ-AMR
    other = envelope("penalty.imposed", penalty_payload(), department="TJ-NOPE", publication_id="P-THEIRS")
    assert registry.apply_publication(other).code == "unknown_department"
    status.catch_up()
    row = status.view.get("P-THEIRS")
    assert row is not None and (row["status"], row["department"]) == ("parked", "TJ-AMR")


def test_rejections_are_recorded_with_the_batch_and_where_they_were_read(registry: Registry) -> None:
    registry.process(
        [registered(publication_id="R-5"), b"{", penalty("P-5", severity="x")],
        tracking=Tracking("log:pubs:2", 42),
        positions=[40, 41, 42],
    )
    log: RejectionLog = registry.repository.get(RejectionLog.id_for("log:pubs:2"))
    events = list(registry.repository.event_store.get(log.id))
    rejected = [e for e in events if isinstance(e, RejectionLog.PublicationRejected)]
    assert [(e.publication_id, e.code, e.position) for e in rejected] == [
        (None, "malformed", 41),
        ("P-5", "invalid_payload", 42),
    ]
    assert log.rejected == 2
    registry.apply_publication(b"[]")
    assert registry.repository.get(RejectionLog.id_for("direct")).rejected == 1


def test_positions_must_match_the_messages(registry: Registry) -> None:
    with pytest.raises(ValueError):
        registry.process([b"{"], positions=[1, 2])


def test_a_replay_changes_nothing(tmp_path: Path) -> None:
    registry = make_registry(sqlite_env(tmp_path))
    registry.process([penalty("P-6", uscc=uscc_for(6)), b"{", penalty("P-7", severity="x")])
    registry.process([registered(uscc=uscc_for(6), publication_id="R-6")])
    first = SQLiteStatusView.open(tmp_path / "a.sqlite3")
    projection = PublicationStatusProjection(registry, first, batch_size=2)
    projection.catch_up()
    rows = first.get_many(["P-6", "P-7", "R-6"])
    assert {pid: r["status"] for pid, r in rows.items()} == {
        "P-6": "applied",
        "P-7": "rejected",
        "R-6": "applied",
    }

    # the same batch again, at a position already recorded: refused, nothing written
    stale = StatusRow("P-6", "rejected", position=1, code="x")
    with pytest.raises(IntegrityError):
        first.upsert([stale], Tracking(projection.source, 1))
    assert first.get_many(["P-6", "P-7", "R-6"]) == rows
    assert projection.run_once() == 0

    # a rebuild from the start, in one batch or many, gives the same rows
    for batch_size in (1, 100):
        again = SQLiteStatusView.open(tmp_path / f"b{batch_size}.sqlite3")
        PublicationStatusProjection(registry, again, batch_size=batch_size).catch_up()
        assert again.get_many(["P-6", "P-7", "R-6"]) == rows
        again.close()
    first.close()
    registry.close()


def test_every_kind_has_the_event_that_applies_it() -> None:
    assert sorted(EVENT_KINDS.values()) == sorted(KINDS)
