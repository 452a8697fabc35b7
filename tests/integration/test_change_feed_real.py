"""The change feed on the real engines: publications produced to Kafka, applied by the ingestion
worker to PostgreSQL, announced by the feed on `{prefix}.changes` and read back from Kafka.

Every message is keyed by its entity's USCC, one entity's changes sit in one partition in the
order they were recorded, the feed's position lives in PostgreSQL beside the event store, and a
new process resumes from it without announcing anything twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from adapters.publication_log.base import LogRecord
from adapters.tracking import TABLE
from infra.bootstrap import Container
from projections.changes import ChangeMessage
from tests.builders import envelope, penalty_payload, platform_signed, registered, uscc_for
from tests.integration.conftest import SettingsFactory
from tests.integration.flow import produce, read_all

pytestmark = pytest.mark.engines

PARTITIONS = 3
ENTITIES = [uscc_for(n) for n in (901, 902, 903)]
BAD_USCC = "91120116MA0000000X"  # wrong check character: rejected, never announced


@pytest.fixture
def real(settings_for: SettingsFactory) -> Iterator[Container]:
    container = Container(settings_for("changes", partitions=PARTITIONS))
    yield container
    container.close()


def penalty(uscc: str, publication_id: str, decision_no: str) -> dict[str, Any]:
    return envelope(
        "penalty.imposed",
        penalty_payload(decision_no, decided_on="2026-09-01"),
        uscc=uscc,
        publication_id=publication_id,
        occurred_on="2026-09-01",
    )


def amendment(uscc: str, publication_id: str, decision_no: str) -> dict[str, Any]:
    payload = {"decision_no": decision_no, "reason": "复议变更", "content": "警告"}
    return envelope(
        "penalty.amended", payload, uscc=uscc, publication_id=publication_id, occurred_on="2026-10-01"
    )


def publications() -> list[dict[str, Any]]:
    first, second, third = ENTITIES
    return [
        penalty(third, "CF-P3", "津市监罚〔2026〕3号"),  # parked until its registration
        registered(uscc=first, name="天津海河变更科技有限公司", publication_id="CF-R1"),
        registered(uscc=second, name="天津海河变更物流有限公司", publication_id="CF-R2"),
        penalty(first, "CF-P1", "津市监罚〔2026〕1号"),
        penalty(BAD_USCC, "CF-BAD", "津市监罚〔2026〕9号"),
        amendment(first, "CF-A1", "津市监罚〔2026〕1号"),
        registered(uscc=third, name="天津海河变更贸易有限公司", publication_id="CF-R3"),
        penalty(second, "CF-P2", "津市监罚〔2026〕2号"),
    ]


#: What each entity's changes must be, in order: (event, publication id, changed public keys).
EXPECTED = {
    ENTITIES[0]: [
        ("Registered", "CF-R1", None),
        ("PenaltyImposed", "CF-P1", ["penalties"]),
        ("PenaltyAmended", "CF-A1", ["penalties"]),
    ],
    ENTITIES[1]: [("Registered", "CF-R2", None), ("PenaltyImposed", "CF-P2", ["penalties"])],
    ENTITIES[2]: [("Registered", "CF-R3", None), ("PenaltyImposed", "CF-P3", ["penalties"])],
}


def apply_all(container: Container, count: int) -> None:
    worker = container.worker
    for _ in range(120):
        worker.run_once(timeout_s=0.5)
        decided = sum(v for k, v in worker.counts.items() if not k.startswith("released_"))
        if decided >= count:
            container.log.flush()
            return
    raise AssertionError(f"the worker did not apply every publication: {dict(worker.counts)}")


def read_changes(container: Container) -> list[LogRecord]:
    return read_all(container.log, container.settings.changes_topic)


def test_each_change_is_announced_on_kafka_keyed_by_uscc_in_order_per_entity(real: Container) -> None:
    messages = publications()
    produce(real.log, real.settings.publications_topic, messages, platform_signed(real))
    apply_all(real, len(messages))
    assert real.worker.counts["rejected"] == 1, dict(real.worker.counts)

    feed = real.change_feed
    assert feed.catch_up() == feed.head() > sum(len(v) for v in EXPECTED.values())
    assert feed.lag() == 0

    found = read_changes(real)
    assert len(real.log.end_offsets(real.settings.changes_topic)) == PARTITIONS
    by_entity: dict[str, list[dict[str, Any]]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    for record in found:
        assert dict(record.headers)["content-type"] == b"application/json"
        body = ChangeMessage.model_validate_json(record.value).model_dump(mode="json", by_alias=True)
        assert record.key == body["uscc"]
        by_entity[body["uscc"]].append(body)
        partitions[body["uscc"]].add(record.partition)

    assert set(by_entity) == set(ENTITIES)
    for uscc, expected in EXPECTED.items():
        changes = by_entity[uscc]
        assert len(partitions[uscc]) == 1, "one entity's changes share a partition"
        assert [(c["event"], c["publication_id"]) for c in changes] == [(e, p) for e, p, _ in expected]
        assert [c["position"] for c in changes] == sorted(c["position"] for c in changes)
        assert [c["entity_version"] for c in changes] == list(range(1, len(changes) + 1))
        for change, (_, _, public) in zip(changes, expected, strict=True):
            if public is not None:
                assert change["changed"]["public"] == public
            assert change["department"] == "TJ-AMR"
        registration = changes[0]
        assert {"name", "registration", "penalties"} <= set(registration["changed"]["public"])
        assert registration["occurred_on"] == "2020-03-15"
    positions = [c["position"] for changes in by_entity.values() for c in changes]
    assert len(positions) == len(set(positions)) == sum(len(v) for v in EXPECTED.values())

    schema = real.settings.postgres_schema
    with psycopg.connect(real.settings.postgres_dsn or "") as conn:
        row = conn.execute(
            f'SELECT notification_id FROM "{schema}".{TABLE} WHERE application_name = %s', ("changes",)
        ).fetchone()
    assert row is not None and row[0] == feed.head()

    restarted = Container(real.settings)  # a new process: resumes from the recorded position
    try:
        assert restarted.change_feed.position() == feed.head()
        assert restarted.change_feed.catch_up() == 0
        assert len(read_changes(restarted)) == len(found)
    finally:
        restarted.close()
