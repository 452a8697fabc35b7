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
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import date
from typing import Any, Literal

#: The projections that write the index, in the order a fresh system fills them.
PROJECTIONS = ("entities", "records", "sharing")

#: List flags an entity may carry (`penalty`: a penalty inside its publicity window).
FLAGS = ("abnormal", "serious", "penalty")


class SearchUnavailable(Exception):
    """The index cannot be reached or answered with an error."""


@dataclass(frozen=True)
class IndexedEntity:
    """Everything the index holds for one entity at one aggregate version. Each projection
    writes its own part: `entities` the public document, search fields, filter values, flags and
    windows; `records` the rows; `sharing` the sharing document (parts a projection does not
    write may be empty).

    `filters` holds the value of each of `FILTER_FIELDS` (by name). `flags` are evaluated as of
    `flags_as_of` (the projection's date); `penalty_windows` are the [starts_on, ends_on) spans
    of its publicised penalties (ends_on None: no end), so the publicity job can find the
    entities whose `penalty` flag changes on a given date."""

    uscc: str
    version: int
    public: dict[str, Any] = field(default_factory=dict)
    sharing: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    filters: dict[str, str | None] = field(default_factory=dict)
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
class PublicScan:
    """Every stored public document of the `entities` projection, by USCC ascending, read from
    one view of the index taken when the scan began (writes made meanwhile are not seen).

    `position` is the projection's position that view reflects: exactly (SQLite: documents and
    position are read in one transaction), or at least (Elasticsearch: the position is read just
    before the view is opened; the view holds every write up to it, and may hold writes the
    projection had made but not yet recorded a position for). `total` is how many documents the
    view holds. `documents` yields them one by one, read in pages: memory holds a page or two."""

    position: int | None
    total: int
    documents: Iterator[dict[str, Any]]


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
    the USCC); every flag in `flags` must be set; the date range is inclusive. How each
    attribute is compared with what is stored is said by `FILTER_FIELDS`."""

    status: str | None = None
    district: str | None = None
    entity_type: str | None = None
    industry: str | None = None
    flags: tuple[str, ...] = ()
    established_from: date | None = None
    established_to: date | None = None

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in dataclass_fields(self))


@dataclass(frozen=True)
class MatchProbe:
    """What one row of an agency's list is looked up by (batch matching): exact USCCs (the row's
    and, on a second pass, its one-character neighbours), a registration number, a name (its
    forms from `domain.names.matching.name_forms`) and, to order candidates only, the legal
    representative. A representative alone finds nothing."""

    usccs: tuple[str, ...] = ()
    registration_number: str | None = None
    name: str | None = None
    representative: str | None = None
    size: int = 10
    #: only the cheap exact lookups (codes; the name canonical, without legal form, or a former
    #: name's): the first pass, which settles most rows of most lists
    exact: bool = False


@dataclass(frozen=True)
class FlagChange:
    """An entity whose stored flags change with the date (a penalty's publicity window began or
    ended): its version, flags before and after, and its public document."""

    uscc: str
    version: int
    before: tuple[str, ...]
    after: tuple[str, ...]
    public: dict[str, Any]


#: The top-level keys of a public document a match candidate carries (with, from the registration,
#: the legal representative's name and the address, the former representatives' names, and the
#: entity's stored `flags`).
CANDIDATE_FIELDS = ("uscc", "name", "former_names", "registration_number", "status")


@dataclass(frozen=True)
class FilterField:
    """A field search can be narrowed by. Each entity stores one value of it (a string or None),
    computed by the `entities` projection into `IndexedEntity.filters[name]`; both engines derive
    their stored field (Elasticsearch mapping, SQLite column and index) and their condition from
    this row.

    `equals`: the stored value equals `SearchFilters.<params[0]>`; `between`: it lies within
    [`<params[0]>`, `<params[1]>`] (either may be unset; ISO dates compare as strings)."""

    name: str
    match: Literal["equals", "between"]
    params: tuple[str, ...]
    type: Literal["keyword", "date"] = "keyword"


#: The fields an entity is filtered on (besides `flags`, which the publicity job rewrites).
#: A new one: a row here, an attribute of `SearchFilters`, its value in
#: `projections.documents.filter_values`, and a query parameter (docs/ARCHITECTURE.md, Recipes).
FILTER_FIELDS: tuple[FilterField, ...] = (
    FilterField("status", "equals", ("status",)),
    FilterField("district_code", "equals", ("district",)),
    FilterField("entity_type", "equals", ("entity_type",)),
    FilterField("industry", "equals", ("industry",)),
    FilterField("established_on", "between", ("established_from", "established_to"), "date"),
)

#: A condition on a stored field: (field, operator, value). Operators: `=`, `>=`, `<=` on a
#: filter field, `has` on `flags` (the flag is among the entity's).
Condition = tuple[str, Literal["=", ">=", "<=", "has"], str]


def conditions(filters: SearchFilters) -> list[Condition]:
    """What `filters` asks of an entity, engine-neutral: every condition must hold."""
    out: list[Condition] = []
    for f in FILTER_FIELDS:
        values = [getattr(filters, p) for p in f.params]
        if f.match == "equals" and values[0]:
            out.append((f.name, "=", _text(values[0])))
        elif f.match == "between":
            low, high = values
            if low:
                out.append((f.name, ">=", _text(low)))
            if high:
                out.append((f.name, "<=", _text(high)))
    out += [("flags", "has", flag) for flag in sorted(set(filters.flags))]
    return out


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


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

    # --- agencies (issue 13): batched reads of the sharing projection -------------------------

    @abstractmethod
    def get_sharing_many(self, usccs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The agency documents of those of `usccs` the index holds, by USCC (one round trip per
        batch: Elasticsearch `mget`, SQLite `IN`)."""

    @abstractmethod
    def match_candidates(self, probes: Sequence[MatchProbe]) -> list[list[dict[str, Any]]]:
        """For each probe, its candidates (at most `probe.size`): the entities with one of its
        USCCs or its registration number, its name (canonical, without legal form or place
        prefix, former names), its name's pinyin, or enough of its name's grams (typos). Each is
        the part of its public document the matcher reads (`CANDIDATE_FIELDS`, the legal
        representative's name and the address, former representatives) and its stored `flags`.
        One round trip per batch where the engine allows (`_msearch`)."""

    @abstractmethod
    def entities_of_person(self, id_number: str, limit: int = 1000) -> list[str]:
        """The USCCs whose agency document names the natural person with this identity number
        in a role (current or former legal representative), at most `limit`."""

    @abstractmethod
    def scan_public(self, page_size: int = 1000) -> AbstractContextManager[PublicScan]:
        """Every stored public document, by USCC ascending, from one consistent view (see
        `PublicScan`), read `page_size` at a time — what an export of the whole register reads.
        The view is released when the context ends."""

    @abstractmethod
    def records(self, query: RecordQuery, today: date, page: int = 1, size: int = 20) -> Page:
        """Publicised records, newest first, those out of their window left out."""

    @abstractmethod
    def count(self, projection: str = "entities") -> int:
        """Number of entities `projection` holds documents of."""

    # --- the publicity job ---------------------------------------------------------------------

    @abstractmethod
    def flag_changes(self, today: date) -> list[FlagChange]:
        """The entities whose stored `penalty` flag differs from what it is on `today` — what
        `reevaluate_flags(today)` will rewrite (the publicity job announces them first)."""

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
