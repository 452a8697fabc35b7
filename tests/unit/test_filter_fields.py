"""The fields search narrows by come from one table (`FILTER_FIELDS`): both engines derive their
storage and conditions from it, and a field added to it reaches an index that exists already."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from adapters.search_index import base
from adapters.search_index.base import FilterField, IndexedEntity, SearchFilters, conditions
from adapters.search_index.elasticsearch import definition
from adapters.search_index.elasticsearch.documents import entity_doc
from adapters.search_index.elasticsearch.queries import filter_clauses
from adapters.search_index.sqlite import SQLiteSearchIndex
from adapters.search_index.sqlite.queries import filter_sql

TODAY = date(2026, 11, 22)
BAND = FilterField("capital_band", "equals", ("capital_band",))


@dataclass(frozen=True)
class BandFilters(SearchFilters):
    capital_band: str | None = None


def entity(uscc: str, name: str, **filters: str | None) -> IndexedEntity:
    public = {"uscc": uscc, "name": name, "former_names": []}
    fields = {"name": name, "codes": uscc, "person": "", "pinyin": "", "name_canonical": name}
    return IndexedEntity(uscc=uscc, version=1, public=public, fields=fields, filters=dict(filters))


def test_filters_become_engine_neutral_conditions_and_each_engine_translates_them() -> None:
    filters = SearchFilters(
        status="存续", flags=("penalty", "abnormal"), established_from=date(2020, 1, 1), district="120116"
    )
    assert conditions(filters) == [
        ("status", "=", "存续"),
        ("district_code", "=", "120116"),
        ("established_on", ">=", "2020-01-01"),
        ("flags", "has", "abnormal"),
        ("flags", "has", "penalty"),
    ]
    assert filter_clauses(filters) == [
        {"term": {"status": "存续"}},
        {"term": {"district_code": "120116"}},
        {"range": {"established_on": {"gte": "2020-01-01"}}},
        {"term": {"flags": "abnormal"}},
        {"term": {"flags": "penalty"}},
    ]
    params: dict[str, str] = {}
    assert filter_sql(filters, params) == (
        "e.status = :f0 AND e.district_code = :f1 AND e.established_on >= :f2"
        " AND e.flags LIKE :f3 AND e.flags LIKE :f4"
    )
    assert params == {
        "f0": "存续",
        "f1": "120116",
        "f2": "2020-01-01",
        "f3": "% abnormal %",
        "f4": "% penalty %",
    }


def test_every_filter_field_is_in_the_elasticsearch_mapping_and_document() -> None:
    properties = definition("entities")["mappings"]["properties"]
    doc = entity_doc(entity("91120116MA000001XX", "天津恒通科技有限公司", status="存续"))
    for f in base.FILTER_FIELDS:
        assert properties[f.name]["type"] == f.type
        assert f.name in doc
    assert doc["status"] == "存续" and doc["industry"] is None


def test_a_filter_field_added_to_the_table_reaches_both_engines_and_an_existing_sqlite_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "search.sqlite3"
    SQLiteSearchIndex(path).close()  # an index created before the field existed
    monkeypatch.setattr(base, "FILTER_FIELDS", (*base.FILTER_FIELDS, BAND))

    assert definition("entities")["mappings"]["properties"]["capital_band"] == {"type": "keyword"}
    assert entity_doc(entity("91120116MA000001XX", "甲", capital_band="1m-10m"))["capital_band"] == "1m-10m"
    assert filter_clauses(BandFilters(capital_band="1m-10m")) == [{"term": {"capital_band": "1m-10m"}}]

    index = SQLiteSearchIndex(path)  # reopened: the column is added in place
    old = entity("91120116MA000001XX", "天津恒通科技有限公司", capital_band="1m-10m")
    new = entity("91120116MA000002XX", "天津恒通物流有限公司", capital_band="10m+")
    index.write("entities", [old, new], 1)
    found = index.search("恒通", TODAY, filters=BandFilters(capital_band="10m+"))
    assert [item["uscc"] for item in found.items] == [new.uscc]
    listed = index.search("", TODAY, filters=BandFilters(capital_band="1m-10m"))
    assert [item["uscc"] for item in listed.items] == [old.uscc]
    index.close()
