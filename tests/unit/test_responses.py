"""The hot public reads answer with the stored document encoded by orjson, not re-validated by
their response models: the bytes must be the ones FastAPI would have written from the models
(same fields, same order, Chinese unescaped, the same dates) — on a generated register, on dates
inside and outside the penalties' publicity windows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter
from starlette.responses import JSONResponse

from adapters.search_index.ranking import highlights
from api.responses import OrjsonResponse, entity_json, entity_page_json
from api.schemas import EntityPagePublic, EntityPublic, EntitySummaryPublic
from domain import names
from domain.uscc import partition_key
from infra.bootstrap import build
from infra.datagen.generator import generate
from infra.settings import Settings
from projections.documents import summary
from projections.public_record import entity_public
from tests.builders import TODAY, platform_signed

DAYS = (date(2021, 6, 1), date(2024, 3, 1), TODAY, date(2031, 1, 1))


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict[str, Any]]]:
    """The stored public documents of 150 generated entities (the embedded engines)."""
    container = build(Settings(data_dir=tmp_path_factory.mktemp("register"), today=TODAY))
    try:
        envelopes = list(generate(150, 20261201, TODAY))
        container.log.produce_many(
            container.settings.publications_topic,
            ((partition_key(e["uscc"]), json.dumps(e, ensure_ascii=False).encode()) for e in envelopes),
            headers_for=platform_signed(container),
        )
        container.worker.drain()
        container.catch_up()
        with container.index.scan_public() as scan:
            yield list(scan.documents)
    finally:
        container.close()


def fastapi_bytes(model: type[Any], value: Any) -> bytes:
    """What FastAPI writes for a route's `response_model` (its fast path: pydantic-core JSON)."""
    adapter = TypeAdapter(model)
    return adapter.dump_json(adapter.validate_python(value))


def test_the_register_has_penalties_in_and_out_of_their_windows(documents: list[dict[str, Any]]) -> None:
    assert len(documents) == 150
    assert any(doc["penalties"] for doc in documents)
    hidden = [d for d in documents if len(entity_public(d, TODAY).penalties) < len(d["penalties"])]
    assert hidden, "no penalty outside its window: the masking is not exercised"


def test_a_lookup_is_the_bytes_the_response_model_gives(documents: list[dict[str, Any]]) -> None:
    for doc in documents:
        for day in DAYS:
            assert entity_json(doc, day) == fastapi_bytes(EntityPublic, entity_public(doc, day))


def test_a_lookup_does_not_change_the_stored_document(documents: list[dict[str, Any]]) -> None:
    doc = next(d for d in documents if d["penalties"])
    before = json.dumps(doc, sort_keys=True)
    entity_json(doc, date(2031, 1, 1))
    assert json.dumps(doc, sort_keys=True) == before


def test_a_search_page_is_the_bytes_the_response_model_gives(documents: list[dict[str, Any]]) -> None:
    query = names.analyse(documents[0]["name"][2:4])
    for start in range(0, len(documents), 20):
        items = documents[start : start + 20]
        for marks in ([None] * len(items), highlights(query, items)):
            for day in DAYS:
                page = EntityPagePublic(
                    total=len(documents),
                    page=start // 20 + 1,
                    size=20,
                    items=[
                        EntitySummaryPublic(**summary(doc, day), highlight=mark)
                        for doc, mark in zip(items, marks, strict=True)
                    ],
                )
                expected = fastapi_bytes(EntityPagePublic, page)
                assert entity_page_json(len(documents), start // 20 + 1, 20, items, marks, day) == expected


def test_error_bodies_are_the_bytes_starlette_wrote() -> None:
    body = {"code": "invalid_uscc", "message": "统一社会信用代码第18位校验码有误", "candidates": [{"u": "x"}]}
    assert OrjsonResponse(body).body == JSONResponse(body).body
    assert OrjsonResponse({"n": 1.5, "none": None}).body == JSONResponse({"n": 1.5, "none": None}).body


def test_a_datetime_in_an_answer_is_written_in_iso_8601() -> None:
    at = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert json.loads(OrjsonResponse({"at": at}).body) == {"at": "2026-12-01T08:30:00+00:00"}
