"""The internal extract's 记录来源 table: every fact's source, once per publication, in event
order, found however deep the fact sits in the as-of record."""

from __future__ import annotations

from api.web.extract import record_sources


def source(publication_id: str, position: int | None) -> dict:
    return {"publication_id": publication_id, "position": position, "department": "TJ-AMR"}


def test_each_publication_once_in_event_order_wherever_its_facts_are() -> None:
    registration = source("R-1", 3)
    view = {
        "uscc": "91120103MA8Q299N6J",
        "registration": {"name": "甲", "provenance": registration},
        "penalties": [{"decision_no": "罚1", "provenance": source("P-1", 9)}],
        "changes": [
            # one publication, two facts: printed once
            {"changes": [{"field": "name", "provenance": source("C-1", 5)}]},
            {"changes": [{"field": "address", "provenance": source("C-1", 5)}]},
        ],
        "annual_reports": [{"year": 2024, "corrections": [{"provenance": source("A-2", None)}]}],
    }
    assert [s["publication_id"] for s in record_sources(view)] == ["R-1", "C-1", "P-1", "A-2"]
    assert record_sources(view)[0] is registration


def test_a_public_view_has_no_sources() -> None:
    assert record_sources({"uscc": "x", "penalties": [{"decision_no": "罚1"}]}) == []
    assert record_sources({"provenance": {"department": "TJ-AMR"}}) == []  # no publication named
