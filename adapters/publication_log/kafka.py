"""The publication log on Apache Kafka (kafka-python 3.x).

Nothing connects at import or construction: the admin client, the producer and the tool
consumer are created on first use. Every kafka-python exception is translated to
`LogUnavailable` here; no vendor type leaks out of this module.

Every client (producer, consumers, admin, the tools' reader) logs in with the same `SaslLogin`
(SASL_PLAINTEXT; SCRAM-SHA-512 on the provisioned broker), or none for a PLAINTEXT broker.

kafka-python 3.x runs its network IO on a background thread per client. Rebalance listener
callbacks run on that thread while the caller's thread is blocked inside `poll()`, so the
`on_assign` callback (the worker's seek to the recorded positions) runs before any record of
the new assignment is fetched. It should stay quick: it blocks heartbeats while it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import (
    CommitFailedError,
    IllegalGenerationError,
    KafkaError,
    RebalanceInProgressError,
    TopicAlreadyExistsError,
    UnknownMemberIdError,
    UnknownTopicOrPartitionError,
)
from kafka.structs import OffsetAndMetadata, TopicPartition

from adapters.publication_log.base import Headers, LogConsumer, LogRecord, LogUnavailable, PublicationLog

log = logging.getLogger(__name__)
# kafka-python warns on every SASL_PLAINTEXT connection that it is "exchanging credentials in the
# clear": with SCRAM only a salted proof crosses the wire, never the password. What is true is that
# the traffic is not encrypted (docs/SECURITY.md: loopback or a trusted network; TLS is not set up).
logging.getLogger("kafka.net.sasl.scram").setLevel(logging.ERROR)

# A commit that loses a race with a rebalance is harmless: the committed offset is only a hint.
_LOST_COMMIT = (CommitFailedError, RebalanceInProgressError, IllegalGenerationError, UnknownMemberIdError)


@dataclass(frozen=True)
class SaslLogin:
    """A Kafka principal's SASL login (over SASL_PLAINTEXT)."""

    mechanism: str  # SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN
    username: str
    password: str = field(repr=False)

    def client_config(self) -> dict[str, Any]:
        return {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }


