"""Positions of the followers that write outside the event store (the change feed).

An eventsourcing tracking recorder beside the event store: a SQLite file under the data
directory (embedded), or a table of its own (`gongshi_tracking`) in the event store's
PostgreSQL database and schema. One row per follower (`application_name`), moved forward only:
recording a position that is not past the recorded one raises `IntegrityError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from eventsourcing.persistence import TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from adapters.pg import postgres_datastore
from adapters.sqlite_util import sqlite_datastore

TABLE = "gongshi_tracking"
SQLITE_FILE = "tracking.sqlite3"


class TrackingStore(TrackingRecorder, ABC):
    """Port: a tracking recorder that can release its connections."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


class SQLiteTrackingStore(SQLiteTrackingRecorder, TrackingStore):
    """Positions in a SQLite file (embedded)."""

    @classmethod
    def open(cls, path: Path) -> SQLiteTrackingStore:
        store = cls(sqlite_datastore(path))
        store.create_table()
        return store

    def close(self) -> None:
        self.datastore.close()


class PostgresTrackingStore(PostgresTrackingRecorder, TrackingStore):
    """Positions in the event store's PostgreSQL database and schema, in their own table."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        kwargs.setdefault("tracking_table_name", TABLE)
        super().__init__(datastore, **kwargs)

    @classmethod
    def open(cls, dsn: str, schema: str | None = None, pool_size: int = 2) -> PostgresTrackingStore:
        """Connects (on first use of the pool) to the database and schema of the event store."""
        store = cls(postgres_datastore(dsn, schema=schema, pool_size=pool_size))
        store.create_table()
        return store

    def close(self) -> None:
        self.datastore.close()


def open_tracking(
    *, data_dir: Path, postgres_dsn: str | None = None, schema: str | None = None
) -> TrackingStore:
    """PostgreSQL when a DSN is given (beside the event store), else SQLite under `data_dir`."""
    if postgres_dsn:
        return PostgresTrackingStore.open(postgres_dsn, schema=schema)
    return SQLiteTrackingStore.open(data_dir / SQLITE_FILE)


__all__ = ["PostgresTrackingStore", "SQLiteTrackingStore", "TrackingStore", "open_tracking"]
