"""The access log: every agency call, append-only, beside the event store.

One row per call (`access_log`), written before the answer is sent; the entities it read or
matched (`access_log_usccs`, one row per USCC, so "who read this entity" is an index lookup);
and, for an answer that streamed, one row appended when the stream ended (`access_log_results`:
its counts, whether it completed, and the USCCs matched while it ran). Nothing is ever updated
or deleted: both engines refuse it with a trigger (the tables are the evidence of who read what).

Embedded: a SQLite file (`access_log.sqlite3` in the data directory, like the credential store
and the extract ledger). Real: tables in the event store's PostgreSQL database and schema.

`reads_of(uscc, visible_on)` is what an enterprise may see of the reads of its record: every
read but those marked confidential whose delay has not passed on `visible_on`
(`domain.agency_access.visible_from`).
"""

from __future__ import annotations

import json
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.sqlite_util import SQLiteTable
from domain.agency_access import DEFAULT_CONFIDENTIAL_DELAY_DAYS, AccessEntry

__all__ = [
    "AccessLog",
    "AccessLogQuery",
    "AccessLogUnavailable",
    "PostgresAccessLog",
    "SQLiteAccessLog",
]

#: USCCs returned with each entry of a listing (the rest are counted: `uscc_count`).
USCCS_SHOWN = 50


class AccessLogUnavailable(Exception):
    """The access log cannot be written or read."""


@dataclass(frozen=True)
class AccessLogQuery:
    """Narrow a listing: by agency (office code), by an entity read, by system date (inclusive),
    entries older than `before_id` (paging, newest first)."""

    agency: str | None = None
    uscc: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    before_id: int | None = None
    limit: int = 100


_ENTRY_COLUMNS = (
    "at",
    "read_on",
    "agency",
    "agency_name",
    "key_id",
    "officer",
    "method",
    "route",
    "path",
    "query",
    "purpose",
    "confidential",
    "status",
    "counts",
    "uscc_count",
)
_SELECT = (
    "SELECT e.id, e.at, e.read_on, e.agency, e.agency_name, e.key_id, e.officer, e.method, e.route, "
    "e.path, e.query, e.purpose, e.confidential, e.status, e.counts, e.uscc_count, "
    "r.completed, r.ended_at, r.counts, r.uscc_count"
)


def _json(value: Any) -> Any:
    if value is None or isinstance(value, dict):
        return value or {}
    return json.loads(value)


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _entry(row: Sequence[Any], usccs: Sequence[str]) -> AccessEntry:
    (
        id_,
        at,
        read_on,
        agency,
        agency_name,
        key_id,
        officer,
        method,
        route,
        path,
        query,
        purpose,
        confidential,
        status,
        counts,
        uscc_count,
        completed,
        ended_at,
        result_counts,
        result_uscc_count,
    ) = row
    all_counts = {**_json(counts), **_json(result_counts)}
    return AccessEntry(
        id=int(id_),
        at=_when(at),
        read_on=_day(read_on),
        agency=str(agency),
        agency_name=agency_name,
        key_id=key_id,
        officer=officer,
        method=str(method),
        route=str(route),
        path=str(path),
        query=query,
        purpose=purpose,
        confidential=bool(confidential),
        status=int(status),
        counts=all_counts,
        usccs=tuple(usccs),
        uscc_count=int(uscc_count or 0) + int(result_uscc_count or 0),
        completed=None if completed is None else bool(completed),
        ended_at=None if ended_at is None else _when(ended_at),
    )


class AccessLog(ABC):
    """Where agency calls are written down (append-only) and read back."""

    def __init__(self, *, confidential_delay_days: int = DEFAULT_CONFIDENTIAL_DELAY_DAYS) -> None:
        self.confidential_delay_days = confidential_delay_days

    @abstractmethod
    def append(self, entry: AccessEntry) -> int:
        """Write one call with the USCCs it read (`entry.usccs`); its id. Raises
        AccessLogUnavailable when it could not be written (the call must then fail)."""

    @abstractmethod
    def append_result(
        self,
        entry_id: int,
        *,
        ended_at: datetime,
        completed: bool,
        counts: dict[str, Any],
        usccs: Iterable[str] = (),
    ) -> None:
        """Append what a streamed answer came to: its counts, whether it completed, the USCCs it
        matched while it ran (once per entry)."""

    @abstractmethod
    def entries(self, query: AccessLogQuery = AccessLogQuery()) -> list[AccessEntry]:
        """Entries newest first (administrators: everything, confidential ones included)."""

    def reads_of(self, uscc: str, visible_on: date, *, limit: int = 500) -> list[AccessEntry]:
        """The reads of `uscc`'s record an enterprise may see on `visible_on`, newest first:
        confidential reads only once their delay has passed (a read on `read_on` becomes visible
        on `read_on + confidential_delay_days`); calls that failed (status ≥ 400) read nothing."""
        hidden_after = visible_on - timedelta(days=self.confidential_delay_days)
        return self._reads_of(uscc, visible_on, hidden_after, limit)

    @abstractmethod
    def _reads_of(self, uscc: str, visible_on: date, hidden_after: date, limit: int) -> list[AccessEntry]:
        """Entries naming `uscc`, status < 400, read on or before `visible_on`, and either not
        confidential or read on or before `hidden_after`."""

    def close(self) -> None:
        """Release connections."""


