"""The committed JSON Schema of the envelope and payloads matches the pydantic models, and the
event catalogue's table of kinds matches domain/kinds.py."""

from __future__ import annotations

import json

import pytest

from domain.kinds import KINDS
from infra.schemas import EVENTS_FILE, KINDS_BEGIN, KINDS_END, SCHEMA_DIR, events_catalogue, rendered


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


def test_the_event_catalogue_lists_every_kind_from_the_table() -> None:
    text = (SCHEMA_DIR / EVENTS_FILE).read_text(encoding="utf-8")
    block = text.split(KINDS_BEGIN)[1].split(KINDS_END)[0]
    assert [line.split("`")[1] for line in block.splitlines()[2:]] == list(KINDS)
    assert "| `penalty.imposed` | 行政处罚 | `impose_penalty` | `PenaltyImposed` |" in block
    with pytest.raises(ValueError, match="markers"):
        events_catalogue("# Event catalogue\n")
