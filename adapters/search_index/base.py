"""The search index port: what the projections write and the public API reads."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any


class SearchUnavailable(Exception):
    """The index cannot be reached or answered with an error."""


@dataclass(frozen=True)
class IndexedEntity:
    """Everything the index holds for one entity at one aggregate version."""

    uscc: str
    version: int
    public: dict[str, Any]
    sharing: dict[str, Any]
    rows: list[dict[str, Any]]
    fields: dict[str, str]


@dataclass(frozen=True)
class Page:
    total: int
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class RecordQuery:
    category: str | None = None
    department: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    uscc: str | None = None


class SearchIndex(ABC):
    @abstractmethod
    def position(self, projection: str) -> int | None:
        """The last notification id written by `projection` (None before the first write)."""

    @abstractmethod
    def write(self, projection: str, entities: Sequence[IndexedEntity], position: int) -> None:
        """Upsert documents (a stored version never goes backwards) and record the position."""

    @abstractmethod
    def search(self, q: str, today: date, page: int = 1, size: int = 20) -> Page:
        """Public search: items are stored public documents, best match first."""

    @abstractmethod
    def get_public(self, uscc: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def get_sharing(self, uscc: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def records(self, query: RecordQuery, today: date, page: int = 1, size: int = 20) -> Page:
        """Publicised records, newest first, those out of their window left out."""

    @abstractmethod
    def count(self) -> int:
        """Number of entities indexed."""

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        """Release connections."""
