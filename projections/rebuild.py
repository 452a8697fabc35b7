"""Rebuild one projection's index from the event store without downtime.

1. Note the notification log's head H, then enumerate every MarketEntity from its
   `MarketEntity.Registered` notifications up to H.
2. `begin_rebuild(name)` prepares an empty generation beside the serving one; each entity is loaded
   at its latest version and written there (`write_rebuild`). Meanwhile the live projection
   keeps writing to the serving generation, and searches keep reading it. The other projections
   are not touched.
3. `finish_rebuild(name, …)` swaps generations in one step (Elasticsearch: one `update_aliases`
   call; SQLite: one transaction) and records H as the position (it never goes backwards).
4. Whatever happened after H — while the generation was filled — is then re-projected into the
   new generation (`EntityProjection.replay_after(H)`); writes are version-guarded, so going over
   entities already written at their latest version again is harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from uuid import UUID

from adapters.search_index.base import IndexedEntity, SearchIndex
from domain.entity import MarketEntity
from projections.runner import ENTITY_TOPIC_PREFIX, EntityProjection

log = logging.getLogger(__name__)

REGISTERED_TOPIC = f"{ENTITY_TOPIC_PREFIX}{MarketEntity.Registered.__qualname__.rsplit('.', 1)[-1]}"
SCAN_PAGE = 5000


@dataclass(frozen=True)
class RebuildReport:
    target: str
    entities: int
    started_from: int  # the notification head the rebuild was filled up to
    replayed: int  # notifications after it, re-projected once the new generation served


def registered_entities(projection: EntityProjection, until: int) -> Iterator[UUID]:
    """Ids of every entity registered at or before notification `until`, in log order."""
    recorder = projection.registry.recorder
    start = 1
    while start <= until:
        page = recorder.select_notifications(
            start=start, limit=SCAN_PAGE, stop=until, topics=[REGISTERED_TOPIC]
        )
        if not page:
            return
        for notification in page:
            yield UUID(str(notification.originator_id))
        start = page[-1].id + 1


def rebuild_projection(
    projection: EntityProjection,
    *,
    batch_size: int = 500,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> RebuildReport:
    """Fill a new generation of `projection`'s index from the event store and swap it in.

    `on_start(total)` is called once the entities are counted, `on_progress(done)` after each
    batch written to the new generation (the command's progress bar)."""
    index: SearchIndex = projection.index
    head = projection.head()
    ids = list(registered_entities(projection, head))
    if on_start is not None:
        on_start(len(ids))
    target = index.begin_rebuild(projection.name)
    log.info("rebuilding %s into %s: %d entities up to %d", projection.name, target, len(ids), head)
    try:
        chunks = (ids[start : start + batch_size] for start in range(0, len(ids), batch_size))
        batches = (projection.documents(chunk) for chunk in chunks)
        fill_generation(index, projection.name, target, batches, on_progress)
        index.finish_rebuild(projection.name, target, head)
    except BaseException:
        index.abort_rebuild(projection.name, target)
        raise
    replayed = projection.replay_after(head)
    return RebuildReport(target=target, entities=len(ids), started_from=head, replayed=replayed)


def fill_generation(
    index: SearchIndex,
    projection: str,
    target: str,
    batches: Iterable[list[IndexedEntity]],
    on_progress: Callable[[int], None] | None = None,
    *,
    writers: int | None = None,
) -> int:
    """Write `batches` into the generation `target`: this thread builds the batches (loading
    entities, computing documents) while up to `writers` threads write the ones already built
    (default: the index's `rebuild_writers` — Elasticsearch indexes concurrent bulks into one
    shard in parallel). `on_progress(written)` is called after each batch, with a count that
    only grows; the first failed write stops the fill and is raised."""
    writers = writers or index.rebuild_writers
    lock = threading.Lock()
    written = 0

    def write(batch: list[IndexedEntity]) -> None:
        nonlocal written
        index.write_rebuild(projection, target, batch)
        with lock:
            written += len(batch)
            if on_progress is not None:
                on_progress(written)

    pool = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="rebuild-write")
    pending: set[Future[None]] = set()
    try:
        for batch in batches:
            pending.add(pool.submit(write, batch))
            if len(pending) >= 2 * writers:  # bounded: at most two batches per writer in memory
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()
        for future in pending:
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return written
