"""The AsyncAPI document: describes the topics that exist, and every reference resolves."""

from __future__ import annotations

from typing import Any

import yaml

from domain.kinds import KINDS
from infra.asyncapi import ENVELOPE, document, render


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_the_document_is_asyncapi_3_with_the_publication_topics_and_the_change_feed() -> None:
    doc = yaml.safe_load(render())
    assert doc == document()
    assert doc["asyncapi"] == "3.0.0"
    assert sorted(c["address"] for c in doc["channels"].values()) == [
        "gongshi.changes",
        "gongshi.publications",
        "gongshi.publications.dlq",
    ]


def test_every_reference_resolves() -> None:
    doc = document()
    found = refs(doc)
    assert len(found) > 20
    for ref in found:
        resolve(doc, ref)


def test_the_envelope_names_every_kind_and_the_dead_letter_carries_its_reason() -> None:
    doc = document()
    envelope = doc["components"]["schemas"][ENVELOPE]
    assert envelope["properties"]["kind"]["enum"] == list(KINDS)
    assert len(envelope["allOf"]) == len(KINDS)
    headers = doc["components"]["messages"]["DeadLetter"]["headers"]
    # where it was read from: every entry the worker writes; the parking date: parked_expired only
    assert set(headers["required"]) == {"reason", "message"}
    assert {"source_topic", "source_partition", "source_offset", "parked_on"} <= set(headers["properties"])
    key = doc["components"]["messages"]["Publication"]["bindings"]["kafka"]["key"]
    assert key["type"] == "string"
