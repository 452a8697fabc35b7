"""The application service: applies publications to MarketEntity aggregates, exactly once.

One call = one use case. `process` takes a batch of raw publications (bytes or dicts) with the
position they were read from, decides each one (validate → mandate → apply), and records every
new event together with the position in ONE transaction, so a crash never applies a batch twice
and never loses half of it. Rejections carry a stable reason code and a Chinese message, and are
recorded too (`RejectionLog`, one per source) in that same transaction, so the status of every
publication (applied, parked, rejected) can be followed from the notification log alone.

Its parts: `domain.intake` (raw message → valid `Publication` or rejecting `Outcome`),
`domain.kinds` (which command applies each kind), `domain.parking` (`ParkedPublications`),
`domain.rejections` (`RejectionLog`) and `domain.internals` (the calls into eventsourcing's
private API, version-checked).

Signatures: the ingestion worker checks every message's signature (`adapters.credentials.
signing.Verifier`) and passes the outcome with it (`signatures=`, one `domain.signatures.Signed`
or `Unsigned` per message); intake rejects a refused one as `bad_signature` before anything
else, and the applied events keep the signing key's id and the principal (`Provenance`). A
parked publication keeps its provenance in its lot and is applied with it when released.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, CanMutateProtocol
from eventsourcing.persistence import JSONTranscoder, StoredEvent, Tracking, Transcoder, Transcoding
from eventsourcing.utils import get_topic

from domain import publications as pub
from domain.clock import Clock
from domain.departments import DepartmentRegistry
from domain.entity import MarketEntity, entity_id
from domain.errors import DomainError, EntityNotFound
from domain.intake import Intake, Outcome, Publication, Status, unsupported_kind_message
from domain.internals import ApplyingRepository, LibraryInternals, MemoryBoundedCache, apply_events
from domain.kinds import PUBLICATION_KINDS, KindTable
from domain.parking import ParkedPublications
from domain.personal_data import PersonalDataVault, SealingTranscoder
from domain.publicity import PublicityPolicy, market_supervision_codes
from domain.rejections import RejectionLog
from domain.signatures import Provenance, Signed, Unsigned
from domain.uscc import USCC
from domain.workdays import WorkingDays, working_days

#: Where a parked publication keeps its provenance (beside the envelope's fields).
PROVENANCE_KEY = "provenance"
#: Where a parked publication keeps the system date it was parked on (ISO); lots parked before it
#: was kept read the date of their `Parked` event's instant.
PARKED_ON_KEY = "parked_on"
#: The platform's own fields of a parked publication (not the envelope's).
PARKED_FIELDS = (PROVENANCE_KEY, PARKED_ON_KEY)
#: The source whose `RejectionLog` records expired parked publications.
PARKED_EXPIRY_SOURCE = "parked-expiry"


@dataclass(frozen=True, slots=True)
class ParkedItem:
    """A publication waiting for its entity's registration, and since which system date."""

    envelope: dict[str, Any]  # the envelope's fields only
    parked_on: date
    provenance: Provenance | None

    @property
    def publication_id(self) -> str:
        return str(self.envelope["publication_id"])


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def _uscc_of(message: bytes | Mapping[str, Any]) -> str | None:
    """The canonical USCC an envelope names, None when it names none that parses."""
    try:
        data = json.loads(message) if isinstance(message, bytes | bytearray) else message
        return USCC.parse(str(data["uscc"])).value
    except (ValueError, TypeError, KeyError, DomainError):
        return None


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

    def known_absent(self, absent: Iterable[UUID]) -> None:
        """Aggregates the store was just asked about and does not have: `get` answers None
        for them without a query (until the batch creates them)."""
        for aggregate_id in absent:
            self.loaded.setdefault(aggregate_id, None)

    def touched(self) -> list[Aggregate]:
        return [a for a in self.loaded.values() if a is not None and a.pending_events]


