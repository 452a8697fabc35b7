"""The application service: applies publications to MarketEntity aggregates, exactly once.

One call = one use case. `process` takes a batch of raw publications (bytes or dicts) with the
position they were read from, decides each one (validate → mandate → apply), and records every
new event together with the position in ONE transaction, so a crash never applies a batch twice
and never loses half of it. Rejections carry a stable reason code and a Chinese message, and are
recorded too (`RejectionLog`, one per source) in that same transaction, so the status of every
publication (applied, parked, rejected) can be followed from the notification log alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application, LRUCache, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Tracking, Transcoding
from eventsourcing.utils import get_topic
from pydantic import ValidationError

from domain import publications as pub
from domain.clock import Clock
from domain.departments import DepartmentRegistry
from domain.entity import NAMESPACE, MarketEntity, entity_id
from domain.errors import DomainError, EntityNotFound, InvalidUSCC
from domain.publicity import PublicityPolicy, market_supervision_codes
from domain.uscc import USCC

Status = Literal["applied", "duplicate", "parked", "rejected"]

# kind → the MarketEntity command that applies it
COMMANDS: Mapping[str, str] = {
    "registration.changed": "change_registration",
    "registration.deregistered": "deregister",
    "registration.licence_revoked": "revoke_business_licence",
    "filing.recorded": "record_filing",
    "licence.granted": "grant_licence",
    "licence.changed": "change_licence",
    "licence.revoked": "revoke_licence",
    "penalty.imposed": "impose_penalty",
    "penalty.amended": "amend_penalty",
    "penalty.revoked": "revoke_penalty",
    "performance.recorded": "record_performance",
    "other.recorded": "record_other",
    "abnormal.listed": "list_abnormal",
    "abnormal.removed": "remove_abnormal",
    "serious.listed": "list_serious",
    "serious.removed": "remove_serious",
    "inspection.published": "publish_inspection",
    "repair.approved": "repair_credit",
    "annual_report.submitted": "submit_annual_report",
    "annual_report.corrected": "correct_annual_report",
    "disclosure.published": "publish_disclosure",
}


@dataclass(frozen=True)
class Outcome:
    """What became of one publication."""

    status: Status
    publication_id: str | None = None
    uscc: str | None = None
    kind: str | None = None
    department: str | None = None
    code: str | None = None
    message: str | None = None
    released: tuple[Outcome, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "released" and v is not None}
        if self.released:
            out["released"] = [o.as_dict() for o in self.released]
        return out


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class ParkedPublications(Aggregate):
    """Publications that arrived before their entity's registration, in arrival order."""

    class Opened(Aggregate.Created):
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
        envelope: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.waiting.append(self.envelope)

    class Released(Aggregate.Event):
        publication_ids: list[str]

        def apply(self, aggregate: Any) -> None:
            aggregate.waiting = [
                w for w in aggregate.waiting if w["publication_id"] not in self.publication_ids
            ]

    def park(self, envelope: dict[str, Any]) -> None:
        self.trigger_event(self.Parked, envelope=envelope)

    def release(self, publication_ids: list[str]) -> None:
        self.trigger_event(self.Released, publication_ids=publication_ids)


class RejectionLog(Aggregate):
    """The publications one source's batches rejected, in the order they were decided.

    One log per source (`log:<topic>:<partition>`, or `direct` for calls without a position):
    a source is read by one worker at a time, so its log is never written concurrently. The
    state is only a count (snapshots stay small); the events are what the status view follows.
    """

    class Opened(Aggregate.Created):
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


