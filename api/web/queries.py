"""What the public pages ask the index, shaped for them: entity lookup, filtered search, and
records merged across several categories (newest first)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from adapters.search_index.base import RecordQuery, SearchFilters, SearchIndex
from domain.errors import EntityNotFound
from domain.uscc import USCC, looks_like_registration_number, validate_registration_number

#: Deepest page the merged lists serve (each category is read up to page × size rows).
MAX_MERGED_PAGE = 50


@dataclass(frozen=True)
class Results:
    total: int
    items: list[dict[str, Any]] = field(default_factory=list)


def find_entity(index: SearchIndex, raw: str, today: date) -> dict[str, Any]:
    """The stored public document for a USCC or a 15-digit registration number.

    Raises InvalidUSCC / InvalidRegistrationNumber (naming the wrong character) or EntityNotFound.
    """
    compact = "".join(raw.split())
    if looks_like_registration_number(compact):
        number = validate_registration_number(compact)
        hits = [
            d for d in index.search(number, today, size=5).items if d.get("registration_number") == number
        ]
        if not hits:
            raise EntityNotFound(number)
        return hits[0]
    code = USCC.parse(raw).value
    doc = index.get_public(code)
    if doc is None:
        raise EntityNotFound(code)
    return doc


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
