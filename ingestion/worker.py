"""The ingestion worker: reads publications from the log and applies them, exactly once.

The position of every partition is recorded in the event store in the same transaction as the
events it produced; on (re)assignment the worker seeks each partition to the position after the
recorded one (the log's committed offset is only a hint). Rejected publications go to the DLQ
with their reason before the batch is recorded, so none is lost if the worker dies in between.

Before anything else, every message's signature is checked (`verifier.check_many`, one read of
each signing key per batch, so a revoked key is refused from the next batch on); the registry
rejects a refused one as `bad_signature` and records who signed the others with their events.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable

from eventsourcing.persistence import IntegrityError, Tracking

from adapters.publication_log.base import LogConsumer, LogRecord, PublicationLog
from domain.registry import Outcome, Registry
from domain.signatures import SignatureChecker

log = logging.getLogger(__name__)


class IngestionWorker:
    name = "ingest"

    def __init__(
        self,
        registry: Registry,
        log_: PublicationLog,
        topic: str,
        dlq_topic: str,
        group: str,
        batch_size: int = 500,
        *,
        verifier: SignatureChecker,
    ) -> None:
        self.registry = registry
        self.verifier = verifier
        self.log = log_
        self.topic = topic
        self.dlq_topic = dlq_topic
        self.group = group
        self.batch_size = batch_size
        self.counts: dict[str, int] = defaultdict(int)
        self._consumer: LogConsumer | None = None
        self._stop = threading.Event()

    def source(self, partition: int) -> str:
        return f"log:{self.topic}:{partition}"

    def recorded(self, partitions: Iterable[int]) -> dict[int, int]:
        """Per partition, how many of its publications are recorded as applied (the offset after
        the last recorded one); read from the event store, no consumer needed."""
        return {p: (self.registry.position(self.source(p)) or -1) + 1 for p in partitions}

    def unapplied(self) -> int:
        """Publications on the log that no worker of this store has applied yet."""
        ends = self.log.end_offsets(self.topic)
        recorded = self.recorded(ends)
        return sum(max(0, end - recorded[p]) for p, end in ends.items())

    @property
    def consumer(self) -> LogConsumer:
        if self._consumer is None:
            self._consumer = self.log.consumer(self.topic, self.group)
            self._consumer.on_assign(self._seek_to_recorded)
        return self._consumer

    def _seek_to_recorded(self, partitions: list[int]) -> None:
        """On every (re)assignment, and after a batch found its position already recorded: drop
        the cached aggregates (another worker may have written these partitions' entities in
        between; the registry's cache is never fast-forwarded) and read on from the position
        recorded with the events."""
        self.registry.forget_cached()
        for p in partitions:
            recorded = self.registry.position(self.source(p))
            self.consumer.seek(p, 0 if recorded is None else recorded + 1)

    def run_once(self, timeout_s: float = 0.5) -> int:
        """Apply one poll's worth of publications; returns how many were read."""
        records = self.consumer.poll(self.batch_size, timeout_s)
        by_partition: dict[int, list[LogRecord]] = defaultdict(list)
        for r in records:
            by_partition[r.partition].append(r)
        committed: dict[int, int] = {}
        for partition, batch in by_partition.items():
            self._apply(batch)
            committed[partition] = batch[-1].offset + 1
        if committed:
            self.consumer.commit(committed)
        return len(records)

    def _apply(self, batch: list[LogRecord]) -> None:
        tracking = Tracking(notification_id=batch[-1].offset, application_name=batch[0].source)

        def to_dlq(outcomes: list[Outcome]) -> None:
            rejected = [(r, o) for r, o in zip(batch, outcomes, strict=True) if o.status == "rejected"]
            for record, outcome in rejected:
                self._dead_letter(record, outcome)
            if rejected:
                self.log.flush()  # stored on the DLQ before the batch's position is recorded

        try:
            signatures = self.verifier.check_many([(r.value, r.headers) for r in batch])
            outcomes = self.registry.process(
                [r.value for r in batch],
                tracking=tracking,
                on_decided=to_dlq,
                positions=[r.offset for r in batch],
                signatures=signatures,
            )
        except IntegrityError:
            # This position is already recorded (a replay after a crash, or another worker), or
            # another worker wrote one of these entities since this one cached it (the registry
            # has dropped its cache): read on from the position recorded with the events.
            self._seek_to_recorded([batch[0].partition])
            return
        for outcome in outcomes:
            self.counts[outcome.status] += 1
            for released in outcome.released:
                self.counts[f"released_{released.status}"] += 1

    def _dead_letter(self, record: LogRecord, outcome: Outcome) -> None:
        headers = (
            ("reason", (outcome.code or "").encode()),
            ("message", (outcome.message or "").encode()),
            ("source_topic", record.topic.encode()),
            ("source_partition", str(record.partition).encode()),
            ("source_offset", str(record.offset).encode()),
            # who signed it (as the publisher claimed), to trace or re-check it
            *((name, value) for name, value in record.headers if name.startswith("gongshi-")),
        )
        self.log.produce(self.dlq_topic, record.value, key=record.key, headers=headers)

    def drain(self) -> int:
        """Apply everything available now (for tools and tests)."""
        total = 0
        while count := self.run_once(timeout_s=0.2):
            total += count
        self.log.flush()
        return total

    def run_forever(self) -> None:
        resync = False
        while not self._stop.is_set():
            try:
                # After a failure, seek back to the recorded positions BEFORE polling again (the
                # failed batch was consumed but not recorded); if the event store is still down
                # this raises, and the next round tries again instead of the worker dying.
                if resync and self._consumer is not None:
                    self._seek_to_recorded(self._consumer.assignment())
                resync = False
                self.run_once()
            except Exception:
                log.exception("ingestion failed; retrying from the recorded position")
                resync = True
                self._stop.wait(2.0)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
