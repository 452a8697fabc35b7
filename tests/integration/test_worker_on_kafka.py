"""The ingestion worker on a real Kafka broker with the SQLite event store.

Publications reach the entity in order, a malformed message lands on the DLQ with where it
came from, and a new worker of the same group after a restart reads nothing twice: the
position recorded with the events in the event store decides where it starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from adapters.publication_log.kafka import KafkaLog
from domain.entity import MarketEntity, entity_id
from domain.identity import make_resident_id
from domain.uscc import make_uscc
from infra.bootstrap import Container
from ingestion.worker import IngestionWorker
from tests.builders import platform_signed
from tests.engines import kafka_login, unique_prefix
from tests.integration.conftest import Engines, SettingsFactory
from tests.integration.flow import read_all

pytestmark = pytest.mark.engines

USCC = make_uscc("120116", "MA05XK3P").value
MALFORMED = b'{"schema": "gongshi.publication/1", "kind": '


def envelope(kind: str, publication_id: str, occurred_on: str, payload: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "schema": "gongshi.publication/1",
            "publication_id": publication_id,
            "department": "TJ-AMR",
            "kind": kind,
            "uscc": USCC,
            "occurred_on": occurred_on,
            "payload": payload,
        },
        ensure_ascii=False,
    ).encode()


REGISTRATION = envelope(
    "registration.registered",
    "TJ-AMR-2026-R0001",
    "2026-03-02",
    {
        "name": "天津滨海新区海河智能装备有限公司",
        "entity_type": "有限责任公司",
        "legal_representative": {
            "name": "张伟",
            "id_number": make_resident_id("120101", date(1980, 5, 1), 12, "M"),
        },
        "registered_capital": {"amount": "5000000.00"},
        "established_on": "2026-03-02",
        "address": "天津市滨海新区第三大街51号",
        "business_scope": "智能装备研发、制造与销售",
        "registration_authority": "天津市滨海新区市场监督管理局",
    },
)
PENALTY = envelope(
    "penalty.imposed",
    "TJ-AMR-2026-P0001",
    "2026-09-15",
    {
        "decision_no": "津滨市监罚〔2026〕88号",
        "violation": "未按规定公示年度报告信息",
        "basis": "《企业信息公示暂行条例》第十八条",
        "content": "警告并处罚款",
        "fine_amount": "20000.00",
        "decided_on": "2026-09-15",
        "severity": "general",
    },
)


@pytest.fixture
def container(settings_for: SettingsFactory) -> Iterator[Container]:
    # Kafka, and the SQLite event store; the broker is shared: the group is the run's own
    c = Container(settings_for("worker", postgres=False))
    yield c
    c.close()


def test_worker_applies_in_order_dead_letters_and_resumes_from_the_event_store(container: Container) -> None:
    s = container.settings
    log = container.log
    sign = platform_signed(container)
    for value in (REGISTRATION, PENALTY, MALFORMED):
        log.produce(s.publications_topic, value, key=USCC, headers=sign(value))
    log.flush()

    worker = container.worker
    assert worker.drain() == 3  # the first poll waits for the group to assign partitions
    worker.close()

    # both publications applied, in the order they were published
    events = list(container.registry.repository.event_store.get(entity_id(USCC)))
    assert [type(e) for e in events] == [MarketEntity.Registered, MarketEntity.PenaltyImposed]
    entity = container.registry.get_entity(USCC)
    assert entity.version == 2
    assert "津滨市监罚〔2026〕88号" in entity.penalties
    assert dict(worker.counts) == {"applied": 2, "rejected": 1}

    # the malformed message is on the DLQ, with where it came from and why
    [source] = [r for r in read_all(log, s.publications_topic) if r.value == MALFORMED]
    [dead] = read_all(log, s.dlq_topic)
    headers = dict(dead.headers)
    assert dead.value == MALFORMED
    assert dead.key == USCC
    assert headers["reason"] == b"malformed"
    assert headers["source_topic"] == s.publications_topic.encode()
    assert headers["source_partition"] == str(source.partition).encode()
    assert headers["source_offset"] == str(source.offset).encode()
    assert container.registry.position(f"log:{s.publications_topic}:{source.partition}") == source.offset

    # a new worker of the same group (a restart) and one of a new group (no committed hint at
    # all) both start after the position recorded in the event store: nothing is read again
    head = container.registry.recorder.max_notification_id()
    for group in (s.consumer_group, unique_prefix("worker-fresh")):
        again = IngestionWorker(
            container.registry, log, s.publications_topic, s.dlq_topic, group, verifier=container.verifier
        )
        try:
            read = again.run_once(timeout_s=1.0) + again.drain()
        finally:
            again.close()
        assert read == 0, group
        assert dict(again.counts) == {}
    assert container.registry.get_entity(USCC).version == 2
    assert container.registry.recorder.max_notification_id() == head
    assert len(read_all(log, s.dlq_topic)) == 1


def test_a_failing_assignment_callback_surfaces_and_runs_again_before_anything_is_read(
    engines: Engines,
) -> None:
    log = KafkaLog(
        engines.kafka_bootstrap(), default_partitions=1, client_id="gongshi-it", sasl=kafka_login()
    )
    topic = unique_prefix("assign-retry")
    try:
        log.produce_many(topic, ((USCC, f"m{i}".encode()) for i in range(4)))
        consumer = log.consumer(topic, unique_prefix("assign-retry"))
        failures = [RuntimeError("event store unavailable")]

        def seek_to_two(partitions: list[int]) -> None:
            if failures:
                raise failures.pop()
            for p in partitions:
                consumer.seek(p, 2)

        consumer.on_assign(seek_to_two)
        try:
            with pytest.raises(RuntimeError, match="event store unavailable"):
                consumer.poll(timeout_s=1.0)
            records = consumer.poll(timeout_s=1.0) + consumer.poll(timeout_s=0.5)
        finally:
            consumer.close()
        assert [r.value for r in records] == [b"m2", b"m3"]
    finally:
        log.delete_topics([topic])
        log.close()
