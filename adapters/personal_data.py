"""The personal-data vault: one AES-256-GCM key per natural person, kept in a table of the
platform's database, so that deleting the keys erases the person from every stored event
(domain/personal_data.py says what is sealed).

- A person is named by `ref`, HMAC-SHA256 of the normalised identity number under the platform's
  secret (the stored events hold the ref, never the number). A person may have several keys
  (two processes sealing the first event at once; a new key after an erasure); `kid` names one.
- `erase(id_number)` deletes every key of the person and records the erasure (when, why, who;
  never the number). Events sealed under a deleted key read as 已删除; a later publication naming
  the same number is sealed under a new key.
- Keys are cached in memory (`kid` → key; the person's current key), so loading a batch of
  aggregates reads each key once. `epoch()` — the number of erasures — is what a long-running
  process checks once per batch (`Registry.check_erasures`): when it moved, the caches are dropped,
  so an erased key is never used again there.

Embedded: a SQLite file (`personal.sqlite3` in the data directory). Real: tables `person_keys`
and `person_erasures` in the event store's PostgreSQL database (and schema, when configured).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.sqlite_util import SQLiteTable

__all__ = ["PersonalDataUnavailable", "PersonalDataVault", "PostgresVault", "SQLiteVault", "person_ref"]


class PersonalDataUnavailable(Exception):
    """The key table cannot be reached or answered with an error."""


def person_ref(pepper: bytes, id_number: str) -> str:
    """The person's name in the store: a keyed hash of the identity number (upper-cased, trimmed)."""
    normalised = id_number.strip().upper().encode()
    return hmac.new(pepper, b"person:" + normalised, hashlib.sha256).hexdigest()[:32]


class PersonalDataVault(ABC):
    """Seals and opens persons' fields (the domain's `PersonalDataVault`), erases persons."""

    def __init__(self, pepper: bytes) -> None:
        self._pepper = pepper
        self._lock = threading.Lock()
        self._keys: dict[str, bytes | None] = {}  # kid → key (None: erased)
        self._current: dict[str, tuple[str, bytes]] = {}  # ref → (kid, key) to seal with
        self._epoch: int | None = None

    # --- storage ---------------------------------------------------------------------------------

    @abstractmethod
    def _load_key(self, kid: str) -> bytes | None: ...

    @abstractmethod
    def _current_key(self, ref: str) -> tuple[str, bytes] | None: ...

    @abstractmethod
    def _current_keys(self, refs: list[str]) -> dict[str, tuple[str, bytes]]:
        """`_current_key` of each of `refs` that has a key, in one query (per chunk)."""

    @abstractmethod
    def _add_key(self, ref: str, kid: str, key: bytes, at: datetime) -> None: ...

    @abstractmethod
    def _erase(self, ref: str, at: datetime, reason: str, actor: str) -> int: ...

    @abstractmethod
    def _erasures(self) -> int: ...

    @abstractmethod
    def erased(self, ref: str) -> datetime | None:
        """When the person was (last) erased, if ever."""

    # --- the vault -------------------------------------------------------------------------------

    def ref(self, id_number: str) -> str:
        return person_ref(self._pepper, id_number)

    def seal(self, id_number: str, fields: Mapping[str, str]) -> dict[str, Any]:
        ref = self.ref(id_number)
        with self._lock:
            current = self._current.get(ref)
        if current is None:
            current = self._current_key(ref)
            if current is None:
                current = (secrets.token_hex(8), AESGCM.generate_key(bit_length=256))
                self._add_key(ref, current[0], current[1], datetime.now(UTC))
            with self._lock:
                self._current[ref] = current
                self._keys[current[0]] = current[1]
        kid, key = current
        nonce = os.urandom(12)
        plain = json.dumps(dict(fields), ensure_ascii=False, sort_keys=True).encode()
        sealed = AESGCM(key).encrypt(nonce, plain, f"{ref}:{kid}".encode())
        return {
            "ref": ref,
            "kid": kid,
            "fields": sorted(fields),
            "ct": base64.b64encode(nonce + sealed).decode("ascii"),
        }

    def prefetch(self, id_numbers: Iterable[str]) -> None:
        """Read the keys `seal` would use for the persons of `id_numbers` it holds none for yet,
        together (a batch about to be sealed: one query instead of one per person). A person with
        no key (never sealed, or erased) gets none here: `seal` decides as it always does."""
        refs = {self.ref(n) for n in id_numbers}
        with self._lock:
            missing = sorted(refs - self._current.keys())
        if not missing:
            return
        found = self._current_keys(missing)
        with self._lock:
            for ref, (kid, key) in found.items():
                self._current.setdefault(ref, (kid, key))
                self._keys.setdefault(kid, key)

    def open(self, sealed: Mapping[str, Any]) -> dict[str, str] | None:
        kid, ref = str(sealed.get("kid")), str(sealed.get("ref"))
        with self._lock:
            known = kid in self._keys
            key = self._keys.get(kid)
        if not known:
            key = self._load_key(kid)
            with self._lock:
                self._keys[kid] = key
        if key is None:
            return None
        raw = base64.b64decode(str(sealed["ct"]))
        try:
            plain = AESGCM(key).decrypt(raw[:12], raw[12:], f"{ref}:{kid}".encode())
        except InvalidTag:
            return None
        opened: dict[str, str] = json.loads(plain)
        return opened

    def erase(self, id_number: str, *, reason: str, actor: str) -> int:
        """Delete every key of the person; how many were deleted (0: none was left)."""
        return self.erase_ref(self.ref(id_number), reason=reason, actor=actor)

    def erase_ref(self, ref: str, *, reason: str, actor: str) -> int:
        """`erase` by the person's ref (as the audit trail names them: to erase again after
        restoring a backup older than the erasure)."""
        deleted = self._erase(ref, datetime.now(UTC), reason, actor)
        self.forget()
        return deleted

    def epoch(self) -> int:
        """How many erasures were recorded; when it moved since the last call, the caches go."""
        epoch = self._erasures()
        if self._epoch is not None and epoch != self._epoch:
            self.forget()
        self._epoch = epoch
        return epoch

    def forget(self) -> None:
        with self._lock:
            self._keys.clear()
            self._current.clear()

    def close(self) -> None:
        """Release connections."""


