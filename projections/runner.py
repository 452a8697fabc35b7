"""The projection runner: follows the event store's notification log into the search index.

Each pass reads a batch of notifications after the index's recorded position, reloads every
entity they touch (once per batch, at its latest version), and writes the entities' documents
together with the batch's last notification id. Notifications it ignores still move the
position on. Writes are version-guarded, so a replay or a crash never leaves a document stale.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from uuid import UUID

from adapters.search_index.base import IndexedEntity, SearchIndex
from domain.entity import MarketEntity
from domain.registry import Registry
from projections.documents import public_document, record_rows, search_fields, sharing_document

log = logging.getLogger(__name__)

ENTITY_TOPIC_PREFIX = f"{MarketEntity.__module__}:{MarketEntity.__qualname__}."


def index_entity(entity: MarketEntity) -> IndexedEntity:
    sharing = sharing_document(entity)
    public = public_document(sharing)
    return IndexedEntity(
        uscc=entity.uscc,
        version=entity.version,
        public=public,
        sharing=sharing,
        rows=record_rows(public),
        fields=search_fields(public),
    )


class EntityProjection:
    """Keeps the public and sharing documents of every entity current."""

    name = "entities"

    def __init__(self, registry: Registry, index: SearchIndex, batch_size: int = 500) -> None:
        self.registry = registry
        self.index = index
        self.batch_size = batch_size
        self._stop = threading.Event()

    def position(self) -> int:
        return self.index.position(self.name) or 0

    def head(self) -> int:
        head: int | None = self.registry.recorder.max_notification_id()
        return head or 0

    def lag(self) -> int:
        return max(0, self.head() - self.position())

    def run_once(self) -> int:
        """Process one batch; returns the number of notifications consumed."""
        start = self.position() + 1
        notifications = self.registry.recorder.select_notifications(start=start, limit=self.batch_size)
        if not notifications:
            return 0
        touched: dict[UUID, None] = {}
        for n in notifications:
            if n.topic.startswith(ENTITY_TOPIC_PREFIX):
                touched[UUID(str(n.originator_id))] = None
        docs = [index_entity(self._load(entity_id)) for entity_id in touched]
        self.index.write(self.name, docs, position=notifications[-1].id)
        return len(notifications)

    def _load(self, entity_id: UUID) -> MarketEntity:
        entity: Any = self.registry.repository.get(entity_id)
        assert isinstance(entity, MarketEntity)
        return entity

    def catch_up(self) -> int:
        total = 0
        while count := self.run_once():
            total += count
        return total

    def run_forever(self, idle_s: float = 0.2) -> None:
        while not self._stop.is_set():
            try:
                if self.run_once() == 0:
                    self._stop.wait(idle_s)
            except Exception:  # keep following; the error is logged and retried
                log.exception("projection %s failed; retrying", self.name)
                self._stop.wait(2.0)

    def stop(self) -> None:
        self._stop.set()
