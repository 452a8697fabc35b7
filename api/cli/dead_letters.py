"""Reading the dead-letter queue for operators (`gongshi dlq list`).

The worker writes each rejected publication's original bytes to `<prefix>.publications.dlq`
with headers `reason`, `message`, `source_topic`, `source_partition`, `source_offset` and the
original's `gongshi-*` signature headers (ingestion/worker.py); the publication id and the
department are read from the value when it is JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.credentials.signing import HEADER_KEY_ID
from adapters.publication_log.base import LogRecord, PublicationLog


@dataclass(frozen=True)
class DeadLetter:
    publication_id: str | None
    department: str | None
    reason: str
    message: str
    source: str  # topic[partition]@offset the publication was read from
    signing_key_id: str | None
    partition: int  # where on the DLQ
    offset: int
    timestamp_ms: int

    @classmethod
    def of(cls, record: LogRecord) -> DeadLetter:
        headers = {name: value.decode("utf-8", "replace") for name, value in record.headers}
        try:
            value: Any = json.loads(record.value)
        except ValueError:
            value = None
        fields = value if isinstance(value, dict) else {}

        def text(name: str) -> str | None:
            found = fields.get(name)
            return found if isinstance(found, str) else None

        source = f"{headers.get('source_topic', '?')}[{headers.get('source_partition', '?')}]"
        return cls(
            publication_id=text("publication_id"),
            department=text("department"),
            reason=headers.get("reason", ""),
            message=headers.get("message", ""),
            source=f"{source}@{headers.get('source_offset', '?')}",
            signing_key_id=headers.get(HEADER_KEY_ID),
            partition=record.partition,
            offset=record.offset,
            timestamp_ms=record.timestamp_ms,
        )


def recent_dead_letters(log: PublicationLog, topic: str, limit: int) -> list[DeadLetter]:
    """The `limit` most recent entries of the DLQ (by the time they were written), oldest first."""
    ends = log.end_offsets(topic)
    records: list[LogRecord] = []
    for partition, end in sorted(ends.items()):
        start = max(0, end - limit)
        records.extend(log.read(topic, partition, start, end - start))
    records.sort(key=lambda r: (r.timestamp_ms, r.partition, r.offset))
    return [DeadLetter.of(r) for r in records[-limit:]]