def _entry_params(entry: AccessEntry) -> tuple[Any, ...]:
    return (
        entry.at,
        entry.read_on,
        entry.agency,
        entry.agency_name,
        entry.key_id,
        entry.officer,
        entry.method,
        entry.route,
        entry.path,
        entry.query,
        entry.purpose,
        entry.confidential,
        entry.status,
        json.dumps(entry.counts, ensure_ascii=False, default=str),
        len(set(entry.usccs)),
    )


def _distinct(usccs: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(usccs))


_APPEND_ONLY = "访问日志只能追加，不能修改或删除"

_SQLITE_DDL = (
    "CREATE TABLE IF NOT EXISTS access_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
    "read_on TEXT NOT NULL, agency TEXT NOT NULL, agency_name TEXT, key_id TEXT, officer TEXT, "
    "method TEXT NOT NULL, route TEXT NOT NULL, path TEXT NOT NULL, query TEXT, purpose TEXT, "
    "confidential INTEGER NOT NULL, status INTEGER NOT NULL, counts TEXT NOT NULL, "
    "uscc_count INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS access_log_by_agency ON access_log (agency, id)",
    "CREATE INDEX IF NOT EXISTS access_log_by_date ON access_log (read_on, id)",
    "CREATE TABLE IF NOT EXISTS access_log_usccs (entry_id INTEGER NOT NULL, uscc TEXT NOT NULL, "
    "PRIMARY KEY (uscc, entry_id)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS access_log_results (entry_id INTEGER PRIMARY KEY, ended_at TEXT NOT NULL, "
    "completed INTEGER NOT NULL, counts TEXT NOT NULL, uscc_count INTEGER NOT NULL)",
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
        for table in ("access_log", "access_log_usccs", "access_log_results")
        for action in ("UPDATE", "DELETE")
    ),
)


