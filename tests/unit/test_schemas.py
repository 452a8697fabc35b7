"""The committed JSON Schema of the envelope and payloads matches the pydantic models."""

from __future__ import annotations

import json

from domain.kinds import KINDS
from infra.schemas import SCHEMA_DIR, rendered


def test_committed_json_schemas_are_current() -> None:
    stale = [
        name
        for name, text in rendered().items()
        if not (SCHEMA_DIR / name).exists() or (SCHEMA_DIR / name).read_text(encoding="utf-8") != text
    ]
    assert stale == [], f"run `make schemas` to regenerate: {stale}"


def test_envelope_schema_names_every_kind_with_its_payload() -> None:
    schema = json.loads((SCHEMA_DIR / "publication.schema.json").read_text(encoding="utf-8"))
    assert schema["properties"]["kind"]["enum"] == list(KINDS)
    assert len(schema["allOf"]) == len(KINDS)
    assert set(schema["required"]) >= {
        "publication_id",
        "department",
        "kind",
        "uscc",
        "occurred_on",
        "payload",
    }
