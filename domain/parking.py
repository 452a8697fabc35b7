"""Parking: publications that arrived before their entity's registration, one lot per USCC.

A lot is released (its publications applied in arrival order) in the same transaction as the
registration that names its USCC.

The lot's stored topics keep the names they were first stored under (`domain.registry:...`,
where this class used to live), as explicit `TOPIC`s: events stored before the move keep
loading, and new events are stored under the same names, so a reader that selects
notifications by topic finds both.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.entity import NAMESPACE

_TOPIC = "domain.registry:ParkedPublications"


class ParkedPublications(Aggregate):
    """Publications that arrived before their entity's registration, in arrival order."""

    TOPIC = _TOPIC

    class Created(Aggregate.Created):
        TOPIC = f"{_TOPIC}.Created"

    class Opened(Aggregate.Created):
        TOPIC = f"{_TOPIC}.Opened"
        uscc: str

    def __init__(self, uscc: str) -> None:
        self.uscc = uscc
        self.waiting: list[dict[str, Any]] = []

    @staticmethod
    def id_for(uscc: str) -> UUID:
        return uuid5(NAMESPACE, f"parked:{uscc}")

    @classmethod
    def open(cls, uscc: str) -> ParkedPublications:
        return cls._create(cls.Opened, id=cls.id_for(uscc), uscc=uscc)

    def holds(self, publication_id: str) -> bool:
        return any(w["publication_id"] == publication_id for w in self.waiting)

    class Parked(Aggregate.Event):
        TOPIC = f"{_TOPIC}.Parked"
        envelope: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.waiting.append(self.envelope)

    class Released(Aggregate.Event):
        TOPIC = f"{_TOPIC}.Released"
        publication_ids: list[str]

        def apply(self, aggregate: Any) -> None:
            aggregate.waiting = [
                w for w in aggregate.waiting if w["publication_id"] not in self.publication_ids
            ]

    class Expired(Aggregate.Event):
        """Publications that waited longer than the platform allows: rejected as `parked_expired`
        (their rejection is recorded in a `RejectionLog`, and they are on the DLQ)."""

        TOPIC = f"{_TOPIC}.Expired"
        publication_ids: list[str]

        def apply(self, aggregate: Any) -> None:
            aggregate.waiting = [
                w for w in aggregate.waiting if w["publication_id"] not in self.publication_ids
            ]

    def park(self, envelope: dict[str, Any]) -> None:
        self.trigger_event(self.Parked, envelope=envelope)

    def release(self, publication_ids: list[str]) -> None:
        self.trigger_event(self.Released, publication_ids=publication_ids)

    def expire(self, publication_ids: list[str]) -> None:
        self.trigger_event(self.Expired, publication_ids=publication_ids)
