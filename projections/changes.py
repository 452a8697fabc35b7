"""The change feed: every change to an entity's public or sharing document, kept in the change
table beside the event store (`adapters.change_store`, for the agencies' HTTP feed and
watchlists) and announced on the publication log (topic `{prefix}.changes`, key = USCC).

A change (`gongshi.change/2`) has a cause: an `event` (one MarketEntity event that changed either
document), or `publicity` (a penalty's publicity window began or ended with the date: the daily
publicity job announces those, `ChangeFeed.announce_publicity`). Each says what changed — the
top-level keys of each document (`changed`), and their new values: `public` (masked, as the
public reads them) and `sharing` (unmasked, the agency view) — the entity's flags before and
after, its district and type, and the record categories the change touches. Natural persons in
both parts are sealed (`adapters.change_store.base.seal_change`: identity number, phone and home
address encrypted under the person's key, as in the events) in the change table and on the
topic; the HTTP feeds, SSE and webhooks open them, and after `gongshi persons erase` they read
已删除. A batch's changes are sealed together, the persons' keys read in one query
(`seal_changes`); when a person was erased since the last batch, the feed forgets the entities it
follows (they hold personal data opened before the erasure, which must not be sealed again).

Each pass reads a batch of notifications after the feed's recorded position. For every
MarketEntity event it compares the entity's documents before and after the event. An entity the
feed does not follow yet is read once per batch, at the version just before the batch's first
event for it — every such entity of the batch read from the store together (`Registry.read_many`:
two queries, from the snapshot below that version; never the repository's cached object) — then
moved on event by event with the stored domain events. Events that change neither document, and
notifications of other aggregates (parked publications, rejection logs), move the position on
without a change.

Positions: the change table gives each change its `position` (one sequence for both causes,
increasing, never reused); `event_position` is the event's notification id. A batch is written
to the table (idempotent per event: written again, it keeps its positions), then produced and
flushed, and only then is the batch's last notification id recorded (an eventsourcing tracking
recorder). A crash between any two steps announces the batch again with the same positions;
consumers dedupe on `position`. One entity's changes share a key, so they keep their order in a
partition.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from hashlib import blake2b
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from eventsourcing.persistence import IntegrityError, Notification, Tracking, TrackingRecorder
from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.change_store.base import ChangeStore, NewChange, persons_of, seal_change, seal_changes
from adapters.publication_log.base import Headers, PublicationLog
from adapters.search_index.base import FlagChange
from domain.entity import MarketEntity
from domain.errors import EntityNotFound
from domain.kinds import PUBLICATION_KINDS
from domain.publicity import PublicityPolicy
from domain.registry import Registry
from projections.documents import flags, public_document, public_view, sharing_document
from projections.following import Follower
from projections.runner import ENTITY_TOPIC_PREFIX

logger = logging.getLogger(__name__)

SCHEMA_ID: Literal["gongshi.change/2"] = "gongshi.change/2"
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
    """One change to an entity's documents: the value of a message on `{prefix}.changes`, and a
    line of the agencies' feed (`GET /api/v1/agency/changes`)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="ChangeMessage", json_schema_serialization_defaults_required=True
    )

    schema_: Annotated[Literal["gongshi.change/2"], Field(alias="schema")] = SCHEMA_ID
    position: Annotated[
        int,
        Field(
            ge=1,
            description="the change's position in the change feed: unique, increasing, one sequence for "
            "every cause; consumers dedupe on it (delivery is at least once); `after=` of the HTTP feed",
        ),
    ]
    event_position: Annotated[
        int | None,
        Field(ge=1, description="the event's notification id in the event store (null: a publicity change)"),
    ]
    uscc: Annotated[
        str,
        Field(
            pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$",
            description="统一社会信用代码 of the entity (also the message key)",
            examples=["91110108MA01K3P20A"],
        ),
    ]
    entity_version: Annotated[int, Field(ge=1, description="the entity's version after the change")]
    cause: Annotated[
        Literal["event", "publicity"],
        Field(
            description="`event`: an event changed the record; `publicity`: a penalty's publicity window "
            "began or ended with the date (the daily publicity job)"
        ),
    ]
    event: Annotated[
        str | None,
        Field(
            description="the event's class name (null for a publicity change)",
            json_schema_extra={"enum": [*EVENT_NAMES, None]},
        ),
    ]
    department: Annotated[str | None, Field(description="the department that published it")]
    publication_id: Annotated[str | None, Field(description="the department's own record id")]
    occurred_on: Annotated[
        date, Field(description="the business date it happened (a publicity change: the date)")
    ]
    district: Annotated[
        str | None, Field(description="the entity's district: division code (digits 3–8 of the USCC)")
    ]
    district_name: Annotated[str | None, Field(description="the district's name")]
    entity_type: Annotated[str | None, Field(description="the entity's type (主体类型)")]
    flags_before: Annotated[list[str], Field(description="abnormal | serious | penalty, before the change")]
    flags_after: Annotated[list[str], Field(description="the flags after the change")]
    categories: Annotated[
        list[str],
        Field(description="the record categories the change touches (penalty, abnormal, licence …)"),
    ]
    changed: ChangedKeys
    public: Annotated[
        dict[str, Any],
        Field(
            description="each changed key of the public document with its new value, masked (null: removed)"
        ),
    ]
    sharing: Annotated[
        dict[str, Any],
        Field(
            description="each changed key of the agency (sharing) document with its new value, unmasked "
            "(on the topic, natural persons' id_number, phone and address are sealed in `_sealed_`; the "
            "HTTP feed opens them, 已删除 once the person was erased)"
        ),
    ]
    timestamp: Annotated[datetime, Field(description="when the change was announced (ISO-8601, UTC)")]

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str | None) -> str | None:
        if value is not None and value not in EVENT_NAMES:
            raise ValueError(f"unknown event {value!r}")
        return value

    def encode(self) -> bytes:
        """The message value: UTF-8 JSON, Chinese kept as is."""
        body = self.model_dump(mode="json", by_alias=True)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def public_part(self) -> dict[str, Any]:
        """The change as anyone may read it (open data): without the agency view."""
        body = self.model_dump(mode="json", by_alias=True)
        body.pop("sharing")
        body["changed"] = {"public": body["changed"]["public"]}
        return body


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
    its registration), the fingerprint of its views and its flags."""

    entity: MarketEntity | None
    version: int
    views: Fingerprint = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


#: Record categories by event class (the kind's category), for watchlists filtering on them.
_CATEGORY_OF_EVENT: dict[str, str] = {
    event.__name__: kind.category for kind in PUBLICATION_KINDS for event in kind.events if kind.category
}


def _json_ready(value: Any) -> Any:
    """A deep copy of a document's value, JSON-ready (the documents share objects with the
    aggregate, which later events go on mutating)."""
    return orjson.loads(orjson.dumps(value, default=str))


class ChangeFeed(Follower):
    """Follows the notification log, keeps each document change in the change table (`store`)
    and announces it on `topic`.

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
        store: ChangeStore,
        *,
        partitions: int = 1,
        batch_size: int = 500,
        now: Callable[[], datetime] | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.registry = registry
        self.log = log
        self.topic = topic
        self.tracking = tracking
        self.store = store
        self.partitions = partitions
        self.batch_size = batch_size
        self.now = now or (lambda: datetime.now(UTC))
        self.today = today or (lambda: self.now().date())
        self._topic_ready = False
        self._followed: dict[UUID, _Followed] = {}
        self._erasure_epoch: int | None = None
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
        self.publish(self.changes(notifications))
        last = notifications[-1].id
        try:
            self.tracking.insert_tracking(Tracking(notification_id=last, application_name=self.name))
        except IntegrityError:  # another runner of the feed recorded it first: nothing is lost
            logger.warning("change feed: position %s was already recorded", last)
        return len(notifications)

    def publish(self, pending: Sequence[NewChange]) -> list[ChangeMessage]:
        """Keep `pending` in the change table (their positions), then produce and flush them."""
        if not pending:
            return []
        positions = self.store.append(pending)
        messages = [
            ChangeMessage.model_validate({**c.message, "position": p})
            for c, p in zip(pending, positions, strict=True)
        ]
        self._ensure_topic()
        for message in messages:
            self.log.produce(self.topic, message.encode(), key=message.uscc, headers=HEADERS)
        self.log.flush()  # every message stored before the position moves on
        return messages

    def changes(self, notifications: Sequence[Notification]) -> list[NewChange]:
        """The changes a batch of notifications makes, in notification order (not yet kept)."""
        self._check_erasures()
        followed = self._followed
        out: list[tuple[NewChange, list[dict[str, str]]]] = []
        today = self.today()
        read = self._read(notifications)
        for n in notifications:
            if not n.topic.startswith(ENTITY_TOPIC_PREFIX):
                continue
            entity_id = UUID(str(n.originator_id))
            current = followed.pop(entity_id, None)
            if current is None or current.version != n.originator_version - 1:
                # not followed yet, or moved on by a batch that was not announced: from the store
                entity = read.pop(entity_id, None)
                if entity is None or entity.version != n.originator_version - 1:
                    entity = self._load(entity_id, n.originator_version - 1)
                docs = None if entity is None else self.documents(entity)
                current = _Followed(
                    entity, n.originator_version - 1, fingerprint(docs), self._flags(docs, today)
                )
            followed[entity_id] = current  # most recently followed last
            if len(followed) > FOLLOWED_MAX:
                del followed[next(iter(followed))]
            event: Any = self.registry.mapper.to_domain_event(n)
            current.entity = event.mutate(current.entity)
            current.version = n.originator_version
            assert current.entity is not None
            docs = self.documents(current.entity)
            after = fingerprint(docs)
            changed = {view: changed_keys(current.views[view], after[view]) for view in VIEWS}
            flags_before, current.views = current.flags, after
            current.flags = self._flags(docs, today)
            if any(changed.values()):
                change = self._change(n, event, current.entity, docs, changed, flags_before, current.flags)
                out.append((change, persons_of(docs["sharing"])))
        return self._sealed_all(out)

    def _read(self, notifications: Sequence[Notification]) -> dict[UUID, MarketEntity]:
        """Each entity of the batch the feed does not follow at the version before the batch's
        first event for it, at that version: read from the store together (two queries), not one
        versioned read each."""
        wanted: dict[UUID, int] = {}
        seen: set[UUID] = set()
        for n in notifications:
            if not n.topic.startswith(ENTITY_TOPIC_PREFIX):
                continue
            entity_id = UUID(str(n.originator_id))
            if entity_id in seen:
                continue
            seen.add(entity_id)
            before = n.originator_version - 1
            current = self._followed.get(entity_id)
            if before >= 1 and (current is None or current.version != before):
                wanted[entity_id] = before
        if not wanted:
            return {}
        read = self.registry.read_many(wanted)
        return {i: a for i, a in read.items() if isinstance(a, MarketEntity)}

    def _check_erasures(self) -> None:
        """When a person was erased since the last batch, forget the followed entities: they hold
        personal data opened before, which must not be sealed again under a new key."""
        vault = self.registry.vault
        if vault is None:
            return
        epoch = vault.epoch()
        if self._erasure_epoch is not None and epoch != self._erasure_epoch:
            self._followed.clear()
        self._erasure_epoch = epoch

    def _sealed_all(self, pending: Sequence[tuple[NewChange, list[dict[str, str]]]]) -> list[NewChange]:
        """The batch's changes with their persons sealed, the persons' keys read together."""
        vault = self.registry.vault
        if vault is None:
            return [change for change, _ in pending]
        sealed = seal_changes([(change.message, persons) for change, persons in pending], vault)
        return [replace(change, message=m) for (change, _), m in zip(pending, sealed, strict=True)]

    def announce_publicity(self, day: date, found: Sequence[FlagChange]) -> list[ChangeMessage]:
        """The publicity job's changes of `day`: each entity whose flags change with the date,
        with the public document's penalties as public on that date."""
        pending = []
        for f in found:
            view = public_view(f.public, day)
            pending.append(
                NewChange(
                    key=f"publicity:{f.uscc}:{day.isoformat()}",
                    uscc=f.uscc,
                    recorded_at=self.now().astimezone(UTC),
                    message=self._sealed(
                        self._body(
                            uscc=f.uscc,
                            event_position=None,
                            entity_version=f.version,
                            cause="publicity",
                            event=None,
                            department=None,
                            publication_id=None,
                            occurred_on=day.isoformat(),
                            public_doc=f.public,
                            flags_before=list(f.before),
                            flags_after=list(f.after),
                            categories=["penalty"],
                            changed={"public": ["flags", "penalties"], "sharing": []},
                            public={"flags": list(f.after), "penalties": _json_ready(view["penalties"])},
                            sharing={},
                        ),
                        self._sharing_of(f.uscc),
                    ),
                )
            )
        return self.publish(pending)

    def documents(self, entity: MarketEntity) -> dict[str, dict[str, Any]]:
        """The documents compared before and after each event, by view (`public`, `sharing`)."""
        return documents(entity, self.registry.publicity)

    def close(self) -> None:
        self.registry.close()

    @staticmethod
    def _flags(docs: dict[str, dict[str, Any]] | None, today: date) -> list[str]:
        return [] if docs is None else flags(docs["public"], today)

    def _load(self, entity_id: UUID, version: int) -> MarketEntity | None:
        """The entity at `version` (None before its registration): rebuilt from the store, so
        the feed may move it on without touching a cached aggregate."""
        if version < 1:
            return None
        entity: Any = self.registry.repository.get(entity_id, version=version)
        assert isinstance(entity, MarketEntity)
        return entity

    def _body(self, *, public_doc: dict[str, Any], **fields: Any) -> dict[str, Any]:
        registration = public_doc.get("registration") or {}
        return {
            "schema": SCHEMA_ID,
            **fields,
            "district": public_doc.get("district_code"),
            "district_name": public_doc.get("district_name"),
            "entity_type": registration.get("entity_type"),
            "timestamp": self.now().astimezone(UTC).isoformat(),
        }

    def _change(
        self,
        n: Notification,
        event: Any,
        entity: MarketEntity,
        docs: dict[str, dict[str, Any]],
        changed: dict[str, list[str]],
        flags_before: list[str],
        flags_after: list[str],
    ) -> NewChange:
        name = type(event).__name__
        values = {view: {k: _json_ready(docs[view].get(k)) for k in changed[view]} for view in VIEWS}
        category = _CATEGORY_OF_EVENT.get(name)
        return NewChange(
            key=f"event:{n.id}",
            uscc=entity.uscc,
            recorded_at=self.now().astimezone(UTC),
            message=self._body(
                uscc=entity.uscc,
                event_position=n.id,
                entity_version=n.originator_version,
                cause="event",
                event=name,
                department=event.department,
                publication_id=event.publication_id,
                occurred_on=event.occurred_on.isoformat(),
                public_doc=docs["public"],
                flags_before=flags_before,
                flags_after=flags_after,
                categories=[category] if category else [],
                changed={"public": changed["public"], "sharing": changed["sharing"]},
                public=values["public"],
                sharing=values["sharing"],
            ),
        )

    def _sealed(self, message: dict[str, Any], persons: Any) -> dict[str, Any]:
        """The message with its natural persons sealed under the events' keys, as the change table
        keeps it and the topic carries it; `persons`: the entity's sharing document, where the
        public part's masked persons find their keys."""
        vault = self.registry.vault
        return message if vault is None else seal_change(message, vault, persons)

    def _sharing_of(self, uscc: str) -> dict[str, Any] | None:
        if self.registry.vault is None:
            return None
        try:
            return self.documents(self.registry.get_entity(uscc))["sharing"]
        except EntityNotFound:
            return None

    def _ensure_topic(self) -> None:
        if not self._topic_ready:
            self.log.ensure_topic(self.topic, self.partitions)
            self._topic_ready = True


__all__ = [
    "EVENT_NAMES",
    "SCHEMA_ID",
    "ChangeFeed",
    "ChangeMessage",
    "ChangedKeys",
    "FlagChange",
    "change_json_schema",
]
