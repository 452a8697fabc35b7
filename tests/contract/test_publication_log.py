"""The publication log port, against the embedded adapter and Kafka alike.

What the ingestion worker relies on: records come back as written (value, key, headers), in
order per key; a group consumer starts at the beginning, can be moved with `seek`, and
takes a committed offset as its starting hint; `on_assign` reports the partitions it owns.
"""

from __future__ import annotations

import time
from collections import defaultdict

import pytest

from adapters.publication_log.base import LogConsumer, LogRecord, LogUnavailable, PublicationLog
from adapters.publication_log.embedded import EmbeddedLog
from tests.contract.conftest import PARTITIONS
from tests.engines import unique_prefix

USCC_A = "91120116MA05XK3P1A"  # keys only: the log does not validate them
USCC_B = "92330106MA2H4Y1D3C"


def poll_until(consumer: LogConsumer, count: int, timeout_s: float = 60.0) -> list[LogRecord]:
    """Poll until `count` records have arrived (a poll may return part of what is there).

    A liveness bound, not a timing assertion: the first consumer group on a fresh broker waits for
    the group-offsets topic to be created, which took over 20 s on a busy 2-core machine."""
    records: list[LogRecord] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        records.extend(consumer.poll(max_records=500, timeout_s=1.0))
    return records


def read_all(log: PublicationLog, topic: str) -> list[LogRecord]:
    return [r for p, end in sorted(log.end_offsets(topic).items()) for r in log.read(topic, p, 0, end)]


def produce_numbered(
    log: PublicationLog, topic: str, n: int, keys: tuple[str, ...] = (USCC_A, USCC_B)
) -> None:
    for i in range(n):
        log.produce(topic, f"m{i}".encode(), key=keys[i % len(keys)])
    log.flush()


def test_produced_records_read_back_with_key_headers_and_order(log: PublicationLog, topic: str) -> None:
    for i in range(5):
        log.produce(
            topic, f"公示-{i}".encode(), key=USCC_A, headers=(("reason", b"x"), ("seq", str(i).encode()))
        )
    log.flush()

    ends = log.end_offsets(topic)
    [(partition, end)] = [(p, e) for p, e in ends.items() if e]
    records = log.read(topic, partition, 0, 100)

    assert end == 5
    assert [r.offset for r in records] == [0, 1, 2, 3, 4]
    assert [r.value.decode() for r in records] == [f"公示-{i}" for i in range(5)]
    assert {r.key for r in records} == {USCC_A}
    assert [r.headers for r in records] == [(("reason", b"x"), ("seq", str(i).encode())) for i in range(5)]
    assert all(isinstance(v, bytes) for r in records for _, v in r.headers)
    assert {r.topic for r in records} == {topic}
    assert [r.offset for r in log.read(topic, partition, 3, 1)] == [3]