class Registry(Application[UUID]):
    """The register of market entities."""

    name = "Registry"
    snapshotting_intervals = {MarketEntity: 100, RejectionLog: 100}
    #: snapshots are taken with the same projector as the repository's reads (`apply_events`)
    snapshotting_projectors = {MarketEntity: apply_events, RejectionLog: apply_events}

    def __init__(
        self,
        *,
        clock: Clock,
        departments: DepartmentRegistry,
        env: Mapping[str, str] | None = None,
        kinds: KindTable = PUBLICATION_KINDS,
        publicity: PublicityPolicy | None = None,
        calendar: WorkingDays | None = None,
        loader: Callable[[Any, Any | None, Mapping[UUID, int | None]], Mapping[UUID, Sequence[StoredEvent]]]
        | None = None,
        vault: PersonalDataVault | None = None,
    ):
        #: seals natural persons' personal fields in what is stored (None: stored as given)
        self.vault = vault
        self._erasure_epoch: int | None = None
        self._expiry_version: int | None = None
        self.clock = clock
        #: `loader(recorder, snapshot_recorder, wanted)`: for each id of `wanted` the store has, its
        #: latest snapshot up to the version given with it (None: its latest) and the events after
        #: it up to that version, as stored, in two queries (adapters); used before each batch when
        #: the aggregate cache is authoritative (see `_load_uncached`), and by `read_many`
        self._loader = loader
        #: working days (the shipped holiday table, and later years the settings add)
        self.calendar = calendar or working_days()
        self.departments = departments
        #: the publicity rules' open choices (settings); the projections read them here too
        self.publicity = publicity or PublicityPolicy(market_supervision_codes(departments.all()))
        self.intake = Intake(clock=clock, departments=departments, kinds=kinds)
        super().__init__(env=dict(env or {}))
        self.internals = LibraryInternals(self)

    #: the event-store setting that bounds the aggregate cache by memory (bytes; empty = by count)
    AGGREGATE_CACHE_MAX_BYTES = "AGGREGATE_CACHE_MAX_BYTES"

    def construct_repository(self) -> Any:
        """eventsourcing's repository, projecting with `apply_events` (no runtime Protocol check
        per event), with its aggregate cache bounded by the estimated memory of what it holds when
        `AGGREGATE_CACHE_MAX_BYTES` is set (`AGGREGATE_CACHE_MAXSIZE` stays a bound on the count)."""
        repository = ApplyingRepository.like(super().construct_repository())
        max_bytes = self.env.get(self.AGGREGATE_CACHE_MAX_BYTES)
        if repository.cache is not None and max_bytes:
            count = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
            repository.cache = MemoryBoundedCache(
                int(max_bytes), int(count) if count and int(count) > 0 else None
            )
        return repository

    def construct_recorder(self) -> Any:
        # A process recorder records the read position in the same transaction as the events.
        return self.factory.process_recorder()

    def construct_transcoder(self) -> Transcoder:
        transcoder = super().construct_transcoder()
        return SealingTranscoder(transcoder, self.vault) if self.vault is not None else transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # --- reads --------------------------------------------------------------------------------

    def check_erasures(self) -> None:
        """When a person was erased since the last check, drop every cached aggregate (they hold
        opened personal data); once per batch, and before a single read."""
        if self.vault is None:
            return
        epoch = self.vault.epoch()
        if self._erasure_epoch is not None and epoch != self._erasure_epoch:
            self.forget_cached()
        self._erasure_epoch = epoch

    @property
    def erasure_epoch(self) -> int | None:
        """The vault's erasure count at the last `check_erasures` (None: not checked, or no
        vault): what is derived from the cached aggregates is stale once it moves."""
        return self._erasure_epoch

    def get_entity(self, uscc: str) -> MarketEntity:
        self.check_erasures()
        try:
            entity: MarketEntity = self.repository.get(entity_id(uscc))
        except AggregateNotFoundError:
            raise EntityNotFound(uscc) from None
        return entity

    def current_version(self, uscc: str) -> int | None:
        """The entity's version in the event store (its last event's), None when it has none: one
        indexed read of one row, no aggregate rebuilt (the API's conditional GET)."""
        events = self.recorder.select_events(entity_id(uscc), desc=True, limit=1)
        return events[0].originator_version if events else None

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
        waiting: list[dict[str, Any]] = []
        for lot in self._lots():
            waiting.extend(lot.waiting)
        return waiting

    def parked_items(self, *, before: date | None = None) -> list[ParkedItem]:
        """Every publication waiting for its entity's registration with the system date it was
        parked on — only those parked before `before`, when given — oldest lot first."""
        items: list[ParkedItem] = []
        for lot in self._lots():
            if not lot.waiting:
                continue
            dates: dict[str, date] | None = None
            for waiting in lot.waiting:
                raw = waiting.get(PARKED_ON_KEY)
                if raw:
                    day = date.fromisoformat(str(raw))
                else:  # parked before the date was kept: the date of its Parked event
                    if dates is None:
                        dates = self._parked_dates(lot.id)
                    day = dates.get(str(waiting["publication_id"]), self.clock.today())
                if before is not None and day >= before:
                    continue
                envelope = {k: v for k, v in waiting.items() if k not in PARKED_FIELDS}
                items.append(ParkedItem(envelope, day, Provenance.from_meta(waiting.get(PROVENANCE_KEY))))
        return items

    def _lots(self) -> Iterator[ParkedPublications]:
        topics = [get_topic(ParkedPublications.Opened)]
        start = 1
        while notifications := self.recorder.select_notifications(start, 1000, topics=topics):
            for n in notifications:
                yield self.repository.get(UUID(str(n.originator_id)))
            start = notifications[-1].id + 1

    def _parked_dates(self, lot_id: UUID) -> dict[str, date]:
        found: dict[str, date] = {}
        for event in self.repository.event_store.get(lot_id):
            if isinstance(event, ParkedPublications.Parked):
                found[str(event.envelope["publication_id"])] = self.clock.date_of(event.timestamp)
        return found

    def expire_parked(
        self,
        before: date,
        on_decided: Callable[[list[tuple[ParkedItem, Outcome]]], None] | None = None,
    ) -> list[Outcome]:
        """Reject every publication parked before the system date `before` as `parked_expired`:
        it leaves its lot (`Expired`) and its rejection is recorded (`RejectionLog` of
        `parked-expiry`), in one transaction. `on_decided` runs before anything is recorded (the
        caller puts them on the DLQ there, so a crash loses none: the next run finds them again)."""
        try:
            batch = _Batch(self)
            decided: list[tuple[ParkedItem, Outcome]] = []
            by_lot: dict[UUID, list[str]] = {}
            for item in self.parked_items(before=before):
                envelope = item.envelope
                uscc = str(envelope.get("uscc"))
                decided.append(
                    (
                        item,
                        Outcome(
                            "rejected",
                            publication_id=item.publication_id,
                            uscc=uscc,
                            kind=envelope.get("kind"),
                            department=envelope.get("department"),
                            code=pub.REASON_PARKED_EXPIRED,
                            message=f"自 {item.parked_on.isoformat()} 起暂存，该主体逾期仍未登记，已退回",
                        ),
                    )
                )
                by_lot.setdefault(ParkedPublications.id_for(uscc), []).append(item.publication_id)
            if not decided:
                return []
            for lot_id, ids in by_lot.items():
                lot = batch.get(lot_id)
                assert isinstance(lot, ParkedPublications)
                lot.expire(ids)
            if on_decided is not None:
                on_decided(decided)
            outcomes = [o for _, o in decided]
            self._log_rejections(batch, outcomes, None, None, source=PARKED_EXPIRY_SOURCE)
            processing: ProcessingEvent[UUID] = ProcessingEvent()
            processing.collect_events(*batch.touched())
            self.internals.record(processing)
        except BaseException:
            self.forget_cached()
            raise
        return outcomes

    # --- the use case ---------------------------------------------------------------------------

    def process(
        self,
        messages: Iterable[bytes | Mapping[str, Any]],
        tracking: Tracking | None = None,
        on_decided: Callable[[list[Outcome]], None] | None = None,
        positions: Sequence[int] | None = None,
        signatures: Sequence[Signed | Unsigned] | None = None,
    ) -> list[Outcome]:
        """Apply a batch of publications; record all new events and `tracking` atomically.

        `on_decided(outcomes)` runs after every publication is decided and before anything is
        recorded (the worker writes rejections to the DLQ there, so a crash loses none).
        Every rejection is recorded in the source's `RejectionLog` in the same transaction;
        `positions` (one per message, e.g. the log offsets) say where each message was read;
        `signatures` (one per message) what checking its signature found — None only for the
        platform's own in-process calls, which read nothing from the log.
        """
        try:
            self.departments.refresh()  # a mandate changed in another process counts from this batch
            self.check_erasures()
            messages = list(messages)
            self._check_parked_expiries(messages)
            batch = _Batch(self)
            self._load_uncached(batch, messages)
            if signatures is not None and len(signatures) != len(messages):
                raise ValueError("signatures must give one signature check per message")
            checks: Sequence[Signed | Unsigned | None] = (
                signatures if signatures is not None else [None] * len(messages)
            )
            outcomes = [
                self._decide(batch, message, check) for message, check in zip(messages, checks, strict=True)
            ]
            if positions is not None and len(positions) != len(outcomes):
                raise ValueError("positions must give one position per message")
            if on_decided is not None:
                on_decided(outcomes)
            self._log_rejections(batch, outcomes, tracking, positions)
            processing: ProcessingEvent[UUID] = ProcessingEvent(tracking=tracking)
            processing.collect_events(*batch.touched())
            if processing.events or tracking is not None:
                self.internals.record(processing)
        except BaseException:
            self.forget_cached()  # cached aggregates may hold changes that were never recorded
            raise
        return outcomes

    def _check_parked_expiries(self, messages: Sequence[bytes | Mapping[str, Any]]) -> None:
        """The parked expiry writes lots through an application object of its own: an
        authoritative cache (the worker's, never fast-forwarded) drops what it holds when an
        expiry was recorded since it last looked — which it does (one query: the expiry log's last
        version) on its first batch and on a batch that names a lot it holds."""
        repository = self.repository
        if repository.cache is None or repository.fastforward:
            return
        if self._expiry_version is not None:
            lots = {ParkedPublications.id_for(u) for m in messages if (u := _uscc_of(m)) is not None}
            if not lots & self.internals.cached():
                return
        last = self.recorder.select_events(RejectionLog.id_for(PARKED_EXPIRY_SOURCE), desc=True, limit=1)
        version = last[0].originator_version if last else 0
        if self._expiry_version is not None and version != self._expiry_version:
            self.forget_cached()
        self._expiry_version = version

    def _load_uncached(self, batch: _Batch, messages: Sequence[bytes | Mapping[str, Any]]) -> None:
        """With an authoritative cache (never fast-forwarded: the worker's), read the batch's
        uncached entities and parked lots from the store together — two queries for the batch
        instead of two per aggregate — and put those that exist in the batch and in the cache, as
        `repository.get` would have (the application's mapper, so personal data opened, then
        `apply_events`). Those the store does not have are known absent, so a registration (no
        entity, no lot yet) costs no lookup of its own. A lot is put in only when its entity does
        not exist, the one case in which a batch reads it (to park, or to release on
        registration); the released lot of an existing entity stays out of the cache. A message
        whose USCC cannot be read here is left out: its aggregates are read one by one as before."""
        repository = self.repository
        cache = repository.cache
        if self._loader is None or cache is None or repository.fastforward:
            return
        entity_of_lot: dict[UUID, UUID] = {}
        for message in messages:
            uscc = _uscc_of(message)
            if uscc is not None:
                entity_of_lot[ParkedPublications.id_for(uscc)] = entity_id(uscc)
        cached = self.internals.cached()
        uncached = (entity_of_lot.keys() | set(entity_of_lot.values())) - cached
        if not uncached:
            return
        stored = self._stored(dict.fromkeys(uncached))
        batch.known_absent(uncached - stored.keys())
        for aggregate_id, records in stored.items():
            entity = entity_of_lot.get(aggregate_id)
            if entity is not None and (entity in stored or entity in cached):
                continue  # the lot of an existing entity: this batch does not read it
            aggregate = self._built(records)
            if aggregate is not None:
                cache.put(aggregate_id, aggregate)
                batch.add(aggregate)

    def read_latest(self, ids: Iterable[UUID]) -> dict[UUID, Any] | None:
        """Each of `ids` the store has, at its latest version, read together — two queries
        instead of two per aggregate (see `loader`) — and built with this application's mapper
        (persons opened), outside the aggregate cache: nothing is read from it or put in it. None
        when this object has no loader: the caller reads one by one."""
        if self._loader is None:
            return None
        return self.read_many(dict.fromkeys(ids))

    def read_many(self, wanted: Mapping[UUID, int | None]) -> dict[UUID, Aggregate]:
        """Each aggregate of `wanted` at the version given with it (None: as it is now), as
        `repository.get(id, version=...)` gives it, but read from the store together by the loader
        (two queries for all of them) and built in memory, never through nor into the aggregate
        cache. An id the store has nothing of up to its version is left out. Without a loader, one
        `repository.get` each (the latest through the cache, as before)."""
        if self._loader is None:
            found: dict[UUID, Aggregate] = {}
            for aggregate_id, version in wanted.items():
                try:
                    found[aggregate_id] = self.repository.get(aggregate_id, version=version)
                except AggregateNotFoundError:
                    continue
            return found
        stored = self._stored(wanted)
        return {i: a for i, records in stored.items() if (a := self._built(records)) is not None}

    def _stored(self, wanted: Mapping[UUID, int | None]) -> Mapping[UUID, Sequence[StoredEvent]]:
        assert self._loader is not None
        snapshot_recorder = self.snapshots.recorder if self.snapshots is not None else None
        return self._loader(self.recorder, snapshot_recorder, wanted)

    def _built(self, records: Iterable[StoredEvent]) -> Aggregate | None:
        """The aggregate stored `records` make — a snapshot or its first event, then the events
        after it, in version order (what the loader reads for each id) — as `repository.get` makes
        it: through the application's mapper (so persons' personal data opened, with the vault's
        keys as they are now), then `apply_events`."""
        events = cast("Iterator[CanMutateProtocol[Any]]", map(self.mapper.to_domain_event, records))
        aggregate = apply_events(None, events)
        return aggregate if isinstance(aggregate, Aggregate) else None

    def forget_cached(self) -> None:
        """Drop every cached aggregate (after a failed batch, or when partitions move)."""
        self.internals.forget_cached()

    def apply_publication(self, message: bytes | Mapping[str, Any]) -> Outcome:
        return self.process([message])[0]

    def _log_rejections(
        self,
        batch: _Batch,
        outcomes: Sequence[Outcome],
        tracking: Tracking | None,
        positions: Sequence[int] | None,
        *,
        source: str | None = None,
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
        if source is None:
            source = tracking.application_name if tracking is not None else "direct"
        log = batch.get(RejectionLog.id_for(source))
        if log is None:
            log = RejectionLog.open(source)
            batch.add(log)
        assert isinstance(log, RejectionLog)
        for outcome, position in rejected:
            log.reject(outcome, position)

    # --- deciding one publication ---------------------------------------------------------------

    def _decide(
        self, batch: _Batch, message: bytes | Mapping[str, Any], signature: Signed | Unsigned | None
    ) -> Outcome:
        checked = self.intake.check(message, signature)
        if isinstance(checked, Outcome):
            return checked
        return self._apply_valid(batch, checked)

    def _apply_valid(self, batch: _Batch, publication: Publication) -> Outcome:
        envelope, kind, data, uscc = (
            publication.envelope,
            publication.kind,
            publication.data,
            publication.uscc,
        )
        meta: dict[str, Any] = {
            "department": envelope.department,
            "publication_id": envelope.publication_id,
            "occurred_on": envelope.occurred_on,
            "basis": data.get("basis"),
            "timestamp": self.clock.now(),
            "signing_key_id": publication.provenance.signing_key_id if publication.provenance else None,
            "principal": publication.provenance.principal if publication.provenance else None,
        }
        entity = batch.get(entity_id(uscc))
        if kind.creates:
            if entity is not None:
                assert isinstance(entity, MarketEntity)
                if entity.has_applied(envelope.publication_id):
                    return publication.outcome("duplicate")
                return publication.outcome(
                    "rejected", code=pub.REASON_ALREADY_REGISTERED, message=f"统一社会信用代码 {uscc} 已登记"
                )
            entity = MarketEntity.register(uscc=uscc, data=data, **meta)
            batch.add(entity)
            released = self._release_parked(batch, entity)
            return publication.outcome("applied", released=released)
        if entity is None:
            return self._park(batch, publication)
        assert isinstance(entity, MarketEntity)
        if entity.has_applied(envelope.publication_id):
            return publication.outcome("duplicate")
        command = kind.command
        if command is None:  # intake rejects these first; a decision, never an exception
            return publication.outcome(
                "rejected", code=pub.REASON_UNSUPPORTED_KIND, message=unsupported_kind_message(kind)
            )
        context = {"applied_on": self.clock.today(), "publicity": self.publicity, "calendar": self.calendar}
        try:
            command(entity, {**meta, **context}, data)
        except DomainError as err:
            return publication.outcome("rejected", code=err.code, message=err.message)
        return publication.outcome("applied")

    def _park(self, batch: _Batch, publication: Publication) -> Outcome:
        uscc = publication.uscc
        lot = batch.get(ParkedPublications.id_for(uscc))
        if lot is None:
            lot = ParkedPublications.open(uscc)
            batch.add(lot)
        assert isinstance(lot, ParkedPublications)
        if lot.holds(publication.envelope.publication_id):
            return publication.outcome("duplicate", message="已暂存，等待该主体登记")
        parked = {**publication.envelope.to_json_dict(), "uscc": uscc}
        parked[PARKED_ON_KEY] = self.clock.today().isoformat()
        if publication.provenance is not None:
            parked[PROVENANCE_KEY] = publication.provenance.as_meta()
        lot.park(parked)
        return publication.outcome("parked", message="该主体尚未登记，已暂存，登记后自动生效")

    def _release_parked(self, batch: _Batch, entity: MarketEntity) -> tuple[Outcome, ...]:
        lot = batch.get(ParkedPublications.id_for(entity.uscc))
        if not isinstance(lot, ParkedPublications) or not lot.waiting:
            return ()
        outcomes = []
        for waiting in list(lot.waiting):
            # its signature was checked when it arrived; it keeps the provenance it had then
            envelope = {k: v for k, v in waiting.items() if k not in PARKED_FIELDS}
            checked = self.intake.check(envelope)
            if isinstance(checked, Outcome):
                outcomes.append(checked)
                continue
            provenance = Provenance.from_meta(waiting.get(PROVENANCE_KEY))
            outcomes.append(self._apply_valid(batch, checked.with_provenance(provenance)))
        lot.release([w["publication_id"] for w in lot.waiting])
        return tuple(outcomes)


__all__ = [
    "Outcome",
    "ParkedItem",
    "Registry",
    "Status",
]
