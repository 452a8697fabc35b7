"""The publication status view, one suite for SQLite and PostgreSQL: rows and their position
are written together, a position already recorded writes nothing, and the upsert rules (later
positions win, applied stays applied, no row changes department) hold on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from adapters.status_view import PostgresStatusView, SQLiteStatusView, StatusRow, StatusView
from tests.engines import postgres_dsn, real, unique_prefix

SOURCE = "Registry"


@pytest.fixture(params=["sqlite", real("postgres")])
def view(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StatusView]:
    if request.param == "sqlite":
        v: StatusView = SQLiteStatusView.open(tmp_path / "status.sqlite3")
        yield v
        v.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"sv_{request.node.name[5:25]}").replace("[", "_").replace("]", "")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    v = PostgresStatusView.open(dsn, schema=schema)
    yield v
    v.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def row(pid: str, status: str, position: int, **kw: str) -> StatusRow:
    return StatusRow(pid, status, position, **kw)  # type: ignore[arg-type]


def test_rows_and_position_are_written_together(view: StatusView) -> None:
    assert view.max_tracking_id(SOURCE) is None
    view.upsert(
        [row("A", "parked", 1, uscc="U1", kind="penalty.imposed", department="D1")], Tracking(SOURCE, 3)
    )
    assert view.max_tracking_id(SOURCE) == 3
    assert view.get("A") == {
        "publication_id": "A",
        "status": "parked",
        "uscc": "U1",
        "kind": "penalty.imposed",
        "department": "D1",
        "code": None,
        "message": None,
        "position": 1,
    }
    assert view.get("B") is None
    assert view.counts() == {"parked": 1}


def test_a_position_already_recorded_writes_nothing(view: StatusView) -> None:
    view.upsert([row("A", "parked", 1, department="D1")], Tracking(SOURCE, 5))
    with pytest.raises(IntegrityError):
        view.upsert([row("B", "applied", 2, department="D1")], Tracking(SOURCE, 5))
    assert view.get("B") is None
    assert view.max_tracking_id(SOURCE) == 5


def test_later_positions_win_and_applied_stays_applied(view: StatusView) -> None:
    view.upsert(
        [
            row("A", "parked", 2, uscc="U1", kind="penalty.imposed", department="D1"),
            row("A", "rejected", 1, code="old", department="D1"),  # earlier: ignored
            row("B", "rejected", 3, code="invalid_payload", message="内容错误", department="D1"),
        ],
        Tracking(SOURCE, 3),
    )
    view.upsert(
        [
            row("A", "applied", 4, department="D1"),  # keeps what it does not say (uscc, kind)
            row("A", "rejected", 5, code="late", department="D1"),  # applied stays applied
            row("B", "applied", 6, uscc="U2", kind="penalty.imposed", department="D1"),
            row("C", "parked", 7, department="D1"),
            row("C", "rejected", 8, code="unknown_department", department="D2"),  # not D2's row
        ],
        Tracking(SOURCE, 8),
    )
    rows = view.get_many(["A", "B", "C", "Z"])
    assert {pid: (r["status"], r["code"], r["uscc"], r["kind"]) for pid, r in rows.items()} == {
        "A": ("applied", None, "U1", "penalty.imposed"),
        "B": ("applied", None, "U2", "penalty.imposed"),
        "C": ("parked", None, None, None),
    }
    assert rows["C"]["department"] == "D1"


def test_many_ids_are_read_in_one_call(view: StatusView) -> None:
    rows = [row(f"P-{i:05d}", "applied", i + 1, department="D1") for i in range(1200)]
    view.upsert(rows, Tracking(SOURCE, 1200))
    found = view.get_many([r.publication_id for r in rows] + ["missing"])
    assert len(found) == 1200
    assert view.counts() == {"applied": 1200}
