"""The query bodies: name search built from the ranking table, filters, the fuzzy tier's
candidates, and the department publicity pages' records. Pure: no client.

CJK text is one token per character under the `standard` analyzer, so Chinese substrings are
matched with `match_phrase` (consecutive tokens); name prefixes with `prefix` on keyword fields;
pinyin prefixes on `pinyin.words`, which holds every syllable-aligned suffix of each name's
pinyin and initials.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from adapters.search_index.base import RecordQuery, SearchFilters, conditions
from adapters.search_index.elasticsearch.documents import NOT_A_MANIFEST
from adapters.search_index.ranking import TIERS, Tier
from domain import names
from domain.names import Query

#: After the tier's score: shorter name, then name (as the embedded adapter orders).
BY_RELEVANCE: list[Any] = ["_score", {"name_length": "asc"}, {"name.keyword": "asc"}]
BY_NAME: list[Any] = BY_RELEVANCE[1:]
RECORDS_NEWEST_FIRST: list[Any] = [
    {"occurred_on": "desc"},
    {"uscc": "asc"},
    {"record_id": "asc"},
    {"category": "asc"},
]


def _core(query: Query, *clauses: Callable[[str], dict[str, Any]]) -> list[dict[str, Any]]:
    return [clause(query.core) for clause in clauses] if query.core else []


#: How each tier of `ranking.TIERS` matches on this engine's fields.
TIER_CLAUSES: dict[str, Callable[[Query], list[dict[str, Any]]]] = {
    "exact_name": lambda q: [{"term": {"name.keyword": q.text}}],
    "exact_canonical": lambda q: [{"term": {"name_canonical.keyword": q.canonical}}],
    "exact_core": lambda q: _core(q, lambda c: {"term": {"name_core.keyword": c}}),
    "name_prefix": lambda q: [
        {"prefix": {"name.keyword": q.text}},
        {"prefix": {"name_canonical.keyword": q.canonical}},
    ],
    "name_phrase": lambda q: [
        {"match_phrase": {"name": q.text}},
        {"match_phrase": {"name_canonical": q.canonical}},
        *_core(q, lambda c: {"match_phrase": {"name_core": c}}),
    ],
    "former_name": lambda q: [
        {"match_phrase": {"former_names": q.text}},
        {"match_phrase": {"former_canonical": q.canonical}},
        *_core(q, lambda c: {"match_phrase": {"former_core": c}}),
    ],
    "person": lambda q: [{"term": {"person.keyword": q.text}}],
    "pinyin": lambda q: [
        {"match_phrase": {"pinyin": q.lower}},
        {"prefix": {"pinyin.words": q.squeezed}},
    ],
    "other": lambda q: [{"match_phrase": {"person": q.text}}, {"prefix": {"codes": q.compact}}],
}


def text_query(query: Query, tiers: Sequence[Tier] = TIERS) -> dict[str, Any]:
    """An entity scores the weight of the best tier it matches (dis_max without tie breaker)."""
    scored = [
        {"constant_score": {"filter": clause, "boost": float(tier.weight)}}
        for tier in tiers
        for clause in TIER_CLAUSES[tier.name](query)
    ]
    return {"dis_max": {"tie_breaker": 0.0, "queries": scored}}


def code_query(query: Query) -> dict[str, Any]:
    return {"term": {"codes": query.compact}}


def fuzzy_query(grams: list[str], narrow: list[dict[str, Any]]) -> dict[str, Any]:
    """The fuzzy tier's candidates: entities sharing enough of the query's grams."""
    return {
        "bool": {
            "should": [{"term": {"grams": g}} for g in grams],
            "minimum_should_match": names.min_shared(grams),
            "filter": narrow,
        }
    }


def filter_clauses(filters: SearchFilters) -> list[dict[str, Any]]:
    """One clause per condition of `filters` (all must hold)."""
    out: list[dict[str, Any]] = []
    for field, op, value in conditions(filters):
        if op in ("=", "has"):
            out.append({"term": {field: value}})
        else:
            out.append({"range": {field: {"gte" if op == ">=" else "lte": value}}})
    return out


def records_query(query: RecordQuery, today: date) -> dict[str, Any]:
    """Rows (not manifests) inside their publicity window, narrowed by `query`."""
    filters: list[dict[str, Any]] = [
        NOT_A_MANIFEST,
        {
            "bool": {
                "minimum_should_match": 1,
                "should": [
                    {"bool": {"must_not": {"exists": {"field": "public_until"}}}},
                    {"range": {"public_until": {"gt": today.isoformat()}}},
                ],
            }
        },
    ]
    for field_name, value in (
        ("category", query.category),
        ("department", query.department),
        ("uscc", query.uscc),
    ):
        if value:
            filters.append({"term": {field_name: value}})
    span = {k: v.isoformat() for k, v in (("gte", query.date_from), ("lte", query.date_to)) if v}
    if span:
        filters.append({"range": {"occurred_on": span}})
    return {"bool": {"filter": filters}}
