"""The search index port, on the embedded SQLite FTS5 adapter and on Elasticsearch.

One suite, both adapters. Documents come from real aggregates: entities are registered and
changed by applying publications through the Registry (in memory), then projected with
`index_entity`, exactly as the projection runner does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from adapters.clock import FixedDateClock
from adapters.search_index.base import IndexedEntity, RecordQuery, SearchIndex, SearchUnavailable
from adapters.search_index.elasticsearch import ElasticsearchIndex
from adapters.search_index.sqlite import SQLiteSearchIndex
from domain.departments import DepartmentRegistry
from domain.identity import make_resident_id
from domain.registry import Registry
from domain.uscc import make_registration_number, make_uscc
from projections.runner import index_entity
from tests.engines import elasticsearch_url, unique_prefix

TODAY = date(2026, 11, 22)
BINHAI = "120116"
_ids = itertools.count(1)


# --- the world: entities built by publishing to an in-memory registry ----------------------------


class World:
    def __init__(self) -> None:
        self.registry = Registry(
            clock=FixedDateClock(TODAY),
            departments=DepartmentRegistry.load_default(),
            env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        )

    def publish(
        self,
        kind: str,
        uscc: str,
        payload: dict[str, Any],
        *,
        department: str = "TJ-AMR",
        occurred_on: str = "2024-05-01",
    ) -> IndexedEntity:
        outcome = self.registry.apply_publication(
            {
                "schema": "gongshi.publication/1",
                "publication_id": f"{department}-{next(_ids):06d}",
                "department": department,
                "kind": kind,
                "uscc": uscc,
                "occurred_on": occurred_on,
                "payload": payload,
            }
        )
        assert outcome.status == "applied", outcome.as_dict()
        return self.indexed(uscc)

    def indexed(self, uscc: str) -> IndexedEntity:
        return index_entity(self.registry.get_entity(uscc))

    def register(
        self,
        n: int,
        name: str,
        *,
        person: str = "李明",
        established_on: str = "2020-03-15",
        with_registration_number: bool = False,
    ) -> IndexedEntity:
        uscc = make_uscc(BINHAI, f"MA{n:06d}").value
        payload: dict[str, Any] = {
            "name": name,
            "entity_type": "有限责任公司",
            "legal_representative": {
                "name": person,
                "id_number": make_resident_id("120101", date(1980, 1, 1), n, "M"),
                "phone": "13812345678",
            },
            "registered_capital": {"amount": "1000000.00", "currency": "CNY"},
            "established_on": established_on,
            "address": "天津市滨海新区第三大街51号",
            "business_scope": "软件开发",
            "registration_authority": "天津市滨海新区市场监督管理局",
        }
        if with_registration_number:
            payload["registration_number"] = make_registration_number(BINHAI, n)
        return self.publish("registration.registered", uscc, payload, occurred_on=established_on)

    def rename(self, uscc: str, before: str, after: str) -> IndexedEntity:
        changes = {"changes": [{"field": "name", "before": before, "after": after}]}
        return self.publish("registration.changed", uscc, changes, occurred_on="2025-06-01")

    def penalise(
        self,
        uscc: str,
        decision_no: str,
        *,
        decided_on: str = "2026-06-01",
        department: str = "TJ-AMR",
        severity: str = "general",
    ) -> IndexedEntity:
        return self.publish(
            "penalty.imposed",
            uscc,
            {
                "decision_no": decision_no,
                "violation": "虚假宣传",
                "basis": "《反不正当竞争法》第八条",
                "content": "罚款人民币伍万元",
                "fine_amount": "50000.00",
                "decided_on": decided_on,
                "severity": severity,
            },
            department=department,
            occurred_on=decided_on,
        )

    def revoke_penalty(self, uscc: str, decision_no: str, *, department: str = "TJ-AMR") -> IndexedEntity:
        return self.publish(
            "penalty.revoked",
            uscc,
            {"decision_no": decision_no, "reason": "复议撤销"},
            department=department,
            occurred_on="2026-09-01",
        )

    def grant_licence(
        self, uscc: str, licence_no: str, *, department: str = "TJ-HEALTH", occurred_on: str = "2025-03-01"
    ) -> IndexedEntity:
        return self.publish(
            "licence.granted",
            uscc,
            {
                "licence_no": licence_no,
                "licence_name": "公共场所卫生许可证",
                "content": "住宿",
                "valid_from": occurred_on,
            },
            department=department,
            occurred_on=occurred_on,
        )


@pytest.fixture
def world() -> Iterator[World]:
    w = World()
    yield w
    w.registry.close()


@pytest.fixture(params=["sqlite", "elasticsearch"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    if request.param == "sqlite":
        sqlite = SQLiteSearchIndex(tmp_path / "search.sqlite3")
        yield sqlite
        sqlite.close()
        return
    es = ElasticsearchIndex(elasticsearch_url(), prefix=unique_prefix(f"si-{next(_ids)}"), refresh=True)
    try:
        yield es
    finally:
        es.delete_all()
        es.close()


def write(index: SearchIndex, *entities: IndexedEntity, position: int = 1) -> None:
    index.write("entities", list(entities), position)


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]


# --- documents, versions, positions -----------------------------------------------------------------


def test_a_written_entity_reads_back_as_public_and_sharing_documents(
    index: SearchIndex, world: World
) -> None:
    entity = world.register(1, "天津滨海恒通科技有限公司", person="王建国")
    write(index, entity)
    public, sharing = index.get_public(entity.uscc), index.get_sharing(entity.uscc)
    assert public == entity.public and sharing == entity.sharing
    id_number = sharing["registration"]["legal_representative"]["id_number"]
    assert public["registration"]["legal_representative"]["id_number"] != id_number  # masked
    assert index.get_public(make_uscc(BINHAI, "MA999999").value) is None
    assert index.get_sharing(make_uscc(BINHAI, "MA999999").value) is None
    assert index.count() == 1


def test_a_lower_version_never_overwrites_a_higher_one(index: SearchIndex, world: World) -> None:
    v1 = world.register(1, "天津滨海恒通科技有限公司")
    v2 = world.rename(v1.uscc, "天津滨海恒通科技有限公司", "天津滨海恒通智能科技有限公司")
    write(index, v2, position=2)
    write(index, v1, position=3)  # a replay delivers the old version late
    assert index.get_public(v1.uscc)["name"] == "天津滨海恒通智能科技有限公司"
    assert index.get_public(v1.uscc)["version"] == 2
    assert index.search("天津滨海恒通科技有限公司", TODAY).items[0]["version"] == 2
    assert index.count() == 1


def test_a_batch_naming_an_entity_twice_keeps_the_newer_version(index: SearchIndex, world: World) -> None:
    v1 = world.register(1, "天津滨海恒通科技有限公司")
    v2 = world.rename(v1.uscc, "天津滨海恒通科技有限公司", "天津滨海恒通智能科技有限公司")
    index.write("entities", [v2, v1], 2)
    assert index.get_public(v1.uscc)["version"] == 2


def test_a_late_old_version_does_not_bring_back_a_revoked_penalty(index: SearchIndex, world: World) -> None:
    world.register(1, "天津滨海恒通科技有限公司")
    penalised = world.penalise(make_uscc(BINHAI, "MA000001").value, "津市监罚〔2026〕7号")
    revoked = world.revoke_penalty(penalised.uscc, "津市监罚〔2026〕7号")
    write(index, revoked, position=3)
    write(index, penalised, position=4)
    assert index.get_public(penalised.uscc)["penalties"] == []
    assert index.records(RecordQuery(category="penalty"), TODAY).total == 0


def test_the_position_is_recorded_per_projection_and_never_goes_backwards(index: SearchIndex) -> None:
    assert index.position("entities") is None
    index.write("entities", [], 5)
    assert index.position("entities") == 5
    index.write("entities", [], 3)
    assert index.position("entities") == 5
    index.write("entities", [], 9)
    index.write("other", [], 2)
    assert (index.position("entities"), index.position("other")) == (9, 2)


def test_writing_the_same_version_twice_changes_nothing(index: SearchIndex, world: World) -> None:
    entity = world.penalise(world.register(1, "天津滨海恒通科技有限公司").uscc, "津市监罚〔2026〕8号")
    write(index, entity, position=2)
    write(index, entity, position=2)
    assert index.count() == 1
    assert index.records(RecordQuery(uscc=entity.uscc), TODAY).total == 1
    assert index.position("entities") == 2


# --- public search ---------------------------------------------------------------------------------


@pytest.fixture
def corpus(world: World) -> dict[str, IndexedEntity]:
    """A small register: three 天津滨海… entities and a family of names around 天津恒通商贸有限公司."""
    out = {
        "hengtong_tech": world.register(
            1, "天津滨海恒通科技有限公司", person="王建国", with_registration_number=True
        ),
        "binhai_logistics": world.register(2, "天津滨海顺达物流有限公司"),
        "binhai_food": world.register(3, "天津滨海新区美食餐饮店"),
        "trading": world.register(4, "天津恒通商贸有限公司"),
        "trading_branch": world.register(5, "天津恒通商贸有限公司塘沽分公司"),
        "renamed": world.register(6, "天津恒通商贸有限公司"),
        "heping": world.register(7, "天津市和平区老城饭庄"),
    }
    # The sixth entity renamed itself to a shorter name; its old name is now someone else's.
    out["renamed"] = world.rename(out["renamed"].uscc, "天津恒通商贸有限公司", "天津恒达有限公司")
    return out


@pytest.fixture
def searchable(index: SearchIndex, corpus: dict[str, IndexedEntity]) -> SearchIndex:
    write(index, *corpus.values(), position=len(corpus))
    return index


def test_search_by_a_chinese_substring_of_three_or_more_characters(searchable: SearchIndex) -> None:
    page = searchable.search("恒通科技", TODAY)
    assert names(page.items) == ["天津滨海恒通科技有限公司"]
    assert page.total == 1


def test_search_by_a_two_character_substring(searchable: SearchIndex) -> None:
    page = searchable.search("滨海", TODAY)
    assert sorted(names(page.items)) == sorted(
        ["天津滨海恒通科技有限公司", "天津滨海顺达物流有限公司", "天津滨海新区美食餐饮店"]
    )
    assert page.total == 3
    assert names(searchable.search("饭庄", TODAY).items) == ["天津市和平区老城饭庄"]


def test_the_exact_name_ranks_first_above_entities_that_merely_contain_it(
    searchable: SearchIndex, corpus: dict[str, IndexedEntity]
) -> None:
    page = searchable.search("天津恒通商贸有限公司", TODAY)
    assert [item["uscc"] for item in page.items] == [
        corpus["trading"].uscc,
        corpus["trading_branch"].uscc,
        corpus["renamed"].uscc,
    ]


def test_a_name_match_ranks_above_a_former_name_match_and_shorter_names_first(
    searchable: SearchIndex, corpus: dict[str, IndexedEntity]
) -> None:
    page = searchable.search("恒通商贸", TODAY)
    assert names(page.items) == ["天津恒通商贸有限公司", "天津恒通商贸有限公司塘沽分公司", "天津恒达有限公司"]
    assert page.items[2]["former_names"][0]["name"] == "天津恒通商贸有限公司"


def test_search_by_a_former_name_after_a_name_change(index: SearchIndex, world: World) -> None:
    v1 = world.register(11, "天津滨海恒通科技有限公司")
    write(index, v1, position=1)
    v2 = world.rename(v1.uscc, "天津滨海恒通科技有限公司", "天津滨海恒通智能装备有限公司")
    write(index, v2, position=2)
    assert names(index.search("恒通科技", TODAY).items) == ["天津滨海恒通智能装备有限公司"]
    assert names(index.search("智能装备", TODAY).items) == ["天津滨海恒通智能装备有限公司"]


def test_search_by_legal_representative_name(searchable: SearchIndex) -> None:
    page = searchable.search("王建国", TODAY)
    assert names(page.items) == ["天津滨海恒通科技有限公司"]


@pytest.mark.parametrize("query", ["tjbh", "TJBH", "tianjin binhai", "tianjinbinhai", "tian jin bin hai"])
def test_search_by_pinyin_initials_and_full_pinyin(searchable: SearchIndex, query: str) -> None:
    page = searchable.search(query, TODAY)
    assert sorted(names(page.items)) == sorted(
        ["天津滨海恒通科技有限公司", "天津滨海顺达物流有限公司", "天津滨海新区美食餐饮店"]
    )


@pytest.mark.parametrize("query", ["hengtong", "heng tong", "bhht"])
def test_search_by_the_pinyin_of_part_of_a_name(searchable: SearchIndex, query: str) -> None:
    found = set(names(searchable.search(query, TODAY).items))
    if query == "bhht":
        assert found == {"天津滨海恒通科技有限公司"}
    else:  # the renamed entity is found by its former name 天津恒通商贸有限公司
        assert found == {
            "天津滨海恒通科技有限公司",
            "天津恒通商贸有限公司",
            "天津恒通商贸有限公司塘沽分公司",
            "天津恒达有限公司",
        }


def test_search_by_uscc_typed_lower_case_with_spaces(
    searchable: SearchIndex, corpus: dict[str, IndexedEntity]
) -> None:
    uscc = corpus["binhai_logistics"].uscc
    typed = " ".join(uscc[i : i + 4] for i in range(0, 18, 4)).lower()
    page = searchable.search(f"  {typed} ", TODAY)
    assert [item["uscc"] for item in page.items] == [uscc]
    assert page.total == 1


def test_search_by_fifteen_digit_registration_number(
    searchable: SearchIndex, corpus: dict[str, IndexedEntity]
) -> None:
    number = corpus["hengtong_tech"].public["registration_number"]
    assert number and len(number) == 15
    page = searchable.search(number, TODAY)
    assert [item["uscc"] for item in page.items] == [corpus["hengtong_tech"].uscc]


def test_search_with_nothing_matching_or_an_empty_query(searchable: SearchIndex) -> None:
    assert searchable.search("不存在的企业名称", TODAY).total == 0
    assert searchable.search("   ", TODAY).items == []


def test_search_pages_through_results_with_the_total(index: SearchIndex, world: World) -> None:
    entities = [world.register(20 + i, f"天津{'甲乙丙丁戊'[i]}物流有限公司") for i in range(5)]
    write(index, *entities, position=5)
    pages = [index.search("物流", TODAY, page=p, size=2) for p in (1, 2, 3, 4)]
    assert [p.total for p in pages] == [5, 5, 5, 5]
    assert [len(p.items) for p in pages] == [2, 2, 1, 0]
    seen = [name for p in pages for name in names(p.items)]
    assert sorted(seen) == sorted(e.public["name"] for e in entities)
    assert seen == sorted(seen)  # equal scores, equal lengths: ordered by name
    beyond = index.search("物流", TODAY, page=10_000, size=20)
    assert (beyond.total, beyond.items) == (5, [])


def test_search_items_are_public_documents(searchable: SearchIndex, corpus: dict[str, IndexedEntity]) -> None:
    item = searchable.search("王建国", TODAY).items[0]
    assert item == corpus["hengtong_tech"].public


# --- records ---------------------------------------------------------------------------------------


@pytest.fixture
def records_world(index: SearchIndex, world: World) -> dict[str, IndexedEntity]:
    a = world.register(31, "天津滨海恒通科技有限公司")
    a = world.penalise(a.uscc, "津市监罚〔2026〕1号", decided_on="2026-06-01")
    a = world.penalise(a.uscc, "津税罚〔2026〕2号", decided_on="2026-03-01", department="TJ-TAX")
    a = world.penalise(a.uscc, "津市监罚〔2024〕3号", decided_on="2024-01-10")  # window ended 2025-01-10
    a = world.grant_licence(a.uscc, "卫字〔2025〕001号", occurred_on="2025-03-01")
    b = world.register(32, "天津滨海顺达物流有限公司")
    b = world.penalise(b.uscc, "津市监罚〔2026〕4号", decided_on="2026-08-15")
    b = world.grant_licence(b.uscc, "卫字〔2026〕002号", occurred_on="2026-02-01")
    write(index, a, b, position=9)
    return {"a": a, "b": b}


def record_ids(page: Any) -> list[str]:
    return [row["record_id"] for row in page.items]


def test_records_are_newest_first_and_leave_out_penalties_past_their_window(
    index: SearchIndex, records_world: dict[str, IndexedEntity]
) -> None:
    page = index.records(RecordQuery(), TODAY)
    assert record_ids(page) == [
        "津市监罚〔2026〕4号",
        "津市监罚〔2026〕1号",
        "津税罚〔2026〕2号",
        "卫字〔2026〕002号",
        "卫字〔2025〕001号",
    ]
    assert page.total == 5
    back_then = index.records(RecordQuery(category="penalty"), date(2024, 6, 1))
    assert "津市监罚〔2024〕3号" in record_ids(back_then)


def test_records_filter_by_category_department_entity_and_dates(
    index: SearchIndex, records_world: dict[str, IndexedEntity]
) -> None:
    penalties = index.records(RecordQuery(category="penalty"), TODAY)
    assert record_ids(penalties) == ["津市监罚〔2026〕4号", "津市监罚〔2026〕1号", "津税罚〔2026〕2号"]
    assert {row["category"] for row in penalties.items} == {"penalty"}
    tax = index.records(RecordQuery(department="TJ-TAX"), TODAY)
    assert record_ids(tax) == ["津税罚〔2026〕2号"]
    licences = index.records(RecordQuery(category="licence", uscc=records_world["b"].uscc), TODAY)
    assert record_ids(licences) == ["卫字〔2026〕002号"]
    spring = index.records(RecordQuery(date_from=date(2026, 2, 1), date_to=date(2026, 6, 1)), TODAY)
    assert record_ids(spring) == ["津市监罚〔2026〕1号", "津税罚〔2026〕2号", "卫字〔2026〕002号"]
    paged = index.records(RecordQuery(), TODAY, page=2, size=2)
    assert (paged.total, record_ids(paged)) == (5, ["津税罚〔2026〕2号", "卫字〔2026〕002号"])


def test_rows_carry_the_entity_and_the_publicity_end(
    index: SearchIndex, records_world: dict[str, IndexedEntity]
) -> None:
    row = index.records(RecordQuery(department="TJ-TAX"), TODAY).items[0]
    assert row["uscc"] == records_world["a"].uscc
    assert row["entity_name"] == "天津滨海恒通科技有限公司"
    assert row["public_until"] == "2027-03-01"
    assert row in records_world["a"].rows


def test_a_revoked_penalty_row_disappears_after_the_entity_is_rewritten(
    index: SearchIndex, world: World, records_world: dict[str, IndexedEntity]
) -> None:
    revoked = world.revoke_penalty(records_world["a"].uscc, "津市监罚〔2026〕1号")
    write(index, revoked, position=10)
    assert record_ids(index.records(RecordQuery(category="penalty"), TODAY)) == [
        "津市监罚〔2026〕4号",
        "津税罚〔2026〕2号",
    ]
    assert [p["decision_no"] for p in index.get_public(revoked.uscc)["penalties"]] == [
        "津税罚〔2026〕2号",
        "津市监罚〔2024〕3号",
    ]


def test_count_is_the_number_of_entities(index: SearchIndex, world: World) -> None:
    assert index.count() == 0
    a, b = world.register(41, "天津甲公司"), world.register(42, "天津乙公司")
    write(index, a, position=1)
    write(index, a, b, position=2)
    assert index.count() == 2


# --- Elasticsearch only: setup, refresh, the boundary ---------------------------------------------------


@pytest.fixture
def es_index() -> Iterator[tuple[ElasticsearchIndex, Elasticsearch]]:
    url = elasticsearch_url()
    index = ElasticsearchIndex(url, prefix=unique_prefix(f"si-{next(_ids)}"))  # no refresh: production mode
    client = Elasticsearch(url)
    try:
        yield index, client
    finally:
        index.delete_all()
        index.close()
        client.close()


def test_elasticsearch_indexes_sit_behind_aliases_and_ensure_is_idempotent(
    es_index: tuple[ElasticsearchIndex, Elasticsearch],
) -> None:
    index, client = es_index
    index.ensure()
    index.ensure()
    for name in ("entities", "records"):
        assert list(client.indices.get_alias(name=f"{index.prefix}-{name}")) == [f"{index.prefix}-{name}-v1"]
    assert client.indices.exists(index=f"{index.prefix}-positions")


def test_elasticsearch_rewrites_within_one_refresh_interval_still_drop_revoked_rows(
    es_index: tuple[ElasticsearchIndex, Elasticsearch], world: World
) -> None:
    index, client = es_index
    entity = world.penalise(world.register(1, "天津滨海恒通科技有限公司").uscc, "津市监罚〔2026〕9号")
    index.write("entities", [entity], 2)
    revoked = world.revoke_penalty(entity.uscc, "津市监罚〔2026〕9号")
    index.write("entities", [revoked], 3)  # the penalty row is not searchable yet
    client.indices.refresh(index=f"{index.prefix}-records")
    assert index.records(RecordQuery(uscc=entity.uscc), TODAY).total == 0
    assert index.get_public(entity.uscc)["penalties"] == []  # a GET is real time
    assert index.position("entities") == 3


def test_elasticsearch_unreachable_is_search_unavailable() -> None:
    es = ElasticsearchIndex("http://127.0.0.1:1", prefix="unreachable", request_timeout=2)
    assert es.ping() is False
    with pytest.raises(SearchUnavailable):
        es.count()
    with pytest.raises(SearchUnavailable):
        es.write("entities", [], 1)
    es.close()
