"""The agency reads of the search index port, on SQLite FTS5 and Elasticsearch: agency documents
in batches, and the entities a person represents or represented (found again after a change of
legal representative, forgotten by the entity they never served)."""

from __future__ import annotations

from datetime import date

from adapters.search_index.base import SearchIndex
from domain.identity import make_resident_id
from tests.contract.test_search_index import World, index, world, write  # noqa: F401 (fixtures)

BOSS = {"name": "赵德明", "id_number": make_resident_id("120101", date(1975, 5, 5), 77, "M")}
NEXT = {"name": "钱立新", "id_number": make_resident_id("120101", date(1981, 1, 2), 78, "M")}


def test_agency_documents_come_back_in_one_batch(index: SearchIndex, world: World) -> None:  # noqa: F811
    a = world.register(1, "天津滨海恒通科技有限公司")
    b = world.register(2, "天津海河物流有限公司")
    write(index, a, b)
    missing = a.uscc[:-3] + "999"
    found = index.get_sharing_many([a.uscc, b.uscc, missing, a.uscc])
    assert set(found) == {a.uscc, b.uscc}
    assert found[a.uscc] == a.sharing and found[b.uscc]["name"] == "天津海河物流有限公司"
    assert index.get_sharing_many([]) == {}


def test_a_person_is_found_at_every_entity_they_represent_or_represented(
    index: SearchIndex,  # noqa: F811
    world: World,  # noqa: F811
) -> None:
    a = world.register(11, "天津德明建筑工程有限公司")
    world.publish(
        "registration.changed",
        a.uscc,
        {
            "changes": [
                {
                    "field": "legal_representative",
                    "before": a.sharing["registration"]["legal_representative"],
                    "after": BOSS,
                }
            ]
        },
        occurred_on="2024-01-01",
    )
    b = world.register(12, "天津明德商贸有限公司")
    world.publish(
        "registration.changed",
        b.uscc,
        {
            "changes": [
                {
                    "field": "legal_representative",
                    "before": b.sharing["registration"]["legal_representative"],
                    "after": BOSS,
                }
            ]
        },
        occurred_on="2023-01-01",
    )
    b_later = world.publish(
        "registration.changed",
        b.uscc,
        {"changes": [{"field": "legal_representative", "before": BOSS, "after": NEXT}]},
        occurred_on="2025-06-01",
    )
    c = world.register(13, "天津无关科技有限公司")
    write(index, world.indexed(a.uscc), b_later, c, position=5)
    assert index.entities_of_person(BOSS["id_number"]) == sorted([a.uscc, b.uscc])
    assert index.entities_of_person(BOSS["id_number"].lower()) == sorted([a.uscc, b.uscc])
    assert index.entities_of_person(NEXT["id_number"]) == [b.uscc]
    first = c.sharing["registration"]["legal_representative"]["id_number"]
    assert index.entities_of_person(first) == [c.uscc]
    assert index.entities_of_person(make_resident_id("120101", date(1990, 1, 1), 5, "F")) == []
