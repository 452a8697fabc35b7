"""One way to find an entity's public document from what a person typed: the API's
`GET /api/v1/entities/{uscc}`, the entity page and its PDF extract all use `find_entity`."""

from __future__ import annotations

from datetime import date
from typing import Any

from adapters.search_index.base import SearchIndex
from domain.errors import EntityNotFound
from domain.uscc import USCC, looks_like_registration_number, validate_registration_number

#: How many search hits a registration-number lookup reads at most, looking for the exact one
#: (a code query returns only entities whose codes contain the number: a handful).
MAX_SCANNED = 1000
_PAGE = 100


def find_entity(index: SearchIndex, raw: str, today: date) -> dict[str, Any]:
    """The stored public document for a USCC or a 15-digit registration number — only the
    entity that has exactly that code, never the best search hit.

    Raises InvalidUSCC / InvalidRegistrationNumber (naming the wrong character) or EntityNotFound.
    """
    compact = "".join(raw.split())
    if looks_like_registration_number(compact):
        number = validate_registration_number(compact)
        doc = _by_registration_number(index, number, today)
        if doc is None:
            raise EntityNotFound(number)
        return doc
    code = USCC.parse(raw).value
    stored = index.get_public(code)
    if stored is None:
        raise EntityNotFound(code)
    return stored


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
