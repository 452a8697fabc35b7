"""One way to find an entity's public document from what a person typed: the API's
`GET /api/v1/entities/{uscc}`, the entity page and its PDF extract all use `find_entity`."""

from __future__ import annotations

from datetime import date
from typing import Any

from adapters.search_index.base import SearchIndex
from domain.errors import EntityNotFound, InvalidRegistrationNumber, InvalidUSCC
from domain.uscc import (
    USCC,
    check_failed,
    looks_like_registration_number,
    near_misses,
    registration_near_misses,
    validate_registration_number,
)

#: How many search hits a registration-number lookup reads at most, looking for the exact one
#: (a code query returns only entities whose codes contain the number: a handful).
MAX_SCANNED = 1000
#: How many valid near misses of a code a lookup checks at most (an 18-character USCC has about
#: 20 valid ones, a registration number about 15).
MAX_CANDIDATES = 60
_PAGE = 100


def find_entity(index: SearchIndex, raw: str, today: date) -> dict[str, Any]:
    """The stored public document for a USCC or a 15-digit registration number — only the
    entity that has exactly that code, never the best search hit.

    Raises InvalidUSCC / InvalidRegistrationNumber (naming the wrong character; for a failed
    check, `candidates`: the entities one typo away, 您是否要找) or EntityNotFound.
    """
    compact = "".join(raw.split())
    if looks_like_registration_number(compact):
        try:
            number = validate_registration_number(compact)
        except InvalidRegistrationNumber as err:
            if check_failed(err):
                err.detail["candidates"] = did_you_mean(index, compact, today)
            raise
        doc = _by_registration_number(index, number, today)
        if doc is None:
            raise EntityNotFound(number)
        return doc
    try:
        code = USCC.parse(raw).value
    except InvalidUSCC as err:
        if check_failed(err):
            err.detail["candidates"] = did_you_mean(index, raw, today)
        raise
    stored = index.get_public(code)
    if stored is None:
        raise EntityNotFound(code)
    return stored


def did_you_mean(index: SearchIndex, raw: str, today: date) -> list[dict[str, str]]:
    """您是否要找: the entities on the register whose USCC (or registration number) is one
    mistyped character or one swap of adjacent characters away from `raw`, which failed its
    check — `uscc`, `name` and the code as it should have been typed (`typed`)."""
    compact = "".join(raw.split())
    if looks_like_registration_number(compact):
        return _registered(index, registration_near_misses(compact), today)
    return _registered(index, near_misses(compact), today)


def _registered(index: SearchIndex, codes: list[str], today: date) -> list[dict[str, str]]:
    """Those of `codes` (valid USCCs or registration numbers) an entity on the register has, with
    its name: a handful of lookups (few of the typos pass both checks)."""
    found = []
    for code in codes[:MAX_CANDIDATES]:
        doc = index.get_public(code) if len(code) == 18 else _by_registration_number(index, code, today)
        if doc is not None:
            found.append({"uscc": str(doc["uscc"]), "name": str(doc.get("name") or ""), "typed": code})
    return found


def _by_registration_number(index: SearchIndex, number: str, today: date) -> dict[str, Any] | None:
    # The index answers a code query with every entity whose codes *contain* it (SQLite) — an
    # 18-character USCC can contain a valid 15-digit number — and in no promised order; and a
    # query that matches nothing may fall through to the fuzzy tier. So: read the hits and keep
    # the one whose registration number is this number.
    page = 1
    while (page - 1) * _PAGE < MAX_SCANNED:
        found = index.search(number, today, page=page, size=_PAGE)
        for doc in found.items:
            if doc.get("registration_number") == number:
                return doc
        if not found.items or page * _PAGE >= found.total:
            return None
        page += 1
    return None
