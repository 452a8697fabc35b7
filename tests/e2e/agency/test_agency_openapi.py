"""Every agency route is in the OpenAPI document with its stated-purpose headers and an example
(of its request, its answer or its parameters), and in the matrix with its scope."""

from __future__ import annotations

from typing import Any

from api.access import MATRIX
from tests.e2e.agency.conftest import AgencyPlatform


def _has_examples(spec: dict[str, Any], schema: dict[str, Any] | None) -> bool:
    if not schema:
        return False
    if "$ref" in schema:
        found = spec["components"]["schemas"].get(schema["$ref"].split("/")[-1], {})
        return "examples" in found or "example" in found
    if schema.get("type") == "array":
        return _has_examples(spec, schema.get("items"))
    return "examples" in schema


def _documented(spec: dict[str, Any], op: dict[str, Any]) -> bool:
    bodies = list(op.get("requestBody", {}).get("content", {}).values())
    for status in ("200", "201"):
        bodies += list(op.get("responses", {}).get(status, {}).get("content", {}).values())
    if any("example" in b or "examples" in b or _has_examples(spec, b.get("schema")) for b in bodies):
        return True
    return any("examples" in p or "examples" in p.get("schema", {}) for p in op.get("parameters", []))


def test_every_agency_route_documents_its_purpose_headers_and_an_example(
    agency_platform: AgencyPlatform,
) -> None:
    spec = agency_platform.client.get("/openapi.json").json()
    agency_rows = [r for r in MATRIX if r.path.startswith("/api/v1/agency/")]
    assert len(agency_rows) >= 12
    for row in agency_rows:
        assert row.scope is not None
        for method in row.methods:
            op = spec["paths"][row.path][method.lower()]
            names = {p["name"] for p in op.get("parameters", [])}
            assert {"X-Purpose", "X-Officer", "X-Confidential", "purpose"} <= names, row.path
            assert _documented(spec, op), (method, row.path)
            assert "403" in op["responses"], row.path