class SQLiteAccessLog(AccessLog):
    """The embedded access log: one SQLite file."""

    def __init__(self, path: Path, *, confidential_delay_days: int = DEFAULT_CONFIDENTIAL_DELAY_DAYS) -> None:
        super().__init__(confidential_delay_days=confidential_delay_days)
        self.path = path
        self._db = SQLiteTable(path, _SQLITE_DDL, unavailable=AccessLogUnavailable)

    def append(self, entry: AccessEntry) -> int:
        params = _entry_params(entry)
        params = (
            params[0].isoformat(),
            params[1].isoformat(),
            *params[2:11],
            int(entry.confidential),
            *params[12:],
        )
        columns = ", ".join(_ENTRY_COLUMNS)

        def work(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                f"INSERT INTO access_log ({columns}) VALUES ({', '.join('?' * len(_ENTRY_COLUMNS))})", params
            )
            entry_id = int(cursor.lastrowid or 0)
            conn.executemany(
                "INSERT OR IGNORE INTO access_log_usccs (entry_id, uscc) VALUES (?, ?)",
                [(entry_id, u) for u in _distinct(entry.usccs)],
            )
            return entry_id

        return self._db.atomic(work)

    def append_result(
        self,
        entry_id: int,
        *,
        ended_at: datetime,
        completed: bool,
        counts: dict[str, Any],
        usccs: Iterable[str] = (),
    ) -> None:
        distinct = _distinct(usccs)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO access_log_results (entry_id, ended_at, completed, counts, uscc_count) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    entry_id,
                    ended_at.isoformat(),
                    int(completed),
                    json.dumps(counts, ensure_ascii=False, default=str),
                    len(distinct),
                ),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO access_log_usccs (entry_id, uscc) VALUES (?, ?)",
                [(entry_id, u) for u in distinct],
            )

        try:
            self._db.atomic(work)
        except sqlite3.IntegrityError as err:  # a second result for the same entry
            raise AccessLogUnavailable(str(err)) from err

    def entries(self, query: AccessLogQuery = AccessLogQuery()) -> list[AccessEntry]:
        where, params = ["1"], list[Any]()
        if query.agency:
            where.append("e.agency = ?")
            params.append(query.agency)
        if query.uscc:
            where.append("e.id IN (SELECT entry_id FROM access_log_usccs WHERE uscc = ?)")
            params.append(query.uscc)
        if query.date_from:
            where.append("e.read_on >= ?")
            params.append(query.date_from.isoformat())
        if query.date_to:
            where.append("e.read_on <= ?")
            params.append(query.date_to.isoformat())
        if query.before_id:
            where.append("e.id < ?")
            params.append(query.before_id)
        return self._select(" AND ".join(where), params, query.limit)

    def _reads_of(self, uscc: str, visible_on: date, hidden_after: date, limit: int) -> list[AccessEntry]:
        where = (
            "e.id IN (SELECT entry_id FROM access_log_usccs WHERE uscc = ?) AND e.status < 400 "
            "AND e.read_on <= ? AND (e.confidential = 0 OR e.read_on <= ?)"
        )
        return self._select(where, [uscc, visible_on.isoformat(), hidden_after.isoformat()], limit)

    def _select(self, where: str, params: list[Any], limit: int) -> list[AccessEntry]:
        rows = self._db.rows(
            f"{_SELECT} FROM access_log e LEFT JOIN access_log_results r ON r.entry_id = e.id "
            f"WHERE {where} ORDER BY e.id DESC LIMIT ?",
            (*params, limit),
        )
        shown = self._usccs([int(r[0]) for r in rows])
        return [_entry(r, shown.get(int(r[0]), ())) for r in rows]

    def _usccs(self, ids: list[int]) -> dict[int, list[str]]:
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        rows = self._db.rows(
            "SELECT entry_id, uscc FROM (SELECT entry_id, uscc, ROW_NUMBER() OVER "
            f"(PARTITION BY entry_id ORDER BY uscc) AS n FROM access_log_usccs WHERE entry_id IN ({marks})) "
            "WHERE n <= ? ORDER BY entry_id, uscc",
            (*ids, USCCS_SHOWN),
        )
        out: dict[int, list[str]] = {}
        for entry_id, uscc in rows:
            out.setdefault(int(entry_id), []).append(str(uscc))
        return out

    def close(self) -> None:
        self._db.close()


_PG_DDL = (
    "CREATE TABLE IF NOT EXISTS {table} (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL, "
    "read_on DATE NOT NULL, agency TEXT NOT NULL, agency_name TEXT, key_id TEXT, officer TEXT, "
    "method TEXT NOT NULL, route TEXT NOT NULL, path TEXT NOT NULL, query TEXT, purpose TEXT, "
    "confidential BOOLEAN NOT NULL, status INTEGER NOT NULL, counts TEXT NOT NULL, "
    "uscc_count INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {by_agency} ON {table} (agency, id)",
    "CREATE INDEX IF NOT EXISTS {by_date} ON {table} (read_on, id)",
    "CREATE TABLE IF NOT EXISTS {access_log_usccs} (entry_id BIGINT NOT NULL, uscc TEXT NOT NULL, "
    "PRIMARY KEY (uscc, entry_id))",
    "CREATE TABLE IF NOT EXISTS {access_log_results} (entry_id BIGINT PRIMARY KEY, "
    "ended_at TIMESTAMPTZ NOT NULL, completed BOOLEAN NOT NULL, counts TEXT NOT NULL, "
    "uscc_count INTEGER NOT NULL)",
    "CREATE OR REPLACE FUNCTION {access_log_append_only}() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$",
    *(
        f"CREATE OR REPLACE TRIGGER append_only BEFORE UPDATE OR DELETE ON {{{table}}} "
        "FOR EACH ROW EXECUTE FUNCTION {access_log_append_only}()"
        for table in ("table", "access_log_usccs", "access_log_results")
    ),
    *(
        f"CREATE OR REPLACE TRIGGER append_only_truncate BEFORE TRUNCATE ON {{{table}}} "
        "FOR EACH STATEMENT EXECUTE FUNCTION {access_log_append_only}()"
        for table in ("table", "access_log_usccs", "access_log_results")
    ),
)


