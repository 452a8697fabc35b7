"""Department credentials: the API keys departments publish through the HTTP gateway with.

A key is `gs_` + `secrets.token_urlsafe(32)` (256 random bits), shown once when it is added.
Only a salted scrypt hash is stored, with the key's id (the first 8 characters after the
prefix) to find the row; the hash is compared in constant time. A verified key is remembered
in memory for the life of the process (by a digest, never the key), so the gateway pays for
scrypt once per key, while revocation still takes effect on the next request: the row is read
every time.

Embedded: a SQLite file (`credentials.sqlite3` in the data directory). Real: a table
`department_keys` in the event store's PostgreSQL database (and schema), through psycopg 3.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.sqlite_util import SQLiteTable
from domain.clock import Clock

__all__ = [
    "KEY_PREFIX",
    "ApiKey",
    "CredentialStore",
    "CredentialsUnavailable",
    "PostgresCredentialStore",
    "SQLiteCredentialStore",
    "hash_key",
    "key_id_of",
    "new_key",
    "verify_key",
]

KEY_PREFIX = "gs_"
KEY_ID_LENGTH = 8
_KEY = re.compile(r"^gs_[A-Za-z0-9_\-]{43}$")
# scrypt cost: 16 MiB, ~40 ms per hash; each key is checked once per process (see module doc)
_N, _R, _P = 2**14, 8, 1
_VERIFIED_LIMIT = 10_000


class CredentialsUnavailable(Exception):
    """The credential store cannot be reached or answered with an error."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A department's key as listed (never the key itself)."""

    key_id: str
    department: str
    created_at: datetime
    revoked_at: datetime | None = None


def new_key() -> str:
    while True:  # a key id starting with "-" would read as an option on the command line
        token = secrets.token_urlsafe(32)
        if token[0].isalnum():
            return KEY_PREFIX + token


def key_id_of(key: str) -> str | None:
    """The id of a well-formed key (the 8 characters after `gs_`), else None."""
    if not _KEY.match(key):
        return None
    return key[len(KEY_PREFIX) : len(KEY_PREFIX) + KEY_ID_LENGTH]


