"""The publication log port: an append-only, partitioned log of messages, like a Kafka topic."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

Headers = tuple[tuple[str, bytes], ...]


class LogUnavailable(Exception):
    """The log cannot be reached."""


@dataclass(frozen=True)
class LogRecord:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: Headers = field(default=())
    timestamp_ms: int = 0

    @property
    def source(self) -> str:
        """The tracking name of this record's partition (positions are recorded per source)."""
        return f"log:{self.topic}:{self.partition}"


class LogConsumer(ABC):
    """Reads one topic. Positions are the caller's to keep; `commit` stores a hint."""

    @abstractmethod
    def assignment(self) -> list[int]:
        """Partitions currently assigned to this consumer."""

    @abstractmethod
    def seek(self, partition: int, offset: int) -> None:
        """Read `partition` from `offset` on."""

    @abstractmethod
    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[LogRecord]:
        """Next records (oldest first per partition); empty after `timeout_s` with nothing new."""

    @abstractmethod
    def commit(self, next_offsets: dict[int, int]) -> None:
        """Remember the next offset per partition for this group (a hint, not the truth)."""

    def on_assign(self, callback: Callable[[list[int]], None]) -> None:
        """Call `callback(partitions)` whenever partitions are (re)assigned."""
        self._on_assign = callback

    @abstractmethod
    def close(self) -> None: ...


class PublicationLog(ABC):
    @abstractmethod
    def ensure_topic(self, topic: str, partitions: int) -> None: ...

    @abstractmethod
    def produce(self, topic: str, value: bytes, key: str | None = None, headers: Headers = ()) -> None: ...

    def produce_many(
        self,
        topic: str,
        items: Iterable[tuple[str | None, bytes]],
        on_progress: Callable[[int], None] | None = None,
        headers_for: Callable[[bytes], Headers] | None = None,
    ) -> int:
        """Append (key, value) items, each with the headers `headers_for(value)` gives (e.g. its
        signature), then flush."""
        count = 0
        for key, value in items:
            self.produce(topic, value, key, headers_for(value) if headers_for else ())
            count += 1
            if on_progress and count % 1000 == 0:
                on_progress(count)
        self.flush()
        if on_progress:
            on_progress(count)
        return count

    def flush(self) -> None:
        """Block until every produced message is stored."""

    @abstractmethod
    def consumer(self, topic: str, group: str) -> LogConsumer: ...

    @abstractmethod
    def end_offsets(self, topic: str) -> dict[int, int]:
        """The next offset per partition (= the number of records ever written there)."""

    @abstractmethod
    def read(self, topic: str, partition: int, offset: int, limit: int) -> Sequence[LogRecord]:
        """Records of one partition from `offset` on (for tools and tests)."""

    @abstractmethod
    def delete_before(self, topic: str, offsets: dict[int, int]) -> None:
        """Remove the records of each partition below its offset (Kafka's DeleteRecords: the log
        now starts there). Offsets are never reused: `end_offsets` is unchanged and later records
        continue the numbering."""

    def close(self) -> None:
        """Release connections."""


@dataclass(frozen=True)
class WriterLogin:
    """How one department's client logs in to the log (shown once, when it is made)."""

    username: str
    password: str = field(repr=False)
    mechanism: str


class LogAccess(ABC):
    """Who may write the log: the principals the platform makes for departments' own clients.

    Each writer may only write the one topic it was granted (and see that it exists); the
    platform's own principal is set up with the log, not here."""

    @abstractmethod
    def grant_writer(self, username: str, topic: str) -> WriterLogin | None:
        """Make `username` with a new password, allowed to write `topic` and nothing else; None
        when this log has no principals of its own (the embedded log, a broker without SCRAM)."""

    @abstractmethod
    def revoke_writer(self, username: str) -> bool:
        """Remove `username` and everything it was granted; False when there was nothing."""

    def close(self) -> None:
        """Release connections."""


class NoLogAccess(LogAccess):
    """A log with no principals (the embedded log: only processes on this machine reach it)."""

    def grant_writer(self, username: str, topic: str) -> WriterLogin | None:
        return None

    def revoke_writer(self, username: str) -> bool:
        return False
