"""The platform publishes on someone's behalf: an envelope on the publications topic, keyed by
the USCC like every department's, signed with the platform's key for the principal who acted."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any, Protocol

from adapters.publication_log.base import Headers, PublicationLog
from domain.departments import ENTERPRISE
from domain.publications import SCHEMA_ID
from domain.uscc import partition_key

__all__ = ["LogPublisher", "Publisher", "envelope"]


def envelope(
    *,
    kind: str,
    uscc: str,
    department: str,
    payload: Mapping[str, Any],
    occurred_on: date,
    publication_id: str,
) -> dict[str, Any]:
    """A publication envelope (JSON-ready)."""
    return {
        "schema": SCHEMA_ID,
        "publication_id": publication_id,
        "department": department,
        "kind": kind,
        "uscc": uscc,
        "occurred_on": occurred_on.isoformat(),
        "payload": dict(payload),
    }


def enterprise_envelope(
    kind: str, uscc: str, payload: Mapping[str, Any], occurred_on: date, publication_id: str
) -> dict[str, Any]:
    """An enterprise's own filing: authored by the enterprise channel for its own USCC."""
    return envelope(
        kind=kind,
        uscc=uscc,
        department=ENTERPRISE,
        payload=payload,
        occurred_on=occurred_on,
        publication_id=publication_id,
    )


class Publisher(Protocol):
    """Puts envelopes on the publications topic, signed by the platform for `principal`."""

    def publish(self, envelopes: Iterable[Mapping[str, Any]], principal: str) -> int:
        """Produce and flush them (on the log for sure when it returns); how many."""
        ...


class LogPublisher:
    """`Publisher` on the publication log port (Kafka or the embedded log)."""

    def __init__(
        self, log: PublicationLog, topic: str, sign: Callable[[str], Callable[[bytes], Headers]]
    ) -> None:
        self.log = log
        self.topic = topic
        self.sign = sign

    def publish(self, envelopes: Iterable[Mapping[str, Any]], principal: str) -> int:
        headers = self.sign(principal)
        items = [
            (partition_key(str(e["uscc"])), json.dumps(e, ensure_ascii=False).encode()) for e in envelopes
        ]
        if items:
            self.log.produce_many(self.topic, items, headers_for=headers)
            self.log.flush()
        return len(items)