#: refs per query on SQLite (its limit of host parameters is 999 in old builds)
_REFS_CHUNK = 500

_KEYS = (
    "CREATE TABLE IF NOT EXISTS {t} (kid TEXT PRIMARY KEY, ref TEXT NOT NULL, key {b} NOT NULL, "
    "created_at {ts} NOT NULL)"
)
_ERASURES = (
    "CREATE TABLE IF NOT EXISTS {t} (number {serial} PRIMARY KEY, ref TEXT NOT NULL, "
    "erased_at {ts} NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL, keys_deleted INTEGER NOT NULL)"
)


class SQLiteVault(PersonalDataVault):
    def __init__(self, path: Path, *, pepper: bytes) -> None:
        super().__init__(pepper)
        self._db = SQLiteTable(
            path,
            (
                _KEYS.format(t="person_keys", b="BLOB", ts="TEXT"),
                "CREATE INDEX IF NOT EXISTS person_keys_ref ON person_keys (ref)",
                _ERASURES.format(t="person_erasures", serial="INTEGER", ts="TEXT"),
            ),
            unavailable=PersonalDataUnavailable,
        )

    def _load_key(self, kid: str) -> bytes | None:
        rows = self._db.rows("SELECT key FROM person_keys WHERE kid = ?", (kid,))
        return bytes(rows[0][0]) if rows else None

    def _current_key(self, ref: str) -> tuple[str, bytes] | None:
        rows = self._db.rows(
            "SELECT kid, key FROM person_keys WHERE ref = ? ORDER BY created_at DESC, kid LIMIT 1", (ref,)
        )
        return (str(rows[0][0]), bytes(rows[0][1])) if rows else None

    def _current_keys(self, refs: list[str]) -> dict[str, tuple[str, bytes]]:
        found: dict[str, tuple[str, bytes]] = {}
        for start in range(0, len(refs), _REFS_CHUNK):
            chunk = refs[start : start + _REFS_CHUNK]
            rows = self._db.rows(
                f"SELECT ref, kid, key FROM person_keys WHERE ref IN ({','.join('?' * len(chunk))}) "
                "ORDER BY ref, created_at DESC, kid",
                tuple(chunk),
            )
            for ref, kid, key in rows:  # the first of each ref: what `_current_key` reads
                found.setdefault(str(ref), (str(kid), bytes(key)))
        return found

    def _add_key(self, ref: str, kid: str, key: bytes, at: datetime) -> None:
        self._db.execute(
            "INSERT INTO person_keys (kid, ref, key, created_at) VALUES (?, ?, ?, ?)",
            (kid, ref, key, at.isoformat()),
        )

    def _erase(self, ref: str, at: datetime, reason: str, actor: str) -> int:
        def work(conn: Any) -> int:
            deleted = conn.execute("DELETE FROM person_keys WHERE ref = ?", (ref,)).rowcount
            conn.execute(
                "INSERT INTO person_erasures (ref, erased_at, reason, actor, keys_deleted) "
                "VALUES (?, ?, ?, ?, ?)",
                (ref, at.isoformat(), reason, actor, deleted),
            )
            return int(deleted)

        return self._db.atomic(work)

    def _erasures(self) -> int:
        return int(self._db.rows("SELECT count(*) FROM person_erasures")[0][0])

    def erased(self, ref: str) -> datetime | None:
        rows = self._db.rows("SELECT max(erased_at) FROM person_erasures WHERE ref = ?", (ref,))
        return datetime.fromisoformat(rows[0][0]) if rows and rows[0][0] else None

    def close(self) -> None:
        self._db.close()