class KafkaLog(PublicationLog):
    """One Kafka cluster. Topics are created on first use with `default_partitions`."""

    def __init__(
        self,
        bootstrap: str,
        default_partitions: int = 1,
        *,
        sasl: SaslLogin | None = None,
        client_id: str = "gongshi",
        replication_factor: int = -1,
        connect_timeout_s: float = 10.0,
        request_timeout_s: float = 15.0,
        flush_timeout_s: float = 30.0,
        linger_ms: int = 5,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        max_poll_interval_ms: int = 300_000,
        join_timeout_s: float | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.default_partitions = default_partitions
        self.sasl = sasl
        self.client_id = client_id
        self.replication_factor = replication_factor  # -1 = the broker's default
        self.connect_timeout_s = connect_timeout_s
        self.request_timeout_s = request_timeout_s
        self.flush_timeout_s = flush_timeout_s
        self.linger_ms = linger_ms
        self.session_timeout_ms = session_timeout_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.max_poll_interval_ms = max_poll_interval_ms
        # how long a new consumer's first poll waits for its group to assign partitions
        self.join_timeout_s = join_timeout_s if join_timeout_s is not None else session_timeout_ms / 1000 + 5
        self._lock = threading.RLock()
        self._admin: KafkaAdminClient | None = None
        self._producer: KafkaProducer | None = None
        self._tool: KafkaConsumer | None = None
        self._known_topics: set[str] = set()
        self._send_error: BaseException | None = None

    # --- clients ------------------------------------------------------------------------------

    @contextmanager
    def translated(self, action: str) -> Iterator[None]:
        """Turn kafka-python's exceptions (and socket errors) into `LogUnavailable`."""
        try:
            yield
        except (KafkaError, OSError) as err:
            raise LogUnavailable(f"Kafka at {self.bootstrap}: {action} failed: {err!r}") from err

    def client_config(self) -> dict[str, Any]:
        return {
            "bootstrap_servers": self.bootstrap.split(","),
            "client_id": self.client_id,
            "bootstrap_timeout_ms": int(self.connect_timeout_s * 1000),
            "request_timeout_ms": int(self.request_timeout_s * 1000),
            **(self.sasl.client_config() if self.sasl is not None else {}),
        }

    def consumer_config(self) -> dict[str, Any]:
        return {
            **self.client_config(),
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "session_timeout_ms": self.session_timeout_ms,
            "heartbeat_interval_ms": self.heartbeat_interval_ms,
            "max_poll_interval_ms": self.max_poll_interval_ms,
            # must stay below request_timeout_ms (kafka-python checks it)
            "fetch_max_wait_ms": min(500, int(self.request_timeout_s * 1000) - 1),
            # a member that joined before the topic's partitions were in its metadata is assigned
            # none until the metadata is refreshed (kafka-python: every 5 min); 10 s also sees
            # partitions soon after they appear (seen: a worker idle past a test's 90-s wait)
            "metadata_max_age_ms": 10_000,
        }

    def _admin_client(self) -> KafkaAdminClient:
        with self._lock:
            if self._admin is None:
                with self.translated("connecting the admin client"):
                    self._admin = KafkaAdminClient(**self.client_config())
            return self._admin

    def _producer_client(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                with self.translated("connecting the producer"):
                    self._producer = KafkaProducer(
                        **self.client_config(),
                        acks="all",
                        enable_idempotence=True,  # keeps per-partition order with 5 requests in flight
                        max_in_flight_requests_per_connection=5,
                        linger_ms=self.linger_ms,
                        max_block_ms=int(self.request_timeout_s * 1000),
                        delivery_timeout_ms=int(self.flush_timeout_s * 1000),
                    )
            return self._producer

    def _tool_consumer(self) -> KafkaConsumer:
        with self._lock:
            if self._tool is None:
                with self.translated("connecting the reader"):
                    self._tool = KafkaConsumer(**self.consumer_config(), group_id=None)
            return self._tool

    # --- topics -------------------------------------------------------------------------------

    def ensure_topic(self, topic: str, partitions: int) -> None:
        admin = self._admin_client()
        with self.translated(f"creating topic {topic}"):
            try:
                spec = {"num_partitions": partitions, "replication_factor": self.replication_factor}
                admin.create_topics({topic: spec}, timeout_ms=int(self.request_timeout_s * 1000))
            except TopicAlreadyExistsError:
                pass
            admin.wait_for_topics([topic], timeout_ms=int(self.request_timeout_s * 1000))
        self._known_topics.add(topic)

    def _ensure_known(self, topic: str) -> None:
        if topic not in self._known_topics:
            self.ensure_topic(topic, self.default_partitions)

    def delete_topics(self, topics: Sequence[str]) -> None:
        """Delete topics (tests and operators); unknown ones are ignored."""
        if not topics:
            return
        admin = self._admin_client()
        with self.translated(f"deleting topics {list(topics)}"):
            result = admin.delete_topics(
                list(topics), timeout_ms=int(self.request_timeout_s * 1000), raise_errors=False
            )
            for entry in result.get("topics", []):
                code = entry.get("error_code", 0)
                if code and code != UnknownTopicOrPartitionError.errno:
                    raise KafkaError(f"deleting {entry.get('name')}: error code {code}")
        self._known_topics.difference_update(topics)

    # --- producing ----------------------------------------------------------------------------

    def _record_send_error(self, err: BaseException) -> None:
        log.error("a message could not be stored in Kafka: %r", err)
        self._send_error = self._send_error or err

    def _send(
        self, producer: KafkaProducer, topic: str, value: bytes, key: str | None, headers: Headers
    ) -> None:
        future = producer.send(
            topic,
            value=bytes(value),
            key=key.encode() if key is not None else None,
            headers=[(k, bytes(v)) for k, v in headers] or None,
        )
        future.add_errback(self._record_send_error)

    def produce(self, topic: str, value: bytes, key: str | None = None, headers: Headers = ()) -> None:
        """Queue one message (stored for sure after `flush()`)."""
        self._ensure_known(topic)
        producer = self._producer_client()
        with self.translated(f"producing to {topic}"):
            self._send(producer, topic, value, key, headers)

    def produce_many(
        self,
        topic: str,
        items: Iterable[tuple[str | None, bytes]],
        on_progress: Callable[[int], None] | None = None,
        headers_for: Callable[[bytes], Headers] | None = None,
    ) -> int:
        self._ensure_known(topic)
        producer = self._producer_client()
        count = 0
        with self.translated(f"producing to {topic}"):
            for key, value in items:
                self._send(producer, topic, value, key, headers_for(value) if headers_for else ())
                count += 1
                if on_progress and count % 1000 == 0:
                    on_progress(count)
        self.flush()
        if on_progress:
            on_progress(count)
        return count

    def flush(self) -> None:
        """Block until every queued message is stored; raise if any could not be.

        After a failure the producer is discarded and the next message gets a fresh one: once
        queued messages have expired, kafka-python 3.0's idempotent producer keeps failing every
        later flush, even after Kafka is back (seen with a ~28 s outage); a new producer
        recovers at once. What the old one held is reported as not stored, so callers resend."""
        try:
            if self._producer is not None:
                with self.translated("flushing the producer"):
                    self._producer.flush(timeout=self.flush_timeout_s)
        except LogUnavailable:
            self._discard_producer()
            self._send_error = None
            raise
        error, self._send_error = self._send_error, None
        if error is not None:
            self._discard_producer()
            raise LogUnavailable(f"Kafka at {self.bootstrap}: a message was not stored: {error!r}") from error

    def _discard_producer(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except Exception:  # closing a broken producer must not hide the original failure
                log.warning("closing a failed Kafka producer", exc_info=True)

    # --- consuming ----------------------------------------------------------------------------

    def consumer(self, topic: str, group: str) -> KafkaLogConsumer:
        self._ensure_known(topic)
        return KafkaLogConsumer(self, topic, group)

    def end_offsets(self, topic: str) -> dict[int, int]:
        self._ensure_known(topic)
        tool = self._tool_consumer()
        with self._lock, self.translated(f"reading the end offsets of {topic}"):
            partitions = sorted(tool.partitions_for_topic(topic))
            tps = [TopicPartition(topic, p) for p in partitions]
            ends = tool.end_offsets(tps, timeout_ms=int(self.request_timeout_s * 1000))
            return {tp.partition: int(ends[tp]) for tp in tps}

    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[LogRecord]:
        end = self.end_offsets(topic).get(partition, 0)
        if limit <= 0 or offset >= end:
            return []
        tool = self._tool_consumer()
        tp = TopicPartition(topic, partition)
        with self._lock, self.translated(f"reading where {topic}[{partition}] starts"):
            begin = int(tool.beginning_offsets([tp], timeout_ms=int(self.request_timeout_s * 1000))[tp])
        offset = max(offset, begin)  # below the start: records deleted (delete_before)
        if offset >= end:
            return []
        out: list[LogRecord] = []
        deadline = time.monotonic() + self.request_timeout_s
        with self._lock, self.translated(f"reading {topic}[{partition}]"):
            tool.assign([tp])
            tool.seek(tp, offset)
            while len(out) < limit and (not out or out[-1].offset + 1 < end):
                if time.monotonic() > deadline:
                    raise KafkaError(f"timed out reading up to offset {end}")
                batch = tool.poll(timeout_ms=200, max_records=limit - len(out))
                out.extend(to_record(r) for r in batch.get(tp, []))
        return out[:limit]

    def delete_before(self, topic: str, offsets: dict[int, int]) -> None:
        self._ensure_known(topic)
        wanted = {TopicPartition(topic, p): o for p, o in offsets.items() if o > 0}
        if not wanted:
            return
        admin = self._admin_client()
        with self.translated(f"deleting records of {topic}"):
            admin.delete_records(wanted, timeout_ms=int(self.request_timeout_s * 1000))

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
            admin, self._admin = self._admin, None
            tool, self._tool = self._tool, None
        for name, client in (("producer", producer), ("admin client", admin), ("reader", tool)):
            if client is None:
                continue
            try:
                if isinstance(client, KafkaProducer):
                    client.flush(timeout=self.flush_timeout_s)
                    client.close(timeout=self.request_timeout_s)
                elif isinstance(client, KafkaConsumer):
                    client.close(autocommit=False, timeout_ms=int(self.request_timeout_s * 1000))
                else:
                    client.close()
            except (KafkaError, OSError) as err:
                log.warning("closing the Kafka %s failed: %r", name, err)


def to_record(r: Any) -> LogRecord:
    """A kafka-python ConsumerRecord as the port's LogRecord."""
    return LogRecord(
        topic=r.topic,
        partition=r.partition,
        offset=r.offset,
        key=r.key.decode() if r.key is not None else None,
        value=bytes(r.value) if r.value is not None else b"",
        headers=tuple((k, bytes(v) if v is not None else b"") for k, v in (r.headers or ())),
        timestamp_ms=int(r.timestamp or 0),
    )


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]  # kafka-python ships no types
    def __init__(self, owner: KafkaLogConsumer) -> None:
        self.owner = owner

    def on_partitions_revoked(self, revoked: Any) -> None:
        log.info("partitions revoked from %s: %s", self.owner.group, sorted(tp.partition for tp in revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        partitions = sorted(tp.partition for tp in assigned if tp.topic == self.owner.topic)
        log.info("partitions assigned to %s: %s", self.owner.group, partitions)
        self.owner.assigned_once = True
        callback = self.owner.assign_callback
        if callback is not None and partitions:
            try:
                callback(partitions)
            except Exception as err:
                # kafka-python would only report "User rebalance callback throws an error" and go
                # on fetching from the committed offsets: keep the cause, retry before fetching
                self.owner.pending_assign, self.owner.callback_error = partitions, err
                raise


class KafkaLogConsumer(LogConsumer):
    """A member of a consumer group on one topic; positions are set with `seek` on assignment."""

    def __init__(self, log_: KafkaLog, topic: str, group: str) -> None:
        self.log, self.topic, self.group = log_, topic, group
        self.assign_callback: Callable[[list[int]], None] | None = None
        self.assigned_once = False
        self.pending_assign: list[int] = []
        self.callback_error: BaseException | None = None
        self._first_poll = True
        with log_.translated(f"joining group {group} on {topic}"):
            self._consumer = KafkaConsumer(**log_.consumer_config(), group_id=group)
            # Have the topic's partitions in the metadata BEFORE joining: a leader that assigns
            # without them assigns nothing ("No partition metadata for topic"), and in CI such a
            # member once stayed without partitions for the whole 180-s wait of a test.
            self._consumer.partitions_for_topic(topic)
            self._consumer.subscribe([topic], listener=_Listener(self))

    def on_assign(self, callback: Callable[[list[int]], None]) -> None:
        self.assign_callback = callback
        current = self.assignment()
        if current:
            callback(current)

    def assignment(self) -> list[int]:
        return sorted(tp.partition for tp in self._consumer.assignment() if tp.topic == self.topic)

    def seek(self, partition: int, offset: int) -> None:
        with self.log.translated(f"seeking {self.topic}[{partition}]"):
            self._consumer.seek(TopicPartition(self.topic, partition), offset)

    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[LogRecord]:
        """Next records; the first call also waits (up to `join_timeout_s`) for the group to assign.

        An exception raised by the `on_assign` callback comes out of here as it is, and the
        callback runs again (for the partitions still assigned) before the next poll fetches.
        """
        if self.pending_assign and self.assign_callback is not None:
            owned = set(self.assignment())
            self.assign_callback([p for p in self.pending_assign if p in owned])
            self.pending_assign = []
        try:
            return self._poll(max_records, timeout_s)
        except LogUnavailable:
            error, self.callback_error = self.callback_error, None
            if error is not None:
                raise error from None
            raise

    def _poll(self, max_records: int, timeout_s: float) -> list[LogRecord]:
        deadline = time.monotonic() + timeout_s
        joining = self._first_poll and not self.assigned_once
        self._first_poll = False
        join_deadline = time.monotonic() + self.log.join_timeout_s
        with self.log.translated(f"polling {self.topic} for group {self.group}"):
            while True:
                if joining and self.assigned_once:
                    # joined during this call: give the new assignment the caller's timeout
                    joining, deadline = False, time.monotonic() + timeout_s
                until = join_deadline if joining else deadline
                left_ms = max(0, int((until - time.monotonic()) * 1000))
                if joining:
                    left_ms = min(left_ms, 200)
                batches = self._consumer.poll(timeout_ms=left_ms, max_records=max_records)
                if batches or time.monotonic() >= until:
                    break
        out: list[LogRecord] = []
        for tp in sorted(batches, key=lambda tp: tp.partition):
            out.extend(to_record(r) for r in batches[tp])
        return out

    def commit(self, next_offsets: dict[int, int]) -> None:
        offsets = {
            TopicPartition(self.topic, p): OffsetAndMetadata(o, "", -1)  # (offset, metadata, leader_epoch)
            for p, o in next_offsets.items()
        }
        if not offsets:
            return
        try:
            with self.log.translated(f"committing offsets of group {self.group}"):
                self._consumer.commit(offsets, timeout_ms=int(self.log.request_timeout_s * 1000))
        except LogUnavailable as err:
            if isinstance(err.__cause__, _LOST_COMMIT):
                log.info("offset commit lost to a rebalance (only a hint): %r", err.__cause__)
                return
            raise

    def close(self) -> None:
        try:
            self._consumer.close(autocommit=False, timeout_ms=int(self.log.request_timeout_s * 1000))
        except (KafkaError, OSError) as err:
            log.warning("closing the Kafka consumer of %s failed: %r", self.group, err)