class _Batch:
    """The aggregates one batch has loaded or created, so several publications for one entity
    in the same batch act on the same in-memory object."""

    def __init__(self, app: Registry) -> None:
        self.app = app
        self.loaded: dict[UUID, Aggregate | None] = {}

    def get(self, aggregate_id: UUID) -> Aggregate | None:
        if aggregate_id not in self.loaded:
            try:
                # No copy from the cache: the batch acts on the cached object itself, and
                # `process` drops the cache if the batch fails before its events are recorded.
                self.loaded[aggregate_id] = self.app.repository.get(aggregate_id, deepcopy_from_cache=False)
            except AggregateNotFoundError:
                self.loaded[aggregate_id] = None
        return self.loaded[aggregate_id]

    def add(self, aggregate: Aggregate) -> None:
        self.loaded[aggregate.id] = aggregate

    def touched(self) -> list[Aggregate]:
        return [a for a in self.loaded.values() if a is not None and a.pending_events]


class Registry(Application[UUID]):
    """The register of market entities."""

    name = "Registry"
    snapshotting_intervals = {MarketEntity: 100, RejectionLog: 100}

    def __init__(
        self,
        *,
        clock: Clock,
        departments: DepartmentRegistry,
        env: Mapping[str, str] | None = None,
        publicity: PublicityPolicy | None = None,
    ):
        self.clock = clock
        self.departments = departments
        #: the publicity rules' open choices (settings); the projections read them here too
        self.publicity = publicity or PublicityPolicy(market_supervision_codes(departments.all()))
        super().__init__(env=dict(env or {}))

    def construct_recorder(self) -> Any:
        # A process recorder records the read position in the same transaction as the events.
        return self.factory.process_recorder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # --- reads --------------------------------------------------------------------------------

    def get_entity(self, uscc: str) -> MarketEntity:
        try:
            entity: MarketEntity = self.repository.get(entity_id(uscc))
        except AggregateNotFoundError:
            raise EntityNotFound(uscc) from None
        return entity

    def position(self, source: str) -> int | None:
        """The last position recorded for a source (e.g. `kafka:gongshi.publications:3`)."""
        recorder: Any = self.recorder  # a process recorder (see construct_recorder)
        result: int | None = recorder.max_tracking_id(source)
        return result

    def parked(self, uscc: str) -> list[dict[str, Any]]:
        try:
            lot: ParkedPublications = self.repository.get(ParkedPublications.id_for(uscc))
        except AggregateNotFoundError:
            return []
        return list(lot.waiting)

    def all_parked(self) -> list[dict[str, Any]]:
        """Every publication still waiting for its entity's registration, oldest lot first."""
        topics = [get_topic(ParkedPublications.Opened)]
        waiting: list[dict[str, Any]] = []
        start = 1
        while notifications := self.recorder.select_notifications(start, 1000, topics=topics):
            for n in notifications:
                lot: ParkedPublications = self.repository.get(UUID(str(n.originator_id)))
                waiting.extend(lot.waiting)
            start = notifications[-1].id + 1
        return waiting

    # --- the use case ---------------------------------------------------------------------------

    def process(
        self,
        messages: Iterable[bytes | Mapping[str, Any]],
        tracking: Tracking | None = None,
        on_decided: Callable[[list[Outcome]], None] | None = None,
        positions: Sequence[int] | None = None,
    ) -> list[Outcome]:
        """Apply a batch of publications; record all new events and `tracking` atomically.

        `on_decided(outcomes)` runs after every publication is decided and before anything is
        recorded (the worker writes rejections to the DLQ there, so a crash loses none).
        Every rejection is recorded in the source's `RejectionLog` in the same transaction;
        `positions` (one per message, e.g. the log offsets) say where each message was read.
        """
        try:
            batch = _Batch(self)
            outcomes = [self._decide(batch, message) for message in messages]
            if positions is not None and len(positions) != len(outcomes):
                raise ValueError("positions must give one position per message")
            if on_decided is not None:
                on_decided(outcomes)
            self._log_rejections(batch, outcomes, tracking, positions)
            processing: ProcessingEvent[UUID] = ProcessingEvent(tracking=tracking)
            processing.collect_events(*batch.touched())
            if processing.events or tracking is not None:
                recordings = self._record(processing)
                self._take_snapshots(processing)
                self._notify(recordings)
        except BaseException:
            self.forget_cached()  # cached aggregates may hold changes that were never recorded
            raise
        return outcomes

    def forget_cached(self) -> None:
        """Drop every cached aggregate (after a failed batch, or when partitions move)."""
        cache = self.repository.cache
        if isinstance(cache, LRUCache):
            with cache.lock:  # LRUCache.clear() resets only its recency list, not the entries
                cache.cache.clear()
                cache.clear()
                cache.full = False
        elif cache is not None:
            cache.cache.clear()

    def apply_publication(self, message: bytes | Mapping[str, Any]) -> Outcome:
        return self.process([message])[0]

    def _log_rejections(
        self,
        batch: _Batch,
        outcomes: Sequence[Outcome],
        tracking: Tracking | None,
        positions: Sequence[int] | None,
    ) -> None:
        """One `PublicationRejected` per rejection, also of parked publications released and
        then rejected (with the position of the message that released them)."""
        rejected = [
            (o, positions[i] if positions is not None else None)
            for i, outcome in enumerate(outcomes)
            for o in (outcome, *outcome.released)
            if o.status == "rejected"
        ]
        if not rejected:
            return
        source = tracking.application_name if tracking is not None else "direct"
        log = batch.get(RejectionLog.id_for(source))
        if log is None:
            log = RejectionLog.open(source)
            batch.add(log)
        assert isinstance(log, RejectionLog)
        for outcome, position in rejected:
            log.reject(outcome, position)

    # --- deciding one publication ---------------------------------------------------------------

    def _decide(self, batch: _Batch, message: bytes | Mapping[str, Any]) -> Outcome:
        checked = self._validate(message)
        if isinstance(checked, Outcome):
            return checked
        envelope, data, uscc = checked
        return self._apply_valid(batch, envelope, data, uscc)

    def _validate(
        self, message: bytes | Mapping[str, Any]
    ) -> Outcome | tuple[pub.Envelope, dict[str, Any], str]:
        if isinstance(message, (bytes, bytearray, str)):
            try:
                raw = json.loads(message)
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                return Outcome("rejected", code=pub.REASON_MALFORMED, message=f"消息不是有效的 JSON：{err}")
        else:
            raw = message
        if not isinstance(raw, dict):
            return Outcome("rejected", code=pub.REASON_MALFORMED, message="消息必须是 JSON 对象")
        ids: dict[str, Any] = {
            k: raw.get(k) if isinstance(raw.get(k), str) else None
            for k in ("publication_id", "uscc", "kind", "department")
        }
        try:
            envelope = pub.Envelope.model_validate(raw)
        except ValidationError as err:
            return Outcome(
                "rejected",
                **ids,
                code=pub.REASON_INVALID_ENVELOPE,
                message=f"信封格式错误：{pub.describe_validation_error(err)}",
            )
        model = pub.PAYLOADS.get(envelope.kind)
        if model is None:
            return Outcome(
                "rejected", **ids, code=pub.REASON_UNKNOWN_KIND, message=f"未知的公示类型“{envelope.kind}”"
            )
        try:
            uscc = USCC.parse(envelope.uscc).value
        except InvalidUSCC as err:
            return Outcome("rejected", **ids, code=pub.REASON_INVALID_USCC, message=err.message)
        ids["uscc"] = uscc
        department = self.departments.get(envelope.department)
        if department is None:
            return Outcome(
                "rejected",
                **ids,
                code=pub.REASON_UNKNOWN_DEPARTMENT,
                message=f"未登记的部门“{envelope.department}”",
            )
        if envelope.kind not in department.kinds:
            return Outcome(
                "rejected",
                **ids,
                code=pub.REASON_OUTSIDE_MANDATE,
                message=f"{department.name}无权公示“{envelope.kind}”类信息",
            )
        try:
            payload = model.model_validate(envelope.payload)
        except ValidationError as err:
            return Outcome(
                "rejected",
                **ids,
                code=pub.REASON_INVALID_PAYLOAD,
                message=f"{envelope.kind} 内容错误：{pub.describe_validation_error(err)}",
            )
        future = pub.future_date_message(envelope.occurred_on, payload, self.clock.today())
        if future is not None:
            return Outcome("rejected", **ids, code=pub.REASON_FUTURE_DATE, message=future)
        return envelope, payload.model_dump(mode="json", exclude_none=True), uscc

    def _apply_valid(self, batch: _Batch, envelope: pub.Envelope, data: dict[str, Any], uscc: str) -> Outcome:
        ids: dict[str, Any] = {
            "publication_id": envelope.publication_id,
            "uscc": uscc,
            "kind": envelope.kind,
            "department": envelope.department,
        }
        meta: dict[str, Any] = {
            "department": envelope.department,
            "publication_id": envelope.publication_id,
            "occurred_on": envelope.occurred_on,
            "basis": data.get("basis"),
            "timestamp": self.clock.now(),
        }
        entity = batch.get(entity_id(uscc))
        if envelope.kind == "registration.registered":
            if entity is not None:
                assert isinstance(entity, MarketEntity)
                if entity.has_applied(envelope.publication_id):
                    return Outcome("duplicate", **ids)
                return Outcome(
                    "rejected",
                    **ids,
                    code=pub.REASON_ALREADY_REGISTERED,
                    message=f"统一社会信用代码 {uscc} 已登记",
                )
            entity = MarketEntity.register(uscc=uscc, data=data, **meta)
            batch.add(entity)
            released = self._release_parked(batch, entity)
            return Outcome("applied", **ids, released=released)
        if entity is None:
            return self._park(batch, envelope, uscc, ids)
        assert isinstance(entity, MarketEntity)
        if entity.has_applied(envelope.publication_id):
            return Outcome("duplicate", **ids)
        context = {"applied_on": self.clock.today(), "publicity": self.publicity}
        try:
            getattr(entity, COMMANDS[envelope.kind])({**meta, **context}, data)
        except DomainError as err:
            return Outcome("rejected", **ids, code=err.code, message=err.message)
        return Outcome("applied", **ids)

    def _park(self, batch: _Batch, envelope: pub.Envelope, uscc: str, ids: dict[str, Any]) -> Outcome:
        lot = batch.get(ParkedPublications.id_for(uscc))
        if lot is None:
            lot = ParkedPublications.open(uscc)
            batch.add(lot)
        assert isinstance(lot, ParkedPublications)
        if lot.holds(envelope.publication_id):
            return Outcome("duplicate", **ids, message="已暂存，等待该主体登记")
        lot.park({**envelope.to_json_dict(), "uscc": uscc})
        return Outcome("parked", **ids, message="该主体尚未登记，已暂存，登记后自动生效")

    def _release_parked(self, batch: _Batch, entity: MarketEntity) -> tuple[Outcome, ...]:
        lot = batch.get(ParkedPublications.id_for(entity.uscc))
        if not isinstance(lot, ParkedPublications) or not lot.waiting:
            return ()
        outcomes = []
        for waiting in list(lot.waiting):
            checked = self._validate(waiting)
            if isinstance(checked, Outcome):
                outcomes.append(checked)
                continue
            outcomes.append(self._apply_valid(batch, *checked))
        lot.release([w["publication_id"] for w in lot.waiting])
        return tuple(outcomes)


def all_kinds_have_commands(kinds: Sequence[str] = pub.KINDS) -> bool:
    """Every publishable kind other than registration has a command (checked by a test)."""
    return all(k in COMMANDS for k in kinds if k != "registration.registered")


__all__ = [
    "COMMANDS",
    "Outcome",
    "ParkedPublications",
    "Registry",
    "RejectionLog",
    "all_kinds_have_commands",
]