class PostgresVault(PersonalDataVault):
    def __init__(self, dsn: str, *, schema: str | None = None, pepper: bytes) -> None:
        super().__init__(pepper)
        from adapters.pg import PgTable  # psycopg only when PostgreSQL is configured

        self._db = PgTable(
            dsn,
            "person_keys",
            (
                _KEYS.format(t="{table}", b="BYTEA", ts="TIMESTAMPTZ"),
                "CREATE INDEX IF NOT EXISTS person_keys_ref ON {table} (ref)",
                _ERASURES.format(t="{person_erasures}", serial="BIGSERIAL", ts="TIMESTAMPTZ"),
            ),
            schema=schema,
            unavailable=PersonalDataUnavailable,
            others=("person_erasures",),
        )

    def _load_key(self, kid: str) -> bytes | None:
        rows = self._db.rows("SELECT key FROM {table} WHERE kid = %s", (kid,))
        return bytes(rows[0][0]) if rows else None

    def _current_key(self, ref: str) -> tuple[str, bytes] | None:
        rows = self._db.rows(
            "SELECT kid, key FROM {table} WHERE ref = %s ORDER BY created_at DESC, kid LIMIT 1", (ref,)
        )
        return (str(rows[0][0]), bytes(rows[0][1])) if rows else None

    def _current_keys(self, refs: list[str]) -> dict[str, tuple[str, bytes]]:
        rows = self._db.rows(
            "SELECT DISTINCT ON (ref) ref, kid, key FROM {table} WHERE ref = ANY(%s) "
            "ORDER BY ref, created_at DESC, kid",
            (refs,),
        )
        return {str(ref): (str(kid), bytes(key)) for ref, kid, key in rows}

    def _add_key(self, ref: str, kid: str, key: bytes, at: datetime) -> None:
        self._db.execute(
            "INSERT INTO {table} (kid, ref, key, created_at) VALUES (%s, %s, %s, %s)", (kid, ref, key, at)
        )

    def _erase(self, ref: str, at: datetime, reason: str, actor: str) -> int:
        rows = self._db.rows(
            "WITH gone AS (DELETE FROM {table} WHERE ref = %s RETURNING kid) "
            "INSERT INTO {person_erasures} (ref, erased_at, reason, actor, keys_deleted) "
            "SELECT %s, %s, %s, %s, count(*) FROM gone RETURNING keys_deleted",
            (ref, ref, at, reason, actor),
        )
        return int(rows[0][0])

    def _erasures(self) -> int:
        return int(self._db.rows("SELECT count(*) FROM {person_erasures}")[0][0])

    def erased(self, ref: str) -> datetime | None:
        rows = self._db.rows("SELECT max(erased_at) FROM {person_erasures} WHERE ref = %s", (ref,))
        value = rows[0][0] if rows else None
        return value if isinstance(value, datetime) else None

    def close(self) -> None:
        self._db.close()


