"""Leader locks: one process at a time runs a daily job, however many run `gongshi serve`.

Several `gongshi serve` processes (behind one load balancer) each start the daily runners: the
publicity job, the deadline jobs, the open-data release. Each of those is wrapped in
`api.supervisor.Exclusive` and runs only in the process that holds its lock; the others wait and
take over when that process ends.

- Embedded (one data dir): an exclusive `flock` on `<data_dir>/locks/<name>.lock`. The kernel
  releases it when the process dies, however it dies.
- PostgreSQL (the event store's database): a session-level advisory lock
  (`pg_try_advisory_lock`) on a connection of its own, keyed by the schema and the name. The
  server releases it when that connection ends, so a process that dies or loses the database
  gives it up; `held()` asks the connection, so the holder notices a lost connection and stops
  its job instead of running beside the next holder.

Neither blocks: `try_acquire` answers at once, and the waiting is the caller's.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Protocol

__all__ = ["FileLeaderLock", "LeaderLock", "PostgresLeaderLock"]


class LeaderLock(Protocol):
    name: str

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this object holds it (also when it already
        did). Never blocks; an unreachable database answers False."""
        ...

    def held(self) -> bool:
        """Whether this object still holds the lock (False once its database connection is gone)."""
        ...

    def release(self) -> None:
        """Give the lock up (nothing when not held)."""
        ...


class FileLeaderLock:
    """An exclusive `flock` on a file: held per open file, released by the kernel at exit."""

    def __init__(self, directory: Path, name: str) -> None:
        self.name = name
        self.path = directory / f"{name}.lock"
        self._fd: int | None = None
        self._mutex = threading.Lock()

    def try_acquire(self) -> bool:
        with self._mutex:
            if self._fd is not None:
                return True
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self._fd = fd
            return True

    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        with self._mutex:
            if self._fd is None:
                return
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def advisory_key(schema: str | None, name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock` from the schema and the lock's name
    (two platforms in two schemas of one database do not share locks)."""
    digest = hashlib.blake2b(f"gongshi:{schema or ''}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresLeaderLock:
    """A session-level advisory lock on a connection of its own (opened when first tried)."""

    def __init__(self, dsn: str, name: str, *, schema: str | None = None, connect_timeout_s: int = 5) -> None:
        self.name = name
        self.schema = schema
        self.key = advisory_key(schema, name)
        self._dsn = dsn
        self._connect_timeout_s = connect_timeout_s
        self._conn: Any = None
        self._mutex = threading.Lock()

    def try_acquire(self) -> bool:
        import psycopg

        with self._mutex:
            if self._conn is not None:
                return True
            try:
                conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=self._connect_timeout_s)
            except (psycopg.Error, OSError):
                return False
            try:
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            except (psycopg.Error, OSError):
                conn.close()
                return False
            if not (row and row[0]):
                conn.close()
                return False
            self._conn = conn
            return True

    def held(self) -> bool:
        import psycopg

        with self._mutex:
            if self._conn is None:
                return False
            unsigned = self.key & 0xFFFFFFFFFFFFFFFF  # pg_locks shows a bigint key as two oids
            try:
                row = self._conn.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                    " AND granted AND objsubid = 1 AND classid::bigint = %s AND objid::bigint = %s",
                    (unsigned >> 32, unsigned & 0xFFFFFFFF),
                ).fetchone()
            except (psycopg.Error, OSError):
                self._drop()
                return False
            if not (row and row[0]):
                self._drop()
                return False
            return True

    def release(self) -> None:
        import psycopg

        with self._mutex:
            if self._conn is None:
                return
            with contextlib.suppress(psycopg.Error, OSError):  # a lost connection took the lock along
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        with contextlib.suppress(Exception):  # closing a broken connection may raise anything
            conn.close()
