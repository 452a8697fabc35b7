"""The extract ledger: every credit extract (信用信息报告) the platform issues, by file hash and code.

Anyone holding an extract can check it is genuine: the platform records the SHA-256 of the exact
PDF bytes it served, with the short verification code printed on it, the entity, the event
position the extract reflects and when it was generated. Lookup is by the hash (upload the
file) or by the code (type it in).

Embedded: a SQLite file (`extracts.sqlite3` in the data directory). Real: a table in the event
store's PostgreSQL database (and schema, when one is configured), through psycopg 3.
"""

from __future__ import annotations

import re
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.sqlite_util import SQLiteTable

__all__ = [
    "CODE_ALPHABET",
    "ExtractLedger",
    "IssuedExtract",
    "LedgerUnavailable",
    "PostgresExtractLedger",
    "SQLiteExtractLedger",
    "format_code",
    "new_code",
    "normalise_code",
]

#: Crockford's base 32: no I, L, O, U — nothing to misread when typed from paper.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


class LedgerUnavailable(Exception):
    """The ledger's database cannot be reached or answered with an error."""


@dataclass(frozen=True, slots=True)
class IssuedExtract:
    """One issued extract file."""

    sha256: str
    code: str
    uscc: str
    position: int
    version: int
    generated_at: datetime

    def public(self) -> dict[str, Any]:
        return {
            "uscc": self.uscc,
            "position": self.position,
            "version": self.version,
            "generated_at": self.generated_at.isoformat(),
            "code": self.code,
            "sha256": self.sha256,
        }


def new_code() -> str:
    """A fresh random verification code (12 characters, 60 bits), formatted `XXXX-XXXX-XXXX`."""
    return format_code("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))


def format_code(raw: str) -> str:
    compact = normalise_code(raw)
    return "-".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def normalise_code(raw: str) -> str:
    """Upper-case, drop spaces and hyphens, read O as 0 and I/L as 1 (Crockford)."""
    return re.sub(r"[\s\-]", "", raw).upper().translate(_READ_AS)


def is_sha256(key: str) -> bool:
    return bool(_SHA256.match(key.strip()))


class ExtractLedger(ABC):
    """Where issued extracts are recorded and looked up."""

    @abstractmethod
    def record(self, extract: IssuedExtract) -> None:
        """Record an issued file (its hash and code are unique)."""

    @abstractmethod
    def by_sha256(self, sha256: str) -> IssuedExtract | None: ...

    @abstractmethod
    def by_code(self, code: str) -> IssuedExtract | None: ...

    def find(self, key: str) -> IssuedExtract | None:
        """By SHA-256 (64 hex digits) or by verification code (any case, hyphens optional)."""
        key = key.strip()
        if is_sha256(key):
            return self.by_sha256(key.lower())
        compact = normalise_code(key)
        if len(compact) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in compact):
            return None
        return self.by_code(format_code(compact))

    def close(self) -> None:
        """Release connections."""


_COLUMNS = "sha256, code, uscc, position, version, generated_at"


def _row_to_extract(row: tuple[Any, ...]) -> IssuedExtract:
    sha256, code, uscc, position, version, generated_at = row
    when = generated_at if isinstance(generated_at, datetime) else datetime.fromisoformat(generated_at)
    return IssuedExtract(str(sha256), str(code), str(uscc), int(position), int(version), when)


def _params(extract: IssuedExtract) -> tuple[Any, ...]:
    """A row's values but the last, its time: SQLite stores that as text, PostgreSQL as a timestamptz."""
    return (extract.sha256, extract.code, extract.uscc, extract.position, extract.version)


class SQLiteExtractLedger(ExtractLedger):
    """The embedded ledger: one SQLite file, one connection behind a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = SQLiteTable(
            path,
            "CREATE TABLE IF NOT EXISTS extracts (sha256 TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, "
            "uscc TEXT NOT NULL, position INTEGER NOT NULL, version INTEGER NOT NULL, "
            "generated_at TEXT NOT NULL)",
            unavailable=LedgerUnavailable,
        )

    def record(self, extract: IssuedExtract) -> None:
        self._db.execute(
            f"INSERT INTO extracts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (*_params(extract), extract.generated_at.isoformat()),
        )

    def _one(self, column: str, value: str) -> IssuedExtract | None:
        rows = self._db.rows(f"SELECT {_COLUMNS} FROM extracts WHERE {column} = ?", (value,))
        return _row_to_extract(rows[0]) if rows else None

    def by_sha256(self, sha256: str) -> IssuedExtract | None:
        return self._one("sha256", sha256)

    def by_code(self, code: str) -> IssuedExtract | None:
        return self._one("code", code)

    def close(self) -> None:
        self._db.close()


class PostgresExtractLedger(ExtractLedger):
    """The ledger as a table `extracts` in the event store's database (and schema, if given)."""

    def __init__(self, dsn: str, *, schema: str | None = None, table: str = "extracts") -> None:
        from adapters.pg import PgTable  # psycopg only when PostgreSQL is configured

        self._db = PgTable(
            dsn,
            table,
            "CREATE TABLE IF NOT EXISTS {table} (sha256 TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, "
            "uscc TEXT NOT NULL, position BIGINT NOT NULL, version BIGINT NOT NULL, "
            "generated_at TIMESTAMPTZ NOT NULL)",
            schema=schema,
            unavailable=LedgerUnavailable,
        )

    def record(self, extract: IssuedExtract) -> None:
        self._db.execute(
            f"INSERT INTO {{table}} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)",
            (*_params(extract), extract.generated_at),
        )

    def _one(self, column: str, value: str) -> IssuedExtract | None:
        rows = self._db.rows(
            f"SELECT {_COLUMNS} FROM {{table}} WHERE {{column}} = %s", (value,), column=column
        )
        return _row_to_extract(rows[0]) if rows else None

    def by_sha256(self, sha256: str) -> IssuedExtract | None:
        return self._one("sha256", sha256)

    def by_code(self, code: str) -> IssuedExtract | None:
        return self._one("code", code)

    def close(self) -> None:
        self._db.close()
