"""The replay ledger: which dead-letter entries were put back on the publication log, so each is
replayed once.

An entry is named by where it sits on the DLQ (`<topic>[<partition>]@<offset>`; Kafka never reuses
an offset, and the embedded log keeps its numbering across deletions). Claiming an entry is one
INSERT on its primary key: two operators replaying the same entry at once, one wins.

Embedded: a SQLite file (`replays.sqlite3` in the data directory). Real: a table `dlq_replays` in
the event store's PostgreSQL database (and schema, when one is configured).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.sqlite_util import SQLiteTable

__all__ = ["PostgresReplays", "Replay", "ReplayLedger", "ReplaysUnavailable", "SQLiteReplays"]


class ReplaysUnavailable(Exception):
    """The replay ledger's database cannot be reached or answered with an error."""


@dataclass(frozen=True, slots=True)
class Replay:
    entry: str
    publication_id: str | None
    replayed_at: datetime
    actor: str


_COLUMNS = "entry, publication_id, replayed_at, actor"


def _row(row: tuple[Any, ...]) -> Replay:
    entry, publication_id, at, actor = row
    when = at if isinstance(at, datetime) else datetime.fromisoformat(at)
    return Replay(str(entry), publication_id, when.astimezone(UTC), str(actor))


class ReplayLedger(ABC):
    """Which DLQ entries were replayed, when and by whom."""

    @abstractmethod
    def claim(self, replay: Replay) -> bool:
        """Record `replay`; False (and nothing recorded) when its entry was replayed before."""

    @abstractmethod
    def replays(self, entries: list[str]) -> dict[str, Replay]:
        """The recorded replays of these entries."""

    @abstractmethod
    def release(self, entry: str) -> None:
        """Forget a claim whose replay could not be put on the log (it may be tried again)."""

    def close(self) -> None:
        """Release connections."""


class SQLiteReplays(ReplayLedger):
    def __init__(self, path: Path) -> None:
        self._db = SQLiteTable(
            path,
            "CREATE TABLE IF NOT EXISTS dlq_replays (entry TEXT PRIMARY KEY, publication_id TEXT, "
            "replayed_at TEXT NOT NULL, actor TEXT NOT NULL)",
            unavailable=ReplaysUnavailable,
        )

    def claim(self, replay: Replay) -> bool:
        return self._db.try_insert(
            f"INSERT INTO dlq_replays ({_COLUMNS}) VALUES (?, ?, ?, ?)",
            (replay.entry, replay.publication_id, replay.replayed_at.isoformat(), replay.actor),
        )

    def replays(self, entries: list[str]) -> dict[str, Replay]:
        found: dict[str, Replay] = {}
        for start in range(0, len(entries), 500):
            chunk = entries[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in self._db.rows(
                f"SELECT {_COLUMNS} FROM dlq_replays WHERE entry IN ({marks})", tuple(chunk)
            ):
                found[str(row[0])] = _row(row)
        return found

    def release(self, entry: str) -> None:
        self._db.execute("DELETE FROM dlq_replays WHERE entry = ?", (entry,))

    def close(self) -> None:
        self._db.close()


class PostgresReplays(ReplayLedger):
    def __init__(self, dsn: str, *, schema: str | None = None, table: str = "dlq_replays") -> None:
        from adapters.pg import PgTable  # psycopg only when PostgreSQL is configured

        self._db = PgTable(
            dsn,
            table,
            "CREATE TABLE IF NOT EXISTS {table} (entry TEXT PRIMARY KEY, publication_id TEXT, "
            "replayed_at TIMESTAMPTZ NOT NULL, actor TEXT NOT NULL)",
            schema=schema,
            unavailable=ReplaysUnavailable,
        )

    def claim(self, replay: Replay) -> bool:
        return self._db.try_insert(
            f"INSERT INTO {{table}} ({_COLUMNS}) VALUES (%s, %s, %s, %s)",
            (replay.entry, replay.publication_id, replay.replayed_at, replay.actor),
        )

    def replays(self, entries: list[str]) -> dict[str, Replay]:
        if not entries:
            return {}
        rows = self._db.rows(f"SELECT {_COLUMNS} FROM {{table}} WHERE entry = ANY(%s)", (entries,))
        return {str(r[0]): _row(r) for r in rows}

    def release(self, entry: str) -> None:
        self._db.execute("DELETE FROM {table} WHERE entry = %s", (entry,))

    def close(self) -> None:
        self._db.close()
