"""The relevance test set, run on both indexes: every query's expected entity comes first.

The register (300 generated entities) is built once per module and written to each index in
one batch; see `relevance_cases` for how the queries and their answers are derived.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from adapters.search_index.base import IndexedEntity, SearchIndex
from adapters.search_index.elasticsearch import ElasticsearchIndex
from adapters.search_index.ranking import names_of
from adapters.search_index.sqlite import SQLiteSearchIndex
from tests.contract.relevance_cases import TODAY, Case, build_register, derive_cases
from tests.engines import elasticsearch_url, real, unique_prefix

KINDS = {
    "full_name",
    "fragment",
    "former_name",
    "pinyin_full",
    "pinyin_full_spaced",
    "pinyin_initials",
    "uscc_typed",
    "registration_number",
    "legal_representative",
    "legal_form",
    "typo",
    "pinyin_typo",
}
NAME_KINDS = {"full_name", "fragment", "former_name", "pinyin_full", "pinyin_initials", "legal_form", "typo"}


@pytest.fixture(scope="module")
def register() -> list[IndexedEntity]:
    return build_register()


@pytest.fixture(scope="module")
def cases(register: list[IndexedEntity]) -> list[Case]:
    return derive_cases(register)


@pytest.fixture(scope="module", params=["sqlite", real("elasticsearch")])
def index(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, register: list[IndexedEntity]
) -> Iterator[SearchIndex]:
    if request.param == "sqlite":
        port: SearchIndex = SQLiteSearchIndex(tmp_path_factory.mktemp("relevance") / "search.sqlite3")
    else:
        port = ElasticsearchIndex(elasticsearch_url(), prefix=unique_prefix("relevance"), refresh=True)
    try:
        port.write("entities", register, len(register))
        yield port
    finally:
        if isinstance(port, ElasticsearchIndex):
            port.delete_all()
        port.close()


def test_the_set_has_at_least_fifty_queries_of_every_kind(cases: list[Case]) -> None:
    assert len(cases) >= 50
    kinds = Counter(case.kind for case in cases)
    assert set(kinds) == KINDS, kinds
    assert len({case.query for case in cases}) == len(cases)


def test_every_query_finds_its_entity_first(index: SearchIndex, cases: list[Case]) -> None:
    misses = []
    for case in cases:
        page = index.search(case.query, TODAY, size=3)
        top = [item["name"] for item in page.items]
        if not page.items or page.items[0]["uscc"] != case.expected_uscc:
            misses.append(f"{case.kind}: {case.query!r} → {top} (expected {case.expected_name})")
    assert misses == [], "\n".join(misses)


def test_name_matches_come_back_highlighted(index: SearchIndex, cases: list[Case]) -> None:
    wrong = []
    for case in cases:
        if case.kind not in NAME_KINDS:
            continue
        page = index.search(case.query, TODAY, size=1)
        marked = page.highlights[0] if page.highlights else None
        written = names_of(page.items[0]) if page.items else []
        plain = (marked or "").replace("<em>", "").replace("</em>", "")
        if marked is None or "<em>" not in marked or plain not in written:
            wrong.append(f"{case.kind}: {case.query!r} → {marked!r}")
    assert wrong == [], "\n".join(wrong)
