"""The audit trail: every administrative act, append-only.

Who acted (`admin:ops-zhang/key:ab12cd34` for an operator's API key, `cli:zhang` for the
operating-system user running `gongshi`), what they did (a stable action code such as
`keys.created`, `projections.rebuilt`, `dlq.replayed`), when (a UTC instant from the platform's
clock) and with which arguments (a JSON object; never a secret — a key's id, never the key).

Append-only in the store itself, not only in this code: the table refuses UPDATE and DELETE
(a trigger on both engines), so a mistaken or hostile statement through another client fails
too. Entries are numbered in the order they were recorded.

Embedded: a SQLite file (`audit.sqlite3` in the data directory). Real: a table `audit_trail` in
the event store's PostgreSQL database (and schema, when one is configured).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.sqlite_util import SQLiteTable

__all__ = [
    "AuditEntry",
    "AuditTrail",
    "AuditUnavailable",
    "PostgresAuditTrail",
    "SQLiteAuditTrail",
]


class AuditUnavailable(Exception):
    """The audit trail's database cannot be reached or answered with an error."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded act."""

    number: int
    at: datetime
    actor: str
    action: str
    arguments: dict[str, Any] = field(default_factory=dict)


def _json(arguments: dict[str, Any]) -> str:
    return json.dumps(arguments, ensure_ascii=False, sort_keys=True, default=str)


def _row_to_entry(row: tuple[Any, ...]) -> AuditEntry:
    number, at, actor, action, arguments = row
    when = at if isinstance(at, datetime) else datetime.fromisoformat(at)
    args = arguments if isinstance(arguments, dict) else json.loads(arguments)
    return AuditEntry(int(number), when.astimezone(UTC), str(actor), str(action), args)


class AuditTrail(ABC):
    """Where administrative acts are recorded and read back; nothing is ever changed or removed."""

    @abstractmethod
    def record(self, at: datetime, actor: str, action: str, arguments: dict[str, Any]) -> AuditEntry:
        """Append one act (`at` an aware instant) and return it with its number."""

    @abstractmethod
    def entries(self, *, since: datetime | None = None, limit: int = 1000) -> list[AuditEntry]:
        """The acts recorded at or after `since` (all when None), oldest first, at most `limit`
        (the most recent ones when there are more)."""

    def close(self) -> None:
        """Release connections."""


def _check(at: datetime, actor: str, action: str) -> None:
    if at.tzinfo is None:
        raise ValueError("an audit entry's instant must be aware (UTC)")
    if not actor or not action:
        raise ValueError("an audit entry names who acted and what they did")


_COLUMNS = "number, at, actor, action, arguments"
_REFUSE = "审计记录只可追加，不可修改或删除"


class SQLiteAuditTrail(AuditTrail):
    """The embedded trail: one SQLite file; UPDATE and DELETE refused by triggers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = SQLiteTable(
            path,
            (
                "CREATE TABLE IF NOT EXISTS audit_trail (number INTEGER PRIMARY KEY AUTOINCREMENT, "
                "at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, arguments TEXT NOT NULL)",
                "CREATE INDEX IF NOT EXISTS audit_trail_at ON audit_trail (at)",
                "CREATE TRIGGER IF NOT EXISTS audit_trail_no_update BEFORE UPDATE ON audit_trail "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END",
                "CREATE TRIGGER IF NOT EXISTS audit_trail_no_delete BEFORE DELETE ON audit_trail "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END",
            ),
            unavailable=AuditUnavailable,
        )

    def record(self, at: datetime, actor: str, action: str, arguments: dict[str, Any]) -> AuditEntry:
        _check(at, actor, action)
        # instants stored as UTC ISO text of one width, so text order is time order
        stamp = at.astimezone(UTC).isoformat(timespec="microseconds")
        rows = self._db.rows(
            "INSERT INTO audit_trail (at, actor, action, arguments) VALUES (?, ?, ?, ?) "
            f"RETURNING {_COLUMNS}",
            (stamp, actor, action, _json(arguments)),
        )
        return _row_to_entry(rows[0])

    def entries(self, *, since: datetime | None = None, limit: int = 1000) -> list[AuditEntry]:
        if since is None:
            rows = self._db.rows(f"SELECT {_COLUMNS} FROM audit_trail ORDER BY number DESC LIMIT ?", (limit,))
        else:
            rows = self._db.rows(
                f"SELECT {_COLUMNS} FROM audit_trail WHERE at >= ? ORDER BY number DESC LIMIT ?",
                (since.astimezone(UTC).isoformat(timespec="microseconds"), limit),
            )
        return [_row_to_entry(r) for r in reversed(rows)]

    def close(self) -> None:
        self._db.close()


class PostgresAuditTrail(AuditTrail):
    """The trail as a table `audit_trail` beside the event store; UPDATE and DELETE refused by a
    trigger."""

    def __init__(self, dsn: str, *, schema: str | None = None, table: str = "audit_trail") -> None:
        from adapters.pg import PgTable  # psycopg only when PostgreSQL is configured

        self._db = PgTable(
            dsn,
            table,
            (
                "CREATE TABLE IF NOT EXISTS {table} (number BIGSERIAL PRIMARY KEY, "
                "at TIMESTAMPTZ NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, "
                "arguments JSONB NOT NULL)",
                "CREATE INDEX IF NOT EXISTS audit_trail_at ON {table} (at)",
                "CREATE OR REPLACE FUNCTION {audit_trail_refuse}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$",
                "CREATE OR REPLACE TRIGGER audit_trail_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                "ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {audit_trail_refuse}()",
            ),
            schema=schema,
            unavailable=AuditUnavailable,
            others=("audit_trail_refuse",),
        )

    def record(self, at: datetime, actor: str, action: str, arguments: dict[str, Any]) -> AuditEntry:
        _check(at, actor, action)
        rows = self._db.rows(
            f"INSERT INTO {{table}} (at, actor, action, arguments) VALUES (%s, %s, %s, %s::jsonb) "
            f"RETURNING {_COLUMNS}",
            (at, actor, action, _json(arguments)),
        )
        return _row_to_entry(rows[0])

    def entries(self, *, since: datetime | None = None, limit: int = 1000) -> list[AuditEntry]:
        if since is None:
            rows = self._db.rows(f"SELECT {_COLUMNS} FROM {{table}} ORDER BY number DESC LIMIT %s", (limit,))
        else:
            rows = self._db.rows(
                f"SELECT {_COLUMNS} FROM {{table}} WHERE at >= %s ORDER BY number DESC LIMIT %s",
                (since, limit),
            )
        return [_row_to_entry(r) for r in reversed(rows)]

    def close(self) -> None:
        self._db.close()
