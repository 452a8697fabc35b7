"""The enterprise's private store: drafts, what it filed, and evidence files.

Drafts are not filings: an annual report saved and saved again stays here, visible to the
enterprise's own logins only, never on the publication log, never public, never indexed. A
filing (a report submitted or corrected, a disclosure, an application) is an envelope on the
log; this store keeps what was sent, by whom and when (the real instant and the system date),
under its publication id, and the verification code of its receipt (回执). Evidence files that
go with an application (PDF or images) are kept here by their SHA-256; the envelope names only
their hashes, names and sizes.

Embedded: a SQLite file (`enterprise.sqlite3` in the data directory). Real: tables in the event
store's PostgreSQL database (and schema). Queries are written once in PostgreSQL's text and
rewritten for SQLite, as the credential store does.
"""

from __future__ import annotations

import json
import secrets
from abc import ABC
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from adapters.sqlite_util import SQLiteTable

__all__ = [
    "Draft",
    "EnterpriseStore",
    "EnterpriseStoreUnavailable",
    "Evidence",
    "Filing",
    "PostgresEnterpriseStore",
    "SQLiteEnterpriseStore",
    "normalise_receipt_code",
    "receipt_code",
]

DDL: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS {drafts} (uscc TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, "
    "body TEXT NOT NULL, revision INTEGER NOT NULL, saved_at {ts} NOT NULL, saved_by TEXT NOT NULL, "
    "PRIMARY KEY (uscc, kind, key))",
    "CREATE TABLE IF NOT EXISTS {filings} (publication_id TEXT PRIMARY KEY, uscc TEXT NOT NULL, "
    "kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, filed_at {ts} NOT NULL, "
    "filed_on TEXT NOT NULL, filed_by TEXT NOT NULL, receipt_code TEXT NOT NULL UNIQUE)",
    "CREATE INDEX IF NOT EXISTS filings_by_entity ON {filings} (uscc, kind, key)",
    "CREATE TABLE IF NOT EXISTS {evidence} (sha256 TEXT NOT NULL, uscc TEXT NOT NULL, "
    "name TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL, data {blob} NOT NULL, "
    "stored_at {ts} NOT NULL, stored_by TEXT NOT NULL, PRIMARY KEY (uscc, sha256))",
)
TABLES = ("drafts", "filings", "evidence")

#: Crockford's base 32, as the extract ledger's codes: nothing to misread when typed from paper.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def receipt_code() -> str:
    """A receipt's verification code: `R` + 12 random characters (60 bits), `RXXXX-XXXX-XXXX`."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return "R" + "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def normalise_receipt_code(text: str) -> str:
    """As typed → as printed: spaces and hyphens dropped, upper case, O read as 0, I/L as 1."""
    raw = "".join(ch for ch in text.upper() if ch not in " -\t").translate(str.maketrans("OIL", "011"))
    if raw.startswith("R"):
        raw = raw[1:]
    return "R" + "-".join(raw[i : i + 4] for i in range(0, len(raw), 4)) if len(raw) == 12 else text.strip()


class EnterpriseStoreUnavailable(Exception):
    """The store cannot be reached or answered with an error."""


@dataclass(frozen=True, slots=True)
class Draft:
    uscc: str
    kind: str
    key: str
    body: dict[str, Any]
    revision: int
    saved_at: datetime
    saved_by: str


@dataclass(frozen=True, slots=True)
class Filing:
    """What an enterprise sent to the log: the envelope's payload, who, when, the receipt code."""

    publication_id: str
    uscc: str
    kind: str
    key: str
    body: dict[str, Any]
    filed_at: datetime
    filed_on: date
    filed_by: str
    receipt_code: str


@dataclass(frozen=True, slots=True)
class Evidence:
    sha256: str
    uscc: str
    name: str
    content_type: str
    size: int
    data: bytes


class _Db(Protocol):
    def execute(self, query: str, params: tuple[Any, ...] = ()) -> int: ...
    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...
    def try_insert(self, query: str, params: tuple[Any, ...] = ()) -> bool: ...
    def close(self) -> None: ...


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


_FILING_COLUMNS = "publication_id, uscc, kind, key, body, filed_at, filed_on, filed_by, receipt_code"