class PostgresAccessLog(AccessLog):
    """The access log as tables in the event store's database (and schema, if given)."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        confidential_delay_days: int = DEFAULT_CONFIDENTIAL_DELAY_DAYS,
        table: str = "access_log",
    ) -> None:
        from adapters.pg import PgTable  # psycopg only when PostgreSQL is configured

        super().__init__(confidential_delay_days=confidential_delay_days)
        # index names are not schema-qualified in CREATE INDEX: they take the table's schema
        ddl = tuple(
            s.replace("{by_agency}", f'"{table}_by_agency"').replace("{by_date}", f'"{table}_by_date"')
            for s in _PG_DDL
        )
        self._db = PgTable(
            dsn,
            table,
            ddl,
            schema=schema,
            unavailable=AccessLogUnavailable,
            others=("access_log_usccs", "access_log_results", "access_log_append_only"),
        )

    def append(self, entry: AccessEntry) -> int:
        columns = ", ".join(_ENTRY_COLUMNS)
        marks = ", ".join(["%s"] * len(_ENTRY_COLUMNS))
        rows = self._db.rows(
            f"WITH e AS (INSERT INTO {{table}} ({columns}) VALUES ({marks}) "
            "RETURNING id), u AS (INSERT INTO {access_log_usccs} (entry_id, uscc) "
            "SELECT e.id, x FROM e, unnest(%s::text[]) AS x) SELECT id FROM e",
            (*_entry_params(entry), _distinct(entry.usccs)),
        )
        return int(rows[0][0])

    def append_result(
        self,
        entry_id: int,
        *,
        ended_at: datetime,
        completed: bool,
        counts: dict[str, Any],
        usccs: Iterable[str] = (),
    ) -> None:
        distinct = _distinct(usccs)
        self._db.execute(
            "WITH r AS (INSERT INTO {access_log_results} (entry_id, ended_at, completed, counts, uscc_count) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING entry_id) "
            "INSERT INTO {access_log_usccs} (entry_id, uscc) "
            "SELECT r.entry_id, x FROM r, unnest(%s::text[]) AS x ON CONFLICT DO NOTHING",
            (
                entry_id,
                ended_at,
                completed,
                json.dumps(counts, ensure_ascii=False, default=str),
                len(distinct),
                distinct,
            ),
        )

    def entries(self, query: AccessLogQuery = AccessLogQuery()) -> list[AccessEntry]:
        where, params = ["TRUE"], list[Any]()
        if query.agency:
            where.append("e.agency = %s")
            params.append(query.agency)
        if query.uscc:
            where.append("e.id IN (SELECT entry_id FROM {access_log_usccs} WHERE uscc = %s)")
            params.append(query.uscc)
        if query.date_from:
            where.append("e.read_on >= %s")
            params.append(query.date_from)
        if query.date_to:
            where.append("e.read_on <= %s")
            params.append(query.date_to)
        if query.before_id:
            where.append("e.id < %s")
            params.append(query.before_id)
        return self._select(" AND ".join(where), params, query.limit)

    def _reads_of(self, uscc: str, visible_on: date, hidden_after: date, limit: int) -> list[AccessEntry]:
        where = (
            "e.id IN (SELECT entry_id FROM {access_log_usccs} WHERE uscc = %s) AND e.status < 400 "
            "AND e.read_on <= %s AND (NOT e.confidential OR e.read_on <= %s)"
        )
        return self._select(where, [uscc, visible_on, hidden_after], limit)

    def _select(self, where: str, params: list[Any], limit: int) -> list[AccessEntry]:
        rows = self._db.rows(
            f"{_SELECT} FROM {{table}} e LEFT JOIN {{access_log_results}} r ON r.entry_id = e.id "
            f"WHERE {where} ORDER BY e.id DESC LIMIT %s",
            (*params, limit),
        )
        ids = [int(r[0]) for r in rows]
        shown: dict[int, list[str]] = {}
        if ids:
            for entry_id, uscc in self._db.rows(
                "SELECT entry_id, uscc FROM (SELECT entry_id, uscc, ROW_NUMBER() OVER "
                "(PARTITION BY entry_id ORDER BY uscc) AS n FROM {access_log_usccs} "
                "WHERE entry_id = ANY(%s)) s WHERE n <= %s ORDER BY entry_id, uscc",
                (ids, USCCS_SHOWN),
            ):
                shown.setdefault(int(entry_id), []).append(str(uscc))
        return [_entry(r, shown.get(int(r[0]), ())) for r in rows]

    def close(self) -> None:
        self._db.close()
