"""The change feed: announces each change to an entity's public or sharing document on the
publication log (topic `{prefix}.changes`, key = USCC), for agencies that follow the register.

Each pass reads a batch of notifications after the feed's recorded position. For every
MarketEntity event it compares the entity's sharing document (agency view) and public document
before and after the event, and announces the event if either changed, naming the top-level keys
that differ. The entity is loaded once per batch, at the version just before the batch's first
event for it (a versioned read: never the repository's cached object), then moved on event by
event with the stored domain events. Events that change neither document, and notifications of
other aggregates (parked publications, rejection logs), move the position on without a message.

Delivery is at least once: the batch's messages are produced and flushed, and only then is the
batch's last notification id recorded (an eventsourcing tracking recorder). A crash between the
two announces the batch again with the same `position` values; consumers dedupe on `position`
(unique per change). One entity's changes share a key, so they keep their order in a partition.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from hashlib import blake2b
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from eventsourcing.persistence import IntegrityError, Notification, Tracking, TrackingRecorder
from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.publication_log.base import Headers, PublicationLog
from domain.entity import MarketEntity
from domain.publicity import PublicityPolicy
from domain.registry import Registry
from projections.documents import public_document, sharing_document
from projections.following import Follower
from projections.runner import ENTITY_TOPIC_PREFIX

logger = logging.getLogger(__name__)

SCHEMA_ID: Literal["gongshi.change/1"] = "gongshi.change/1"
HEADERS: Headers = (("content-type", b"application/json"),)
#: Keys every event changes (the aggregate version): left out of the comparison, the message
#: carries `entity_version` instead.
IGNORED_KEYS = frozenset({"version"})
VIEWS = ("public", "sharing")

#: The class names of the events a change can come from (the message's `event`).
EVENT_NAMES: tuple[str, ...] = tuple(
    name
    for name, value in vars(MarketEntity).items()
    if isinstance(value, type)
    and issubclass(value, (MarketEntity.Registered, MarketEntity.Published))
    and value is not MarketEntity.Published
)


class ChangedKeys(BaseModel):
    """The top-level keys of each document that differ after the event (empty: unchanged)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    public: list[str] = Field(
        description="keys of the public document (`GET /api/v1/entities/{uscc}`) that changed"
    )
    sharing: list[str] = Field(description="keys of the agency (sharing) document that changed")


class ChangeMessage(BaseModel):
    """One change to an entity's documents: the value of a message on `{prefix}.changes`."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="ChangeMessage", json_schema_serialization_defaults_required=True
    )

    schema_: Annotated[Literal["gongshi.change/1"], Field(alias="schema")] = SCHEMA_ID
    uscc: Annotated[
        str,
        Field(
            pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$",
            description="统一社会信用代码 of the entity (also the message key)",
            examples=["91110108MA01K3P20A"],
        ),
    ]
    position: Annotated[
        int,
        Field(
            ge=1,
            description="the event's notification id in the event store: unique per change and "
            "increasing; consumers dedupe on it (delivery is at least once)",
        ),
    ]
    entity_version: Annotated[int, Field(ge=1, description="the entity's version after the event")]
    event: Annotated[
        str,
        Field(description="the event's class name", json_schema_extra={"enum": list(EVENT_NAMES)}),
    ]
    department: Annotated[str, Field(description="the department that published it")]
    publication_id: Annotated[str, Field(description="the department's own record id")]
    occurred_on: Annotated[date, Field(description="the business date it happened")]
    changed: ChangedKeys
    timestamp: Annotated[datetime, Field(description="when the change was announced (ISO-8601, UTC)")]

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str) -> str:
        if value not in EVENT_NAMES:
            raise ValueError(f"unknown event {value!r}")
        return value

    def encode(self) -> bytes:
        """The message value: UTF-8 JSON, Chinese kept as is."""
        body = self.model_dump(mode="json", by_alias=True)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def change_json_schema() -> dict[str, Any]:
    """JSON Schema of the change message (the AsyncAPI document's payload)."""
    return ChangeMessage.model_json_schema(by_alias=True, mode="serialization")


Fingerprint = dict[str, dict[str, bytes]]
#: Entities whose state the feed keeps between batches (the next event for one of them moves it
#: on without reading the store again).
FOLLOWED_MAX = 2_000


def documents(entity: MarketEntity, policy: PublicityPolicy | None = None) -> dict[str, dict[str, Any]]:
    """The views a change is announced for: the public and the sharing (agency) document."""
    sharing = sharing_document(entity, policy)
    return {"public": public_document(sharing), "sharing": sharing}


def fingerprint(docs: dict[str, dict[str, Any]] | None) -> Fingerprint:
    """Each view's top-level keys with a 128-bit digest of their canonical JSON (taken at once:
    the documents share objects with the aggregate, which later events go on mutating; a digest
    keeps a followed entity's fingerprint small). None: no entity yet."""
    if docs is None:
        return {view: {} for view in VIEWS}
    return {
        view: {
            key: blake2b(
                orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str), digest_size=16
            ).digest()
            for key, value in docs[view].items()
            if key not in IGNORED_KEYS
        }
        for view in VIEWS
    }


