"""Reads: public search (tiers, then the fuzzy tier when nothing matched), documents by USCC,
the department publicity pages' records, counts. Highlights are computed in Python
(`domain.names.highlight`), as on Elasticsearch."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import Any

from adapters.search_index.base import NO_FILTERS, Page, RecordQuery, SearchFilters, check_projection
from adapters.search_index.ranking import fuzzy_page, highlights
from adapters.search_index.sqlite import queries
from adapters.search_index.sqlite.connection import Connections
from adapters.search_index.sqlite.schema import ENTITY_TABLE
from domain import names


class Reader:
    def __init__(self, connections: Connections) -> None:
        self.connections = connections

    def search(
        self, q: str, today: date, page: int = 1, size: int = 20, *, filters: SearchFilters = NO_FILTERS
    ) -> Page:
        query = names.analyse(q)
        params: dict[str, Any] = {"limit": size, "offset": (page - 1) * size}
        filter_sql = queries.filter_sql(filters, params)
        c = self.connections.get()
        if not query.text:
            if not filters:
                return Page(0, [])
            return self._page(c, filter_sql, "0 AS score", queries.BY_NAME, params)
        if query.is_code:
            params.update(compact=query.compact, code=queries.contains(query.compact))
            where = f"(e.uscc = :compact OR e.codes LIKE :code ESCAPE '\\') AND {filter_sql}"
            page_ = self._page(c, where, "0 AS score", "ORDER BY e.uscc", params)
            return Page(page_.total, page_.items, [None] * len(page_.items))
        params.update(queries.text_params(query))
        where = f"({queries.candidates(query, params)}) AND {filter_sql}"
        found = self._page(c, where, f"{queries.SCORE} AS score", queries.ORDER, params)
        if found.total == 0:
            return self._fuzzy(c, query, filter_sql, params, page, size)
        return Page(found.total, found.items, highlights(query, found.items))

    @staticmethod
    def _page(c: sqlite3.Connection, where: str, score: str, order: str, params: dict[str, Any]) -> Page:
        total = int(c.execute(f"SELECT COUNT(*) FROM entities e WHERE {where}", params).fetchone()[0])
        if total == 0:
            return Page(0, [])
        rows = c.execute(
            f"SELECT e.public_doc, {score} FROM entities e WHERE {where} {order} LIMIT :limit OFFSET :offset",
            params,
        ).fetchall()
        return Page(total, [json.loads(r[0]) for r in rows])

    @staticmethod
    def _fuzzy(
        c: sqlite3.Connection,
        query: names.Query,
        filter_sql: str,
        params: dict[str, Any],
        page: int,
        size: int,
    ) -> Page:
        grams = query.grams()
        if not grams:
            return Page(0, [])
        params = {
            **params,
            "grams": " OR ".join(queries.phrase(g) for g in grams),
            "candidates": 5 * names.FUZZY_CANDIDATES,
        }
        rows = c.execute(queries.FUZZY.format(filters=filter_sql), params).fetchall()
        return fuzzy_page(query, [(json.loads(doc), stored.split()) for doc, stored in rows], page, size)

    def get(self, table: str, column: str, uscc: str) -> dict[str, Any] | None:
        row = self.connections.get().execute(f"SELECT {column} FROM {table} WHERE uscc=?", (uscc,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def records(self, query: RecordQuery, today: date, page: int = 1, size: int = 20) -> Page:
        params: dict[str, Any] = {"today": today.isoformat(), "limit": size, "offset": (page - 1) * size}
        clause = queries.records_sql(query, params)
        c = self.connections.get()
        total = int(c.execute(f"SELECT COUNT(*) FROM records WHERE {clause}", params).fetchone()[0])
        rows = c.execute(
            f"SELECT row FROM records WHERE {clause} ORDER BY occurred_on DESC, uscc, record_id "
            "LIMIT :limit OFFSET :offset",
            params,
        ).fetchall()
        return Page(total, [json.loads(r[0]) for r in rows])

    def count(self, projection: str = "entities") -> int:
        table = ENTITY_TABLE[check_projection(projection)]
        return int(self.connections.get().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
