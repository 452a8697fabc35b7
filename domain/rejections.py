"""Rejections: the publications one source's batches rejected, recorded with the batch.

The log's stored topics keep the names they were first stored under (`domain.registry:...`,
where this class used to live), as explicit `TOPIC`s: events and snapshots stored before the
move keep loading, and new ones are stored under the same names.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.entity import NAMESPACE
from domain.intake import Outcome

_TOPIC = "domain.registry:RejectionLog"


class RejectionLog(Aggregate):
    """The publications one source's batches rejected, in the order they were decided.

    One log per source (`log:<topic>:<partition>`, or `direct` for calls without a position):
    a source is read by one worker at a time, so its log is never written concurrently. The
    state is only a count (snapshots stay small); the events are what the status view follows.
    """

    TOPIC = _TOPIC

    class Created(Aggregate.Created):
        TOPIC = f"{_TOPIC}.Created"

    class Opened(Aggregate.Created):
        TOPIC = f"{_TOPIC}.Opened"
        source: str

    def __init__(self, source: str) -> None:
        self.source = source
        self.rejected = 0

    @staticmethod
    def id_for(source: str) -> UUID:
        return uuid5(NAMESPACE, f"rejections:{source}")

    @classmethod
    def open(cls, source: str) -> RejectionLog:
        return cls._create(cls.Opened, id=cls.id_for(source), source=source)

    class PublicationRejected(Aggregate.Event):
        """`position` is where the message that led to the decision was read (when known)."""

        TOPIC = f"{_TOPIC}.PublicationRejected"
        publication_id: str | None
        uscc: str | None
        kind: str | None
        department: str | None
        code: str
        message: str
        position: int | None

        def apply(self, aggregate: Any) -> None:
            aggregate.rejected += 1

    def reject(self, outcome: Outcome, position: int | None) -> None:
        self.trigger_event(
            self.PublicationRejected,
            publication_id=outcome.publication_id,
            uscc=outcome.uscc,
            kind=outcome.kind,
            department=outcome.department,
            code=outcome.code or "rejected",
            message=outcome.message or "",
            position=position,
        )
