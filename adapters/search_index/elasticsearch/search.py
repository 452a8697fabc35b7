"""Reads: public search (tiers, then the fuzzy tier when nothing matched), documents by USCC,
the department publicity pages' records, counts."""

from __future__ import annotations

from datetime import date
from typing import Any

from elasticsearch import NotFoundError

from adapters.search_index.base import NO_FILTERS, Page, RecordQuery, SearchFilters
from adapters.search_index.elasticsearch import queries
from adapters.search_index.elasticsearch.client import total, translated, window
from adapters.search_index.elasticsearch.lifecycle import Indices
from adapters.search_index.ranking import fuzzy_page, highlights
from domain import names


def _publics(res: Any) -> list[dict[str, Any]]:
    return [hit["_source"]["public"] for hit in res["hits"]["hits"]]


class Reader:
    def __init__(self, indices: Indices) -> None:
        self.indices = indices

    def search(
        self, q: str, today: date, page: int = 1, size: int = 20, *, filters: SearchFilters = NO_FILTERS
    ) -> Page:
        offset, size = window(page, size)
        query = names.analyse(q)
        narrow = queries.filter_clauses(filters)
        if not query.text:
            if not filters:
                return Page(0, [])
            found = self._search({"bool": {"filter": narrow}}, offset, size, sort=queries.BY_NAME)
            return Page(total(found), _publics(found))
        if query.is_code:
            found = self._search(
                {"bool": {"must": queries.code_query(query), "filter": narrow}}, offset, size
            )
            return Page(total(found), _publics(found), [None] * len(_publics(found)))
        found = self._search({"bool": {"must": queries.text_query(query), "filter": narrow}}, offset, size)
        if total(found) == 0:
            return self._fuzzy(query, narrow, page, size)
        items = _publics(found)
        return Page(total(found), items, highlights(query, items))

    def _search(
        self,
        query: dict[str, Any],
        offset: int,
        size: int,
        *,
        sort: list[Any] = queries.BY_RELEVANCE,
        source: list[str] | None = None,
    ) -> Any:
        with translated("search"):
            return self.indices.ready().search(
                index=self.indices.alias("entities"),
                query=query,
                track_total_hits=True,
                source_includes=source or ["public"],
                sort=sort,
                from_=offset,
                size=size,
            )

    def _fuzzy(self, query: names.Query, narrow: list[dict[str, Any]], page: int, size: int) -> Page:
        grams = query.grams()
        if not grams:
            return Page(0, [])
        found = self._search(
            queries.fuzzy_query(grams, narrow), 0, names.FUZZY_CANDIDATES, source=["public", "grams"]
        )
        candidates = [
            (hit["_source"]["public"], hit["_source"].get("grams") or []) for hit in found["hits"]["hits"]
        ]
        return fuzzy_page(query, candidates, page, size)

    def get(self, projection: str, uscc: str, part: str) -> dict[str, Any] | None:
        with translated("get"):
            try:
                doc = self.indices.ready().get(
                    index=self.indices.alias(projection), id=uscc, source_includes=[part]
                )
            except NotFoundError:
                return None
        return dict(doc["_source"][part])

    def records(self, query: RecordQuery, today: date, page: int = 1, size: int = 20) -> Page:
        offset, size = window(page, size)
        with translated("records"):
            res = self.indices.ready().search(
                index=self.indices.alias("records"),
                query=queries.records_query(query, today),
                track_total_hits=True,
                source_includes=["row"],
                sort=queries.RECORDS_NEWEST_FIRST,
                from_=offset,
                size=size,
            )
        return Page(total(res), [hit["_source"]["row"] for hit in res["hits"]["hits"]])

    def count(self, projection: str = "entities") -> int:
        query = {"term": {"kind": "entity"}} if projection == "records" else {"match_all": {}}
        with translated("count"):
            return int(self.indices.ready().count(index=self.indices.alias(projection), query=query)["count"])
