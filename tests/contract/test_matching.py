"""Batch matching on both search engines, measured on the relevance set
(tests/contract/match_relevance.py): the precision of `match`, the recall of `match` +
`possible`, and the hard cases one by one. The figures are printed (`-s`) and reported in
docs/BENCHMARKS.md; the asserts hold the goals (match precision ≥ 0.99, recall ≥ 0.97)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from adapters.search_index.base import PROJECTIONS, SearchIndex
from adapters.search_index.elasticsearch import ElasticsearchIndex
from adapters.search_index.sqlite import SQLiteSearchIndex
from api.matching import Matcher, MatchResult
from domain.registry import MarketEntity
from projections.runner import index_entity
from tests.builders import make_registry
from tests.contract.match_relevance import (
    TODAY,
    Case,
    generated_cases,
    hand_cases,
    negative_cases,
    register_envelopes,
)
from tests.engines import elasticsearch_url, real, unique_prefix


@pytest.fixture(scope="module", params=["sqlite", real("elasticsearch")])
def register(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchIndex]:
    registry = make_registry(today=TODAY)
    envelopes = register_envelopes()
    for start in range(0, len(envelopes), 500):
        registry.process(envelopes[start : start + 500])
    usccs = [e["uscc"] for e in envelopes if e["kind"] == "registration.registered"]
    entities = [index_entity(registry.get_entity(u), TODAY) for u in usccs]
    index: SearchIndex
    if request.param == "sqlite":
        index = SQLiteSearchIndex(Path(tmp_path_factory.mktemp("match")) / "search.sqlite3")
    else:
        index = ElasticsearchIndex(elasticsearch_url(), prefix=unique_prefix("match"))
    try:
        for projection in PROJECTIONS:
            index.write(projection, entities, 1)
        if isinstance(index, ElasticsearchIndex):
            with Elasticsearch(elasticsearch_url()) as es:
                es.indices.refresh(index=f"{index.prefix}-*")
        yield index
    finally:
        if isinstance(index, ElasticsearchIndex):
            index.delete_all()
        index.close()
        registry.close()


def cases(index: SearchIndex) -> list[Case]:
    docs = [
        d
        for e in register_envelopes()
        if e["kind"] == "registration.registered"
        if (d := index.get_public(e["uscc"]))
    ]
    return [*generated_cases(docs), *negative_cases(docs), *hand_cases()]


def correct(case: Case, result: MatchResult) -> bool:
    """`match` must name the entity first; `possible` must show it among its candidates (for an
    officer to choose); `none` is right only for rows that must not match."""
    found = [m.candidate.uscc for m in result.candidates]
    if result.decision == "match":
        return bool(found) and found[0] == case.expected
    if result.decision == "possible":
        return case.expected in found
    return case.expected is None


@pytest.fixture(scope="module")
def measured(register: SearchIndex) -> tuple[list[Case], list[MatchResult]]:
    all_cases = cases(register)
    return all_cases, list(Matcher(register, TODAY).match([c.row for c in all_cases]))


def test_the_relevance_set_is_large_and_covers_every_hard_case(
    measured: tuple[list[Case], list[MatchResult]],
) -> None:
    all_cases, _ = measured
    kinds = Counter(c.kind for c in all_cases)
    assert len(all_cases) >= 300
    assert sum(1 for c in all_cases if c.expected is None) >= 60
    for kind in (
        "typo",
        "traditional",
        "fullwidth",
        "legal_form",
        "no_legal_form",
        "branch",
        "place",
        "former_name",
        "pinyin",
        "shared_rep_alone",
        "near_miss",
    ):
        assert kinds[kind] >= 1, kind


def test_match_precision_and_recall_meet_the_goals(
    measured: tuple[list[Case], list[MatchResult]], capsys: pytest.CaptureFixture[str]
) -> None:
    all_cases, results = measured
    by_decision: dict[str, list[bool]] = {"match": [], "possible": [], "none": []}
    for case, result in zip(all_cases, results, strict=True):
        by_decision[result.decision].append(correct(case, result))
    expected = [(c, r) for c, r in zip(all_cases, results, strict=True) if c.expected is not None]
    recall = sum(r.decision != "none" and correct(c, r) for c, r in expected) / len(expected)
    precision = {d: (sum(v) / len(v) if v else None) for d, v in by_decision.items()}
    with capsys.disabled():
        print(
            f"\nrelevance: {len(all_cases)} rows; decided "
            + ", ".join(f"{d} {len(v)} (precision {precision[d]:.4f})" for d, v in by_decision.items() if v)
            + f"; recall of match+possible {recall:.4f} ({len(expected)} rows with an answer)"
        )
    assert precision["match"] is not None and precision["match"] >= 0.99
    assert recall >= 0.97


def test_strict_cases_are_matched_and_negatives_never_are(
    measured: tuple[list[Case], list[MatchResult]],
) -> None:
    all_cases, results = measured
    not_matched = [
        (c.kind, c.row) for c, r in zip(all_cases, results, strict=True) if c.strict and r.decision != "match"
    ]
    wrongly = [
        (c.kind, c.row)
        for c, r in zip(all_cases, results, strict=True)
        if c.expected is None and r.decision == "match"
    ]
    assert not_matched == [] and wrongly == []


def test_results_are_explained_scored_and_in_input_order(
    measured: tuple[list[Case], list[MatchResult]],
) -> None:
    _, results = measured
    assert [r.row for r in results] == list(range(1, len(results) + 1))
    for r in results:
        assert len(r.candidates) <= 5
        for m in r.candidates:
            assert 0.0 <= m.score <= 1.0 and m.features
        scores = [m.score for m in r.candidates]
        assert scores == sorted(scores, reverse=True)


def test_a_shared_legal_representative_alone_finds_nothing(register: SearchIndex) -> None:
    from domain.names.matching import MatchRow

    [result] = Matcher(register, TODAY).match([MatchRow(legal_representative="周海涛")])
    assert result.decision == "none" and result.candidates == [] and result.flags == ["no_name_or_code"]


def test_candidates_carry_status_and_flags(register: SearchIndex) -> None:
    from domain.names.matching import MatchRow

    rows = [
        MatchRow(uscc=e["uscc"]) for e in register_envelopes()[:400] if e["kind"] == "registration.registered"
    ]
    results = list(Matcher(register, TODAY).match(rows))
    assert all(r.decision == "match" for r in results)
    assert {r.candidates[0].candidate.status for r in results} >= {"存续"}
    assert any(r.candidates[0].candidate.flags for r in results)  # some are listed or penalised
    assert json.dumps([r.public() for r in results], ensure_ascii=False)  # JSON-ready
    assert MarketEntity  # (the documents come from real aggregates)
