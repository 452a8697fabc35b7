"""The embedded publication log: an append-only SQLite table with consumer positions.

One file, several processes (the CLI publishes while `gongshi serve` consumes): every write is
one short transaction, and SQLite's lock serialises offset assignment per topic partition.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import zlib
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from adapters.publication_log.base import Headers, LogConsumer, LogRecord, PublicationLog

SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (topic TEXT PRIMARY KEY, partitions INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
  key TEXT, value BLOB NOT NULL, headers TEXT NOT NULL DEFAULT '[]', ts INTEGER NOT NULL,
  PRIMARY KEY (topic, partition, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_starts (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, start_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS group_offsets (
  grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
  PRIMARY KEY (grp, topic, partition)
);
"""


def partition_for(key: str | None, partitions: int) -> int:
    return 0 if key is None or partitions <= 1 else zlib.crc32(key.encode()) % partitions


class EmbeddedLog(PublicationLog):
    def __init__(self, path: Path, default_partitions: int = 1) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.default_partitions = default_partitions
        self._local = threading.local()
        with self._conn() as c:
            c.executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def ensure_topic(self, topic: str, partitions: int) -> None:
        self._conn().execute("INSERT OR IGNORE INTO topics VALUES (?, ?)", (topic, partitions))

    def _partitions(self, c: sqlite3.Connection, topic: str) -> int:
        row = c.execute("SELECT partitions FROM topics WHERE topic=?", (topic,)).fetchone()
        if row is None:
            c.execute("INSERT OR IGNORE INTO topics VALUES (?, ?)", (topic, self.default_partitions))
            return self.default_partitions
        return int(row[0])

    def produce(self, topic: str, value: bytes, key: str | None = None, headers: Headers = ()) -> None:
        self._append(topic, [(key, value, headers)])

    def produce_many(
        self,
        topic: str,
        items: Iterable[tuple[str | None, bytes]],
        on_progress: Callable[[int], None] | None = None,
        headers_for: Callable[[bytes], Headers] | None = None,
    ) -> int:
        count, chunk = 0, []
        for key, value in items:
            chunk.append((key, value, headers_for(value) if headers_for else ()))
            if len(chunk) == 2000:
                count += self._append(topic, chunk)
                chunk = []
                if on_progress:
                    on_progress(count)
        count += self._append(topic, chunk)
        if on_progress:
            on_progress(count)
        return count

    def _append(self, topic: str, items: Sequence[tuple[str | None, bytes, Headers]]) -> int:
        if not items:
            return 0
        c = self._conn()
        now = int(time.time() * 1000)
        c.execute("BEGIN IMMEDIATE")
        try:
            partitions = self._partitions(c, topic)
            nexts: dict[int, int] = {}
            rows = []
            for key, value, headers in items:
                p = partition_for(key, partitions)
                if p not in nexts:
                    nexts[p] = self._next_offset(c, topic, p)
                hdrs = json.dumps([[k, b64encode(v).decode()] for k, v in headers])
                rows.append((topic, p, nexts[p], key, bytes(value), hdrs, now))
                nexts[p] += 1
            c.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return len(items)

    @staticmethod
    def _next_offset(c: sqlite3.Connection, topic: str, partition: int) -> int:
        """After the last record, and never below where a deletion left the log's start."""
        row = c.execute(
            "SELECT MAX(offset) FROM records WHERE topic=? AND partition=?", (topic, partition)
        ).fetchone()
        start = c.execute(
            "SELECT start_offset FROM log_starts WHERE topic=? AND partition=?", (topic, partition)
        ).fetchone()
        return max(0 if row[0] is None else int(row[0]) + 1, 0 if start is None else int(start[0]))

    def end_offsets(self, topic: str) -> dict[int, int]:
        c = self._conn()
        partitions = self._partitions(c, topic)
        out = dict.fromkeys(range(partitions), 0)
        for p, mx in c.execute(
            "SELECT partition, MAX(offset) FROM records WHERE topic=? GROUP BY partition", (topic,)
        ):
            out[int(p)] = int(mx) + 1
        for p, start in c.execute("SELECT partition, start_offset FROM log_starts WHERE topic=?", (topic,)):
            out[int(p)] = max(out.get(int(p), 0), int(start))
        return out

    def delete_before(self, topic: str, offsets: dict[int, int]) -> None:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            for partition, offset in offsets.items():
                start = min(offset, self._next_offset(c, topic, partition))
                c.execute(
                    "INSERT INTO log_starts VALUES (?, ?, ?) ON CONFLICT (topic, partition) "
                    "DO UPDATE SET start_offset = MAX(start_offset, excluded.start_offset)",
                    (topic, partition, start),
                )
                c.execute(
                    "DELETE FROM records WHERE topic=? AND partition=? AND offset<?",
                    (topic, partition, start),
                )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[LogRecord]:
        rows = (
            self._conn()
            .execute(
                "SELECT partition, offset, key, value, headers, ts FROM records "
                "WHERE topic=? AND partition=? AND offset>=? ORDER BY offset LIMIT ?",
                (topic, partition, offset, limit),
            )
            .fetchall()
        )
        return [
            LogRecord(
                topic,
                int(p),
                int(o),
                k,
                bytes(v),
                tuple((hk, b64decode(hv)) for hk, hv in json.loads(h)),
                int(ts),
            )
            for p, o, k, v, h, ts in rows
        ]

    def consumer(self, topic: str, group: str) -> EmbeddedConsumer:
        return EmbeddedConsumer(self, topic, group)

    def committed(self, topic: str, group: str) -> dict[int, int]:
        rows = (
            self._conn()
            .execute(
                "SELECT partition, next_offset FROM group_offsets WHERE grp=? AND topic=?", (group, topic)
            )
            .fetchall()
        )
        return {int(p): int(o) for p, o in rows}

    def commit(self, topic: str, group: str, next_offsets: dict[int, int]) -> None:
        self._conn().executemany(
            "INSERT INTO group_offsets VALUES (?, ?, ?, ?) ON CONFLICT (grp, topic, partition) "
            "DO UPDATE SET next_offset=excluded.next_offset",
            [(group, topic, p, o) for p, o in next_offsets.items()],
        )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class EmbeddedConsumer(LogConsumer):
    """A single consumer that owns every partition of its topic (one machine, one worker)."""

    POLL_INTERVAL_S = 0.05

    def __init__(self, log: EmbeddedLog, topic: str, group: str) -> None:
        self.log, self.topic, self.group = log, topic, group
        self._partitions = list(log.end_offsets(topic))
        committed = log.committed(topic, group)
        self._next = {p: committed.get(p, 0) for p in self._partitions}

    def assignment(self) -> list[int]:
        return list(self._partitions)

    def on_assign(self, callback: Callable[[list[int]], None]) -> None:
        self._on_assign = callback
        callback(self.assignment())

    def seek(self, partition: int, offset: int) -> None:
        self._next[partition] = offset

    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[LogRecord]:
        deadline = time.monotonic() + timeout_s
        while True:
            out: list[LogRecord] = []
            for p in self._partitions:
                room = max_records - len(out)
                if room <= 0:
                    break
                records = self.log.read(self.topic, p, self._next[p], room)
                if records:
                    self._next[p] = records[-1].offset + 1
                    out.extend(records)
            if out or time.monotonic() >= deadline:
                return out
            time.sleep(self.POLL_INTERVAL_S)

    def commit(self, next_offsets: dict[int, int]) -> None:
        self.log.commit(self.topic, self.group, next_offsets)

    def close(self) -> None:
        """Nothing to release: the log owns the connection."""
