"""The search index on Elasticsearch 8.19 (standard analyzer only: CJK is one token per character).

A thin class over the parts, the way yente splits its index code:

- `client` — the connection (orjson bodies) and vendor errors translated to `SearchUnavailable`;
- `lifecycle` — index names and generations, definitions (`mappings/*.json` + the filter
  fields of `FILTER_FIELDS`), creation and mapping migration;
- `documents` — the documents and bulk operations each projection writes (pure);
- `writer` — version-guarded writes, positions, the publicity job's flag rewrite;
- `queries` — query bodies, ranking built from `adapters.search_index.ranking` (pure);
- `search` — reads: search, the fuzzy tier, documents by USCC, records, counts;
- `scan` — the whole register in USCC order from one point in time (open data);
- `rebuild` — a new generation filled beside the serving one, swapped in one alias update.

Nothing connects before the first call. Reads by id (`get_public`, `position`) are real-time.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import Any, Literal

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from adapters.search_index.base import (
    NO_FILTERS,
    FlagChange,
    IndexedEntity,
    MatchProbe,
    Page,
    PublicScan,
    RecordQuery,
    SearchFilters,
    SearchIndex,
)
from adapters.search_index.elasticsearch import documents
from adapters.search_index.elasticsearch.agency import AgencyReader, match_candidates
from adapters.search_index.elasticsearch.client import connect
from adapters.search_index.elasticsearch.lifecycle import Indices
from adapters.search_index.elasticsearch.rebuild import Rebuilds
from adapters.search_index.elasticsearch.scan import scan_public
from adapters.search_index.elasticsearch.search import Reader
from adapters.search_index.elasticsearch.writer import Writer


class ElasticsearchIndex(SearchIndex):
    """`refresh=True` makes every write searchable before it returns (tests; a refresh per write),
    `"wait_for"` waits for the next scheduled refresh (up to 1 s), False (production) relies on
    the 1 s refresh interval."""

    #: concurrent bulks into the rebuilt index: measured on 2 cores (bench/rebuild), one bulk at a
    #: time indexes ~1,900 entity documents/s, two 2,600/s, three 3,000/s
    rebuild_writers = 3

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "gongshi",
        refresh: bool | Literal["wait_for"] = False,
        shards: int | None = None,
        replicas: int | None = None,
        request_timeout: float = 30.0,
        client: Elasticsearch | None = None,
    ) -> None:
        self._client = client or connect(url, request_timeout)
        self.indices = Indices(self._client, prefix, shards=shards, replicas=replicas)
        self._writer = Writer(self.indices, refresh)
        self._reader = Reader(self.indices)
        self._rebuilds = Rebuilds(self.indices, self._writer)
        self._agency = AgencyReader(self.indices)

    # --- names and setup -------------------------------------------------------------------------

    @property
    def prefix(self) -> str:
        return self.indices.prefix

    @property
    def outdated(self) -> dict[str, str]:
        """Projections whose serving index has a mapping older than the definition, and why."""
        return self.indices.outdated

    def alias(self, projection: str) -> str:
        return self.indices.alias(projection)

    @property
    def entities_alias(self) -> str:
        return self.alias("entities")

    @property
    def records_alias(self) -> str:
        return self.alias("records")

    @property
    def sharing_alias(self) -> str:
        return self.alias("sharing")

    @property
    def positions_index(self) -> str:
        return self.indices.positions_index

    def ensure(self) -> None:
        """Create the missing indexes and aliases; add fields defined since (see `lifecycle`)."""
        self.indices.ensure()

    def delete_all(self) -> None:
        """Drop every index of this prefix (tests, local resets)."""
        self.indices.delete_all()

    def operations(
        self, projection: str, entities: Sequence[IndexedEntity], index: str
    ) -> list[dict[str, Any]]:
        """The bulk operations writing `entities` into `index`, an empty (new) index."""
        return documents.operations(projection, documents.newest(entities), index)

    # --- the port ---------------------------------------------------------------------------------

    def position(self, projection: str) -> int | None:
        return self._writer.position(projection)

    def write(self, projection: str, entities: Sequence[IndexedEntity], position: int) -> None:
        self._writer.write(projection, entities, position)

    def search(
        self, q: str, today: date, page: int = 1, size: int = 20, *, filters: SearchFilters = NO_FILTERS
    ) -> Page:
        return self._reader.search(q, today, page, size, filters=filters)

    def get_public(self, uscc: str) -> dict[str, Any] | None:
        return self._reader.get("entities", uscc, "public")

    def get_sharing(self, uscc: str) -> dict[str, Any] | None:
        return self._reader.get("sharing", uscc, "sharing")

    def scan_public(self, page_size: int = 1000) -> AbstractContextManager[PublicScan]:
        return scan_public(self.indices, lambda: self._writer.position("entities"), page_size)

    def get_sharing_many(self, usccs: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self._agency.sharing_many(usccs)

    def entities_of_person(self, id_number: str, limit: int = 1000) -> list[str]:
        return self._agency.entities_of_person(id_number, limit)

    def match_candidates(self, probes: Sequence[MatchProbe]) -> list[list[dict[str, Any]]]:
        return match_candidates(self.indices, probes)

    def records(self, query: RecordQuery, today: date, page: int = 1, size: int = 20) -> Page:
        return self._reader.records(query, today, page, size)

    def count(self, projection: str = "entities") -> int:
        return self._reader.count(projection)

    def flag_changes(self, today: date) -> list[FlagChange]:
        return self._writer.flag_changes(today)

    def reevaluate_flags(self, today: date) -> int:
        return self._writer.reevaluate_flags(today)

    def begin_rebuild(self, projection: str) -> str:
        return self._rebuilds.begin(projection)

    def write_rebuild(self, projection: str, target: str, entities: Sequence[IndexedEntity]) -> None:
        self._rebuilds.write(projection, target, entities)

    def finish_rebuild(self, projection: str, target: str, position: int, *, grace_s: float = 2.0) -> None:
        self._rebuilds.finish(projection, target, position, grace_s=grace_s)

    def abort_rebuild(self, projection: str, target: str) -> None:
        self._rebuilds.abort(projection, target)

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except (ApiError, TransportError):
            return False

    def close(self) -> None:
        self._client.close()
