"""The whole register in USCC order, from one point in time (`SearchIndex.scan_public`).

The `entities` projection's position is read (a real-time GET), the alias refreshed, and a point
in time (PIT) opened on it: every page is a `search_after` search sorted by USCC against that PIT,
so writes made after it was opened are not seen, and memory holds one page. The view holds every
document written up to the position read (they were written before it was recorded, and the
refresh made them visible); it may also hold documents of a batch the projection was writing
meanwhile and had not yet recorded a position for — so the position is a lower bound. The PIT is
closed when the scan ends (and expires `KEEP_ALIVE` after the last page read, if the process
dies first).
"""

from __future__ import annotations

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
    try:
        with translated("scan"):
            counted = es.search(pit={**pit, "keep_alive": KEEP_ALIVE}, size=0, track_total_hits=True)
            pit["id"] = counted.get("pit_id", pit["id"])
        yield PublicScan(at, int(counted["hits"]["total"]["value"]), _documents(es, pit, page_size))
    finally:
        with suppress(ApiError, TransportError):
            es.close_point_in_time(id=pit["id"])


def _documents(es: Elasticsearch, pit: dict[str, Any], page_size: int) -> Iterator[dict[str, Any]]:
    after: list[Any] | None = None
    while True:
        extra: dict[str, Any] = {"search_after": after} if after is not None else {}
        with translated("scan"):
            res = es.search(
                pit={**pit, "keep_alive": KEEP_ALIVE},
                sort=BY_USCC,
                size=page_size,
                source_includes=["public"],
                track_total_hits=False,
                **extra,
            )
        pit["id"] = res.get("pit_id", pit["id"])  # the id may change from one page to the next
        hits = res["hits"]["hits"]
        for hit in hits:
            yield hit["_source"]["public"]
        if len(hits) < page_size:
            return
        after = hits[-1]["sort"]
