"""Helpers shared by the real-engine ordering tests: what was applied, in what order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from domain.entity import MarketEntity, entity_id
from domain.registry import Registry


def entity_publications(registry: Registry) -> dict[UUID, list[str]]:
    """Each entity's publication ids in the order its events were recorded (version order)."""
    events: dict[UUID, list[tuple[int, str]]] = defaultdict(list)
    start = 1
    while notifications := registry.recorder.select_notifications(start, 1000):
        for n in notifications:
            event = registry.mapper.to_domain_event(n)
            if isinstance(event, (MarketEntity.Registered, MarketEntity.Published)):
                events[event.originator_id].append((event.originator_version, event.publication_id))
        start = notifications[-1].id + 1
    return {k: [pid for _, pid in sorted(v)] for k, v in events.items()}


def expected_order(messages: Sequence[dict[str, Any]]) -> dict[UUID, list[str]]:
    """Per entity, the publication ids in produced order; those produced before the entity's
    registration wait in its lot and are applied right after the registration, in their order."""
    by_uscc: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in messages:
        by_uscc[m["uscc"]].append(m)
    out: dict[UUID, list[str]] = {}
    for uscc, ms in by_uscc.items():
        ids = [m["publication_id"] for m in ms]
        first = next(i for i, m in enumerate(ms) if m["kind"] == "registration.registered")
        out[entity_id(uscc)] = [ids[first], *ids[:first], *ids[first + 1 :]]
    return out