def _filing(row: tuple[Any, ...]) -> Filing:
    pid, uscc, kind, key, body, at, on, by, code = row
    return Filing(
        str(pid),
        str(uscc),
        str(kind),
        str(key),
        json.loads(body),
        _when(at),
        date.fromisoformat(str(on)),
        by,
        code,
    )


class EnterpriseStore(ABC):  # noqa: B024 — the port; both adapters only choose where rows live
    """Port and use cases; `SQLiteEnterpriseStore` or `PostgresEnterpriseStore` pick the tables."""

    def __init__(self, db: _Db) -> None:
        self._db = db

    def close(self) -> None:
        self._db.close()

    # --- drafts ----------------------------------------------------------------------------------

    def save_draft(
        self, uscc: str, kind: str, key: str, body: dict[str, Any], by: str, at: datetime
    ) -> Draft:
        """Save (or replace) a draft; each save raises its revision by one."""
        text = json.dumps(body, ensure_ascii=False, sort_keys=True)
        if not self._db.try_insert(
            "INSERT INTO {drafts} (uscc, kind, key, body, revision, saved_at, saved_by) "
            "VALUES (%s, %s, %s, %s, 1, %s, %s)",
            (uscc, kind, key, text, at, by),
        ):
            self._db.execute(
                "UPDATE {drafts} SET body = %s, revision = revision + 1, saved_at = %s, saved_by = %s "
                "WHERE uscc = %s AND kind = %s AND key = %s",
                (text, at, by, uscc, kind, key),
            )
        draft = self.draft(uscc, kind, key)
        assert draft is not None
        return draft

    def draft(self, uscc: str, kind: str, key: str) -> Draft | None:
        rows = self._db.rows(
            "SELECT body, revision, saved_at, saved_by FROM {drafts} "
            "WHERE uscc = %s AND kind = %s AND key = %s",
            (uscc, kind, key),
        )
        if not rows:
            return None
        body, revision, at, by = rows[0]
        return Draft(uscc, kind, key, json.loads(body), int(revision), _when(at), str(by))

    def drafts(self, uscc: str, kind: str) -> list[Draft]:
        rows = self._db.rows(
            "SELECT key FROM {drafts} WHERE uscc = %s AND kind = %s ORDER BY key", (uscc, kind)
        )
        return [d for (key,) in rows if (d := self.draft(uscc, kind, str(key))) is not None]

    def delete_draft(self, uscc: str, kind: str, key: str) -> bool:
        return (
            self._db.execute(
                "DELETE FROM {drafts} WHERE uscc = %s AND kind = %s AND key = %s", (uscc, kind, key)
            )
            == 1
        )

    # --- filings ---------------------------------------------------------------------------------

    def record_filing(self, filing: Filing) -> Filing:
        """Keep what was sent; the same publication id again returns the filing kept first."""
        self._db.try_insert(
            f"INSERT INTO {{filings}} ({_FILING_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                filing.publication_id,
                filing.uscc,
                filing.kind,
                filing.key,
                json.dumps(filing.body, ensure_ascii=False, sort_keys=True),
                filing.filed_at,
                filing.filed_on.isoformat(),
                filing.filed_by,
                filing.receipt_code,
            ),
        )
        kept = self.filing(filing.publication_id)
        assert kept is not None
        return kept

    def filing(self, publication_id: str) -> Filing | None:
        rows = self._db.rows(
            f"SELECT {_FILING_COLUMNS} FROM {{filings}} WHERE publication_id = %s", (publication_id,)
        )
        return _filing(rows[0]) if rows else None

    def filing_by_receipt(self, code: str) -> Filing | None:
        code = normalise_receipt_code(code)
        rows = self._db.rows(f"SELECT {_FILING_COLUMNS} FROM {{filings}} WHERE receipt_code = %s", (code,))
        return _filing(rows[0]) if rows else None

    def filings(self, uscc: str, kind: str | None = None, key: str | None = None) -> list[Filing]:
        """What the enterprise filed, oldest first (of one kind, and one key, when given)."""
        query = f"SELECT {_FILING_COLUMNS} FROM {{filings}} WHERE uscc = %s"
        params: tuple[Any, ...] = (uscc,)
        if kind is not None:
            query += " AND kind = %s"
            params += (kind,)
        if key is not None:
            query += " AND key = %s"
            params += (key,)
        return [_filing(r) for r in self._db.rows(query + " ORDER BY filed_at, publication_id", params)]

    def filers(self, usccs: Sequence[str], kind: str, key: str, until: date) -> set[str]:
        """Which of `usccs` filed `kind` for `key` on or before `until` (whatever became of it on
        the log: a deadline job must not act on a filing still on its way)."""
        found: set[str] = set()
        for start in range(0, len(usccs), 500):
            chunk = list(usccs[start : start + 500])
            marks = ", ".join("%s" for _ in chunk)
            rows = self._db.rows(
                f"SELECT DISTINCT uscc FROM {{filings}} WHERE kind = %s AND key = %s AND filed_on <= %s "
                f"AND uscc IN ({marks})",
                (kind, key, until.isoformat(), *chunk),
            )
            found.update(str(r[0]) for r in rows)
        return found

    # --- evidence --------------------------------------------------------------------------------

    def keep_evidence(self, evidence: Evidence, by: str, at: datetime) -> None:
        self._db.try_insert(
            "INSERT INTO {evidence} (sha256, uscc, name, content_type, size, data, stored_at, stored_by) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                evidence.sha256,
                evidence.uscc,
                evidence.name,
                evidence.content_type,
                evidence.size,
                evidence.data,
                at,
                by,
            ),
        )

    def evidence(self, uscc: str, sha256: str) -> Evidence | None:
        rows = self._db.rows(
            "SELECT name, content_type, size, data FROM {evidence} WHERE uscc = %s AND sha256 = %s",
            (uscc, sha256),
        )
        if not rows:
            return None
        name, content_type, size, data = rows[0]
        return Evidence(sha256, uscc, str(name), str(content_type), int(size), bytes(data))


