"""How search results are ordered, one table for both engines.

A name search scores each entity by the best tier it matches (Elasticsearch: a `dis_max` of
`constant_score` clauses boosted by the tier's weight; SQLite: a `CASE` whose branches are the
tiers, heaviest first), then orders by score, shorter name, name. Each engine says *how* a tier
matches on its storage (`TIER_CLAUSES` in `elasticsearch/queries.py`, `TIER_CONDITIONS` in
`sqlite/queries.py`); *which* tiers exist and what they weigh is said only here. When no tier
matches at all, the fuzzy tier (`domain.names.fuzzy`) ranks the entities sharing most of the
query's grams, identically on both engines (`fuzzy_page`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from adapters.search_index.base import Page
from domain import names


@dataclass(frozen=True)
class Tier:
    name: str
    weight: int
    means: str


#: Best first. `other` is what matched but none of the tiers above: it must weigh least.
TIERS: tuple[Tier, ...] = (
    Tier("exact_name", 900, "the current name exactly as typed"),
    Tier("exact_canonical", 880, "the current name in canonical form (legal form, width, traditional)"),
    Tier("exact_core", 860, "the current name without legal-form words (the query names one)"),
    Tier("name_prefix", 800, "the current name starts with the query (as typed or canonical)"),
    Tier("name_phrase", 700, "the current name contains the query (as typed, canonical or core)"),
    Tier("former_name", 600, "a former name contains the query (as typed, canonical or core)"),
    Tier("person", 500, "the legal representative's name exactly"),
    Tier("pinyin", 400, "the full pinyin or initials of a name contain the query"),
    Tier("other", 100, "anything else that matched (part of a representative's name, a code)"),
)


def by_weight(tiers: Sequence[Tier] = TIERS) -> list[Tier]:
    """The tiers heaviest first (a CASE takes the first branch that holds)."""
    return sorted(tiers, key=lambda t: -t.weight)


def reweighted(tiers: Sequence[Tier], **weights: int) -> tuple[Tier, ...]:
    """`tiers` with some weights changed (by tier name)."""
    unknown = set(weights) - {t.name for t in tiers}
    if unknown:
        raise ValueError(f"no such tier: {', '.join(sorted(unknown))}")
    return tuple(replace(t, weight=weights.get(t.name, t.weight)) for t in tiers)


def names_of(doc: dict[str, Any]) -> list[str]:
    """A public document's current name, then its former names."""
    return [doc["name"], *(f["name"] for f in doc.get("former_names", []))]


def highlights(query: names.Query, items: Sequence[dict[str, Any]]) -> list[str | None]:
    return [names.highlight(query, names_of(doc)) for doc in items]


def fuzzy_page(
    query: names.Query, candidates: Sequence[tuple[dict[str, Any], Sequence[str]]], page: int, size: int
) -> Page:
    """The fuzzy tier over candidates (public document, its grams): those sharing enough of the
    query's grams and close enough by rapidfuzz, closest first, then shorter names, then name."""
    ranked = names.closest(query, ((doc, names_of(doc), grams) for doc, grams in candidates))
    start = (max(page, 1) - 1) * size
    chosen = ranked[start : start + size]
    return Page(len(ranked), chosen, [names.highlight(query, names_of(doc), fuzzy=True) for doc in chosen])