# --- migrating events stored before sealing ---------------------------------------------------------

#: The Registry's tables: eventsourcing names them after the application on PostgreSQL, and
#: `stored_events` / `stored_snapshots` in SQLite's file.
EVENTS_TABLE = "registry_events"
SNAPSHOTS_TABLE = "registry_snapshots"
SQLITE_EVENTS, SQLITE_SNAPSHOTS = "stored_events", "stored_snapshots"


def sealed_state(state: bytes, vault: PersonalDataVault) -> bytes | None:
    """The stored state with every person in it sealed; None when it names no unsealed person.
    Works on the stored JSON as it is (eventsourcing's `_type_` wrappers pass through untouched)."""
    from domain.personal_data import seal_persons

    raw = json.loads(state)
    sealed = seal_persons(raw, vault)
    if sealed == raw:
        return None
    return json.dumps(sealed, separators=(",", ":"), ensure_ascii=False).encode()


def migrate_sqlite(path: Path, vault: PersonalDataVault, batch: int = 1000) -> int:
    """Seal every person in the SQLite event store at `path` (processes stopped); snapshots are
    dropped (made again on the next saves). Freed pages are overwritten (`secure_delete`) and the
    file vacuumed, so no plaintext stays on disk. Returns how many events were rewritten."""
    import sqlite3

    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("PRAGMA secure_delete=ON")
        rewritten, last = 0, -1
        while True:
            rows = conn.execute(
                f"SELECT rowid, state FROM {SQLITE_EVENTS} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                break
            conn.execute("BEGIN IMMEDIATE")
            for rowid, state in rows:
                new = sealed_state(bytes(state), vault)
                if new is not None:
                    conn.execute(f"UPDATE {SQLITE_EVENTS} SET state = ? WHERE rowid = ?", (new, rowid))
                    rewritten += 1
            conn.execute("COMMIT")
            last = rows[-1][0]
        conn.execute(f"DELETE FROM {SQLITE_SNAPSHOTS}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return rewritten


def migrate_postgres(dsn: str, schema: str | None, vault: PersonalDataVault, batch: int = 1000) -> int:
    """Seal every person in the PostgreSQL event store (processes stopped); snapshots dropped; the
    tables then rewritten (`VACUUM FULL`), so no dead row keeps the plaintext."""
    import psycopg
    from psycopg import sql

    def table(name: str) -> sql.Composable:
        return sql.Identifier(schema, name) if schema else sql.Identifier(name)

    rewritten, last = 0, 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            rows = conn.execute(
                sql.SQL(
                    "SELECT notification_id, originator_id, originator_version, state FROM {} "
                    "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
                ).format(table(EVENTS_TABLE)),
                (last, batch),
            ).fetchall()
            if not rows:
                break
            with conn.transaction():
                for _, originator_id, version, state in rows:
                    new = sealed_state(bytes(state), vault)
                    if new is not None:
                        conn.execute(
                            sql.SQL(
                                "UPDATE {} SET state = %s "
                                "WHERE originator_id = %s AND originator_version = %s"
                            ).format(table(EVENTS_TABLE)),
                            (new, originator_id, version),
                        )
                        rewritten += 1
            last = rows[-1][0]
        conn.execute(sql.SQL("DELETE FROM {}").format(table(SNAPSHOTS_TABLE)))
        for name in (EVENTS_TABLE, SNAPSHOTS_TABLE):
            conn.execute(sql.SQL("VACUUM FULL {}").format(table(name)))
    return rewritten
