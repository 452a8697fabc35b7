"""One SQLite file behind one connection and a lock: the embedded side of small adapters.

The credential store and the extract ledger each keep one small table in their own file in the
data directory. They open it the same way (WAL, so readers in other processes are not blocked;
autocommit, as each statement stands alone; one connection shared by threads, hence the lock)
and turn every `sqlite3.Error` into the adapter's own "unavailable" exception, as their
PostgreSQL side does (`adapters.pg.PgTable`, whose calls these mirror).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from eventsourcing.sqlite import SQLiteDatastore

__all__ = ["SQLiteTable", "sqlite_datastore"]


def sqlite_datastore(path: Path) -> SQLiteDatastore:
    """eventsourcing's datastore on the file at `path` (its folder made if missing), for a
    tracking recorder of ours beside the event store (the SQLite twin of `pg.postgres_datastore`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteDatastore(str(path), lock_timeout=30)


Rows = list[tuple[Any, ...]]
T = TypeVar("T")


class SQLiteTable:
    """The file at `path` (its folder made if missing), with `ddl` (one statement, or several in
    order) run once it is open.

    A `sqlite3.Error`, also one met opening the file or running `ddl`, is raised as `unavailable`.
    """

    def __init__(self, path: Path, ddl: str | Sequence[str], *, unavailable: type[Exception]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._unavailable = unavailable
        try:
            self._conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            for statement in [ddl] if isinstance(ddl, str) else ddl:
                self._conn.execute(statement)
        except sqlite3.Error as err:
            raise unavailable(str(err)) from err

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> int:
        """Run a statement; how many rows it changed."""
        return self._run(query, params)[0]

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> Rows:
        """Run a query; every row it returns."""
        return self._run(query, params)[1]

    def try_insert(self, query: str, params: tuple[Any, ...] = ()) -> bool:
        """Run an INSERT; False, not an error, when a constraint refuses the row (SQLite reports a
        taken unique key as an IntegrityError, like any other constraint)."""
        try:
            self._run(query, params, passthrough=sqlite3.IntegrityError)
        except sqlite3.IntegrityError:
            return False
        return True

    def atomic(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` with the connection inside one write transaction (`BEGIN IMMEDIATE`: other
        processes' writers wait), committed when it returns, rolled back when it raises."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(self._conn)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
                return result
            except sqlite3.Error as err:
                raise self._unavailable(str(err)) from err

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _run(
        self, query: str, params: tuple[Any, ...], passthrough: type[Exception] | tuple[()] = ()
    ) -> tuple[int, Rows]:
        with self._lock:
            try:
                cursor = self._conn.execute(query, params)
                return cursor.rowcount, cursor.fetchall()
            except passthrough:
                raise
            except sqlite3.Error as err:
                raise self._unavailable(str(err)) from err
