"""Publications in and out of a real topic, and waiting for the pipeline to get somewhere."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from adapters.publication_log.base import Headers, LogRecord, PublicationLog
from domain.uscc import partition_key


def encode(message: dict[str, Any]) -> bytes:
    """A publication as a department sends it: compact UTF-8 JSON."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def produce(
    log: PublicationLog, topic: str, messages: Iterable[dict[str, Any]], sign: Callable[[bytes], Headers]
) -> None:
    """Each publication keyed by its USCC, as departments do, signed (`sign(value)` → headers)."""
    log.produce_many(topic, ((partition_key(m["uscc"]), encode(m)) for m in messages), headers_for=sign)


def read_all(log: PublicationLog, topic: str) -> list[LogRecord]:
    """Everything the topic holds, partition by partition, in offset order."""
    return [r for p, end in sorted(log.end_offsets(topic).items()) for r in log.read(topic, p, 0, end)]


def wait_for(
    condition: Callable[[], bool],
    what: str,
    timeout_s: float,
    *,
    interval_s: float = 0.2,
    detail: Callable[[], str] = lambda: "",
) -> None:
    """Poll `condition` until it holds; after `timeout_s`, fail naming `what` (and `detail()`)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}\n{detail()}")
        time.sleep(interval_s)
