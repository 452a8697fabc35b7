"""What the public pages ask the index, shaped for them: filtered search, and records merged
across several categories (newest first). Entity lookup is `api.lookup.find_entity`, shared
with the API."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from adapters.search_index.base import RecordQuery, SearchFilters, SearchIndex

#: Deepest page the merged lists serve (each category is read up to page × size rows).
MAX_MERGED_PAGE = 50


@dataclass(frozen=True)
class Results:
    total: int
    items: list[dict[str, Any]] = field(default_factory=list)


def search(
    index: SearchIndex,
    q: str,
    today: date,
    page: int,
    size: int,
    *,
    status: str | None = None,
    district: str | None = None,
) -> Results:
    """Public search, narrowed by registration status and district (USCC digits 3–8)."""
    filters = SearchFilters(status=status, district=district)
    found = index.search(q, today, page=page, size=size, filters=filters)
    return Results(found.total, found.items)


def records(
    index: SearchIndex,
    categories: tuple[str, ...],
    base: RecordQuery,
    today: date,
    page: int,
    size: int,
) -> Results:
    """Rows of one or several categories, newest first, paged as one list."""
    if len(categories) == 1:
        found = index.records(replace(base, category=categories[0]), today, page=page, size=size)
        return Results(found.total, found.items)
    page = min(page, MAX_MERGED_PAGE)
    rows: list[dict[str, Any]] = []
    total = 0
    for category in categories:
        found = index.records(replace(base, category=category), today, page=1, size=page * size)
        total += found.total
        rows.extend(found.items)
    rows.sort(key=lambda r: (r.get("occurred_on") or "", r.get("uscc") or "", r.get("record_id") or ""))
    rows.reverse()
    start = (page - 1) * size
    return Results(total, rows[start : start + size])
