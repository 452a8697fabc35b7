"""The dead-letter queue for operators: list, show, replay once, purge (`gongshi dlq …`).

The worker writes each rejected publication's original bytes to `<prefix>.publications.dlq`
with headers `reason`, `message`, `source_topic`, `source_partition`, `source_offset` and the
original's `gongshi-*` signature headers (ingestion/worker.py); the publication id and the
department are read from the value when it is JSON.

An entry is named by its place on the DLQ, `PARTITION@OFFSET` (its `entry`, for the replay
ledger, adds the topic). Replaying puts the original bytes back on the publication log with the
original key and signature headers, plus `gongshi-replay-of: <dlq>[P]@O`, once per entry (the
replay ledger). The worker copies every `gongshi-*` header when it rejects, so an entry that is
rejected again carries the name of the entry it replays; one that is applied shows as applied in
the status view.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from adapters.credentials.signing import HEADER_KEY_ID, HEADER_PRINCIPAL, HEADER_SIGNATURE
from adapters.publication_log.base import Headers, LogRecord, LogUnavailable, PublicationLog
from adapters.replays import Replay, ReplayLedger
from domain.publications import REASON_PARKED_EXPIRED

__all__ = [
    "REPLAY_HEADER",
    "DeadLetter",
    "ReplayResult",
    "all_dead_letters",
    "find_dead_letter",
    "purge_before",
    "recent_dead_letters",
    "replay",
]

#: On a replayed message (and on its DLQ entry if it is rejected again): the entry it replays.
REPLAY_HEADER = "gongshi-replay-of"
#: Signs a message value as the platform acting for a principal.
PlatformSign = Callable[[bytes, str], Headers]
_POSITION = re.compile(r"^(\d+)@(\d+)$")


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
    record: LogRecord | None = None  # the DLQ record itself (bytes and headers)

    @property
    def id(self) -> str:
        """How operators name it: `PARTITION@OFFSET` on the DLQ."""
        return f"{self.partition}@{self.offset}"

    @property
    def entry(self) -> str:
        """How the replay ledger names it: `<dlq topic>[P]@O`."""
        topic = self.record.topic if self.record is not None else "?"
        return f"{topic}[{self.partition}]@{self.offset}"

    @property
    def replay_of(self) -> str | None:
        """The entry this one replays (it was replayed and rejected again), if any."""
        return self.headers.get(REPLAY_HEADER)

    @property
    def headers(self) -> dict[str, str]:
        if self.record is None:
            return {}
        return {name: value.decode("utf-8", "replace") for name, value in self.record.headers}

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
            record=record,
        )

    def matches(self, reason: str | None, department: str | None) -> bool:
        return (reason is None or self.reason == reason) and (
            department is None or self.department == department
        )


def _records(log: PublicationLog, topic: str, partition: int, start: int, end: int) -> Iterator[LogRecord]:
    offset = start
    while offset < end:
        page = log.read(topic, partition, offset, min(1000, end - offset))
        if not page:
            return
        yield from page
        offset = page[-1].offset + 1


def all_dead_letters(
    log: PublicationLog, topic: str, *, reason: str | None = None, department: str | None = None
) -> list[DeadLetter]:
    """Every entry on the DLQ (by the time they were written), or those with this reason and
    department."""
    letters = [
        DeadLetter.of(r)
        for partition, end in sorted(log.end_offsets(topic).items())
        for r in _records(log, topic, partition, 0, end)
    ]
    letters.sort(key=lambda d: (d.timestamp_ms, d.partition, d.offset))
    return [d for d in letters if d.matches(reason, department)]


def recent_dead_letters(
    log: PublicationLog,
    topic: str,
    limit: int,
    *,
    reason: str | None = None,
    department: str | None = None,
) -> list[DeadLetter]:
    """The `limit` most recent entries of the DLQ (by the time they were written), oldest first;
    with a reason or department, the most recent `limit` of those."""
    if reason is not None or department is not None:
        return all_dead_letters(log, topic, reason=reason, department=department)[-limit:]
    ends = log.end_offsets(topic)
    records: list[LogRecord] = []
    for partition, end in sorted(ends.items()):
        start = max(0, end - limit)
        records.extend(log.read(topic, partition, start, end - start))
    records.sort(key=lambda r: (r.timestamp_ms, r.partition, r.offset))
    return [DeadLetter.of(r) for r in records[-limit:]]


def find_dead_letter(log: PublicationLog, topic: str, ident: str) -> DeadLetter | None:
    """The entry at `PARTITION@OFFSET`, or the latest entry of the publication id `ident`."""
    position = _POSITION.match(ident.strip())
    if position:
        partition, offset = int(position[1]), int(position[2])
        if partition not in log.end_offsets(topic):
            return None
        found = log.read(topic, partition, offset, 1)
        return DeadLetter.of(found[0]) if found and found[0].offset == offset else None
    matching = [d for d in all_dead_letters(log, topic) if d.publication_id == ident.strip()]
    return matching[-1] if matching else None


def replay_headers(letter: DeadLetter, platform_sign: PlatformSign | None = None) -> Headers:
    """The original's `gongshi-*` headers (its signature), and which entry this replays.

    An entry the platform wrote itself from a parked publication (`parked_expired`: its envelope
    as parked, no signature — the signature was checked when it arrived) is signed anew by the
    platform for the principal it carries (`platform_sign(value, principal)`)."""
    assert letter.record is not None
    if (
        platform_sign is not None
        and letter.reason == REASON_PARKED_EXPIRED
        and HEADER_SIGNATURE not in letter.headers
    ):
        principal = letter.headers.get(HEADER_PRINCIPAL) or f"department:{letter.department or '?'}"
        kept = platform_sign(letter.record.value, principal)
    else:
        kept = tuple(
            (name, value)
            for name, value in letter.record.headers
            if name.startswith("gongshi-") and name != REPLAY_HEADER
        )
    return (*kept, (REPLAY_HEADER, letter.entry.encode()))


@dataclass(frozen=True)
class ReplayResult:
    letter: DeadLetter
    replayed: bool
    earlier: Replay | None  # when not replayed: the replay that came first


def replay(
    log: PublicationLog,
    publications_topic: str,
    letters: list[DeadLetter],
    ledger: ReplayLedger,
    *,
    actor: str,
    now: datetime,
    platform_sign: PlatformSign | None = None,
) -> list[ReplayResult]:
    """Put each entry's original bytes back on the publication log, each entry once: an entry
    replayed before is left alone and reported with that earlier replay. A claim whose message
    could not be stored is released (so it can be tried again) and the error raised."""
    results: list[ReplayResult] = []
    claimed: list[DeadLetter] = []
    earlier = ledger.replays([d.entry for d in letters])
    for letter in letters:
        assert letter.record is not None
        if letter.entry in earlier or not ledger.claim(
            Replay(letter.entry, letter.publication_id, now, actor)
        ):
            first = earlier.get(letter.entry) or ledger.replays([letter.entry]).get(letter.entry)
            results.append(ReplayResult(letter, replayed=False, earlier=first))
            continue
        claimed.append(letter)
        try:
            headers = replay_headers(letter, platform_sign)
            log.produce(publications_topic, letter.record.value, letter.record.key, headers)
        except LogUnavailable:
            for c in claimed:
                ledger.release(c.entry)
            raise
        results.append(ReplayResult(letter, replayed=True, earlier=None))
    try:
        log.flush()
    except LogUnavailable:
        for c in claimed:
            ledger.release(c.entry)
        raise
    return results


def purge_before(log: PublicationLog, topic: str, cutoff: date, date_of: Callable[[datetime], date]) -> int:
    """Delete the DLQ's entries written before the system date `cutoff` (`date_of` turns an
    instant into a system date); returns how many were deleted. Per partition, everything before
    the first entry of `cutoff` or later goes (entries are appended in time order)."""
    deleted = 0
    boundaries: dict[int, int] = {}
    for partition, end in sorted(log.end_offsets(topic).items()):
        first_kept = end
        count = 0
        for r in _records(log, topic, partition, 0, end):
            if date_of(_instant(r.timestamp_ms)) >= cutoff:
                first_kept = r.offset
                break
            count += 1
        if count:
            boundaries[partition] = first_kept
            deleted += count
    if boundaries:
        log.delete_before(topic, boundaries)
    return deleted


def _instant(timestamp_ms: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC)
