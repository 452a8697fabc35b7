"""The search index port, on the embedded SQLite FTS5 adapter and on Elasticsearch.

One suite, both adapters. Documents come from real aggregates: entities are registered and
changed by applying publications through the Registry (in memory), then projected with
`index_entity`, exactly as the projection runner does.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from adapters.clock import FixedDateClock
from adapters.search_index.base import (
    PROJECTIONS,
    IndexedEntity,
    RecordQuery,
    SearchFilters,
    SearchIndex,
    SearchUnavailable,
)
from adapters.search_index.elasticsearch import ElasticsearchIndex, definition
from adapters.search_index.sqlite import SQLiteSearchIndex
from domain.departments import DepartmentRegistry
from domain.identity import make_resident_id
from domain.registry import Registry
from domain.uscc import make_registration_number, make_uscc
from projections.rebuild import rebuild_projection
from projections.runner import index_entity, index_projections
from tests.engines import elasticsearch_url, real, unique_prefix

TODAY = date(2026, 11, 22)
#: Penalties in these tests come from a department under the credit platform's (NDRC) rules, whose
#: windows count from the decision date; market supervision's own rules are tested in
#: tests/unit/test_publicity.py and test_documents.py.
CREDIT_PLATFORM_DEPARTMENT = "TJ-EM"
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
        return index_entity(self.registry.get_entity(uscc), TODAY)

    def register(
        self,
        n: int,
        name: str,
        *,
        person: str = "李明",
        established_on: str = "2020-03-15",
        with_registration_number: bool = False,
        region: str = BINHAI,
        entity_type: str = "有限责任公司",
        industry: str | None = None,
    ) -> IndexedEntity:
        uscc = make_uscc(region, f"MA{n:06d}").value
        payload: dict[str, Any] = {
            "name": name,
            "entity_type": entity_type,
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
            payload["registration_number"] = make_registration_number(region, n)
        if industry:
            payload["industry"] = industry
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
        department: str = CREDIT_PLATFORM_DEPARTMENT,
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

    def list_abnormal(self, uscc: str, decision_no: str) -> IndexedEntity:
        return self.publish(
            "abnormal.listed",
            uscc,
            {"decision_no": decision_no, "reason": "通过登记的住所或者经营场所无法联系"},
            occurred_on="2026-07-01",
        )

    def deregister(self, uscc: str) -> IndexedEntity:
        return self.publish(
            "registration.deregistered", uscc, {"reason": "决议解散"}, occurred_on="2026-08-01"
        )

    def revoke_penalty(
        self, uscc: str, decision_no: str, *, department: str = CREDIT_PLATFORM_DEPARTMENT
    ) -> IndexedEntity:
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


@pytest.fixture(params=["sqlite", real("elasticsearch")])
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
    """What the three projections write for `entities`, each recording `position`."""
    for projection in PROJECTIONS:
        index.write(projection, list(entities), position)


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
    for projection in PROJECTIONS:
        index.write(projection, [v2, v1], 2)
    assert index.get_public(v1.uscc)["version"] == 2
    assert index.get_sharing(v1.uscc)["version"] == 2


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
    index.write("records", [], 2)
    assert (index.position("entities"), index.position("records"), index.position("sharing")) == (9, 2, None)
    with pytest.raises(ValueError, match="unknown projection"):
        index.write("other", [], 2)


def test_each_projection_writes_only_its_own_documents(index: SearchIndex, world: World) -> None:
    entity = world.penalise(world.register(1, "天津滨海恒通科技有限公司").uscc, "津市监罚〔2026〕6号")
    index.write("sharing", [entity], 2)
    assert index.get_sharing(entity.uscc) == entity.sharing
    assert index.get_public(entity.uscc) is None and index.search("恒通", TODAY).total == 0
    assert index.records(RecordQuery(uscc=entity.uscc), TODAY).total == 0
    index.write("records", [entity], 2)
    assert index.records(RecordQuery(uscc=entity.uscc), TODAY).total == 1
    assert index.get_public(entity.uscc) is None
    index.write("entities", [entity], 2)
    assert names(index.search("恒通", TODAY).items) == ["天津滨海恒通科技有限公司"]
    assert [index.count(p) for p in PROJECTIONS] == [1, 1, 1]
    assert [index.position(p) for p in PROJECTIONS] == [2, 2, 2]


def test_documents_built_for_one_projection_carry_only_its_part(world: World) -> None:
    entity = world.registry.get_entity(world.register(1, "天津滨海恒通科技有限公司").uscc)
    sharing = index_entity(entity, TODAY, "sharing")
    records = index_entity(entity, TODAY, "records")
    entities = index_entity(entity, TODAY, "entities")
    assert sharing.sharing and not (sharing.public or sharing.rows or sharing.fields)
    assert not (records.public or records.sharing or records.fields)
    assert entities.public and entities.fields and not (entities.sharing or entities.rows)


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


@pytest.mark.parametrize(
    "query", ['"滨海', "滨海*", "＂滨海＂", "滨海^", "(滨海", "“滨海”", "－滨海－", "ｂｉｎｈａｉ", "ＢＨ"]
)
def test_stray_punctuation_and_full_width_forms_find_what_the_plain_query_finds(
    searchable: SearchIndex, query: str
) -> None:
    plain = "binhai" if "ｂ" in query else "bh" if "Ｂ" in query else "滨海"
    expected = searchable.search(plain, TODAY)
    found = searchable.search(query, TODAY)
    assert expected.total == 3
    assert (found.total, names(found.items)) == (expected.total, names(expected.items))


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
    # NDRC 527, general: the window ended 2024-01-10
    a = world.penalise(a.uscc, "津市监罚〔2023〕3号", decided_on="2023-01-10")
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
    back_then = index.records(RecordQuery(category="penalty"), date(2023, 6, 1))
    assert "津市监罚〔2023〕3号" in record_ids(back_then)


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
    assert row["public_until"] == "2029-03-01"  # decided 2026-03-01, NDRC Order 58: three years
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
        "津市监罚〔2023〕3号",
    ]


def test_count_is_the_number_of_entities(index: SearchIndex, world: World) -> None:
    assert index.count() == 0
    a, b = world.register(41, "天津甲公司"), world.register(42, "天津乙公司")
    write(index, a, position=1)
    write(index, a, b, position=2)
    assert index.count() == 2


# --- the whole register in USCC order (open data) ----------------------------------------------------


def test_a_scan_reads_every_public_document_in_uscc_order_page_by_page(
    index: SearchIndex, world: World
) -> None:
    entities = [world.register(n, f"天津扫描{n:02d}科技有限公司") for n in (7, 3, 11, 5, 1)]
    write(index, *entities[:3], position=4)
    write(index, *entities[3:], position=9)
    index.write(
        "entities", [world.rename(entities[0].uscc, "天津扫描07科技有限公司", "天津扫描07智能有限公司")], 10
    )

    with index.scan_public(page_size=2) as scan:  # three pages, the last one short
        assert (scan.position, scan.total) == (10, 5)
        found = list(scan.documents)

    assert [d["uscc"] for d in found] == sorted(e.uscc for e in entities)
    assert found == [index.get_public(d["uscc"]) for d in found]
    assert {d["name"] for d in found} >= {"天津扫描07智能有限公司", "天津扫描11科技有限公司"}


def test_a_scan_of_a_full_last_page_and_of_an_empty_index(index: SearchIndex, world: World) -> None:
    with index.scan_public() as scan:
        assert (scan.position, scan.total, list(scan.documents)) == (None, 0, [])
    write(index, world.register(1, "天津甲公司"), world.register(2, "天津乙公司"), position=3)
    with index.scan_public(page_size=2) as scan:
        assert [d["name"] for d in scan.documents] == ["天津甲公司", "天津乙公司"]
    with index.scan_public(page_size=1) as scan:
        assert len(list(scan.documents)) == 2


def test_a_scan_does_not_see_what_is_written_after_it_began(index: SearchIndex, world: World) -> None:
    first = [world.register(n, f"天津视图{n}有限公司") for n in (1, 2, 3)]
    write(index, *first, position=3)
    with index.scan_public(page_size=1) as scan:
        documents = iter(scan.documents)
        seen = [next(documents)["uscc"]]
        renamed = world.rename(first[2].uscc, "天津视图3有限公司", "天津视图3改名有限公司")
        write(index, renamed, world.register(4, "天津视图4有限公司"), position=5)  # after the view
        seen += [d["uscc"] for d in documents]
        assert (scan.position, scan.total) == (3, 3)

    assert seen == sorted(e.uscc for e in first)
    with index.scan_public() as later:
        assert later.position == 5
        assert [d["name"] for d in later.documents][2:] == ["天津视图3改名有限公司", "天津视图4有限公司"]


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


@pytest.mark.engines
def test_an_elasticsearch_scan_that_loses_its_index_midway_is_search_unavailable(
    es_index: tuple[ElasticsearchIndex, Elasticsearch], world: World
) -> None:
    index, client = es_index
    write(index, *(world.register(n, f"天津中断{n}有限公司") for n in range(1, 6)), position=5)
    with index.scan_public(page_size=1) as scan:
        documents = iter(scan.documents)
        assert next(documents)["name"] == "天津中断1有限公司"
        client.indices.delete(index=f"{index.prefix}-entities-v*")  # the point in time loses its shard
        with pytest.raises(SearchUnavailable):
            list(documents)  # a page or two were fetched ahead; a later one fails


@pytest.mark.engines
def test_elasticsearch_indexes_sit_behind_aliases_and_ensure_is_idempotent(
    es_index: tuple[ElasticsearchIndex, Elasticsearch],
) -> None:
    index, client = es_index
    index.ensure()
    index.ensure()
    for name in PROJECTIONS:
        assert list(client.indices.get_alias(name=f"{index.prefix}-{name}")) == [f"{index.prefix}-{name}-v1"]
    assert client.indices.exists(index=f"{index.prefix}-positions")


@pytest.mark.engines
def test_elasticsearch_rewrites_within_one_refresh_interval_still_drop_revoked_rows(
    es_index: tuple[ElasticsearchIndex, Elasticsearch], world: World
) -> None:
    index, client = es_index
    entity = world.penalise(world.register(1, "天津滨海恒通科技有限公司").uscc, "津市监罚〔2026〕9号")
    for projection in PROJECTIONS:
        index.write(projection, [entity], 2)
    revoked = world.revoke_penalty(entity.uscc, "津市监罚〔2026〕9号")
    for projection in PROJECTIONS:
        index.write(projection, [revoked], 3)  # the penalty row is not searchable yet
    client.indices.refresh(index=f"{index.prefix}-records")
    assert index.records(RecordQuery(uscc=entity.uscc), TODAY).total == 0
    assert index.get_public(entity.uscc)["penalties"] == []  # a GET is real time
    assert index.get_sharing(entity.uscc)["penalties"][0]["revoked"]  # agencies still see it
    assert [index.position(p) for p in PROJECTIONS] == [3, 3, 3]


@pytest.mark.engines
def test_an_index_of_an_older_mapping_keeps_serving_until_a_rebuild_brings_the_new_one(
    es_index: tuple[ElasticsearchIndex, Elasticsearch], world: World
) -> None:
    index, client = es_index
    old = definition("entities")
    old["mappings"]["properties"]["codes"] = {"type": "keyword"}  # doc values on: cannot be undone
    client.indices.create(index=f"{index.entities_alias}-v1", **old, aliases={index.entities_alias: {}})
    index.ensure()  # does not fail: the serving index keeps its mapping
    assert "entities" in index.outdated
    entity = world.register(1, "天津滨海恒通科技有限公司")
    index.write("entities", [entity], 1)
    client.indices.refresh(index=index.entities_alias)
    assert names(index.search(entity.uscc, TODAY).items) == ["天津滨海恒通科技有限公司"]
    target = index.begin_rebuild("entities")
    index.write_rebuild("entities", target, [entity])
    index.finish_rebuild("entities", target, 1, grace_s=0)
    assert "entities" not in index.outdated
    mapping = client.indices.get_mapping(index=index.entities_alias)
    ((serving, body),) = mapping.items()
    assert serving.endswith(target) and body["mappings"]["properties"]["codes"]["doc_values"] is False
    assert names(index.search(entity.uscc, TODAY).items) == ["天津滨海恒通科技有限公司"]


def test_elasticsearch_unreachable_is_search_unavailable() -> None:
    es = ElasticsearchIndex("http://127.0.0.1:1", prefix="unreachable", request_timeout=2)
    assert es.ping() is False
    with pytest.raises(SearchUnavailable):
        es.count()
    with pytest.raises(SearchUnavailable):
        es.write("entities", [], 1)
    es.close()


# --- legal forms, highlights, typos, filters ----------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("天津市宏达机械有限责任公司", "天津市宏达机械有限公司"),
        ("天津市宏达机械有限公司", "天津市宏达机械有限责任公司"),
        ("天津市宏达机械有限公司", "天津市宏达机械股份有限公司"),
        ("宏达机械有限责任公司", "天津市宏达机械有限公司"),
        ("北京华信科技天津分公司", "北京华信科技有限公司天津分公司"),
        ("北京华信科技有限责任公司天津分公司", "北京华信科技有限公司天津分公司"),
        ("智远(天津)贸易", "智远（天津）贸易有限公司"),
    ],
)
def test_legal_forms_and_full_width_brackets_are_normalised(
    index: SearchIndex, world: World, typed: str, stored: str
) -> None:
    write(index, world.register(51, stored), world.register(52, "天津市宏达物流有限公司"), position=2)
    page = index.search(typed, TODAY)
    assert names(page.items)[:1] == [stored]


@pytest.mark.parametrize(
    ("typed", "stored", "marked"),
    [
        ("天津濱海恆通科技有限責任公司", "天津滨海恒通科技有限公司", "<em>天津滨海恒通科技有限公司</em>"),
        ("濱海恆通", "天津滨海恒通科技有限公司", "天津<em>滨海恒通</em>科技有限公司"),
        ("恆通", "天津滨海恒通科技有限公司", "天津滨海<em>恒通</em>科技有限公司"),
        ("滨海恒通", "天津濱海恆通科技有限公司", "天津<em>濱海恆通</em>科技有限公司"),
    ],
)
def test_traditional_characters_find_the_simplified_name_and_the_other_way_round(
    index: SearchIndex, world: World, typed: str, stored: str, marked: str
) -> None:
    write(index, world.register(58, stored), world.register(59, "天津市宏达物流有限公司"), position=2)
    page = index.search(typed, TODAY)
    assert (names(page.items), page.highlights) == ([stored], [marked])


def test_the_name_as_written_ranks_above_the_same_name_in_another_legal_form(
    index: SearchIndex, world: World
) -> None:
    write(
        index,
        world.register(53, "天津市宏达机械股份有限公司"),
        world.register(54, "天津市宏达机械有限责任公司"),
        world.register(55, "天津市宏达机械有限公司"),
        position=3,
    )
    assert names(index.search("天津市宏达机械有限责任公司", TODAY).items)[0] == "天津市宏达机械有限责任公司"
    assert names(index.search("天津市宏达机械股份有限公司", TODAY).items)[0] == "天津市宏达机械股份有限公司"


def test_the_exact_uscc_ranks_above_everything_and_the_exact_name_above_a_phrase(
    index: SearchIndex, world: World
) -> None:
    a = world.register(56, "天津恒通有限公司")
    b = world.register(57, "天津恒通有限公司塘沽分公司")
    write(index, b, a, position=2)
    assert [i["uscc"] for i in index.search(b.uscc.lower(), TODAY).items] == [b.uscc]
    assert [i["uscc"] for i in index.search("天津恒通有限公司", TODAY).items] == [a.uscc, b.uscc]


@pytest.mark.parametrize(
    ("query", "marked"),
    [
        ("恒通科技", "天津滨海<em>恒通科技</em>有限公司"),
        ("恒通科技有限责任公司", "天津滨海<em>恒通科技有限公司</em>"),
        ("tjbh", "<em>天津滨海</em>恒通科技有限公司"),
        ("tianjin binhai", "<em>天津滨海</em>恒通科技有限公司"),
        ("bhht", "天津<em>滨海恒通</em>科技有限公司"),
        ("天津滨海恒同科技有限公司", "<em>天津滨海恒通科技有限公司</em>"),  # a typo: the fuzzy tier
    ],
)
def test_the_matched_name_comes_back_highlighted(
    searchable: SearchIndex, corpus: dict[str, IndexedEntity], query: str, marked: str
) -> None:
    page = searchable.search(query, TODAY)
    at = [i["uscc"] for i in page.items].index(corpus["hengtong_tech"].uscc)
    assert page.highlights[at] == marked
    assert len(page.highlights) == len(page.items)


def test_a_former_name_match_highlights_the_former_name_and_a_code_match_nothing(
    searchable: SearchIndex, corpus: dict[str, IndexedEntity]
) -> None:
    page = searchable.search("恒通商贸", TODAY)
    assert page.highlights == [
        "天津<em>恒通商贸</em>有限公司",
        "天津<em>恒通商贸</em>有限公司塘沽分公司",
        "天津<em>恒通商贸</em>有限公司",  # the renamed entity, by its former name
    ]
    assert searchable.search(corpus["trading"].uscc, TODAY).highlights == [None]
    assert searchable.search("王建国", TODAY).highlights == [None]


def test_a_typo_is_found_by_the_fuzzy_tier_only_when_nothing_matches_exactly(
    searchable: SearchIndex, corpus: dict[str, IndexedEntity]
) -> None:
    page = searchable.search("天津滨海恒同科技有限公司", TODAY)
    assert names(page.items)[0] == "天津滨海恒通科技有限公司"
    assert page.total == len(page.items) >= 1
    pinyin = searchable.search("tianjinbinhaihengtnogkeji", TODAY)
    assert names(pinyin.items)[0] == "天津滨海恒通科技有限公司"
    assert searchable.search("完全无关的企业名称", TODAY).total == 0
    # an exact match exists: the fuzzy tier adds nothing to it
    assert names(searchable.search("恒通科技", TODAY).items) == ["天津滨海恒通科技有限公司"]


@pytest.fixture
def filterable(index: SearchIndex, world: World) -> dict[str, IndexedEntity]:
    heping = "120101"
    out = {
        "active_binhai": world.register(61, "天津滨海宏远科技有限公司", industry="科学研究和技术服务业"),
        "old_binhai": world.register(
            62, "天津滨海宏远物流有限公司", established_on="2008-05-20", industry="交通运输、仓储和邮政业"
        ),
        "shop_heping": world.register(
            63, "和平区宏远小吃店", region=heping, entity_type="个体工商户", industry="住宿和餐饮业"
        ),
        "gone_heping": world.register(64, "天津宏远贸易有限公司", region=heping, industry="批发和零售业"),
    }
    out["gone_heping"] = world.deregister(out["gone_heping"].uscc)
    out["old_binhai"] = world.list_abnormal(out["old_binhai"].uscc, "津滨市监异〔2026〕1号")
    out["old_binhai"] = world.penalise(
        out["old_binhai"].uscc, "津滨市监罚〔2026〕1号", decided_on="2026-06-01"
    )
    out["shop_heping"] = world.penalise(
        out["shop_heping"].uscc, "津和市监罚〔2026〕2号", decided_on="2026-04-01"
    )
    write(index, *out.values(), position=10)
    return out


def usccs(page: Any) -> set[str]:
    return {item["uscc"] for item in page.items}


def test_filters_narrow_a_search(index: SearchIndex, filterable: dict[str, IndexedEntity]) -> None:
    e = {k: v.uscc for k, v in filterable.items()}
    everyone = set(e.values())
    assert usccs(index.search("宏远", TODAY)) == everyone

    def found(**kwargs: Any) -> set[str]:
        return usccs(index.search("宏远", TODAY, filters=SearchFilters(**kwargs)))

    assert found(status="注销") == {e["gone_heping"]}
    assert found(status="存续") == everyone - {e["gone_heping"]}
    assert found(district="120101") == {e["shop_heping"], e["gone_heping"]}
    assert found(entity_type="个体工商户") == {e["shop_heping"]}
    assert found(industry="交通运输、仓储和邮政业") == {e["old_binhai"]}
    assert found(flags=("abnormal",)) == {e["old_binhai"]}
    assert found(flags=("penalty",)) == {e["old_binhai"], e["shop_heping"]}
    assert found(flags=("abnormal", "penalty")) == {e["old_binhai"]}
    assert found(flags=("serious",)) == set()
    assert found(established_to=date(2010, 1, 1)) == {e["old_binhai"]}
    assert found(established_from=date(2020, 3, 15), established_to=date(2020, 3, 15)) == everyone - {
        e["old_binhai"]
    }
    assert found(district="120101", status="存续") == {e["shop_heping"]}


def test_filters_alone_list_the_entities_they_select_and_count_them(
    index: SearchIndex, filterable: dict[str, IndexedEntity]
) -> None:
    page = index.search("", TODAY, filters=SearchFilters(district="120101"))
    assert (page.total, names(page.items)) == (2, ["和平区宏远小吃店", "天津宏远贸易有限公司"])
    assert index.search("", TODAY).total == 0  # neither a query nor a filter: nothing
    paged = index.search("", TODAY, page=2, size=1, filters=SearchFilters(district="120101"))
    assert (paged.total, names(paged.items)) == (2, ["天津宏远贸易有限公司"])


def test_the_penalty_flag_follows_the_publicity_window_when_reevaluated(
    index: SearchIndex, filterable: dict[str, IndexedEntity]
) -> None:
    penalised = SearchFilters(flags=("penalty",))
    old, shop = filterable["old_binhai"].uscc, filterable["shop_heping"].uscc
    # general misconduct under NDRC Order 36: public for one year from the decision
    assert index.reevaluate_flags(TODAY) == 0
    assert index.reevaluate_flags(date(2027, 4, 1)) == 1  # the shop's penalty window has closed
    assert usccs(index.search("宏远", TODAY, filters=penalised)) == {old}
    assert index.reevaluate_flags(date(2027, 4, 1)) == 0
    assert index.reevaluate_flags(date(2027, 6, 1)) == 1
    assert usccs(index.search("宏远", TODAY, filters=penalised)) == set()
    assert usccs(index.search("宏远", TODAY, filters=SearchFilters(flags=("abnormal",)))) == {old}
    assert index.reevaluate_flags(date(2026, 7, 1)) == 2  # back in time: both windows are open
    assert usccs(index.search("宏远", TODAY, filters=penalised)) == {old, shop}
    assert index.get_public(shop) == filterable["shop_heping"].public  # the documents are untouched


# --- rebuild without downtime ----------------------------------------------------------------------


class Searcher(threading.Thread):
    """Searches continuously until stopped, keeping every error and every empty answer."""

    def __init__(self, index: SearchIndex, query: str, penalised: str) -> None:
        super().__init__(daemon=True)
        self.index, self.query, self.penalised = index, query, penalised
        self.errors: list[str] = []
        self.empty = 0
        self.done = 0
        self._stop_event = threading.Event()
        self._tick = threading.Condition()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                if not self.index.search(self.query, TODAY, size=5).items:
                    self.empty += 1
                if self.index.get_sharing(self.penalised) is None:
                    self.empty += 1
                if not self.index.records(RecordQuery(uscc=self.penalised), TODAY).items:
                    self.empty += 1
            except Exception as err:
                self.errors.append(repr(err))
            with self._tick:
                self.done += 1
                self._tick.notify_all()

    def wait_for_more(self) -> None:
        """Return once at least one more search has completed (from now)."""
        with self._tick:
            seen = self.done
            assert self._tick.wait_for(lambda: self.done > seen, timeout=60)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=60)


@pytest.mark.parametrize("rebuilt", PROJECTIONS)
def test_a_rebuild_swaps_in_a_new_generation_while_searches_keep_answering(
    index: SearchIndex, world: World, rebuilt: str
) -> None:
    entities = [
        world.register(70 + i, f"天津宏远{'甲乙丙丁戊己庚辛壬癸'[i % 10]}{i:02d}商贸有限公司")
        for i in range(24)
    ]
    penalised = world.penalise(entities[5].uscc, "津市监罚〔2026〕70号")
    projections = index_projections(world.registry, index, batch_size=10, clock=FixedDateClock(TODAY))
    for projection in projections.values():
        projection.catch_up()
    projection = projections[rebuilt]
    renamed = entities[3].uscc
    searcher = Searcher(index, "宏远", penalised.uscc)
    searcher.start()
    searcher.wait_for_more()

    def during_the_rebuild(done: int) -> None:
        if done == 5:  # the live projection keeps writing (to the serving generation)
            world.rename(renamed, entities[3].public["name"], "天津宏远新名商贸有限公司")
            projection.run_once()
            searcher.wait_for_more()

    report = rebuild_projection(projection, batch_size=5, on_progress=during_the_rebuild)
    searcher.wait_for_more()
    searcher.stop()
    assert (searcher.errors, searcher.empty) == ([], 0)
    assert searcher.done >= 3
    assert (report.entities, report.replayed) == (24, 1)
    assert index.count(rebuilt) == 24
    assert index.position(rebuilt) == projection.head()
    if rebuilt == "entities":
        assert names(index.search("宏远新名", TODAY).items) == ["天津宏远新名商贸有限公司"]
    if rebuilt == "sharing":
        assert index.get_sharing(renamed)["name"] == "天津宏远新名商贸有限公司"
    assert index.records(RecordQuery(uscc=penalised.uscc), TODAY).total == 1
    others = [p for p in PROJECTIONS if p != rebuilt]
    assert all(index.position(p) < projection.head() for p in others)  # untouched: still behind
    if isinstance(index, ElasticsearchIndex):
        client = index._client
        assert sorted(client.indices.get(index=f"{index.prefix}-*-v*")) == sorted(
            f"{index.prefix}-{p}-{report.target if p == rebuilt else 'v1'}" for p in PROJECTIONS
        )


def test_an_aborted_rebuild_leaves_the_serving_generation_alone(index: SearchIndex, world: World) -> None:
    write(index, world.register(90, "天津宏远科技有限公司"), position=1)
    target = index.begin_rebuild("entities")
    index.write_rebuild("entities", target, [world.register(91, "天津宏远物流有限公司")])
    index.abort_rebuild("entities", target)
    assert names(index.search("宏远", TODAY).items) == ["天津宏远科技有限公司"]
    again = index.begin_rebuild("entities")  # a fresh generation, empty
    index.finish_rebuild("entities", again, 1)
    assert index.count() == 0 and index.position("entities") == 1
    assert index.count("sharing") == 1 and index.count("records") == 1  # other projections untouched


@pytest.mark.engines
def test_elasticsearch_shards_and_replicas_are_settings_kept_by_a_rebuild(world: World) -> None:
    url = elasticsearch_url()
    index = ElasticsearchIndex(
        url, prefix=unique_prefix(f"si-{next(_ids)}"), shards=2, replicas=0, refresh=True
    )
    client = Elasticsearch(url)
    try:
        index.ensure()
        for name in PROJECTIONS:
            held = client.indices.get_settings(index=f"{index.prefix}-{name}")
            (settings,) = held.body.values()
            assert settings["settings"]["index"]["number_of_shards"] == "2", name
            assert settings["settings"]["index"]["number_of_replicas"] == "0", name
        entity = world.register(1, "天津分片设置科技有限公司")
        write(index, entity, position=1)
        target = index.begin_rebuild("entities")
        index.write_rebuild("entities", target, [entity])
        index.finish_rebuild("entities", target, 1, grace_s=0.0)
        (settings,) = client.indices.get_settings(index=f"{index.prefix}-entities").body.values()
        assert settings["settings"]["index"]["number_of_shards"] == "2"
        assert index.get_public(entity.uscc)["name"] == "天津分片设置科技有限公司"
    finally:
        index.delete_all()
        index.close()
        client.close()
