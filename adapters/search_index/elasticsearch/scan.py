"""The whole register in USCC order, from one point in time (`SearchIndex.scan_public`).

The `entities` projection's position is read (a real-time GET), the alias refreshed, and a point
in time (PIT) opened on it: every page is a `search_after` search sorted by USCC against that PIT,
so writes made after it was opened are not seen; a thread fetches the next page while the
caller reads this one, so memory holds two pages. The view holds every
document written up to the position read (they were written before it was recorded, and the
refresh made them visible); it may also hold documents of a batch the projection was writing
meanwhile and had not yet recorded a position for — so the position is a lower bound. The PIT is
closed when the scan ends (and expires `KEEP_ALIVE` after the last page read, if the process
dies first).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from adapters.search_index.base import PublicScan
from adapters.search_index.elasticsearch.client import translated
from adapters.search_index.elasticsearch.lifecycle import Indices

#: How long the point in time lives after each page (the consumer's time for one page).
KEEP_ALIVE = "5m"
BY_USCC = [{"uscc": "asc"}]


@contextmanager
def scan_public(indices: Indices, position: Callable[[], int | None], page_size: int) -> Iterator[PublicScan]:
    if not 1 <= page_size <= 10_000:
        raise ValueError("page_size must be between 1 and 10,000")
    with translated("scan"):
        es = indices.ready()
        at = position()
        alias = indices.alias("entities")
        es.indices.refresh(index=alias)
        pit: dict[str, Any] = {"id": es.open_point_in_time(index=alias, keep_alive=KEEP_ALIVE)["id"]}
    pages = _Pages(es, pit, page_size)
    try:
        with translated("scan"):
            counted = es.search(pit={**pit, "keep_alive": KEEP_ALIVE}, size=0, track_total_hits=True)
            pit["id"] = counted.get("pit_id", pit["id"])
        yield PublicScan(at, int(counted["hits"]["total"]["value"]), pages.documents())
    finally:
        pages.stop()
        with suppress(ApiError, TransportError):
            es.close_point_in_time(id=pit["id"])


class _Pages:
    """The pages of the scan, fetched one ahead by a thread of their own: Elasticsearch prepares
    the next page (and the client reads it) while the caller works through this one. At most
    two pages are held (one queued, one being read)."""

    def __init__(self, es: Elasticsearch, pit: dict[str, Any], page_size: int) -> None:
        self.es, self.pit, self.page_size = es, pit, page_size
        self._queue: queue.Queue[list[dict[str, Any]] | BaseException | None] = queue.Queue(maxsize=1)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def documents(self) -> Iterator[dict[str, Any]]:
        self._thread = threading.Thread(target=self._fetch, name="gongshi-scan-pages", daemon=True)
        self._thread.start()
        while True:
            page = self._queue.get()
            if page is None:
                return
            if isinstance(page, BaseException):
                raise page
            yield from page

    def _fetch(self) -> None:
        after: list[Any] | None = None
        try:
            while not self._stopping.is_set():
                extra: dict[str, Any] = {"search_after": after} if after is not None else {}
                with translated("scan"):
                    res = self.es.search(
                        pit={**self.pit, "keep_alive": KEEP_ALIVE},
                        sort=BY_USCC,
                        size=self.page_size,
                        source_includes=["public"],
                        track_total_hits=False,
                        **extra,
                    )
                self.pit["id"] = res.get("pit_id", self.pit["id"])  # it may change between pages
                hits = res["hits"]["hits"]
                self._put([hit["_source"]["public"] for hit in hits])
                if len(hits) < self.page_size:
                    break
                after = hits[-1]["sort"]
            self._put(None)
        except BaseException as err:
            self._put(err)

    def _put(self, item: list[dict[str, Any]] | BaseException | None) -> None:
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def stop(self) -> None:
        """End the fetching (the caller is done or gave up) before the point in time is closed."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
