"""The search index port: what the projections write and the public API reads.

Three projections write it, each following the notification log with its own position:

- `entities` — one public document per entity (masked, publicity windows applied) with the
  fields search matches and filters on;
- `records` — one row per publicised record, for the department publicity pages;
- `sharing` — one agency document per entity (unmasked, every record, former names, history).

Each projection's documents live apart (their own Elasticsearch index behind their own alias;
their own SQLite tables), so each can fall behind, catch up or be rebuilt on its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

#: The projections that write the index, in the order a fresh system fills them.
PROJECTIONS = ("entities", "records", "sharing")

#: List flags an entity may carry (`penalty`: a penalty inside its publicity window).
FLAGS = ("abnormal", "serious", "penalty")


class SearchUnavailable(Exception):
    """The index cannot be reached or answered with an error."""


@dataclass(frozen=True)
class IndexedEntity:
    """Everything the index holds for one entity at one aggregate version. Each projection
    writes its own part: `entities` the public document, fields, flags and windows; `records`
    the rows; `sharing` the sharing document (parts a projection does not write may be empty).

    `flags` are evaluated as of `flags_as_of` (the projection's date); `penalty_windows` are the
    [starts_on, ends_on) spans of its publicised penalties (ends_on None: no end), so the
    publicity job can find the entities whose `penalty` flag changes on a given date."""

    uscc: str
    version: int
    public: dict[str, Any] = field(default_factory=dict)
    sharing: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    flags_as_of: str | None = None
    penalty_windows: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class Page:
    """`items` are stored public documents; `highlights[i]` is the matched name of `items[i]`
    with `<em>` marks (None when the match was not on a name). Record pages have no highlights."""

    total: int
    items: list[dict[str, Any]] = field(default_factory=list)
    highlights: list[str | None] = field(default_factory=list)


@dataclass(frozen=True)
class RecordQuery:
    category: str | None = None
    department: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    uscc: str | None = None


@dataclass(frozen=True)
class SearchFilters:
    """Narrow a search. `district` is the 6-digit administrative division code (digits 3–8 of
    the USCC); every flag in `flags` must be set; the date range is inclusive."""

    status: str | None = None
    district: str | None = None
    entity_type: str | None = None
    industry: str | None = None
    flags: tuple[str, ...] = ()
    established_from: date | None = None
    established_to: date | None = None

    def __bool__(self) -> bool:
        return any(
            (
                self.status,
                self.district,
                self.entity_type,
                self.industry,
                self.flags,
                self.established_from,
                self.established_to,
            )
        )


NO_FILTERS = SearchFilters()


def check_projection(projection: str) -> str:
    if projection not in PROJECTIONS:
        raise ValueError(f"unknown projection {projection!r} (one of {', '.join(PROJECTIONS)})")
    return projection


class SearchIndex(ABC):
    #: How many bulk writes a rebuild keeps in flight (see `projections.rebuild.fill_generation`).
    rebuild_writers: int = 1

    @abstractmethod
    def position(self, projection: str) -> int | None:
        """The last notification id written by `projection` (None before the first write)."""

    @abstractmethod
    def write(self, projection: str, entities: Sequence[IndexedEntity], position: int) -> None:
        """Upsert the documents `projection` owns (a stored version never goes backwards) and
        record its position (which never goes backwards either)."""

    @abstractmethod
    def search(
        self, q: str, today: date, page: int = 1, size: int = 20, *, filters: SearchFilters = NO_FILTERS
    ) -> Page:
        """Public search, best match first: exact USCC or registration number > exact name >
        name prefix > name phrase > former name > legal representative > pinyin; when nothing
        matches, a fuzzy tier (typos). Names and queries are compared in canonical form
        (legal forms normalised). An empty `q` with filters lists the filtered entities."""

    @abstractmethod
    def get_public(self, uscc: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def get_sharing(self, uscc: str) -> dict[str, Any] | None:
        """The agency document (the `sharing` projection)."""

    @abstractmethod
    def records(self, query: RecordQuery, today: date, page: int = 1, size: int = 20) -> Page:
        """Publicised records, newest first, those out of their window left out."""

    @abstractmethod
    def count(self, projection: str = "entities") -> int:
        """Number of entities `projection` holds documents of."""

    # --- the publicity job ---------------------------------------------------------------------

    @abstractmethod
    def reevaluate_flags(self, today: date) -> int:
        """Re-write the stored `penalty` flag of every entity whose flag differs as of `today`
        (a penalty window opened or closed); returns how many entities changed."""

    # --- rebuild without downtime --------------------------------------------------------------

    @abstractmethod
    def begin_rebuild(self, projection: str) -> str:
        """Prepare an empty generation of `projection`'s documents beside the serving one;
        returns its name. Reads and writes keep going to the serving generation until
        `finish_rebuild`; the other projections are not touched."""

    @abstractmethod
    def write_rebuild(self, projection: str, target: str, entities: Sequence[IndexedEntity]) -> None:
        """Fill the new generation (documents only; no position)."""

    @abstractmethod
    def finish_rebuild(self, projection: str, target: str, position: int) -> None:
        """Atomically make `target` the serving generation of `projection`, drop the old one,
        and record `position` for it (only if it is further than the one stored)."""

    @abstractmethod
    def abort_rebuild(self, projection: str, target: str) -> None:
        """Drop an unfinished generation."""

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        """Release connections."""
