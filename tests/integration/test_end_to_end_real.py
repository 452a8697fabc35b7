"""End to end on the real engines: generated publications produced to Kafka, applied by the
ingestion worker to PostgreSQL, indexed by the projection in Elasticsearch, read back through
the public API — including a registration and a penalty for the same entity, in order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from domain.uscc import partition_key
from infra.bootstrap import Container, build
from infra.datagen.generator import generate
from infra.settings import Settings
from tests.builders import envelope, penalty_payload, registered, uscc_for
from tests.engines import elasticsearch_url, kafka_bootstrap, postgres_dsn, unique_prefix

pytestmark = pytest.mark.engines

TODAY = date(2026, 11, 22)


@pytest.fixture
def real(tmp_path: Path) -> Iterator[Container]:
    prefix = unique_prefix("e2e")
    dsn = postgres_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{prefix}"')
    settings = Settings(
        data_dir=tmp_path,
        today=TODAY,
        prefix=prefix,
        kafka_partitions=3,
        kafka_bootstrap=kafka_bootstrap(),
        postgres_dsn=dsn,
        postgres_schema=prefix,
        elasticsearch_url=elasticsearch_url(),
        consumer_group=f"{prefix}-ingest",
    )
    container = build(settings)
    container.log.ensure_topic(settings.publications_topic, settings.kafka_partitions)
    container.log.ensure_topic(settings.dlq_topic, 1)
    try:
        yield container
    finally:
        container.close()
        cleanup = build(settings)  # fresh clients: the app's lifespan closed the first ones
        cleanup.index.delete_all()  # type: ignore[attr-defined]
        cleanup.log.delete_topics([settings.publications_topic, settings.dlq_topic, settings.changes_topic])  # type: ignore[attr-defined]
        cleanup.close()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{prefix}" CASCADE')


def run_until(container: Container, done, rounds: int = 120) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):
        container.worker.run_once(timeout_s=0.5)
        container.catch_up()
        if done():
            return
    raise AssertionError("the pipeline did not settle")


def test_publications_flow_from_kafka_through_postgres_and_elasticsearch_to_the_api(real: Container) -> None:
    generated = list(generate(40, 11, TODAY))
    uscc = uscc_for(777)
    registration = registered(uscc=uscc, name="天津海河真引擎科技有限公司", publication_id="E2E-REG-1")
    penalty = envelope(
        "penalty.imposed",
        penalty_payload(decided_on="2026-09-01", severity="general"),
        uscc=uscc,
        publication_id="E2E-PEN-1",
        occurred_on="2026-09-01",
    )
    messages = [*generated, registration, penalty]
    real.log.produce_many(
        real.settings.publications_topic,
        ((partition_key(m["uscc"]), json.dumps(m, ensure_ascii=False).encode()) for m in messages),
    )
    registrations = sum(1 for m in messages if m["kind"] == "registration.registered")

    run_until(
        real,
        lambda: (
            real.index.count() == registrations
            and real.projection.lag() == 0
            and sum(real.worker.counts.values()) >= len(messages)
        ),
    )

    assert real.worker.counts["rejected"] == 0, dict(real.worker.counts)
    entity = real.registry.get_entity(uscc)
    assert [type(e).__name__ for e in real.registry.repository.event_store.get(entity.id)] == [
        "Registered",
        "PenaltyImposed",
    ]
    sharing = real.index.get_sharing(uscc)
    assert sharing is not None and sharing["penalties"][0]["decision_no"] == penalty["payload"]["decision_no"]
    topic = real.settings.changes_topic
    announced = [
        json.loads(record.value)
        for partition, end in real.log.end_offsets(topic).items()
        for record in real.log.read(topic, partition, 0, end)
        if record.key == uscc
    ]
    assert [(c["event"], c["publication_id"]) for c in announced] == [
        ("Registered", "E2E-REG-1"),
        ("PenaltyImposed", "E2E-PEN-1"),
    ]
    assert "penalties" in announced[1]["changed"]["public"]
    with TestClient(create_app(real)) as client:
        record = client.get(f"/api/v1/entities/{uscc}").json()
        assert record["name"] == "天津海河真引擎科技有限公司"
        assert [p["decision_no"] for p in record["penalties"]] == [penalty["payload"]["decision_no"]]
        assert "penalty" in record["flags"]
        found = client.get("/api/v1/entities", params={"q": "海河真引擎"}).json()
        assert found["items"][0]["uscc"] == uscc
        records = client.get("/api/v1/records", params={"category": "penalty", "size": 100}).json()
        assert uscc in {r["uscc"] for r in records["items"]}
        assert client.get("/healthz").json()["status"] == "ok"
