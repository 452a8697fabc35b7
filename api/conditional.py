"""Conditional GET of an entity's public record: a client that already holds it asks again with
`If-None-Match` and gets `304 Not Modified` without the search index being read.

The ETag names what the answer depends on: the entity's version (its last event), the system date
(publicity windows begin and end with the date, so the same version reads differently tomorrow)
and `DOCUMENT_FORM`, the form of the public document (raised whenever the code changes what a
stored document turns into). It is weak (`W/`): equal tags mean the same record, not the same bytes.

The answer is built from the index, the check from the event store (`Registry.current_version`, one
indexed row): while the projection is behind the event store the two versions differ and the
client simply gets the full answer again, with the ETag of the document it got — a 304 is only ever
given for a version the event store has, and the index can never be ahead of it. `Cache-Control:
no-cache` makes caches ask every time.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

__all__ = ["CACHE_CONTROL", "DOCUMENT_FORM", "EntityVersions", "entity_etag", "none_match"]

#: Raise when the public document built from a stored one changes form (a field added, renamed).
DOCUMENT_FORM = 1
CACHE_CONTROL = "no-cache"


class EntityVersions(Protocol):
    def current_version(self, uscc: str) -> int | None:
        """The entity's version in the event store; None when it has no events."""
        ...


def entity_etag(uscc: str, version: int, today: date) -> str:
    return f'W/"{uscc}.{version}.{today.isoformat()}.{DOCUMENT_FORM}"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names this ETag (the weak comparison of RFC 9110 §13.1.2)."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags
