"""The change table and watchlists in a SQLite file (`changes.sqlite3` in the data directory)."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.change_store.base import (
    ChangeRow,
    ChangeStore,
    ChangeStoreUnavailable,
    NewChange,
    Watchlist,
    WatchlistFilter,
    WebhookState,
)
from adapters.sqlite_util import SQLiteTable
from domain.personal_data import PersonalDataVault

DDL = (
    "CREATE TABLE IF NOT EXISTS changes (position INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT "
    "NULL UNIQUE, "
    "uscc TEXT NOT NULL, recorded_at TEXT NOT NULL, message TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS changes_by_uscc ON changes (uscc, position)",
    "CREATE INDEX IF NOT EXISTS changes_by_time ON changes (recorded_at)",
    "CREATE TABLE IF NOT EXISTS change_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS watchlists (id TEXT PRIMARY KEY, agency TEXT NOT NULL, name TEXT NOT NULL, "
    "created_at TEXT NOT NULL, filter TEXT, uscc_count INTEGER NOT NULL, webhook_url TEXT)",
    "CREATE TABLE IF NOT EXISTS watchlist_usccs (watchlist_id TEXT NOT NULL, uscc TEXT NOT NULL, "
    "PRIMARY KEY (watchlist_id, uscc)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS webhook_state (watchlist_id TEXT PRIMARY KEY, position INTEGER NOT NULL, "
    "attempts INTEGER NOT NULL, next_attempt_at TEXT, last_error TEXT, delivered_at TEXT)",
)


def _filter(text: str | None) -> WatchlistFilter | None:
    return None if not text else WatchlistFilter(**{k: tuple(v) for k, v in json.loads(text).items()})


def _when(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _watchlist(row: Sequence[Any]) -> Watchlist:
    id_, agency, name, created_at, filter_, count, webhook = row
    return Watchlist(
        str(id_),
        str(agency),
        str(name),
        datetime.fromisoformat(created_at),
        _filter(filter_),
        int(count),
        webhook,
    )


def _row(row: Sequence[Any]) -> ChangeRow:
    position, uscc, message = row
    return ChangeRow(int(position), str(uscc), {**json.loads(message), "position": int(position)})


def _rewrite(updates: Sequence[tuple[str, int]], conn: sqlite3.Connection) -> None:
    conn.executemany("UPDATE changes SET message = ? WHERE position = ?", updates)


class SQLiteChangeStore(ChangeStore):
    def __init__(self, path: Path, *, vault: PersonalDataVault | None = None) -> None:
        self.path = path
        self.vault = vault
        self._db = SQLiteTable(path, DDL, unavailable=ChangeStoreUnavailable)

    def append(self, changes: Sequence[NewChange]) -> list[int]:
        def work(conn: sqlite3.Connection) -> list[int]:
            out = []
            for c in changes:
                conn.execute(
                    "INSERT INTO changes (key, uscc, recorded_at, message) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (key) DO NOTHING",
                    (
                        c.key,
                        c.uscc,
                        c.recorded_at.isoformat(),
                        json.dumps(self._sealed(c.message), ensure_ascii=False, default=str),
                    ),
                )
                out.append(
                    int(conn.execute("SELECT position FROM changes WHERE key = ?", (c.key,)).fetchone()[0])
                )
            return out

        return self._db.atomic(work) if changes else []

    def after(self, position: int, limit: int) -> list[ChangeRow]:
        rows = self._db.rows(
            "SELECT position, uscc, message FROM changes WHERE position > ? ORDER BY position LIMIT ?",
            (position, limit),
        )
        return self._opened([_row(r) for r in rows])

    def after_for_usccs(self, watchlist_id: str, position: int, limit: int) -> list[ChangeRow]:
        rows = self._db.rows(
            "SELECT c.position, c.uscc, c.message FROM changes c WHERE c.position > ? AND c.uscc IN "
            "(SELECT uscc FROM watchlist_usccs WHERE watchlist_id = ?) ORDER BY c.position LIMIT ?",
            (position, watchlist_id, limit),
        )
        return self._opened([_row(r) for r in rows])

    def bounds(self) -> tuple[int | None, int, int]:
        oldest, newest = self._db.rows("SELECT MIN(position), MAX(position) FROM changes")[0]
        purged = self._db.rows("SELECT value FROM change_meta WHERE key = 'purged_through'")
        through = int(purged[0][0]) if purged else 0
        return (None if oldest is None else int(oldest)), max(int(newest or 0), through), through

    def purge(self, before: datetime) -> int:
        def work(conn: sqlite3.Connection) -> int:
            top = conn.execute(
                "SELECT MAX(position) FROM changes WHERE recorded_at < ?", (before.isoformat(),)
            ).fetchone()[0]
            if top is None:
                return 0
            gone = conn.execute("DELETE FROM changes WHERE position <= ?", (top,)).rowcount
            conn.execute(
                "INSERT INTO change_meta VALUES ('purged_through', ?) ON CONFLICT (key) DO UPDATE "
                "SET value = MAX(value, excluded.value)",
                (int(top),),
            )
            return int(gone)

        return self._db.atomic(work)

    def seal_stored(self, batch: int = 1000) -> int:
        if self.vault is None:
            raise ChangeStoreUnavailable("no personal-data vault to seal the changes with")
        self._db.execute("PRAGMA secure_delete=ON")  # freed pages are overwritten, not left
        rewritten, last = 0, 0
        while True:
            rows = self._db.rows(
                "SELECT position, message FROM changes WHERE position > ? ORDER BY position LIMIT ?",
                (last, batch),
            )
            if not rows:
                break
            updates = []
            for position, text in rows:
                message = json.loads(text)
                sealed = self._sealed(message)
                if sealed != message:
                    updates.append((json.dumps(sealed, ensure_ascii=False, default=str), position))
            if updates:
                self._db.atomic(functools.partial(_rewrite, updates))
                rewritten += len(updates)
            last = int(rows[-1][0])
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.execute("VACUUM")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return rewritten

    def create_watchlist(self, watchlist: Watchlist, usccs: Sequence[str]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO watchlists VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    watchlist.id,
                    watchlist.agency,
                    watchlist.name,
                    watchlist.created_at.isoformat(),
                    json.dumps(watchlist.filter.public(), ensure_ascii=False) if watchlist.filter else None,
                    watchlist.uscc_count,
                    watchlist.webhook_url,
                ),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO watchlist_usccs VALUES (?, ?)", [(watchlist.id, u) for u in usccs]
            )

        self._db.atomic(work)

    _WATCHLIST = "SELECT id, agency, name, created_at, filter, uscc_count, webhook_url FROM watchlists"

    def watchlist(self, watchlist_id: str) -> Watchlist | None:
        rows = self._db.rows(f"{self._WATCHLIST} WHERE id = ?", (watchlist_id,))
        return _watchlist(rows[0]) if rows else None

    def watchlists(self, agency: str | None = None) -> list[Watchlist]:
        if agency is None:
            rows = self._db.rows(f"{self._WATCHLIST} ORDER BY created_at, id")
        else:
            rows = self._db.rows(f"{self._WATCHLIST} WHERE agency = ? ORDER BY created_at, id", (agency,))
        return [_watchlist(r) for r in rows]

    def delete_watchlist(self, watchlist_id: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM watchlist_usccs WHERE watchlist_id = ?", (watchlist_id,))
            conn.execute("DELETE FROM webhook_state WHERE watchlist_id = ?", (watchlist_id,))
            return conn.execute("DELETE FROM watchlists WHERE id = ?", (watchlist_id,)).rowcount > 0

        return self._db.atomic(work)

    def webhook_state(self, watchlist_id: str) -> WebhookState:
        rows = self._db.rows(
            "SELECT position, attempts, next_attempt_at, last_error, delivered_at FROM webhook_state "
            "WHERE watchlist_id = ?",
            (watchlist_id,),
        )
        if not rows:
            return WebhookState(watchlist_id)
        position, attempts, next_at, error, delivered = rows[0]
        return WebhookState(
            watchlist_id, int(position), int(attempts), _when(next_at), error, _when(delivered)
        )

    def save_webhook_state(self, state: WebhookState) -> None:
        self._db.execute(
            "INSERT INTO webhook_state VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (watchlist_id) DO UPDATE SET "
            "position = excluded.position, attempts = excluded.attempts, next_attempt_at = "
            "excluded.next_attempt_at, "
            "last_error = excluded.last_error, delivered_at = excluded.delivered_at",
            (
                state.watchlist_id,
                state.position,
                state.attempts,
                state.next_attempt_at.isoformat() if state.next_attempt_at else None,
                state.last_error,
                state.delivered_at.isoformat() if state.delivered_at else None,
            ),
        )

    def close(self) -> None:
        self._db.close()
