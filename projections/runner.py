"""The projection runner: follows the event store's notification log into the search index.

Each pass reads a batch of notifications after the index's recorded position, reloads every
entity they touch (once per batch, at its latest version), and writes the entities' documents
together with the batch's last notification id. Notifications it ignores still move the
position on. Writes are version-guarded, so a replay or a crash never leaves a document stale.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from adapters.search_index.base import IndexedEntity, SearchIndex
from domain.clock import Clock
from domain.entity import MarketEntity
from domain.registry import Registry
from projections.documents import (
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


def index_entity(entity: MarketEntity, today: date | None = None) -> IndexedEntity:
    """The documents of one entity. Its flags are evaluated as of `today` (default: the last
    business date the entity knows; the projection passes the system's date)."""
    sharing = sharing_document(entity)
    public = public_document(sharing)
    as_of = today or entity.last_occurred_on
    return IndexedEntity(
        uscc=entity.uscc,
        version=entity.version,
        public=public,
        sharing=sharing,
        rows=record_rows(public),
        fields=search_fields(public),
        flags=tuple(flags(public, as_of)),
        flags_as_of=as_of.isoformat(),
        penalty_windows=tuple(penalty_windows(public)),
    )


class EntityProjection(Follower):
    """Keeps the public and sharing documents of every entity current."""

    name = "entities"

    def __init__(
        self, registry: Registry, index: SearchIndex, batch_size: int = 500, clock: Clock | None = None
    ) -> None:
        self.registry = registry
        self.index = index
        self.batch_size = batch_size
        self.clock = clock
        super().__init__()

    def position(self) -> int:
        return self.index.position(self.name) or 0

    def head(self) -> int:
        head: int | None = self.registry.recorder.max_notification_id()
        return head or 0

    def lag(self) -> int:
        return max(0, self.head() - self.position())

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
        notifications = self.registry.recorder.select_notifications(start=after + 1, limit=self.batch_size)
        if not notifications:
            return 0, after
        last = notifications[-1].id
        self.index.write(self.name, self.documents(_touched(notifications)), position=last)
        return len(notifications), last

    def documents(self, entity_ids: Sequence[UUID]) -> list[IndexedEntity]:
        """The current documents of these entities, flags as of the system's date."""
        today = self.clock.today() if self.clock is not None else None
        return [index_entity(self._load(entity_id), today) for entity_id in entity_ids]

    def _load(self, entity_id: UUID) -> MarketEntity:
        # read-only: documents are built from the cached aggregate without copying it
        entity: Any = self.registry.repository.get(entity_id, deepcopy_from_cache=False)
        assert isinstance(entity, MarketEntity)
        return entity


def _touched(notifications: Sequence[Notification]) -> list[UUID]:
    """The entities a batch of notifications names, once each, in first-seen order."""
    touched: dict[UUID, None] = {}
    for n in notifications:
        if n.topic.startswith(ENTITY_TOPIC_PREFIX):
            touched[UUID(str(n.originator_id))] = None
    return list(touched)
