"""The projection runners: follow the event store's notification log into the search index.

There are three — `entities`, `records` and `sharing` (see `adapters.search_index.base`) — each
an `EntityProjection` with its own name, so its own position, lag and rebuild. Each pass reads a
batch of notifications after the projection's recorded position, reloads every entity they touch
(once per batch, at its latest version), and writes the entities' documents together with the
batch's last notification id. Notifications it ignores still move the position on. Writes are
version-guarded, so a replay or a crash never leaves a document stale.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from adapters.search_index.base import PROJECTIONS, IndexedEntity, SearchIndex, check_projection
from domain.clock import Clock
from domain.entity import MarketEntity
from domain.publicity import PublicityPolicy
from domain.registry import Registry
from projections.documents import (
    filter_values,
    flags,
    penalty_windows,
    public_document,
    record_rows,
    search_fields,
    sharing_document,
)
from projections.following import Follower

log = logging.getLogger(__name__)

ENTITY_TOPIC_PREFIX = f"{MarketEntity.__module__}:{MarketEntity.__qualname__}."


class BuiltDocuments:
    """The sharing and public documents of the entities built last, by (entity id, version):
    the three index projections build from the same aggregates at most a few batches apart, and
    these two documents are most of their work (cProfile over 1,500 generated entities:
    `public_document` 2.9 s of the 3.7 s the three projections' documents took), so each is
    built once, not two or three times. Bounded to `size` entities, least recently used out.
    Documents are never changed after they are built (the indexes serialise them), so sharing
    them is safe; the projections use it under their shared `read_lock`. The documents hold
    opened personal data: `forget_at` drops them all when the registry's erasure epoch moves, as
    the registry drops its cache."""

    def __init__(self, size: int = 2_000) -> None:
        self.size = size
        self._built: OrderedDict[tuple[UUID, int], list[Any]] = OrderedDict()
        self._epoch: int | None = None

    def forget_at(self, epoch: int | None) -> None:
        """Drop every document built before a person was erased (`epoch`: the registry's)."""
        if epoch != self._epoch:
            self._built.clear()
        self._epoch = epoch

    def _entry(self, entity: MarketEntity, policy: PublicityPolicy | None) -> list[Any]:
        key = (entity.id, entity.version)
        entry = self._built.get(key)
        if entry is None:
            entry = self._built[key] = [sharing_document(entity, policy), None]
            while len(self._built) > self.size:
                self._built.popitem(last=False)
        else:
            self._built.move_to_end(key)
        return entry

    def sharing(self, entity: MarketEntity, policy: PublicityPolicy | None) -> dict[str, Any]:
        found: dict[str, Any] = self._entry(entity, policy)[0]
        return found

    def public(self, entity: MarketEntity, policy: PublicityPolicy | None) -> dict[str, Any]:
        entry = self._entry(entity, policy)
        if entry[1] is None:
            entry[1] = public_document(entry[0])
        found: dict[str, Any] = entry[1]
        return found


def index_entity(
    entity: MarketEntity,
    today: date | None = None,
    projection: str | None = None,
    policy: PublicityPolicy | None = None,
    built: BuiltDocuments | None = None,
) -> IndexedEntity:
    """The documents of one entity: those `projection` writes, or all of them (None). Its flags
    are evaluated as of `today` (default: the last business date the entity knows; the
    projection passes the system's date); its penalties' windows under `policy`. `built`: the
    sharing and public documents already built for this version (one policy for all of them)."""
    built = built or BuiltDocuments(1)
    sharing = built.sharing(entity, policy)
    if projection == "sharing":
        return IndexedEntity(uscc=entity.uscc, version=entity.version, sharing=sharing)
    public = built.public(entity, policy)
    if projection == "records":
        return IndexedEntity(uscc=entity.uscc, version=entity.version, rows=record_rows(public))
    as_of = today or entity.last_occurred_on
    return IndexedEntity(
        uscc=entity.uscc,
        version=entity.version,
        public=public,
        sharing=sharing if projection is None else {},
        rows=record_rows(public) if projection is None else [],
        fields=search_fields(public),
        filters=filter_values(public),
        flags=tuple(flags(public, as_of)),
        flags_as_of=as_of.isoformat(),
        penalty_windows=tuple(penalty_windows(public)),
    )


class EntityProjection(Follower):
    """Keeps one projection's documents (`name`: entities, records or sharing) of every entity
    current. Projections that share a `registry` (and so its aggregate cache) should share a
    `read_lock`: a document is built from the cached aggregate without copying it, and another
    projection's read may fast-forward that aggregate meanwhile."""

    def __init__(
        self,
        registry: Registry,
        index: SearchIndex,
        batch_size: int = 500,
        clock: Clock | None = None,
        *,
        name: str = "entities",
        read_lock: threading.Lock | None = None,
        built: BuiltDocuments | None = None,
    ) -> None:
        self.name = check_projection(name)
        self.registry = registry
        self.index = index
        self.batch_size = batch_size
        self.clock = clock
        self.read_lock = read_lock or threading.Lock()
        #: documents built for the aggregates of this registry (shared, like `read_lock`)
        self.built = built or BuiltDocuments(batch_size * 4)
        super().__init__()

    def position(self) -> int:
        return self.index.position(self.name) or 0

    def head(self) -> int:
        head: int | None = self.registry.recorder.max_notification_id()
        return head or 0

    def run_once(self) -> int:
        """Process one batch; returns the number of notifications consumed."""
        return self._project(self.position())[0]

    def replay_after(self, position: int) -> int:
        """Re-project every notification after `position` up to the head (idempotent: documents
        never go backwards, nor does the recorded position); returns how many were read."""
        total = 0
        while True:
            count, position = self._project(position)
            if not count:
                return total
            total += count

    def _project(self, after: int) -> tuple[int, int]:
        """One batch after notification `after`: (notifications read, the last one's id)."""
        self.registry.check_erasures()  # a person erased meanwhile: no cached aggregate holds them
        notifications = self.registry.recorder.select_notifications(start=after + 1, limit=self.batch_size)
        if not notifications:
            return 0, after
        last = notifications[-1].id
        self.index.write(self.name, self.documents(_touched(notifications), notifications), position=last)
        return len(notifications), last

    def documents(
        self, entity_ids: Sequence[UUID], notifications: Sequence[Notification] = ()
    ) -> list[IndexedEntity]:
        """The documents of these entities, flags as of the system's date: each entity at least as
        new as the `notifications` it was touched by (its current state when they are not given)."""
        today = self.clock.today() if self.clock is not None else None
        events = _entity_events(notifications)
        read = self._read_uncached(entity_ids)
        with self.read_lock:
            self.built.forget_at(self.registry.erasure_epoch)
            return [
                index_entity(
                    self._load(entity_id, events.get(entity_id, ()), read.get(entity_id)),
                    today,
                    self.name,
                    self.registry.publicity,
                    self.built,
                )
                for entity_id in entity_ids
            ]

    def _read_uncached(self, entity_ids: Sequence[UUID]) -> dict[UUID, Any]:
        """The entities not in the cache now, read from the store together (`Registry.read_latest`,
        two queries) outside `read_lock`, so the other projections go on meanwhile: they are new
        objects no one else holds. Empty when the registry reads one by one (no loader)."""
        cache: Any = self.registry.repository.cache
        held = cache.cache if cache is not None else {}  # a hint: `_load` decides under the lock
        wanted = [i for i in entity_ids if i not in held]
        return (self.registry.read_latest(wanted) or {}) if wanted else {}

    def _load(
        self, entity_id: UUID, announced: Sequence[Notification] = (), read: Any = None
    ) -> MarketEntity:
        """The entity, read-only (documents are built from the cached aggregate without copying).

        A cached aggregate that these notifications move on by whole versions takes their events
        in memory — the batch already holds what a fast-forward would read — instead of a query;
        one already at or past their last version is used as it is (documents never go backwards).
        An entity `read` from the store since the notifications were (see `_read_uncached`) is used
        and cached unless the cache meanwhile holds it at least as new. Anything else (not cached,
        a gap) is read from the store, fast-forwarded as before. Every read of this registry's
        cached aggregates goes through `read_lock` (the three index projections share it); nothing
        else reads through this application object."""
        cache: Any = self.registry.repository.cache
        if isinstance(read, MarketEntity):
            try:
                cached: Any = cache.get(entity_id) if cache is not None else None
            except KeyError:
                cached = None
            if isinstance(cached, MarketEntity) and cached.version >= read.version:
                return cached
            if cache is not None:
                cache.put(entity_id, read)
            return read
        if announced and cache is not None:
            try:
                cached = cache.get(entity_id)
            except KeyError:
                cached = None
            if isinstance(cached, MarketEntity):
                newer = [n for n in announced if n.originator_version > cached.version]
                if not newer:
                    return cached
                if [n.originator_version for n in newer] == list(
                    range(cached.version + 1, cached.version + 1 + len(newer))
                ):
                    for n in newer:
                        event: Any = self.registry.mapper.to_domain_event(n)
                        event.mutate(cached)
                    return cached
        entity: Any = self.registry.repository.get(entity_id, deepcopy_from_cache=False)
        assert isinstance(entity, MarketEntity)
        return entity


def index_projections(
    registry: Registry, index: SearchIndex, batch_size: int = 500, clock: Clock | None = None
) -> dict[str, EntityProjection]:
    """The three projections of `index`, reading through one registry (one aggregate cache)."""
    lock, built = threading.Lock(), BuiltDocuments(batch_size * 4)
    return {
        name: EntityProjection(registry, index, batch_size, clock, name=name, read_lock=lock, built=built)
        for name in PROJECTIONS
    }


def _entity_events(notifications: Sequence[Notification]) -> dict[UUID, list[Notification]]:
    """The market-entity notifications of a batch by entity, in version order."""
    by_entity: dict[UUID, list[Notification]] = {}
    for n in notifications:
        if n.topic.startswith(ENTITY_TOPIC_PREFIX):
            by_entity.setdefault(UUID(str(n.originator_id)), []).append(n)
    for events in by_entity.values():
        events.sort(key=lambda n: n.originator_version)
    return by_entity


def _touched(notifications: Sequence[Notification]) -> list[UUID]:
    """The entities a batch of notifications names, once each, in first-seen order."""
    touched: dict[UUID, None] = {}
    for n in notifications:
        if n.topic.startswith(ENTITY_TOPIC_PREFIX):
            touched[UUID(str(n.originator_id))] = None
    return list(touched)
