"""Agencies' reads of the sharing projection: documents in batches (`mget`), a person's
entities (a term query on `persons`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.search_index.elasticsearch.client import translated
from adapters.search_index.elasticsearch.lifecycle import Indices

BATCH = 1000


class AgencyReader:
    def __init__(self, indices: Indices) -> None:
        self.indices = indices

    def sharing_many(self, usccs: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        distinct = list(dict.fromkeys(usccs))
        for start in range(0, len(distinct), BATCH):
            chunk = distinct[start : start + BATCH]
            with translated("mget"):
                found = self.indices.ready().mget(
                    index=self.indices.alias("sharing"), ids=chunk, source_includes=["sharing"]
                )
            for doc in found["docs"]:
                if doc.get("found"):
                    out[str(doc["_id"])] = dict(doc["_source"]["sharing"])
        return out

    def entities_of_person(self, id_number: str, limit: int) -> list[str]:
        with translated("persons"):
            found = self.indices.ready().search(
                index=self.indices.alias("sharing"),
                query={"term": {"persons": id_number.strip().upper()}},
                source=False,
                size=limit,
                sort=[{"uscc": "asc"}],
            )
        return [str(hit["_id"]) for hit in found["hits"]["hits"]]
