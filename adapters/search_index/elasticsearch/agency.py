"""Agencies' reads: agency documents in batches (`mget`), a person's entities (a term query on
`persons`), and batch matching's candidates (`_msearch`: one request per batch of rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.search_index.base import MatchProbe, SearchUnavailable
from adapters.search_index.elasticsearch.client import translated
from adapters.search_index.elasticsearch.lifecycle import Indices
from domain import names
from domain.names.matching import name_forms

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


# --- batch matching: one _msearch per batch of probes -----------------------------------------------


def probe_query(probe: MatchProbe) -> dict[str, Any]:
    """The candidates of one row: any code or name clause finds an entity (weighted so the exact
    ones come first); the legal representative only orders what was found."""
    clauses: list[dict[str, Any]] = []

    def weighted(clause: dict[str, Any], boost: float) -> None:
        clauses.append({"constant_score": {"filter": clause, "boost": boost}})

    if probe.usccs:
        weighted({"terms": {"uscc": list(probe.usccs)}}, 1000)
    if probe.registration_number:
        weighted({"term": {"codes": probe.registration_number}}, 900)
    if probe.name:
        query = names.analyse(probe.name)
        if query.cjk:
            forms = name_forms(probe.name)
            core = names.core(probe.name)
            bare = forms.bare.replace("分公司", "")
            weighted({"term": {"name_canonical.keyword": forms.canonical}}, 800)
            if core:
                weighted({"term": {"name_core.keyword": core}}, 700)
                weighted({"match_phrase": {"former_core": core}}, 600)
            if bare:
                weighted({"match_phrase": {"name_core": bare}}, 500)
                weighted({"match_phrase": {"former_core": bare}}, 400)
            grams = query.grams()
        else:
            weighted({"prefix": {"pinyin.words": query.squeezed}}, 300)
            grams = query.grams()
        if grams:
            clauses.append(
                {
                    "bool": {
                        "should": [{"term": {"grams": g}} for g in grams],
                        "minimum_should_match": names.min_shared(grams),
                    }
                }
            )
    body: dict[str, Any] = {
        "query": {"bool": {"must": [{"bool": {"should": clauses, "minimum_should_match": 1}}]}},
        "size": probe.size,
        "_source": ["public"],
        "sort": ["_score", {"uscc": "asc"}],
    }
    if probe.representative:
        booster = {
            "constant_score": {"filter": {"term": {"person.keyword": probe.representative}}, "boost": 50}
        }
        body["query"]["bool"]["should"] = [booster]
    return body


def match_candidates(indices: Indices, probes: Sequence[MatchProbe]) -> list[list[dict[str, Any]]]:
    if not probes:
        return []
    searches: list[dict[str, Any]] = []
    asked: list[int] = []
    for i, probe in enumerate(probes):
        if probe.usccs or probe.registration_number or probe.name:
            searches += [{}, probe_query(probe)]
            asked.append(i)
    out: list[list[dict[str, Any]]] = [[] for _ in probes]
    if not asked:
        return out
    with translated("msearch"):
        found = indices.ready().msearch(index=indices.alias("entities"), searches=searches)
    for i, response in zip(asked, found["responses"], strict=True):
        if "error" in response:
            raise SearchUnavailable(f"Elasticsearch msearch failed: {response['error']}")
        out[i] = [hit["_source"]["public"] for hit in response["hits"]["hits"]]
    return out
