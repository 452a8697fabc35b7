"""The two one-table helpers the small adapters stand on, one suite for SQLite and PostgreSQL:
statements, rows and counts; a taken key is `False` from `try_insert` but the adapter's own
error anywhere else; every vendor error is the adapter's own error; and on PostgreSQL nothing
connects, and no schema appears, before the table is first used. Also the eventsourcing
datastore the status view is built on."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from adapters.pg import PgTable, postgres_datastore
from adapters.sqlite_util import SQLiteTable
from tests.engines import postgres_dsn, real, unique_prefix

DDL = "CREATE TABLE IF NOT EXISTS {table} (k TEXT PRIMARY KEY, n INTEGER NOT NULL)"


class Unavailable(Exception):
    """The adapter's own error, as the helpers are given it."""


@dataclass
class Table:
    db: PgTable | SQLiteTable
    q: Callable[[str], str]  # the suite's PostgreSQL text in the helper's dialect


def _schema_exists(dsn: str, schema: str) -> bool:
    with psycopg.connect(dsn) as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return found is not None


@pytest.fixture(params=["sqlite", real("postgres")])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Table]:
    if request.param == "sqlite":

        def sqlite_text(text: str) -> str:
            return text.replace("{table}", "items").replace("%s", "?")

        db = SQLiteTable(tmp_path / "deep" / "items.sqlite3", sqlite_text(DDL), unavailable=Unavailable)
        yield Table(db, sqlite_text)
        db.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"th_{request.node.name[5:25]}").replace("[", "_").replace("]", "")
    pg = PgTable(dsn, "items", DDL, schema=schema, unavailable=Unavailable)
    yield Table(pg, lambda text: text)
    pg.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_statements_rows_and_counts(table: Table) -> None:
    db, q = table.db, table.q
    assert db.execute(q("INSERT INTO {table} VALUES (%s, %s)"), ("a", 1)) == 1
    assert db.try_insert(q("INSERT INTO {table} VALUES (%s, %s)"), ("b", 2)) is True
    assert db.rows(q("SELECT k, n FROM {table} ORDER BY k")) == [("a", 1), ("b", 2)]
    assert db.execute(q("UPDATE {table} SET n = n + 1")) == 2
    assert db.rows(q("SELECT n FROM {table} WHERE k = %s"), ("zz",)) == []


def test_a_taken_key_is_false_from_try_insert_and_an_error_elsewhere(table: Table) -> None:
    db, q = table.db, table.q
    db.execute(q("INSERT INTO {table} VALUES (%s, %s)"), ("a", 1))
    assert db.try_insert(q("INSERT INTO {table} VALUES (%s, %s)"), ("a", 9)) is False
    with pytest.raises(Unavailable):
        db.execute(q("INSERT INTO {table} VALUES (%s, %s)"), ("a", 9))
    assert db.rows(q("SELECT n FROM {table}")) == [(1,)]


def test_vendor_errors_are_the_adapters_own(table: Table) -> None:
    with pytest.raises(Unavailable) as raised:
        table.db.rows(table.q("SELECT no_such_column FROM {table}"))
    assert isinstance(raised.value.__cause__, psycopg.Error | sqlite3.Error)


@pytest.mark.engines
def test_postgres_connects_and_creates_its_schema_on_first_use() -> None:
    dsn = postgres_dsn()
    schema = unique_prefix("th_lazy")
    # an unreachable server is no error until the table is used
    PgTable(
        "postgresql://nobody@127.0.0.1:1/none", "items", DDL, schema=schema, unavailable=Unavailable
    ).close()
    db = PgTable(dsn, "items", DDL, schema=schema, unavailable=Unavailable)
    try:
        assert not _schema_exists(dsn, schema)
        assert db.rows("SELECT k FROM {table}") == []
        assert _schema_exists(dsn, schema)
    finally:
        db.close()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.engines
def test_identifiers_passed_by_keyword_are_quoted() -> None:
    dsn = postgres_dsn()
    schema = unique_prefix("th_quoted")
    ddl = 'CREATE TABLE IF NOT EXISTS {table} ("odd name" TEXT)'
    db = PgTable(dsn, "items", ddl, schema=schema, unavailable=Unavailable)
    try:
        db.execute("INSERT INTO {table} VALUES (%s)", ("x",))
        assert db.rows("SELECT {column} FROM {table}", column="odd name") == [("x",)]
    finally:
        db.close()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_sqlite_that_cannot_open_its_file_is_the_adapters_error(tmp_path: Path) -> None:
    with pytest.raises(Unavailable):
        SQLiteTable(tmp_path, "CREATE TABLE t (k TEXT)", unavailable=Unavailable)  # a folder, not a file


@pytest.mark.engines
def test_the_datastore_is_bound_to_the_event_stores_database_and_schema() -> None:
    dsn = postgres_dsn()
    default = postgres_datastore(dsn)
    assert default.schema == "public"
    default.close()
    datastore = postgres_datastore(dsn, schema="gongshi_events", pool_size=3)
    try:
        assert datastore.schema == "gongshi_events"
        with datastore.transaction(commit=False) as curs:
            curs.execute("SELECT current_database() AS db")
            row = curs.fetchone()
        assert row is not None and row["db"] == dsn.rsplit("/", 1)[1]
    finally:
        datastore.close()
