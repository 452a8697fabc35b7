"""The parts of eventsourcing's private API the registry relies on, in one place.

`Application.save()` cannot record a `ProcessingEvent` with its tracking position in 9.5 (see
../shared/ENGINE-NOTES.md), and the aggregate cache has no public way to drop its entries or
say what it holds. So the registry records through `_record`, `_take_snapshots` and `_notify`,
and clears and reads the LRU cache through its `cache`, `lock` and `full` attributes — all
private, free to change in any release. (`adapters.event_store.load_latest` reads the
recorders' datastore and table names the same way.) Every such call is here, and so is the
registry's projector (`apply_events`: eventsourcing's `project_aggregate` without its runtime Protocol
check) and the repository that uses it by default. `CHECKED_VERSIONS` names the
eventsourcing releases these calls were read against; a test fails on any other installed
version, so an upgrade means reading them again (and the registry's tests passing) before the
version is added.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from importlib import metadata
from threading import Lock
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    Application,
    Cache,
    LRUCache,
    ProcessingEvent,
    ProjectorFunction,
    Repository,
)
from eventsourcing.domain import CanMutateProtocol

_A = TypeVar("_A")


class LibraryInternals:
    """Records processing events and drops cached aggregates for one application."""

    #: eventsourcing releases whose private API was read and tested against this class.
    CHECKED_VERSIONS: tuple[str, ...] = ("9.5.6",)

    def __init__(self, app: Application[UUID]) -> None:
        self._app = app

    @staticmethod
    def installed_version() -> str:
        return metadata.version("eventsourcing")

    @classmethod
    def unchecked_version(cls) -> str | None:
        """The installed eventsourcing version if it is not one of `CHECKED_VERSIONS`."""
        version = cls.installed_version()
        return None if version in cls.CHECKED_VERSIONS else version

    def record(self, processing: ProcessingEvent[UUID]) -> None:
        """Record the processing event's aggregate events and tracking in one transaction, then
        take the snapshots that fall due and notify followers (as `Application.save` does)."""
        app: Any = self._app
        recordings = app._record(processing)
        app._take_snapshots(processing)
        app._notify(recordings)

    def forget_cached(self) -> None:
        """Drop every cached aggregate. `LRUCache.clear()` resets only its recency list, not the
        entries, and leaves `full` set."""
        cache: Any = self._app.repository.cache
        if isinstance(cache, MemoryBoundedCache):
            cache.clear_all()
        elif isinstance(cache, LRUCache):
            with cache.lock:
                cache.cache.clear()
                cache.clear()
                cache.full = False
        elif cache is not None:
            cache.cache.clear()

    def cached(self) -> set[UUID]:
        """The ids of the aggregates in the cache now."""
        cache: Any = self._app.repository.cache
        if cache is None:
            return set()
        if isinstance(cache, (LRUCache, MemoryBoundedCache)):
            with cache.lock:
                return set(cache.cache)
        return set(cache.cache)


def apply_events(aggregate: _A | None, events: Iterable[CanMutateProtocol[Any]]) -> _A | None:
    """The aggregate after each event's `mutate` in turn: eventsourcing's `project_aggregate`
    without its `assert isinstance(event, CanMutateProtocol)`. That Protocol is runtime-checkable,
    so the assert walks the Protocol's attributes for every event (about 6 % of the ingestion
    worker's time, docs/BENCHMARKS.md); the registry's events are all aggregate events, which
    have `mutate`, and one that had not would fail here with an AttributeError instead."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class ApplyingRepository(Repository[UUID]):
    """eventsourcing's repository with `apply_events` as the default projector of `get`; every
    other argument is the library's. Built from the repository the application constructed, so
    it keeps that one's stores, cache and settings."""

    @classmethod
    def like(cls, repository: Repository[UUID]) -> ApplyingRepository:
        built = cls(
            repository.event_store,
            snapshot_store=repository.snapshot_store,
            fastforward=repository.fastforward,
            fastforward_skipping=repository.fastforward_skipping,
            deepcopy_from_cache=repository.deepcopy_from_cache,
        )
        built.cache = repository.cache
        return built

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = apply_events,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        return super().get(
            aggregate_id,
            version=version,
            projector_func=projector_func,
            fastforward_skipping=fastforward_skipping,
            deepcopy_from_cache=deepcopy_from_cache,
        )


#: What a cached aggregate is estimated to hold, in bytes: `BASE` plus `PER_EVENT` for each event
#: it has applied (an aggregate *is* its record, so it grows with its history). Measured with
#: tracemalloc by bench/aggregate_memory.py (docs/BENCHMARKS.md), set so the estimate is above the
#: measured size for nearly every aggregate: a budget in bytes then bounds the real memory.
ESTIMATE_BASE_BYTES = 2_000
ESTIMATE_PER_EVENT_BYTES = 4_000


def estimated_bytes(aggregate: Any) -> int:
    """The memory a cached aggregate is taken to hold (see `ESTIMATE_BASE_BYTES`)."""
    return ESTIMATE_BASE_BYTES + ESTIMATE_PER_EVENT_BYTES * max(0, int(getattr(aggregate, "version", 0)))


class MemoryBoundedCache(Cache[UUID, Any]):
    """An LRU aggregate cache bounded by the estimated memory of what it holds (and, optionally,
    by a count): eventsourcing's `LRUCache` counts entries only, and an entity with 1,000 events
    weighs as much as a few hundred new ones.

    It keeps eventsourcing's cache protocol (`get(key, evict=)` raising KeyError on a miss, `put`
    after every save of an uncached-fast-forward repository, which re-weighs an aggregate that
    grew) and the `cache` and `lock` attributes `LibraryInternals` reads. No `__len__`: the
    repository tests the cache for truth (`if self.cache and ...`), and an empty one must stay
    on."""

    def __init__(self, max_bytes: int, max_entries: int | None = None) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.cache: OrderedDict[UUID, Any] = OrderedDict()
        self.weights: dict[UUID, int] = {}
        self.total_bytes = 0
        self.lock = Lock()

    def get(self, key: UUID, *, evict: bool = False) -> Any:
        with self.lock:
            if evict:
                value = self.cache.pop(key)
                self.total_bytes -= self.weights.pop(key)
                return value
            value = self.cache[key]
            self.cache.move_to_end(key)
            return value

    def put(self, key: UUID, value: Any) -> Any:
        if value is None:
            return None
        weight = estimated_bytes(value)
        evicted = None
        with self.lock:
            if key in self.cache:
                self.total_bytes -= self.weights[key]
                self.cache.move_to_end(key)
            self.cache[key] = value
            self.weights[key] = weight
            self.total_bytes += weight
            # the newest entry stays even when it alone is over the budget: it is in use now
            while len(self.cache) > 1 and (
                self.total_bytes > self.max_bytes
                or (self.max_entries is not None and len(self.cache) > self.max_entries)
            ):
                old_key, old_value = self.cache.popitem(last=False)
                self.total_bytes -= self.weights.pop(old_key)
                evicted = (old_key, old_value)
        return evicted

    def clear_all(self) -> None:
        with self.lock:
            self.cache.clear()
            self.weights.clear()
            self.total_bytes = 0