# --- where the tables live -----------------------------------------------------------------------------


class _SQLite:
    def __init__(self, path: Path) -> None:
        ddl = [self._text(d.replace("{ts}", "TEXT").replace("{blob}", "BLOB")) for d in DDL]
        self._table = SQLiteTable(path, ddl, unavailable=EnterpriseStoreUnavailable)

    @staticmethod
    def _text(query: str) -> str:
        for name in TABLES:
            query = query.replace("{" + name + "}", f"enterprise_{name}")
        return query.replace("%s", "?")

    @staticmethod
    def _params(params: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(p.isoformat() if isinstance(p, datetime | date) else p for p in params)

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> int:
        return self._table.execute(self._text(query), self._params(params))

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._table.rows(self._text(query), self._params(params))

    def try_insert(self, query: str, params: tuple[Any, ...] = ()) -> bool:
        return self._table.try_insert(self._text(query), self._params(params))

    def close(self) -> None:
        self._table.close()


class _Postgres:
    def __init__(self, dsn: str, schema: str | None) -> None:
        from adapters.pg import PgTable  # psycopg only when PostgreSQL is configured

        names = {name: f"enterprise_{name}" for name in TABLES}
        self._table = PgTable(
            dsn,
            names["drafts"],
            [self._text(d.replace("{ts}", "TIMESTAMPTZ").replace("{blob}", "BYTEA")) for d in DDL],
            schema=schema,
            unavailable=EnterpriseStoreUnavailable,
            others=tuple(names.values()),
        )

    @staticmethod
    def _text(query: str) -> str:
        for name in TABLES:
            query = query.replace("{" + name + "}", "{enterprise_" + name + "}")
        return query

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> int:
        return self._table.execute(self._text(query), params)

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._table.rows(self._text(query), params)

    def try_insert(self, query: str, params: tuple[Any, ...] = ()) -> bool:
        return self._table.try_insert(self._text(query), params)

    def close(self) -> None:
        self._table.close()


class SQLiteEnterpriseStore(EnterpriseStore):
    """The embedded store: one SQLite file."""

    def __init__(self, path: Path) -> None:
        super().__init__(_SQLite(path))


class PostgresEnterpriseStore(EnterpriseStore):
    """Tables in the event store's PostgreSQL database (and schema)."""

    def __init__(self, dsn: str, *, schema: str | None = None) -> None:
        super().__init__(_Postgres(dsn, schema))
