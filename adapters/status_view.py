"""The publication status view: where each publication stands (applied, parked or rejected).

A materialised view in eventsourcing's projection pattern: each implementation subclasses the
library's tracking recorder, so the status rows of a batch and the position they were read up to
are written in ONE transaction (SQLite, PostgreSQL). A crash never leaves rows without their
position or a position without its rows; recording a position that is not past the recorded one
raises `IntegrityError` and writes nothing.

Rows are keyed by `publication_id`. A row moves on only to a later position, an applied
publication stays applied (a later message reusing its id changed nothing), and a row never
passes from one department to another.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg
from eventsourcing.persistence import PersistenceError, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from adapters.pg import postgres_datastore
from adapters.sqlite_util import sqlite_datastore

StatusName = Literal["applied", "parked", "rejected"]
COLUMNS = ("publication_id", "status", "uscc", "kind", "department", "code", "message", "position")
TABLE = "publication_status"


class StatusUnavailable(Exception):
    """The status view's database cannot be reached or answered with an error."""


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """Vendor errors of a read become `StatusUnavailable` (writes keep eventsourcing's errors:
    the projection runner retries them, and `IntegrityError` means "position already recorded")."""
    try:
        yield
    except (PersistenceError, psycopg.Error, sqlite3.Error, OSError) as err:
        raise StatusUnavailable(f"publication status: {action} failed: {err!r}") from err


@dataclass(frozen=True)
class StatusRow:
    """What one event says about one publication, and the notification id it came from."""

    publication_id: str
    status: StatusName
    position: int
    uscc: str | None = None
    kind: str | None = None
    department: str | None = None
    code: str | None = None
    message: str | None = None


class StatusView(TrackingRecorder, ABC):
    """Port: the status of publications, and the position of the log they were read from."""

    @abstractmethod
    def upsert(self, rows: Sequence[StatusRow], tracking: Tracking) -> None:
        """Write `rows` (in order) and record `tracking`, in one transaction."""

    @abstractmethod
    def get_many(self, publication_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The rows that exist among `publication_ids`, by id."""

    def get(self, publication_id: str) -> dict[str, Any] | None:
        """`{publication_id, status, uscc, kind, department, code, message, position}` or None."""
        return self.get_many([publication_id]).get(publication_id)

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """How many publications are in each status."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


# Shared by both SQL dialects: the guards that make replays and reused ids harmless.
_UPSERT_TAIL = """
ON CONFLICT (publication_id) DO UPDATE SET
  status = excluded.status,
  uscc = COALESCE(excluded.uscc, {t}.uscc),
  kind = COALESCE(excluded.kind, {t}.kind),
  department = COALESCE(excluded.department, {t}.department),
  code = excluded.code,
  message = excluded.message,
  position = excluded.position
WHERE {t}.position < excluded.position
  AND {t}.status <> 'applied'
  AND ({t}.department IS NULL OR excluded.department IS NULL OR {t}.department = excluded.department)
"""


def _params(row: StatusRow) -> dict[str, Any]:
    return asdict(row)


class SQLiteStatusView(SQLiteTrackingRecorder, StatusView):
    """The status view in a SQLite file (embedded)."""

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            "publication_id TEXT PRIMARY KEY, status TEXT NOT NULL, uscc TEXT, kind TEXT, "
            "department TEXT, code TEXT, message TEXT, position INTEGER NOT NULL) WITHOUT ROWID"
        )
        return statements

    @classmethod
    def open(cls, path: Path) -> SQLiteStatusView:
        view = cls(sqlite_datastore(path))
        view.create_table()
        return view

    def upsert(self, rows: Sequence[StatusRow], tracking: Tracking) -> None:
        statement = (
            f"INSERT INTO {TABLE} VALUES (:publication_id, :status, :uscc, :kind, :department, "
            ":code, :message, :position)" + _UPSERT_TAIL.format(t=TABLE)
        )
        with self.datastore.transaction(commit=True) as c:
            if rows:
                c.executemany(statement, [_params(r) for r in rows])
            self._insert_tracking(c, tracking)

    def get_many(self, publication_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(dict.fromkeys(publication_ids))
        out: dict[str, dict[str, Any]] = {}
        with _translated("reading statuses"), self.datastore.transaction(commit=False) as c:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                c.execute(f"SELECT * FROM {TABLE} WHERE publication_id IN ({marks})", chunk)
                for row in c.fetchall():
                    out[row["publication_id"]] = {k: row[k] for k in COLUMNS}
        return out

    def counts(self) -> dict[str, int]:
        with _translated("counting statuses"), self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT status, COUNT(*) FROM {TABLE} GROUP BY status")
            return {str(s): int(n) for s, n in c.fetchall()}

    def close(self) -> None:
        self.datastore.close()


class PostgresStatusView(PostgresTrackingRecorder, StatusView):
    """The status view in the event store's PostgreSQL database and schema."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        kwargs.setdefault("tracking_table_name", f"{TABLE}_tracking")
        super().__init__(datastore, **kwargs)
        schema, table = Identifier(self.datastore.schema), Identifier(TABLE)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.{1} ("
                "publication_id text PRIMARY KEY, status text NOT NULL, uscc text, kind text, "
                "department text, code text, message text, position bigint NOT NULL)"
            ).format(schema, table)
        )
        self.upsert_statement = SQL(
            "INSERT INTO {0}.{1} AS {1} VALUES (%(publication_id)s, %(status)s, %(uscc)s, %(kind)s, "
            "%(department)s, %(code)s, %(message)s, %(position)s)" + _UPSERT_TAIL.format(t="{1}")
        ).format(schema, table)
        self.select_statement = SQL("SELECT * FROM {0}.{1} WHERE publication_id = ANY(%s)").format(
            schema, table
        )
        self.counts_statement = SQL("SELECT status, COUNT(*) AS n FROM {0}.{1} GROUP BY status").format(
            schema, table
        )

    @classmethod
    def open(cls, dsn: str, schema: str | None = None, pool_size: int = 2) -> PostgresStatusView:
        """Connects (on first use of the pool) to the database and schema of the event store."""
        view = cls(postgres_datastore(dsn, schema=schema, pool_size=pool_size))
        view.create_table()
        return view

    def upsert(self, rows: Sequence[StatusRow], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            if rows:
                curs.executemany(self.upsert_statement, [_params(r) for r in rows])
            self._insert_tracking(curs, tracking)

    def get_many(self, publication_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(dict.fromkeys(publication_ids))
        out: dict[str, dict[str, Any]] = {}
        with _translated("reading statuses"), self.datastore.transaction(commit=False) as curs:
            for start in range(0, len(ids), 1000):
                curs.execute(self.select_statement, (ids[start : start + 1000],))
                for row in curs.fetchall():
                    out[row["publication_id"]] = {k: row[k] for k in COLUMNS}
        return out

    def counts(self) -> dict[str, int]:
        with _translated("counting statuses"), self.datastore.transaction(commit=False) as curs:
            curs.execute(self.counts_statement)
            return {str(r["status"]): int(r["n"]) for r in curs.fetchall()}

    def close(self) -> None:
        self.datastore.close()


__all__ = ["PostgresStatusView", "SQLiteStatusView", "StatusRow", "StatusUnavailable", "StatusView"]
