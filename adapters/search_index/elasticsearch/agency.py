"""Agencies' reads: agency documents in batches (`mget`), a person's entities (a term query on
`persons`), and batch matching's candidates (`_msearch`: one request per batch of rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.search_index.base import CANDIDATE_FIELDS, MatchProbe, SearchUnavailable
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


#: What the matcher reads of a candidate (the rest of its public document is left on the server:
#: decoding whole documents cost more than the searches).
CANDIDATE_SOURCE = [
    *(f"public.{key}" for key in CANDIDATE_FIELDS),
    "public.registration.legal_representative.name",
    "public.registration.address",
    "public.changes.changes.field",
    "public.changes.changes.before.name",
    "flags",
]


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
            if probe.exact:
                pass
            elif bare:
                weighted({"match_phrase": {"name_core": bare}}, 500)
                weighted({"match_phrase": {"former_core": bare}}, 400)
            if probe.exact:
                grams = []
            elif len(forms.bare) >= 3:
                # the bare name's bigrams (those of 天津, 有限, 公司 … match nearly every entity),
                # all but two of them (one character typed wrong spoils two), and its syllables
                # as a phrase: a homophone typed for a character (茂/贸) keeps its pinyin
                grams = names.analyse(forms.bare).grams()
                syllables = " ".join(s for s, _, _ in names.pinyin.syllables(forms.bare) if s)
                weighted({"match_phrase": {"pinyin": syllables}}, 450)
                if grams:
                    clauses.append(
                        {
                            "bool": {
                                "should": [{"term": {"grams": g}} for g in grams],
                                "minimum_should_match": max(1, len(grams) - 2),
                            }
                        }
                    )
                grams = []
            else:
                grams = query.grams()
        else:
            weighted({"prefix": {"pinyin.words": query.squeezed}}, 300)
            grams = [] if probe.exact else query.grams()
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
        "_source": CANDIDATE_SOURCE,
        "sort": ["_score", {"uscc": "asc"}],
    }
    if probe.representative:
        booster = {
            "constant_score": {"filter": {"term": {"person.keyword": probe.representative}}, "boost": 50}
        }
        body["query"]["bool"]["should"] = [booster]
    return body


def _candidate(source: dict[str, Any]) -> dict[str, Any]:
    return {**source["public"], "flags": source.get("flags", [])}


def match_candidates(indices: Indices, probes: Sequence[MatchProbe]) -> list[list[dict[str, Any]]]:
    """Probes that look up USCCs only (most rows of most lists) are answered by one `mget` (by
    document id: real time, no scoring); the others by one `_msearch`."""
    out: list[list[dict[str, Any]]] = [[] for _ in probes]
    by_id = [i for i, p in enumerate(probes) if p.usccs and not p.name and not p.registration_number]
    searched = [
        i
        for i, p in enumerate(probes)
        if i not in set(by_id) and (p.usccs or p.registration_number or p.name)
    ]
    es = indices.ready()
    if by_id:
        ids = list(dict.fromkeys(u for i in by_id for u in probes[i].usccs))
        with translated("mget"):
            found = es.mget(index=indices.alias("entities"), ids=ids, source_includes=CANDIDATE_SOURCE)
        docs = {str(d["_id"]): _candidate(d["_source"]) for d in found["docs"] if d.get("found")}
        for i in by_id:
            out[i] = [docs[u] for u in probes[i].usccs if u in docs][: probes[i].size]
    if searched:
        searches: list[dict[str, Any]] = []
        for i in searched:
            searches += [{}, probe_query(probes[i])]
        with translated("msearch"):
            answered = es.msearch(index=indices.alias("entities"), searches=searches)
        for i, response in zip(searched, answered["responses"], strict=True):
            if "error" in response:
                raise SearchUnavailable(f"Elasticsearch msearch failed: {response['error']}")
            out[i] = [_candidate(hit["_source"]) for hit in response["hits"]["hits"]]
    return out