def test_every_key_keeps_its_order_in_one_partition(log: PublicationLog, topic: str) -> None:
    keys = [f"9112011{k:02d}MA05XK3P1A" for k in range(20)]
    items = [(key, f"{key}|{seq}".encode()) for seq in range(10) for key in keys]
    log.produce_many(topic, items)

    seen: dict[str, list[int]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    for r in read_all(log, topic):
        key, seq = r.value.decode().split("|")
        assert r.key == key
        seen[key].append(int(seq))
        partitions[key].add(r.partition)

    assert {k: s for k, s in seen.items()} == {k: list(range(10)) for k in keys}
    assert all(len(p) == 1 for p in partitions.values())


def test_end_offsets_count_the_records_of_each_partition(log: PublicationLog, topic: str) -> None:
    assert log.end_offsets(topic) == dict.fromkeys(range(PARTITIONS), 0)
    produce_numbered(log, topic, 7)
    ends = log.end_offsets(topic)
    assert sorted(ends) == list(range(PARTITIONS))
    assert sum(ends.values()) == 7
    assert all(len(log.read(topic, p, 0, 100)) == end for p, end in ends.items())


def test_a_new_group_reads_from_the_beginning(log: PublicationLog, topic: str) -> None:
    produce_numbered(log, topic, 6)
    consumer = log.consumer(topic, unique_prefix("g-begin"))
    try:
        records = poll_until(consumer, 6)
    finally:
        consumer.close()
    assert sorted(r.value for r in records) == sorted(f"m{i}".encode() for i in range(6))
    by_partition = defaultdict(list)
    for r in records:
        by_partition[r.partition].append(r.offset)
    assert all(offsets == list(range(len(offsets))) for offsets in by_partition.values())


def test_seek_rereads_a_partition_from_an_offset(log: PublicationLog, topic: str) -> None:
    produce_numbered(log, topic, 4, keys=(USCC_A,))
    consumer = log.consumer(topic, unique_prefix("g-seek"))
    try:
        first = poll_until(consumer, 4)
        partition = first[0].partition
        consumer.seek(partition, 1)
        again = poll_until(consumer, 3)
    finally:
        consumer.close()
    assert [r.offset for r in first] == [0, 1, 2, 3]
    assert [(r.partition, r.offset) for r in again] == [(partition, 1), (partition, 2), (partition, 3)]
    assert [r.value for r in again] == [b"m1", b"m2", b"m3"]


def test_a_committed_offset_is_where_the_next_consumer_of_the_group_starts(
    log: PublicationLog, topic: str
) -> None:
    produce_numbered(log, topic, 4, keys=(USCC_A,))
    group = unique_prefix("g-commit")
    first = log.consumer(topic, group)
    try:
        records = poll_until(first, 4)
        partition = records[0].partition
        first.commit({partition: 2})
    finally:
        first.close()

    second = log.consumer(topic, group)
    try:
        resumed = poll_until(second, 2)
    finally:
        second.close()
    other_group = log.consumer(topic, unique_prefix("g-other"))
    try:
        fresh = poll_until(other_group, 4)
    finally:
        other_group.close()

    assert [r.offset for r in resumed] == [2, 3]
    assert [r.offset for r in fresh] == [0, 1, 2, 3]


def test_on_assign_is_called_with_the_assigned_partitions(log: PublicationLog, topic: str) -> None:
    produce_numbered(log, topic, 3)
    calls: list[list[int]] = []
    consumer = log.consumer(topic, unique_prefix("g-assign"))
    try:
        consumer.on_assign(calls.append)
        records = poll_until(consumer, 3)
        assignment = consumer.assignment()
    finally:
        consumer.close()
    assert len(records) == 3
    assert calls and sorted(calls[-1]) == list(range(PARTITIONS))
    assert sorted(assignment) == list(range(PARTITIONS))


def test_on_assign_callback_may_seek_before_anything_is_read(log: PublicationLog, topic: str) -> None:
    produce_numbered(log, topic, 5, keys=(USCC_A,))
    consumer = log.consumer(topic, unique_prefix("g-assign-seek"))
    try:
        consumer.on_assign(lambda partitions: [consumer.seek(p, 3) for p in partitions])
        records = poll_until(consumer, 2)
    finally:
        consumer.close()
    assert [r.offset for r in records] == [3, 4]


def test_poll_with_nothing_to_read_returns_an_empty_list(log: PublicationLog, topic: str) -> None:
    consumer = log.consumer(topic, unique_prefix("g-empty"))
    try:
        consumer.poll(timeout_s=0.5)  # the first poll may also join the group
        started = time.monotonic()
        records = consumer.poll(timeout_s=0.5)
        waited = time.monotonic() - started
    finally:
        consumer.close()
    assert records == []
    assert waited < 5.0  # it gives up about when asked to, not never


def test_produce_many_reports_progress_and_returns_the_count(log: PublicationLog, topic: str) -> None:
    progress: list[int] = []
    count = log.produce_many(
        topic, ((f"key-{i % 50}", b"x" * 20) for i in range(2500)), on_progress=progress.append
    )
    assert count == 2500
    assert progress and progress[-1] == 2500
    assert progress == sorted(progress)
    assert sum(log.end_offsets(topic).values()) == 2500


def test_an_unreachable_log_raises_log_unavailable(log: PublicationLog) -> None:
    if isinstance(log, EmbeddedLog):
        pytest.skip("not applicable: the embedded log is a local file, there is nothing to reach")
    from adapters.publication_log.kafka import KafkaLog

    unreachable = KafkaLog("127.0.0.1:1", connect_timeout_s=1.0, request_timeout_s=2.0)  # no connection yet
    try:
        with pytest.raises(LogUnavailable):
            unreachable.produce("anything", b"x", key=USCC_A)
        with pytest.raises(LogUnavailable):
            unreachable.end_offsets("anything")
        with pytest.raises(LogUnavailable):
            unreachable.consumer("anything", "group")
    finally:
        unreachable.close()


def test_deleting_before_an_offset_removes_older_records_and_keeps_the_numbering(
    log: PublicationLog, topic: str
) -> None:
    for i in range(5):
        log.produce(topic, f"dlq-{i}".encode(), key=USCC_A)
    log.flush()
    [(partition, end)] = [(p, e) for p, e in log.end_offsets(topic).items() if e]
    log.delete_before(topic, {partition: 3})
    assert [r.offset for r in log.read(topic, partition, 0, 100)] == [3, 4]
    assert log.end_offsets(topic)[partition] == end == 5
    log.delete_before(topic, {partition: 5})  # everything: the next record is still number 5
    assert log.read(topic, partition, 0, 100) == []
    log.produce(topic, b"dlq-5", key=USCC_A)
    log.flush()
    assert [(r.offset, r.value) for r in log.read(topic, partition, 0, 100)] == [(5, b"dlq-5")]
    assert log.end_offsets(topic)[partition] == 6
