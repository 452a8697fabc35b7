"""The casework projection: follows the notification log into the casework view.

Each pass reads a batch of notifications after the view's position, reads every entity the batch
touched at its latest version from the store together (two queries for the batch:
`Registry.read_many`), and replaces that entity's rows — its status and registering department,
the annual reports it filed, its listings, its applications and objections — with the batch's last
notification id, in one transaction. The rows hold no natural person's data, so an erasure leaves
them as they are. Other aggregates' notifications only move the position on.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from adapters.casework_view import ApplicationRow, CaseworkView, EntityRows, ListingRow
from domain.entity import MarketEntity
from domain.registry import Registry
from projections.following import Follower

log = logging.getLogger(__name__)

ENTITY_TOPIC_PREFIX = f"{MarketEntity.__module__}:{MarketEntity.__qualname__}."


def _listings(entity: MarketEntity) -> list[ListingRow]:
    rows = []
    for name, listings in (("abnormal", entity.abnormal_listings), ("serious", entity.serious_listings)):
        for x in listings.values():
            removed, warning = x.get("removed"), x.get("warning")
            rows.append(
                ListingRow(
                    list=name,
                    decision_no=x["decision_no"],
                    listed_on=x["listed_on"],
                    department=x.get("department"),
                    cause=x.get("cause"),
                    year=x.get("year"),
                    removed_on=removed["on"] if removed else None,
                    warned_on=warning["on"] if warning else None,
                    escalation_on=warning["escalation_on"] if warning else None,
                )
            )
    return rows


def _applications(entity: MarketEntity) -> list[ApplicationRow]:
    rows = []
    for a in entity.applications.values():
        decision = a.get("decision")
        rows.append(
            ApplicationRow(
                number=a["application_no"],
                kind=a["type"],
                target=a["target"],
                record_no=a["decision_no"],
                department=a["department"],
                status=a["status"],
                filed_on=a["filed_on"],
                due_on=str(a["due_on"]) if a.get("due_on") else None,
                due_warning=a.get("due_warning"),
                decided_on=decision["on"] if decision else None,
            )
        )
    for o in entity.objections.values():
        if "target" not in o:
            continue
        resolution = o.get("resolution")
        rows.append(
            ApplicationRow(
                number=o["objection_no"],
                kind="objection",
                target=o["target"],
                record_no=o["record_no"],
                department=o.get("department") or "",
                status="resolved" if resolution else "pending",
                filed_on=str(o["occurred_on"]),
                due_on=str(o["due_on"]) if o.get("due_on") else None,
                due_warning=o.get("due_warning"),
                decided_on=str(resolution["occurred_on"]) if resolution else None,
            )
        )
    return rows


def entity_rows(entity: MarketEntity) -> EntityRows:
    """What the casework view holds about one entity."""
    registration: dict[str, Any] = entity.registration
    return EntityRows(
        uscc=entity.uscc,
        name=entity.name,
        department=str(entity.registered_by.get("department") or ""),
        authority=registration.get("registration_authority"),
        status=entity.status,
        established_year=int(str(registration["established_on"])[:4]),
        reports={int(y): r["submitted_on"] for y, r in entity.annual_reports.items()},
        listings=tuple(_listings(entity)),
        applications=tuple(_applications(entity)),
    )


class CaseworkProjection(Follower):
    """Keeps the casework view current (its own application object: its reads touch no other
    follower's cache)."""

    name = "casework"

    def __init__(self, registry: Registry, view: CaseworkView, batch_size: int = 500) -> None:
        self.registry = registry
        self.view = view
        self.batch_size = batch_size
        super().__init__()

    @property
    def source(self) -> str:
        return self.registry.name

    def position(self) -> int:
        return self.view.max_tracking_id(self.source) or 0

    def head(self) -> int:
        head: int | None = self.registry.recorder.max_notification_id()
        return head or 0

    def run_once(self) -> int:
        start = self.position() + 1
        notifications = self.registry.recorder.select_notifications(start=start, limit=self.batch_size)
        if not notifications:
            return 0
        touched: dict[UUID, None] = {}
        for n in notifications:
            if n.topic.startswith(ENTITY_TOPIC_PREFIX):
                touched[UUID(str(n.originator_id))] = None
        # every touched entity at its latest version, read together (not one `repository.get` each)
        read = self.registry.read_many(touched)
        entities = []
        for entity_id in touched:
            entity = read.get(entity_id)
            if not isinstance(entity, MarketEntity):
                raise LookupError(f"entity {entity_id} is not in the event store")  # as `repository.get`
            entities.append(entity_rows(entity))
        self.view.replace(entities, Tracking(self.source, notifications[-1].id))
        return len(notifications)
