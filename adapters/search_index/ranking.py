"""How search results are ordered and marked, the same on both engines: the fuzzy tier
(`domain.names.fuzzy`) ranks the entities sharing most of the query's grams when no other tier
matched (`fuzzy_page`), and highlights come from `domain.names.highlight`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.search_index.base import Page
from domain import names


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