def changed_keys(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """Keys whose value differs, or that exist on one side only, in the after-document's order."""
    keys = [*after, *(k for k in before if k not in after)]
    return [k for k in keys if before.get(k) != after.get(k)]


@dataclass
class _Followed:
    """One entity the feed follows: its state after the last event read (`version`: 0 before
    its registration) and the fingerprint of its views."""

    entity: MarketEntity | None
    version: int
    views: Fingerprint = field(default_factory=dict)


class ChangeFeed(Follower):
    """Follows the notification log and announces document changes on `topic`.

    Give it its own `Registry` (its versioned reads bypass, and so never disturb, the aggregate
    cache the other projections share); `close()` closes that registry.
    """

    name = "changes"

    def __init__(
        self,
        registry: Registry,
        log: PublicationLog,
        topic: str,
        tracking: TrackingRecorder,
        *,
        partitions: int = 1,
        batch_size: int = 500,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.registry = registry
        self.log = log
        self.topic = topic
        self.tracking = tracking
        self.partitions = partitions
        self.batch_size = batch_size
        self.now = now or (lambda: datetime.now(UTC))
        self._topic_ready = False
        self._followed: dict[UUID, _Followed] = {}
        super().__init__()

    def position(self) -> int:
        position: int | None = self.tracking.max_tracking_id(self.name)
        return position or 0

    def head(self) -> int:
        head: int | None = self.registry.recorder.max_notification_id()
        return head or 0

    def run_once(self) -> int:
        """Announce one batch; returns the number of notifications consumed (0 = caught up)."""
        notifications = self.registry.recorder.select_notifications(
            start=self.position() + 1, limit=self.batch_size
        )
        if not notifications:
            return 0
        messages = self.changes(notifications)
        if messages:
            self._ensure_topic()
            for message in messages:
                self.log.produce(self.topic, message.encode(), key=message.uscc, headers=HEADERS)
            self.log.flush()  # every message stored before the position moves on
        last = notifications[-1].id
        try:
            self.tracking.insert_tracking(Tracking(notification_id=last, application_name=self.name))
        except IntegrityError:  # another runner of the feed recorded it first: nothing is lost
            logger.warning("change feed: position %s was already recorded", last)
        return len(notifications)

    def changes(self, notifications: Sequence[Notification]) -> list[ChangeMessage]:
        """The messages a batch of notifications announces, in notification order."""
        followed = self._followed
        messages: list[ChangeMessage] = []
        for n in notifications:
            if not n.topic.startswith(ENTITY_TOPIC_PREFIX):
                continue
            entity_id = UUID(str(n.originator_id))
            current = followed.pop(entity_id, None)
            if current is None or current.version != n.originator_version - 1:
                # not followed yet, or moved on by a batch that was not announced: from the store
                entity = self._load(entity_id, n.originator_version - 1)
                current = _Followed(entity, n.originator_version - 1, self._fingerprint(entity))
            followed[entity_id] = current  # most recently followed last
            if len(followed) > FOLLOWED_MAX:
                del followed[next(iter(followed))]
            event: Any = self.registry.mapper.to_domain_event(n)
            current.entity = event.mutate(current.entity)
            current.version = n.originator_version
            after = self._fingerprint(current.entity)
            changed = {view: changed_keys(current.views[view], after[view]) for view in VIEWS}
            current.views = after
            if any(changed.values()):
                assert current.entity is not None
                messages.append(self._message(n, event, current.entity, changed))
        return messages

    def documents(self, entity: MarketEntity) -> dict[str, dict[str, Any]]:
        """The documents compared before and after each event, by view (`public`, `sharing`)."""
        return documents(entity, self.registry.publicity)

    def close(self) -> None:
        self.registry.close()

    def _fingerprint(self, entity: MarketEntity | None) -> Fingerprint:
        return fingerprint(None if entity is None else self.documents(entity))

    def _load(self, entity_id: UUID, version: int) -> MarketEntity | None:
        """The entity at `version` (None before its registration): rebuilt from the store, so
        the feed may move it on without touching a cached aggregate."""
        if version < 1:
            return None
        entity: Any = self.registry.repository.get(entity_id, version=version)
        assert isinstance(entity, MarketEntity)
        return entity

    def _message(
        self, n: Notification, event: Any, entity: MarketEntity, changed: dict[str, list[str]]
    ) -> ChangeMessage:
        return ChangeMessage(
            uscc=entity.uscc,
            position=n.id,
            entity_version=n.originator_version,
            event=type(event).__name__,
            department=event.department,
            publication_id=event.publication_id,
            occurred_on=event.occurred_on,
            changed=ChangedKeys(public=changed["public"], sharing=changed["sharing"]),
            timestamp=self.now().astimezone(UTC),
        )

    def _ensure_topic(self) -> None:
        if not self._topic_ready:
            self.log.ensure_topic(self.topic, self.partitions)
            self._topic_ready = True


__all__ = ["EVENT_NAMES", "SCHEMA_ID", "ChangeFeed", "ChangeMessage", "ChangedKeys", "change_json_schema"]
