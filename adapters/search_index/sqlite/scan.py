"""The whole register in USCC order, from one read transaction (`SearchIndex.scan_public`).

A scan opens a connection of its own and reads the `entities` projection's position, its count
and every page of documents inside one read transaction: in WAL mode that transaction sees the
database as it was at its first read, and the writer records a projection's documents and its
position in one transaction, so the position is exactly the one the documents reflect. Pages
are read by key (`uscc > last`), so memory holds one page. While the scan lasts, the WAL cannot
be checkpointed past its start (it grows with the writes made meanwhile, and shrinks after).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import orjson

from adapters.search_index.base import PublicScan, SearchUnavailable


@contextmanager
def scan_public(path: Path, page_size: int) -> Iterator[PublicScan]:
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    try:
        c = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as err:
        raise SearchUnavailable(str(err)) from err
    try:
        c.execute("BEGIN")  # deferred: the snapshot is taken by the first read below
        row = c.execute("SELECT position FROM positions WHERE projection='entities'").fetchone()
        total = int(c.execute("SELECT COUNT(*) FROM entities").fetchone()[0])
        yield PublicScan(None if row is None else int(row[0]), total, _documents(c, page_size))
    except sqlite3.Error as err:
        raise SearchUnavailable(str(err)) from err
    finally:
        with suppress(sqlite3.Error):
            c.execute("ROLLBACK")
        c.close()


def _documents(c: sqlite3.Connection, page_size: int) -> Iterator[dict[str, Any]]:
    last = ""
    while True:
        try:
            rows = c.execute(
                "SELECT uscc, public_doc FROM entities WHERE uscc > ? ORDER BY uscc LIMIT ?",
                (last, page_size),
            ).fetchall()
        except sqlite3.Error as err:
            raise SearchUnavailable(str(err)) from err
        for _, doc in rows:
            yield orjson.loads(doc)
        if len(rows) < page_size:
            return
        last = rows[-1][0]
