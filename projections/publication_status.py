"""The publication status projection: follows the notification log into the status view.

Each pass reads a batch of notifications after the view's recorded position, turns the ones that
decide a publication into status rows and writes them with the batch's last notification id in
one transaction (the view is a tracking recorder). Notifications it ignores still move the
position on. What decides a publication:

- a MarketEntity event (every one carries `publication_id`, `Registered` too) → applied;
- `ParkedPublications.Parked` → parked (until the registration applies it);
- `RejectionLog.PublicationRejected` → rejected, with the reason code and message
  (rejections of messages too broken to name a publication are skipped).
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from adapters.status_view import StatusRow, StatusView
from domain.entity import MarketEntity
from domain.kinds import PUBLICATION_KINDS
from domain.parking import ParkedPublications
from domain.registry import Registry
from domain.rejections import RejectionLog
from projections.following import Follower

log = logging.getLogger(__name__)

ENTITY_TOPIC_PREFIX = f"{MarketEntity.__module__}:{MarketEntity.__qualname__}."
PARKED_TOPIC = get_topic(ParkedPublications.Parked)
REJECTED_TOPIC = get_topic(RejectionLog.PublicationRejected)

#: The publication kind each MarketEntity event records (objections come from no department).
EVENT_KINDS: dict[type[Any], str] = PUBLICATION_KINDS.event_kinds()

_USCC_CACHE_LIMIT = 100_000


class PublicationStatusProjection(Follower):
    """Keeps `publication_status` current: applied, parked or rejected, per publication id."""

    name = "publication_status"

    def __init__(self, registry: Registry, view: StatusView, batch_size: int = 500) -> None:
        self.registry = registry
        self.view = view
        self.batch_size = batch_size
        super().__init__()
        self._uscc: dict[UUID, str] = {}

    @property
    def source(self) -> str:
        """The tracking name of the log this view follows (the application's name)."""
        return self.registry.name

    def position(self) -> int:
        return self.view.max_tracking_id(self.source) or 0

    def head(self) -> int:
        head: int | None = self.registry.recorder.max_notification_id()
        return head or 0

    def run_once(self) -> int:
        """Process one batch; returns the number of notifications consumed."""
        start = self.position() + 1
        notifications = self.registry.recorder.select_notifications(start=start, limit=self.batch_size)
        if not notifications:
            return 0
        rows: list[StatusRow] = []
        for n in notifications:
            if n.topic.startswith(ENTITY_TOPIC_PREFIX) or n.topic in (PARKED_TOPIC, REJECTED_TOPIC):
                row = self.status_row(self.registry.mapper.to_domain_event(n), n.id)
                if row is not None:
                    rows.append(row)
        self.view.upsert(rows, Tracking(self.source, notifications[-1].id))
        return len(notifications)

    def status_row(self, event: Any, position: int) -> StatusRow | None:
        """What `event` says about the status of a publication (None: nothing)."""
        if isinstance(event, (MarketEntity.Registered, MarketEntity.Published)):
            return StatusRow(
                publication_id=event.publication_id,
                status="applied",
                position=position,
                uscc=self._uscc_of(event),
                kind=EVENT_KINDS.get(type(event)),
                department=event.department,
            )
        if isinstance(event, ParkedPublications.Parked):
            envelope: dict[str, Any] = event.envelope
            return StatusRow(
                publication_id=str(envelope["publication_id"]),
                status="parked",
                position=position,
                uscc=envelope.get("uscc"),
                kind=envelope.get("kind"),
                department=envelope.get("department"),
                message="该主体尚未登记，已暂存，登记后自动生效",
            )
        if isinstance(event, RejectionLog.PublicationRejected):
            if not event.publication_id:
                return None
            return StatusRow(
                publication_id=event.publication_id,
                status="rejected",
                position=position,
                uscc=event.uscc,
                kind=event.kind,
                department=event.department,
                code=event.code,
                message=event.message,
            )
        return None

    def _uscc_of(self, event: MarketEntity.Registered | MarketEntity.Published) -> str:
        """The entity's USCC: on `Registered` itself; otherwise remembered, or read once."""
        entity_id: UUID = event.originator_id
        if isinstance(event, MarketEntity.Registered):
            uscc: str = event.uscc
        elif entity_id in self._uscc:
            return self._uscc[entity_id]
        else:
            entity: Any = self.registry.repository.get(entity_id)
            uscc = entity.uscc
        if len(self._uscc) >= _USCC_CACHE_LIMIT:
            self._uscc.clear()
        self._uscc[entity_id] = uscc
        return uscc
