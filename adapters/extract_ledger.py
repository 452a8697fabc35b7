"""The extract ledger: every credit extract (信用信息报告) the platform issues, by file hash and code.

Anyone holding an extract can check it is genuine: the platform records the SHA-256 of the exact
PDF bytes it served, with the short verification code printed on it, the entity, the event
position the extract reflects and when it was generated. Lookup is by the hash (upload the
file) or by the code (type it in).

The ledger also keeps the file issued last for each entity, with the entity version and the
system date it was issued on: asked again for the same version on the same date, the platform
serves those same bytes and records nothing new. The date is part of the key because an extract
shows what is public *on* its date (publicity windows end with the date, not with an event).
One row per entity: a new version or a new date replaces the kept file (the ledger rows stay,
so every extract ever issued can still be verified).

Embedded: a SQLite file (`extracts.sqlite3` in the data directory). Real: a table in the event
store's PostgreSQL database (and schema, when one is configured), through psycopg 3.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from adapters.sqlite_util import SQLiteTable

__all__ = [
    "CODE_ALPHABET",
    "ExtractLedger",
    "IssuedExtract",
    "KeptExtract",
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


@dataclass(frozen=True, slots=True)
class KeptExtract:
    """The file kept for reuse: the extract issued for an entity version on a system date."""

    issued: IssuedExtract
    issued_on: date
    pdf: bytes


def new_code() -> str:
    """A fresh random verification code (12 characters, 60 bits), formatted `XXXX-XXXX-XXXX`."""
    return format_code("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))


def format_code(raw: str) -> str:
    compact = normalise_code(raw)
    return "-".join(compact[i : i + 4] for i in range(0, len(compact), 4))


#: Dashes people type between the groups of a code (hyphen, en and em dash, minus, ...).
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d"


def normalise_code(raw: str) -> str:
    """Full-width forms folded (NFKC: ＡＢ１２ → AB12), upper-case, spaces and dashes dropped, O read
    as 0 and I/L as 1 (Crockford)."""
    folded = unicodedata.normalize("NFKC", raw)
    return re.sub(f"[\\s{_DASHES}]", "", folded).upper().translate(_READ_AS)


def is_sha256(key: str) -> bool:
    return bool(_SHA256.match(unicodedata.normalize("NFKC", key).strip()))


class ExtractLedger(ABC):
    """Where issued extracts are recorded and looked up."""

    @abstractmethod
    def record(self, extract: IssuedExtract) -> None:
        """Record an issued file (its hash and code are unique)."""

    @abstractmethod
    def by_sha256(self, sha256: str) -> IssuedExtract | None: ...

    @abstractmethod
    def kept(self, uscc: str, version: int, issued_on: date) -> KeptExtract | None:
        """The file issued for this version of the entity on this system date, if one was."""

    @abstractmethod
    def keep(self, issued: IssuedExtract, issued_on: date, pdf: bytes) -> KeptExtract:
        """Record `issued` and keep `pdf` as the entity's file for (`issued.version`, `issued_on`),
        in one transaction — unless a file was kept for that key meanwhile (a concurrent
        download): then that one is returned and `issued` is not recorded."""

    @abstractmethod
    def by_code(self, code: str) -> IssuedExtract | None: ...

    def find(self, key: str) -> IssuedExtract | None:
        """By SHA-256 (64 hex digits) or by verification code (any case, hyphens optional)."""
        key = unicodedata.normalize("NFKC", key).strip()
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


_KEPT_COLUMNS = "f.issued_on, f.pdf, e.sha256, e.code, e.uscc, e.position, e.version, e.generated_at"


def _row_to_kept(row: tuple[Any, ...]) -> KeptExtract:
    issued_on, pdf, *extract = row
    day = issued_on if isinstance(issued_on, date) else date.fromisoformat(issued_on)
    return KeptExtract(_row_to_extract(tuple(extract)), day, bytes(pdf))


def _params(extract: IssuedExtract) -> tuple[Any, ...]:
    """A row's values but the last, its time: SQLite stores that as text, PostgreSQL as a timestamptz."""
    return (extract.sha256, extract.code, extract.uscc, extract.position, extract.version)


