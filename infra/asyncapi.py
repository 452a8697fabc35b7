"""The AsyncAPI 3.0 document of the Kafka topics (`docs/asyncapi.yaml`).

Generated from the same pydantic models as the JSON Schema under `docs/schemas/`, and written
by `make schemas` with them (see `infra/schemas.py`); a test checks the committed file is
current. It describes the topics that exist in code: `gongshi.publications`, its dead-letter
topic, and the change feed `gongshi.changes` (message model in `projections/changes.py`).
Topic names carry the deployment's prefix (`GONGSHI_PREFIX`, default `gongshi`).
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from domain import publications as pub
from domain.kinds import PAYLOADS
from projections import changes

ENVELOPE = "PublicationEnvelope"
CHANGE = "ChangeMessage"

REASONS = (
    pub.REASON_MALFORMED,
    pub.REASON_INVALID_ENVELOPE,
    pub.REASON_UNKNOWN_KIND,
    pub.REASON_UNSUPPORTED_KIND,
    pub.REASON_INVALID_PAYLOAD,
    pub.REASON_INVALID_USCC,
    pub.REASON_UNKNOWN_DEPARTMENT,
    pub.REASON_OUTSIDE_MANDATE,
    pub.REASON_ALREADY_REGISTERED,
    pub.REASON_FUTURE_DATE,
    pub.REASON_BAD_SIGNATURE,
)

SIGNATURE_HEADERS: dict[str, Any] = {
    "gongshi-key-id": {
        "type": "string",
        "description": "the id of the Ed25519 key that signed the value (`signing_key_id` of "
        "`gongshi departments add-key`)",
        "pattern": "^sk_[0-9a-f]{16}$",
    },
    "gongshi-signature": {
        "type": "string",
        "description": "standard base64 of the 64-byte Ed25519 signature of the exact message value bytes",
    },
    "gongshi-principal": {
        "type": "string",
        "description": "who acted, when the platform signs on someone's behalf (`department:TJ-AMR/key:…`, "
        "`job:load`); a department may name a narrower principal of its own (`department:TJ-AMR/…`)",
    },
    "gongshi-replay-of": {
        "type": "string",
        "description": "set by `gongshi dlq replay`: the dead-letter entry (`<dlq topic>[partition]@offset`) "
        "this message replays; a replay rejected again keeps it on its new DLQ entry",
    },
}


def _rewrite_refs(node: Any) -> Any:
    """`#/$defs/X` → `#/components/schemas/X` (the definitions move to the components)."""
    if isinstance(node, dict):
        return {
            k: (
                v.replace("#/$defs/", "#/components/schemas/")
                if k == "$ref" and isinstance(v, str)
                else _rewrite_refs(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def envelope_schemas() -> dict[str, Any]:
    """The envelope and every payload model, as AsyncAPI component schemas."""
    schema = copy.deepcopy(pub.envelope_json_schema(PAYLOADS))
    defs = schema.pop("$defs", {})
    schema.pop("$id", None)
    if ENVELOPE in defs:
        raise ValueError(f"a payload model is named {ENVELOPE}")
    return {ENVELOPE: _rewrite_refs(schema), **_rewrite_refs(defs)}


def change_schemas() -> dict[str, Any]:
    """The change message and the models it uses, as AsyncAPI component schemas."""
    schema = copy.deepcopy(changes.change_json_schema())
    defs = schema.pop("$defs", {})
    if CHANGE in defs:
        raise ValueError(f"a model of the change message is named {CHANGE}")
    return {CHANGE: _rewrite_refs(schema), **_rewrite_refs(defs)}


def _header(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def document() -> dict[str, Any]:
    uscc_key = {
        "type": "string",
        "description": "统一社会信用代码 as given in the envelope, without spaces, upper-case: every "
        "publication about one entity lands in one partition, in order",
        "examples": ["91110108MA01K3P20A"],
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Gongshi 公示 — publication and change topics",
            "version": "1.0.0",
            "description": (
                "How departments publish credit information to Gongshi over Kafka (the HTTP gateway "
                "`POST /api/v1/publications` writes to the same topic), where publications that "
                "cannot be applied go, and the change feed agencies follow: one message per change to "
                "an entity's public or sharing document. Topic names carry the deployment's prefix "
                "(`GONGSHI_PREFIX`, default `gongshi`). The envelope's JSON Schema is also committed "
                "under `docs/schemas/`."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "the broker a deployment configures with GONGSHI_KAFKA_BOOTSTRAP",
            }
        },
        "channels": {
            "publications": {
                "address": "gongshi.publications",
                "title": "Publications",
                "description": (
                    "Every department's registration, filing, licence, penalty, performance and other "
                    "publications, one envelope per message. The ingestion worker applies each exactly "
                    "once: the same `publication_id` twice changes nothing."
                ),
                "messages": {"publication": {"$ref": "#/components/messages/Publication"}},
            },
            "publicationsDeadLetter": {
                "address": "gongshi.publications.dlq",
                "title": "Rejected publications",
                "description": (
                    "Publications the worker could not apply, byte for byte as they arrived, with the "
                    "reason in the headers. Nothing else is lost: the worker writes here before it "
                    "records the batch's position."
                ),
                "messages": {"deadLetter": {"$ref": "#/components/messages/DeadLetter"}},
            },
            "changes": {
                "address": "gongshi.changes",
                "title": "Changes",
                "description": (
                    "gongshi.change/2: one message per change to an entity's public or sharing "
                    "document — caused by an event (`cause: event`), or by the date when a penalty's "
                    "publicity window began or ended (`cause: publicity`, from the daily publicity "
                    "job) — keyed by USCC, with the changed keys' new values (`public` masked, "
                    "`sharing` unmasked), the flags before and after, the district, entity type and "
                    "record categories. `position` is the change table's (the same the agencies' HTTP "
                    "feed pages by): unique, increasing, and kept when a batch is announced again "
                    "after a crash — dedupe on it (delivery is at least once). One entity's changes "
                    "share a key, so their order is the partition's order; across entities there is "
                    "no order. The topic is readable by the platform only: agencies follow changes "
                    "through `GET /api/v1/agency/changes` (NDJSON or server-sent events) and "
                    "watchlists, where the stated purpose and the access log apply."
                ),
                "messages": {"change": {"$ref": "#/components/messages/Change"}},
            },
        },
        "operations": {
            "publish": {
                "action": "send",
                "channel": {"$ref": "#/channels/publications"},
                "title": "Publish a publication",
                "summary": "Departments (and the HTTP gateway) produce envelopes, keyed by USCC.",
                "messages": [{"$ref": "#/channels/publications/messages/publication"}],
            },
            "ingest": {
                "action": "receive",
                "channel": {"$ref": "#/channels/publications"},
                "title": "Apply publications",
                "summary": "The ingestion worker applies each envelope to the entity's record.",
                "bindings": {
                    "kafka": {
                        "groupId": {"type": "string", "default": "gongshi-ingest"},
                        "bindingVersion": "0.5.0",
                    }
                },
                "messages": [{"$ref": "#/channels/publications/messages/publication"}],
            },
            "deadLetter": {
                "action": "send",
                "channel": {"$ref": "#/channels/publicationsDeadLetter"},
                "title": "Dead-letter a publication",
                "summary": "The worker sends what it rejected, with the reason, for the publisher to fix.",
                "messages": [{"$ref": "#/channels/publicationsDeadLetter/messages/deadLetter"}],
            },
            "announceChange": {
                "action": "send",
                "channel": {"$ref": "#/channels/changes"},
                "title": "Announce a change",
                "summary": "The change feed follows the event store and announces each change by USCC.",
                "messages": [{"$ref": "#/channels/changes/messages/change"}],
            },
            "followChanges": {
                "action": "receive",
                "channel": {"$ref": "#/channels/changes"},
                "title": "Follow changes",
                "summary": "Agencies consume the feed in their own group and dedupe on `position`.",
                "messages": [{"$ref": "#/channels/changes/messages/change"}],
            },
        },
        "components": {
            "messages": {
                "Publication": {
                    "name": "publication",
                    "title": "Publication envelope",
                    "contentType": "application/json",
                    "summary": "Signed: a message without a valid signature by a key allowed to sign for "
                    "the envelope's department is dead-lettered as bad_signature.",
                    "headers": {
                        "type": "object",
                        "required": ["gongshi-key-id", "gongshi-signature"],
                        "properties": SIGNATURE_HEADERS,
                    },
                    "payload": {"$ref": f"#/components/schemas/{ENVELOPE}"},
                    "bindings": {"kafka": {"key": uscc_key, "bindingVersion": "0.5.0"}},
                },
                "DeadLetter": {
                    "name": "deadLetter",
                    "title": "Rejected publication",
                    "contentType": "application/octet-stream",
                    "headers": {
                        "type": "object",
                        "required": ["reason", "message"],
                        "properties": {
                            "reason": _header(
                                "stable reason code: one of the envelope checks, or the code of the "
                                "rule the publication broke (e.g. unknown_penalty, entity_not_active)",
                                examples=list(REASONS),
                            ),
                            "message": _header("why, in Chinese (UTF-8)"),
                            "source_topic": _header("the topic it was read from"),
                            "source_partition": _header(
                                "the partition, as decimal digits", pattern="^[0-9]+$"
                            ),
                            "source_offset": _header("the offset, as decimal digits", pattern="^[0-9]+$"),
                            "parked_on": _header(
                                "reason parked_expired only (no source_*): the system date the publication "
                                "was parked on; the value is its envelope as parked",
                                pattern="^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                            ),
                            **SIGNATURE_HEADERS,  # as the original carried them
                        },
                    },
                    "payload": {
                        "type": "string",
                        "format": "binary",
                        "description": "the original message value, unchanged (it may not be JSON)",
                    },
                    "bindings": {
                        "kafka": {
                            "key": {**uscc_key, "description": "the original message key (may be absent)"},
                            "bindingVersion": "0.5.0",
                        }
                    },
                },
                "Change": {
                    "name": "change",
                    "title": "Change to an entity's documents",
                    "contentType": "application/json",
                    "headers": {
                        "type": "object",
                        "required": ["content-type"],
                        "properties": {
                            "content-type": _header("the media type of the value", const="application/json")
                        },
                    },
                    "payload": {"$ref": f"#/components/schemas/{CHANGE}"},
                    "bindings": {
                        "kafka": {
                            "key": {
                                **uscc_key,
                                "description": "统一社会信用代码 of the entity: one entity's changes land in "
                                "one partition, in the order they were recorded",
                            },
                            "bindingVersion": "0.5.0",
                        }
                    },
                },
            },
            "schemas": {**envelope_schemas(), **change_schemas()},
        },
    }


def render() -> str:
    header = "# Generated by `make schemas` (infra/asyncapi.py) — do not edit by hand.\n"
    body: str = yaml.safe_dump(document(), allow_unicode=True, sort_keys=False, width=100)
    return header + body