def hash_key(key: str, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$hash` (hex), salted with 16 random bytes unless `salt` is given."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(key.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_key(key: str, stored: str) -> bool:
    try:
        algorithm, n, r, p, salt, expected = stored.split("$")
        if algorithm != "scrypt":
            return False
        digest = hashlib.scrypt(
            key.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, bytes.fromhex(expected))


class CredentialStore(ABC):
    """Port: department API keys, stored as salted hashes."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._verified: dict[str, bytes] = {}

    # --- the storage each adapter provides ----------------------------------------------------------

    @abstractmethod
    def _insert(self, key_id: str, department: str, key_hash: str, created_at: datetime) -> bool:
        """Store a new row; False when `key_id` is taken."""

    @abstractmethod
    def _find(self, key_id: str) -> tuple[str, str, bool] | None:
        """(department, key_hash, revoked) of a key id."""

    @abstractmethod
    def _revoke(self, key_id: str, revoked_at: datetime) -> bool:
        """Mark a key revoked; False when unknown or already revoked."""

    @abstractmethod
    def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first (revoked ones too)."""

    def close(self) -> None:
        """Release connections."""

    # --- the use cases --------------------------------------------------------------------------------

    def add_key(self, department: str) -> str:
        """A new key for `department`; the only time the key itself is seen."""
        while True:
            key = new_key()
            key_id = key_id_of(key)
            if key_id is not None and self._insert(key_id, department, hash_key(key), self.clock.now()):
                return key

    def revoke(self, key_id: str) -> bool:
        """Revoke a key by its id; False when there is no such active key."""
        self._verified.pop(key_id, None)
        return self._revoke(key_id, self.clock.now())

    def department_for(self, key: str) -> str | None:
        """The department a key belongs to, or None (malformed, unknown, wrong or revoked)."""
        key_id = key_id_of(key)
        if key_id is None:
            return None
        found = self._find(key_id)
        if found is None:
            return None
        department, key_hash, revoked = found
        if revoked:
            return None
        fingerprint = hashlib.sha256(f"{key_hash}\n{key}".encode()).digest()
        known = self._verified.get(key_id)
        if known is not None and hmac.compare_digest(known, fingerprint):
            return department
        if not verify_key(key, key_hash):
            return None
        if len(self._verified) >= _VERIFIED_LIMIT:
            self._verified.clear()
        self._verified[key_id] = fingerprint
        return department


_CREATE = (
    "CREATE TABLE IF NOT EXISTS {table} (key_id TEXT PRIMARY KEY, department TEXT NOT NULL, "
    "key_hash TEXT NOT NULL, created_at {ts} NOT NULL, revoked_at {ts})"
)


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class SQLiteCredentialStore(CredentialStore):
    """The embedded store: one SQLite file, one connection behind a lock."""

    def __init__(self, path: Path, *, clock: Clock) -> None:
        super().__init__(clock)
        ddl = _CREATE.format(table="department_keys", ts="TEXT")
        self._db = SQLiteTable(path, ddl, unavailable=CredentialsUnavailable)

    def _insert(self, key_id: str, department: str, key_hash: str, created_at: datetime) -> bool:
        return self._db.try_insert(
            "INSERT INTO department_keys VALUES (?, ?, ?, ?, NULL)",
            (key_id, department, key_hash, created_at.isoformat()),
        )

    def _find(self, key_id: str) -> tuple[str, str, bool] | None:
        rows = self._db.rows(
            "SELECT department, key_hash, revoked_at FROM department_keys WHERE key_id = ?", (key_id,)
        )
        return None if not rows else (str(rows[0][0]), str(rows[0][1]), rows[0][2] is not None)

    def _revoke(self, key_id: str, revoked_at: datetime) -> bool:
        changed = self._db.execute(
            "UPDATE department_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            (revoked_at.isoformat(), key_id),
        )
        return changed == 1

    def list_keys(self) -> list[ApiKey]:
        rows = self._db.rows(
            "SELECT key_id, department, created_at, revoked_at FROM department_keys ORDER BY created_at"
        )
        return [ApiKey(k, d, _when(c), _when(r) if r else None) for k, d, c, r in rows]

    def close(self) -> None:
        self._db.close()


class PostgresCredentialStore(CredentialStore):
    """The keys as a table `department_keys` in the event store's database (and schema)."""

    def __init__(self, dsn: str, *, schema: str | None = None, clock: Clock) -> None:
        super().__init__(clock)
        from adapters.pg import PgTable  # psycopg only when PostgreSQL is configured

        ddl = _CREATE.format(table="{table}", ts="TIMESTAMPTZ")
        self._db = PgTable(dsn, "department_keys", ddl, schema=schema, unavailable=CredentialsUnavailable)

    def _insert(self, key_id: str, department: str, key_hash: str, created_at: datetime) -> bool:
        return self._db.try_insert(
            "INSERT INTO {table} VALUES (%s, %s, %s, %s, NULL)", (key_id, department, key_hash, created_at)
        )

    def _find(self, key_id: str) -> tuple[str, str, bool] | None:
        rows = self._db.rows(
            "SELECT department, key_hash, revoked_at FROM {table} WHERE key_id = %s", (key_id,)
        )
        return None if not rows else (str(rows[0][0]), str(rows[0][1]), rows[0][2] is not None)

    def _revoke(self, key_id: str, revoked_at: datetime) -> bool:
        changed = self._db.execute(
            "UPDATE {table} SET revoked_at = %s WHERE key_id = %s AND revoked_at IS NULL",
            (revoked_at, key_id),
        )
        return changed == 1

    def list_keys(self) -> list[ApiKey]:
        rows = self._db.rows(
            "SELECT key_id, department, created_at, revoked_at FROM {table} ORDER BY created_at"
        )
        return [ApiKey(str(k), str(d), _when(c), _when(r) if r else None) for k, d, c, r in rows]

    def close(self) -> None:
        self._db.close()
