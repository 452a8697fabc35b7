"""The embedded search index on SQLite FTS5 (trigram tokenizer: Chinese substrings of 3+ chars).

A thin class over the parts, split like the Elasticsearch adapter:

- `connection` — one connection per thread (WAL), transactions;
- `schema` — the tables of each projection and their generations, migration (a column per
  filter field of `FILTER_FIELDS`);
- `documents` — the version-guarded rows each projection writes;
- `writer` — a projection's rows and its position in one transaction; the publicity job;
- `queries` — the SQL, ranking built from `adapters.search_index.ranking` (pure);
- `search` — reads: search, the fuzzy tier, documents by USCC, records, counts;
- `scan` — the whole register in USCC order from one read transaction (open data);
- `rebuild` — shadow tables filled beside the serving ones, swapped in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Any

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
from adapters.search_index.sqlite.agency import AgencyReader
from adapters.search_index.sqlite.connection import Connections
from adapters.search_index.sqlite.rebuild import Rebuilds
from adapters.search_index.sqlite.scan import scan_public
from adapters.search_index.sqlite.schema import migrate
from adapters.search_index.sqlite.search import Reader
from adapters.search_index.sqlite.writer import Writer


class SQLiteSearchIndex(SearchIndex):
    def __init__(self, path: Path) -> None:
        self.connections = Connections(path)
        self.path = self.connections.path
        self._writer = Writer(self.connections)
        self._reader = Reader(self.connections)
        self._rebuilds = Rebuilds(self.connections)
        self._agency = AgencyReader(self.connections)
        migrate(self.connections.get())

    def position(self, projection: str) -> int | None:
        return self._writer.position(projection)

    def write(self, projection: str, entities: Sequence[IndexedEntity], position: int) -> None:
        self._writer.write(projection, entities, position)

    def search(
        self, q: str, today: date, page: int = 1, size: int = 20, *, filters: SearchFilters = NO_FILTERS
    ) -> Page:
        return self._reader.search(q, today, page, size, filters=filters)

    def get_public(self, uscc: str) -> dict[str, Any] | None:
        return self._reader.get("entities", "public_doc", uscc)

    def get_sharing(self, uscc: str) -> dict[str, Any] | None:
        return self._reader.get("sharing", "sharing_doc", uscc)

    def scan_public(self, page_size: int = 1000) -> AbstractContextManager[PublicScan]:
        return scan_public(self.path, page_size)

    def get_sharing_many(self, usccs: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self._agency.sharing_many(usccs)

    def entities_of_person(self, id_number: str, limit: int = 1000) -> list[str]:
        return self._agency.entities_of_person(id_number, limit)

    def match_candidates(self, probes: Sequence[MatchProbe]) -> list[list[dict[str, Any]]]:
        return self._agency.match_candidates(probes)

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

    def finish_rebuild(self, projection: str, target: str, position: int) -> None:
        self._rebuilds.finish(projection, target, position)

    def abort_rebuild(self, projection: str, target: str) -> None:
        self._rebuilds.abort(projection, target)

    def close(self) -> None:
        self.connections.close()
