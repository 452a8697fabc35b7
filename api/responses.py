"""JSON answers rendered with orjson, and the hot public reads' bodies built from the stored
document without a response model.

Why not `ORJSONResponse` as the app's default response class: FastAPI (0.13x on) serialises a
route's `response_model` straight to JSON bytes with pydantic-core when no response class is
set; any custom default class turns that fast path off (the model is dumped to Python values,
then encoded). Measured on a lookup's stored document (≈ 8 KB of JSON, 2026-12-01): FastAPI's
fast path 181 µs, `ORJSONResponse` 244 µs, the stored view encoded by orjson without a model
36 µs (docs/BENCHMARKS.md, "bench/search — the API's response"). FastAPI also deprecates
`ORJSONResponse`. So every route with a response model keeps FastAPI's path; orjson renders what
is built by hand: the hot reads below, the error bodies, the answers routes build themselves.

`entity_json` and `entity_page_json` give the same bytes as `EntityPublic` / `EntityPagePublic`
validated and dumped by FastAPI (same fields in the same order, text not escaped, compact);
`tests/unit/test_responses.py` checks that on generated registers. The models stay the routes'
`response_model`: the OpenAPI document does not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
from fastapi.responses import JSONResponse

from api.schemas import EntitySummaryPublic
from projections.documents import public_view, summary
from projections.public_record import EntityPublic

#: The answer's fields, in the models' order (pydantic dumps fields in declaration order).
ENTITY_FIELDS = tuple(EntityPublic.model_fields)
SUMMARY_FIELDS = tuple(EntitySummaryPublic.model_fields)


class OrjsonResponse(JSONResponse):
    """`JSONResponse` rendered by orjson: compact, UTF-8 text unescaped — the bytes Starlette's
    `json.dumps(ensure_ascii=False, separators=(",", ":"))` gives for JSON values, faster.
    (Dates and datetimes, should one slip in, come out in ISO 8601 as FastAPI's encoder writes
    them, instead of failing.)"""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def entity_json(doc: dict[str, Any], today: date) -> bytes:
    """`GET /api/v1/entities/{uscc}`: the stored public document as the public reads it on
    `today` (`public_view`: penalties outside their window hidden, flags and `as_of` for that
    date), the fields of `EntityPublic` only."""
    view = public_view(doc, today)  # a copy: the stored document is not changed
    return orjson.dumps({name: view[name] for name in ENTITY_FIELDS})


def entity_page_json(
    total: int,
    page: int,
    size: int,
    items: Sequence[dict[str, Any]],
    marks: Sequence[str | None],
    today: date,
) -> bytes:
    """`GET /api/v1/entities`: a page of search results, each item the document's `summary` on
    `today` and its highlight (`marks[i]`, None when the match was not on a name)."""
    rows = []
    for doc, mark in zip(items, marks, strict=False):
        row = summary(doc, today)
        row["highlight"] = mark
        rows.append({name: row[name] for name in SUMMARY_FIELDS})
    return orjson.dumps({"total": total, "page": page, "size": size, "items": rows})
