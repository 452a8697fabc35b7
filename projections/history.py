"""An entity's history from the event store, and its full record as it stood on a business date
— what an agency reads (`/api/v1/agency/entities/{uscc}`, `/history`, the internal extract).

- `as_of` is a business date: the events whose `occurred_on` is on or before it. A department
  may publish late (a penalty decided in May published in July), so an as-of record may hold
  facts the platform learnt after that date; that is what the date asks for.
- `known_at` is an instant: it also leaves out the events the platform recorded after it (each
  event's `timestamp`), so an investigator can show what was on the record when a decision was
  taken.

The record is rebuilt from the kept events in their stored order (never from a snapshot or a
cache). An event that builds on one left out (an amendment dated before the penalty it amends
was published) is skipped and named in `skipped`, so the record never invents a state.

Every fact (a record, a history entry, a listing's removal, a repair) carries its `provenance`:
department, publication id, legal basis, the signing key and principal (where known), the event
that made it, the entity version and the event's position in the store (its notification id),
when the platform recorded it, and the `mandate` it was accepted under: the department's kinds
in force on the system date the publication arrived (the date of the instant the event was
recorded — a parked publication is checked again on the day its entity registers, and that
check is the one that let it in), as the ingestion checked it (`DepartmentRegistry.mandate`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.departments import Mandate
from domain.entity import MarketEntity, entity_id
from domain.kinds import PUBLICATION_KINDS
from domain.publicity import PublicityPolicy
from projections.documents import flags, penalty_is_public, sharing_document

__all__ = ["AsOfRecord", "EntityHistory", "EventReader", "HistoryEvent", "NotYetRegistered"]

#: The stored events of one aggregate with their notification ids (adapters.event_store).
EventReader = Callable[[UUID], Sequence[tuple[int, StoredEvent]]]
#: The mandate of a department for a publication recorded at an instant (None: not known).
MandateReader = Callable[[str, datetime], Mandate | None]

_KIND_OF_EVENT = {event.__name__: kind.name for kind in PUBLICATION_KINDS for event in kind.events}


class NotYetRegistered(Exception):
    """The entity exists, but not as of the date (or instant) asked for."""

    def __init__(self, uscc: str, registered_on: date, recorded_at: datetime) -> None:
        super().__init__(uscc)
        self.uscc, self.registered_on, self.recorded_at = uscc, registered_on, recorded_at


@dataclass(frozen=True)
class HistoryEvent:
    """One stored event of an entity, with where and when it was recorded."""

    position: int
    version: int
    event: str
    kind: str | None
    occurred_on: date
    recorded_at: datetime
    department: str
    publication_id: str
    basis: str | None
    signing_key_id: str | None
    principal: str | None
    data: dict[str, Any]
    domain_event: Any = field(repr=False, compare=False)
    mandate: Mandate | None = field(default=None, compare=False)

    def provenance(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "publication_id": self.publication_id,
            "basis": self.basis,
            "signing_key_id": self.signing_key_id,
            "principal": self.principal,
            "event": self.event,
            "entity_version": self.version,
            "position": self.position,
            "occurred_on": self.occurred_on.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "mandate": self.mandate.as_dict(self.kind) if self.mandate is not None else None,
        }

    def public(self) -> dict[str, Any]:
        """As `/history` shows it."""
        return {**self.provenance(), "kind": self.kind, "data": self.data}


@dataclass(frozen=True)
class AsOfRecord:
    uscc: str
    as_of: date
    known_at: datetime | None
    document: dict[str, Any]
    events: list[HistoryEvent]
    skipped: list[dict[str, Any]]

    @property
    def version(self) -> int:
        return self.events[-1].version

    @property
    def position(self) -> int:
        return max(e.position for e in self.events)


class EntityHistory:
    """Reads entities' events with their positions (through `reader`) and rebuilds records."""

    def __init__(
        self,
        mapper: Any,
        reader: EventReader,
        policy: PublicityPolicy,
        mandates: MandateReader | None = None,
    ) -> None:
        self.mapper = mapper
        self.reader = reader
        self.policy = policy
        self.mandates = mandates

    def events(self, uscc: str) -> list[HistoryEvent]:
        """Every event of the entity in order (empty: no such entity)."""
        out = []
        for position, stored in self.reader(entity_id(uscc)):
            event: Any = self.mapper.to_domain_event(stored)
            name = type(event).__name__
            mandate = self.mandates(event.department, event.timestamp) if self.mandates else None
            out.append(
                HistoryEvent(
                    position=position,
                    version=stored.originator_version,
                    event=name,
                    kind=_KIND_OF_EVENT.get(name),
                    occurred_on=event.occurred_on,
                    recorded_at=event.timestamp,
                    department=event.department,
                    publication_id=event.publication_id,
                    basis=event.basis,
                    signing_key_id=getattr(event, "signing_key_id", None),
                    principal=getattr(event, "principal", None),
                    data=dict(event.data),
                    domain_event=event,
                    mandate=mandate,
                )
            )
        return out

    @staticmethod
    def kept(events: Sequence[HistoryEvent], as_of: date, known_at: datetime | None) -> list[HistoryEvent]:
        return [
            e for e in events if e.occurred_on <= as_of and (known_at is None or e.recorded_at <= known_at)
        ]

    def as_of(
        self,
        uscc: str,
        as_of: date,
        known_at: datetime | None = None,
        events: Sequence[HistoryEvent] | None = None,
    ) -> AsOfRecord | None:
        """The record as of the end of `as_of` (and as known at `known_at`); None when there is no
        such entity; NotYetRegistered when it did not exist yet then."""
        events = self.events(uscc) if events is None else events
        if not events:
            return None
        first = events[0]
        kept = self.kept(events, as_of, known_at)
        if not kept or kept[0].version != first.version:
            raise NotYetRegistered(uscc, first.occurred_on, first.recorded_at)
        entity: MarketEntity = kept[0].domain_event.mutate(None)
        applied, skipped = [kept[0]], []
        for e in kept[1:]:
            last_occurred_on = entity.last_occurred_on
            entity.version = e.version - 1
            try:
                e.domain_event.apply(entity)
            except (KeyError, TypeError, ValueError) as err:  # builds on an event left out
                entity.applied_publications.pop(e.publication_id, None)
                entity.last_occurred_on = last_occurred_on
                skipped.append({**e.provenance(), "reason": f"所依据的记录不在所查日期之前：{err}"})
                continue
            applied.append(e)
        entity.version = applied[-1].version
        doc = sharing_document(entity, self.policy)
        _mark_provenance(doc, {e.publication_id: e.provenance() for e in applied})
        for penalty in doc["penalties"]:
            penalty["public_on_as_of"] = not penalty.get("revoked") and penalty_is_public(penalty, as_of)
            penalty["state"] = _penalty_state(penalty, as_of)
        current = {**doc, "penalties": [p for p in doc["penalties"] if not p.get("revoked")]}
        doc["flags"] = flags(current, as_of)
        doc["as_of"] = as_of.isoformat()
        doc["known_at"] = known_at.isoformat() if known_at else None
        doc["position"] = max(e.position for e in applied)
        return AsOfRecord(uscc, as_of, known_at, doc, applied, skipped)


def _penalty_state(penalty: dict[str, Any], as_of: date) -> str:
    """revoked | repaired | not_publicised | public | not_yet_public | window_ended."""
    if penalty.get("revoked"):
        return "revoked"
    pub = penalty["publicity"]
    if not pub["publicised"]:
        return "not_publicised"
    if pub.get("repaired_on") and date.fromisoformat(pub["repaired_on"]) <= as_of:
        return "repaired"
    if as_of < date.fromisoformat(pub["starts_on"]):
        return "not_yet_public"
    if penalty_is_public(penalty, as_of):
        return "public"
    return "window_ended"


def _mark_provenance(value: Any, by_publication: dict[str, dict[str, Any]]) -> None:
    """Give every fact (a dict naming a publication id) the provenance of its event."""
    if isinstance(value, dict):
        publication_id = value.get("publication_id")
        found = by_publication.get(publication_id) if isinstance(publication_id, str) else None
        for item in value.values():
            _mark_provenance(item, by_publication)
        if found is not None:
            value["provenance"] = found
    elif isinstance(value, list):
        for item in value:
            _mark_provenance(item, by_publication)
