"""The SQL: name search scored by a CASE built from the ranking table, which entities are
candidates at all, filters, the fuzzy tier's candidates, the records pages. Pure: no connection.

The FTS5 trigram tokenizer matches Chinese substrings of 3+ characters; shorter terms (common in
Chinese: 滨海, 恒通) fall back to LIKE over the same columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.search_index.base import RecordQuery, SearchFilters, conditions
from adapters.search_index.ranking import TIERS, Tier, by_weight
from adapters.search_index.sqlite.schema import FTS_FIELDS
from domain.names import Query

_E = "ESCAPE '\\'"

#: How each tier of `ranking.TIERS` matches on this engine's columns; None: anything that was
#: a candidate at all (the CASE's ELSE, so it must be the lightest tier).
TIER_CONDITIONS: dict[str, str | None] = {
    "exact_name": "e.name = :q",
    "exact_canonical": "e.name_canonical = :canonical",
    "exact_core": ":core IS NOT NULL AND e.name_core = :core",
    "name_prefix": f"e.name LIKE :prefix {_E} OR e.name_canonical LIKE :canonical_prefix {_E}",
    "name_phrase": f"e.name LIKE :contains {_E} OR e.name_canonical LIKE :canonical_contains {_E}"
    f" OR (:core IS NOT NULL AND e.name_core LIKE :core_contains {_E})",
    "former_name": f"e.former_names LIKE :contains {_E} OR e.former_canonical LIKE :canonical_contains {_E}"
    f" OR (:core IS NOT NULL AND e.former_core LIKE :core_contains {_E})",
    "person": "e.person = :q",
    "pinyin": f"e.pinyin LIKE :lower_contains {_E} OR e.pinyin LIKE :squeezed_contains {_E}",
    "other": None,
}


def score_sql(tiers: Sequence[Tier] = TIERS) -> str:
    """A CASE giving each candidate the weight of the best tier it matches."""
    ordered = by_weight(tiers)
    *weighed, lightest = ordered
    if TIER_CONDITIONS[lightest.name] is not None or any(TIER_CONDITIONS[t.name] is None for t in weighed):
        raise ValueError("the tier any candidate matches must be the lightest, and the only one")
    branches = "".join(f"\n     WHEN ({TIER_CONDITIONS[t.name]}) THEN {t.weight}" for t in weighed)
    return f"CASE{branches}\n     ELSE {lightest.weight} END"


SCORE = score_sql()
ORDER = "ORDER BY score DESC, length(e.name), e.name"
BY_NAME = "ORDER BY length(e.name), e.name"


def like_escape(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(term: str) -> str:
    return f"%{like_escape(term)}%"


def phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def text_params(query: Query) -> dict[str, Any]:
    """The parameters `SCORE` reads."""
    return {
        "q": query.text,
        "canonical": query.canonical,
        "core": query.core,
        "prefix": f"{like_escape(query.text)}%",
        "canonical_prefix": f"{like_escape(query.canonical)}%",
        "contains": contains(query.text),
        "canonical_contains": contains(query.canonical),
        "core_contains": contains(query.core or ""),
        "lower_contains": contains(query.lower),
        "squeezed_contains": contains(query.squeezed),
    }


def filter_sql(filters: SearchFilters, params: dict[str, Any]) -> str:
    """One condition per condition of `filters` (all must hold), its values put in `params`."""
    where = []
    for i, (column, op, value) in enumerate(conditions(filters)):
        if op == "has":
            where.append(f"e.{column} LIKE :f{i}")
            params[f"f{i}"] = f"% {like_escape(value)} %"
        else:
            where.append(f"e.{column} {op} :f{i}")
            params[f"f{i}"] = value
    return " AND ".join(where) or "1"


def candidates(query: Query, params: dict[str, Any]) -> str:
    """Which entities match at all: an FTS5 phrase per term of 3+ characters, LIKE below."""
    terms: list[tuple[tuple[str, ...] | None, str]] = [
        (None, query.text),
        (("name_canonical", "former_canonical"), query.canonical),
        (("pinyin",), query.squeezed),
    ]
    if query.core:
        terms.append((("name_core", "former_core"), query.core))
    match, likes = [], []
    for i, (columns, term) in enumerate(terms):
        if len(term) >= 3:
            prefix = "{" + " ".join(columns) + "} : " if columns else ""
            match.append(prefix + phrase(term))
        elif term:
            params[f"like{i}"] = contains(term)
            for column in columns or FTS_FIELDS:
                likes.append(f"e.{column} LIKE :like{i} {_E}")
            if columns is None:
                params[f"like_lower{i}"] = contains(term.lower())
                likes.append(f"e.pinyin LIKE :like_lower{i} {_E}")
    if match:
        params["match"] = " OR ".join(match)
        likes.insert(0, "e.uscc IN (SELECT uscc FROM entities_fts WHERE entities_fts MATCH :match)")
    return " OR ".join(likes) or "0"


FUZZY = (
    "SELECT e.public_doc, g.grams FROM entities_grams g JOIN entities e ON e.uscc = g.uscc "
    "WHERE entities_grams MATCH :grams AND {filters} ORDER BY bm25(entities_grams) LIMIT :candidates"
)


def records_sql(query: RecordQuery, params: dict[str, Any]) -> str:
    """The WHERE clause of the records pages: rows inside their window, narrowed by `query`."""
    where = ["(public_until IS NULL OR public_until > :today)"]
    for column, value in (
        ("category", query.category),
        ("department", query.department),
        ("uscc", query.uscc),
    ):
        if value:
            where.append(f"{column} = :{column}")
            params[column] = value
    if query.date_from:
        where.append("occurred_on >= :date_from")
        params["date_from"] = query.date_from.isoformat()
    if query.date_to:
        where.append("occurred_on <= :date_to")
        params["date_to"] = query.date_to.isoformat()
    return " AND ".join(where)
