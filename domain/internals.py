"""The parts of eventsourcing's private API the registry relies on, in one place.

`Application.save()` cannot record a `ProcessingEvent` with its tracking position in 9.5 (see
../shared/ENGINE-NOTES.md), and the aggregate cache has no public way to drop its entries or
say what it holds. So the registry records through `_record`, `_take_snapshots` and `_notify`,
and clears and reads the LRU cache through its `cache`, `lock` and `full` attributes — all
private, free to change in any release. (`adapters.event_store.existing` reads the recorders'
datastore and table name the same way.) Every such call is here. `CHECKED_VERSIONS` names the
eventsourcing releases these calls were read against; a test fails on any other installed
version, so an upgrade means reading them again (and the registry's tests passing) before the
version is added.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, LRUCache, ProcessingEvent


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
        if isinstance(cache, LRUCache):
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
        if isinstance(cache, LRUCache):
            with cache.lock:
                return set(cache.cache)
        return set(cache.cache)