class SQLiteExtractLedger(ExtractLedger):
    """The embedded ledger: one SQLite file, one connection behind a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = SQLiteTable(
            path,
            (
                "CREATE TABLE IF NOT EXISTS extracts (sha256 TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, "
                "uscc TEXT NOT NULL, position INTEGER NOT NULL, version INTEGER NOT NULL, "
                "generated_at TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS extract_files (uscc TEXT PRIMARY KEY, version INTEGER NOT NULL, "
                "issued_on TEXT NOT NULL, sha256 TEXT NOT NULL, pdf BLOB NOT NULL)",
            ),
            unavailable=LedgerUnavailable,
        )

    def record(self, extract: IssuedExtract) -> None:
        self._db.execute(
            f"INSERT INTO extracts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (*_params(extract), extract.generated_at.isoformat()),
        )

    _KEPT = (
        f"SELECT {_KEPT_COLUMNS} FROM extract_files f JOIN extracts e ON e.sha256 = f.sha256 "
        "WHERE f.uscc = ? AND f.version = ? AND f.issued_on = ?"
    )

    def kept(self, uscc: str, version: int, issued_on: date) -> KeptExtract | None:
        rows = self._db.rows(self._KEPT, (uscc, version, issued_on.isoformat()))
        return _row_to_kept(rows[0]) if rows else None

    def keep(self, issued: IssuedExtract, issued_on: date, pdf: bytes) -> KeptExtract:
        key = (issued.uscc, issued.version, issued_on.isoformat())

        def work(conn: sqlite3.Connection) -> KeptExtract:
            earlier = conn.execute(self._KEPT, key).fetchall()
            if earlier:
                return _row_to_kept(earlier[0])
            conn.execute(
                f"INSERT INTO extracts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (*_params(issued), issued.generated_at.isoformat()),
            )
            conn.execute(
                "INSERT INTO extract_files (uscc, version, issued_on, sha256, pdf) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (uscc) DO UPDATE SET version = excluded.version, "
                "issued_on = excluded.issued_on, sha256 = excluded.sha256, pdf = excluded.pdf",
                (*key, issued.sha256, pdf),
            )
            return KeptExtract(issued, issued_on, pdf)

        return self._db.atomic(work)

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
            (
                "CREATE TABLE IF NOT EXISTS {table} (sha256 TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, "
                "uscc TEXT NOT NULL, position BIGINT NOT NULL, version BIGINT NOT NULL, "
                "generated_at TIMESTAMPTZ NOT NULL)",
                "CREATE TABLE IF NOT EXISTS {extract_files} (uscc TEXT PRIMARY KEY, version BIGINT NOT NULL, "
                "issued_on DATE NOT NULL, sha256 TEXT NOT NULL, pdf BYTEA NOT NULL)",
            ),
            schema=schema,
            unavailable=LedgerUnavailable,
            others=("extract_files",),
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

    def kept(self, uscc: str, version: int, issued_on: date) -> KeptExtract | None:
        rows = self._db.rows(
            f"SELECT {_KEPT_COLUMNS} FROM {{extract_files}} f JOIN {{table}} e ON e.sha256 = f.sha256 "
            "WHERE f.uscc = %s AND f.version = %s AND f.issued_on = %s",
            (uscc, version, issued_on),
        )
        return _row_to_kept(rows[0]) if rows else None

    def keep(self, issued: IssuedExtract, issued_on: date, pdf: bytes) -> KeptExtract:
        # one statement, so one transaction: the file row is claimed (inserted, or replaced when it
        # holds another version or date) and only then is the extract recorded; a concurrent
        # download of the same key waits on the row and then finds it taken (nothing returned)
        for _ in range(3):
            recorded = self._db.execute(
                "WITH claimed AS ("
                " INSERT INTO {extract_files} AS f (uscc, version, issued_on, sha256, pdf)"
                " VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (uscc) DO UPDATE SET version = EXCLUDED.version,"
                " issued_on = EXCLUDED.issued_on, sha256 = EXCLUDED.sha256, pdf = EXCLUDED.pdf"
                " WHERE (f.version, f.issued_on) IS DISTINCT FROM (EXCLUDED.version, EXCLUDED.issued_on)"
                " RETURNING f.uscc"
                f") INSERT INTO {{table}} ({_COLUMNS}) SELECT %s, %s, %s, %s, %s, %s FROM claimed",
                (
                    issued.uscc,
                    issued.version,
                    issued_on,
                    issued.sha256,
                    pdf,
                    *_params(issued),
                    issued.generated_at,
                ),
            )
            if recorded:
                return KeptExtract(issued, issued_on, pdf)
            earlier = self.kept(issued.uscc, issued.version, issued_on)
            if earlier is not None:
                return earlier
        raise LedgerUnavailable(f"could not keep the extract of {issued.uscc}: its row kept changing")

    def by_sha256(self, sha256: str) -> IssuedExtract | None:
        return self._one("sha256", sha256)

    def by_code(self, code: str) -> IssuedExtract | None:
        return self._one("code", code)

    def close(self) -> None:
        self._db.close()
