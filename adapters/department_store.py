"""The department registry's history: every change of a department or its mandate, append-only.

Rows are `MandateChange`s (domain.departments): a department seeded from the shipped file or
added, its kinds set from a system date, disabled from a date — with who and when. The first use
seeds the shipped file's departments (each once: a department the file adds in a later release
is seeded then; one the operators changed keeps their changes). `version()` is the last change's
number, so a process can tell cheaply that it must re-read (`DepartmentRegistry.refresh`).

Embedded: a SQLite file (`departments.sqlite3` in the data directory). Real: a table
`department_changes` in the event store's PostgreSQL database (and schema, when configured).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from adapters.sqlite_util import SQLiteTable
from domain.departments import MandateChange

__all__ = ["DepartmentStore", "DepartmentsUnavailable", "PostgresDepartmentStore", "SQLiteDepartmentStore"]


class DepartmentsUnavailable(Exception):
    """The department store's database cannot be reached or answered with an error."""


_COLUMNS = "number, code, action, effective_from, at, actor, fields"


def _row(row: tuple[Any, ...]) -> MandateChange:
    number, code, action, effective_from, at, actor, fields = row
    day = effective_from if isinstance(effective_from, date) else date.fromisoformat(effective_from)
    when = None if at is None else (at if isinstance(at, datetime) else datetime.fromisoformat(at))
    data = fields if isinstance(fields, dict) else json.loads(fields)
    return MandateChange(int(number), str(code), str(action), day, when, str(actor), data)


def _json(fields: dict[str, Any]) -> str:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True)


class DepartmentStore(ABC):
    """Where the registry's changes are kept (the domain's `MandateSource`)."""

    @abstractmethod
    def version(self) -> int:
        """The last change's number (0: none)."""

    @abstractmethod
    def changes(self) -> list[MandateChange]:
        """Every change, in the order recorded."""

    @abstractmethod
    def record(
        self, code: str, action: str, effective_from: date, at: datetime, actor: str, fields: dict[str, Any]
    ) -> MandateChange:
        """Append one change."""

    @abstractmethod
    def seed(self, changes: list[MandateChange]) -> int:
        """Append the seeded departments not seeded before; how many were new."""

    def close(self) -> None:
        """Release connections."""


class SQLiteDepartmentStore(DepartmentStore):
    def __init__(self, path: Path) -> None:
        self._db = SQLiteTable(
            path,
            "CREATE TABLE IF NOT EXISTS department_changes (number INTEGER PRIMARY KEY AUTOINCREMENT, "
            "code TEXT NOT NULL, action TEXT NOT NULL, effective_from TEXT NOT NULL, at TEXT, "
            "actor TEXT NOT NULL, fields TEXT NOT NULL, seed_key TEXT UNIQUE)",
            unavailable=DepartmentsUnavailable,
        )

    def version(self) -> int:
        return int(self._db.rows("SELECT COALESCE(MAX(number), 0) FROM department_changes")[0][0])

    def changes(self) -> list[MandateChange]:
        return [_row(r) for r in self._db.rows(f"SELECT {_COLUMNS} FROM department_changes ORDER BY number")]

    def record(
        self, code: str, action: str, effective_from: date, at: datetime, actor: str, fields: dict[str, Any]
    ) -> MandateChange:
        rows = self._db.rows(
            "INSERT INTO department_changes (code, action, effective_from, at, actor, fields) "
            f"VALUES (?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
            (code, action, effective_from.isoformat(), at.astimezone(UTC).isoformat(), actor, _json(fields)),
        )
        return _row(rows[0])

    def seed(self, changes: list[MandateChange]) -> int:
        added = 0
        for c in changes:
            added += self._db.execute(
                "INSERT INTO department_changes (code, action, effective_from, at, actor, fields, seed_key) "
                "VALUES (?, ?, ?, NULL, ?, ?, ?) ON CONFLICT (seed_key) DO NOTHING",
                (c.code, c.action, c.effective_from.isoformat(), c.actor, _json(c.fields), c.code),
            )
        return added

    def close(self) -> None:
        self._db.close()


class PostgresDepartmentStore(DepartmentStore):
    def __init__(self, dsn: str, *, schema: str | None = None, table: str = "department_changes") -> None:
        from adapters.pg import PgTable  # psycopg only when PostgreSQL is configured

        self._db = PgTable(
            dsn,
            table,
            "CREATE TABLE IF NOT EXISTS {table} (number BIGSERIAL PRIMARY KEY, code TEXT NOT NULL, "
            "action TEXT NOT NULL, effective_from DATE NOT NULL, at TIMESTAMPTZ, actor TEXT NOT NULL, "
            "fields JSONB NOT NULL, seed_key TEXT UNIQUE)",
            schema=schema,
            unavailable=DepartmentsUnavailable,
        )

    def version(self) -> int:
        return int(self._db.rows("SELECT COALESCE(MAX(number), 0) FROM {table}")[0][0])

    def changes(self) -> list[MandateChange]:
        return [_row(r) for r in self._db.rows(f"SELECT {_COLUMNS} FROM {{table}} ORDER BY number")]

    def record(
        self, code: str, action: str, effective_from: date, at: datetime, actor: str, fields: dict[str, Any]
    ) -> MandateChange:
        rows = self._db.rows(
            "INSERT INTO {table} (code, action, effective_from, at, actor, fields) "
            f"VALUES (%s, %s, %s, %s, %s, %s::jsonb) RETURNING {_COLUMNS}",
            (code, action, effective_from, at, actor, _json(fields)),
        )
        return _row(rows[0])

    def seed(self, changes: list[MandateChange]) -> int:
        added = 0
        for c in changes:
            added += self._db.execute(
                "INSERT INTO {table} (code, action, effective_from, at, actor, fields, seed_key) "
                "VALUES (%s, %s, %s, NULL, %s, %s::jsonb, %s) ON CONFLICT (seed_key) DO NOTHING",
                (c.code, c.action, c.effective_from, c.actor, _json(c.fields), c.code),
            )
        return added

    def close(self) -> None:
        self._db.close()
