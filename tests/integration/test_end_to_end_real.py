"""End to end on the real engines: generated publications produced to Kafka, applied by the
ingestion worker to PostgreSQL, indexed by the projection in Elasticsearch, read back through
the public API — including a registration and a penalty for the same entity, in order."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.bootstrap import Container, build
from infra.datagen.generator import generate
from tests.builders import TODAY, envelope, penalty_payload, platform_signed, registered, uscc_for
from tests.integration.conftest import SettingsFactory
from tests.integration.flow import produce, read_all

pytestmark = pytest.mark.engines


@pytest.fixture
def real(settings_for: SettingsFactory) -> Iterator[Container]:
    container = build(settings_for("e2e", elasticsearch=True))
    yield container
    container.close()


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
    produce(real.log, real.settings.publications_topic, messages, platform_signed(real))
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
    announced = [
        json.loads(record.value)
        for record in read_all(real.log, real.settings.changes_topic)
        if record.key == uscc
    ]
    assert [(c["event"], c["publication_id"]) for c in announced] == [
        ("Registered", "E2E-REG-1"),
        ("PenaltyImposed", "E2E-PEN-1"),
    ]
    assert "penalties" in announced[1]["changed"]["public"]
    with TestClient(create_app(real)) as client:
        answer = client.get(f"/api/v1/entities/{uscc}")
        record = answer.json()
        assert record["name"] == "天津海河真引擎科技有限公司"
        # asked again: the version comes from PostgreSQL, the index is not read
        again = client.get(f"/api/v1/entities/{uscc}", headers={"If-None-Match": answer.headers["etag"]})
        assert again.status_code == 304
        assert [p["decision_no"] for p in record["penalties"]] == [penalty["payload"]["decision_no"]]
        assert "penalty" in record["flags"]
        found = client.get("/api/v1/entities", params={"q": "海河真引擎"}).json()
        assert found["items"][0]["uscc"] == uscc
        records = client.get("/api/v1/records", params={"category": "penalty", "size": 100}).json()
        assert uscc in {r["uscc"] for r in records["items"]}
        assert client.get("/healthz").json()["status"] == "ok"
