"""The audit trail, one suite for SQLite and PostgreSQL: acts are read back in the order they were
recorded with who, what, when and the arguments; `since` keeps the later ones; and the store
itself refuses to change or remove an entry (UPDATE, DELETE run straight on the engine)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from adapters.audit_trail import AuditTrail, PostgresAuditTrail, SQLiteAuditTrail
from tests.engines import postgres_dsn, real, unique_prefix

AT = datetime(2026, 11, 22, 1, 2, 3, 456789, tzinfo=UTC)


@pytest.fixture(params=["sqlite", real("postgres")])
def trail(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[AuditTrail, object]]:
    if request.param == "sqlite":
        path = tmp_path / "audit.sqlite3"
        s: AuditTrail = SQLiteAuditTrail(path)

        def raw_sqlite(statement: str) -> None:
            with sqlite3.connect(path) as conn:
                conn.execute(statement.format(table="audit_trail"))

        yield s, raw_sqlite
        s.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"au_{request.node.name[5:25]}").replace("[", "_").replace("]", "")
    s = PostgresAuditTrail(dsn, schema=schema)

    def raw_pg(statement: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(statement.format(table=f'"{schema}".audit_trail'))  # type: ignore[arg-type]

    yield s, raw_pg
    s.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_acts_are_read_back_in_order_with_who_what_when_and_arguments(
    trail: tuple[AuditTrail, object],
) -> None:
    audit, _ = trail
    first = audit.record(AT, "cli:zhang", "keys.created", {"role": "admin", "key_id": "ab12cd34"})
    second = audit.record(
        AT + timedelta(seconds=1), "admin:ops-li/key:ef56gh78", "projections.rebuilt", {"name": "全部"}
    )
    assert second.number > first.number
    assert audit.entries() == [first, second]
    assert (first.at, first.actor, first.action, first.arguments) == (
        AT,
        "cli:zhang",
        "keys.created",
        {"role": "admin", "key_id": "ab12cd34"},
    )
    assert second.arguments == {"name": "全部"}


def test_since_keeps_the_acts_at_or_after_it_and_limit_the_latest(trail: tuple[AuditTrail, object]) -> None:
    audit, _ = trail
    entries = [audit.record(AT + timedelta(hours=n), "cli:zhang", "jobs.run", {"n": n}) for n in range(5)]
    assert audit.entries(since=AT + timedelta(hours=3)) == entries[3:]
    assert audit.entries(since=AT + timedelta(hours=2, microseconds=1)) == entries[3:]
    # an instant in another zone is the same instant
    beijing = AT.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")) + timedelta(hours=4)
    assert audit.entries(since=beijing) == entries[4:]
    assert audit.entries(limit=2) == entries[3:]


def test_an_entry_needs_an_aware_instant_an_actor_and_an_action(trail: tuple[AuditTrail, object]) -> None:
    audit, _ = trail
    with pytest.raises(ValueError):
        audit.record(AT.replace(tzinfo=None), "cli:zhang", "keys.created", {})
    with pytest.raises(ValueError):
        audit.record(AT, "", "keys.created", {})
    assert audit.entries() == []


@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET actor = 'someone else'", "DELETE FROM {table}"],
)
def test_the_store_refuses_to_change_or_remove_an_entry(
    trail: tuple[AuditTrail, object], statement: str
) -> None:
    audit, raw = trail
    entry = audit.record(AT, "cli:zhang", "keys.revoked", {"key_id": "ab12cd34"})
    with pytest.raises((sqlite3.Error, psycopg.Error), match="只可追加"):
        raw(statement)  # type: ignore[operator]
    assert audit.entries() == [entry]
