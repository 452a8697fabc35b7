"""The gateway on the real engines: a department's key checked against PostgreSQL, the envelope
produced to Kafka, applied by the worker to the PostgreSQL event store, and its status read back
from the PostgreSQL status view — tracked in the same schema as the events."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from adapters.credentials import PostgresCredentialStore
from adapters.status_view import PostgresStatusView
from api.app import create_app
from infra.bootstrap import Container, build
from tests.builders import envelope, penalty_payload, registered, uscc_for
from tests.integration.conftest import SettingsFactory

pytestmark = pytest.mark.engines

URL = "/api/v1/publications"


@pytest.fixture
def real(settings_for: SettingsFactory) -> Iterator[Container]:
    container = build(settings_for("gateway"))
    yield container
    container.close()


def test_a_publication_posted_to_the_gateway_reads_applied_from_postgres(real: Container) -> None:
    assert isinstance(real.credentials, PostgresCredentialStore)
    assert isinstance(real.status_view, PostgresStatusView)
    key = real.credentials.add_key("TJ-AMR")
    headers = {"Authorization": f"Bearer {key}"}
    uscc = uscc_for(901)
    bodies = [
        registered(uscc=uscc, publication_id="RG-R-1"),
        envelope("penalty.imposed", penalty_payload(), uscc=uscc, publication_id="RG-P-1"),
        envelope("penalty.imposed", penalty_payload(severity="x"), uscc=uscc, publication_id="RG-BAD-1"),
        envelope("penalty.imposed", penalty_payload(), uscc=uscc_for(902), publication_id="RG-PARKED-1"),
    ]
    expected = {"RG-R-1": "applied", "RG-P-1": "applied", "RG-BAD-1": "rejected", "RG-PARKED-1": "parked"}

    with TestClient(create_app(real, owns_container=False)) as client:
        for body in bodies:
            assert client.post(URL, json=body, headers=headers).status_code == 202
        assert client.post(URL, json=bodies[0]).status_code == 401

        statuses: dict[str, str] = {}
        for _ in range(60):
            real.worker.run_once(timeout_s=0.5)
            real.status_projection.catch_up()
            statuses = {pid: client.get(f"{URL}/{pid}", headers=headers).json()["status"] for pid in expected}
            if statuses == expected:
                break
        assert statuses == expected

        rejected = client.get(f"{URL}/RG-BAD-1", headers=headers).json()
        assert rejected["code"] == "invalid_payload"

    assert real.registry.get_entity(uscc).penalties
    assert real.status_projection.lag() == 0
    dlq = real.log.read(real.settings.dlq_topic, 0, 0, 10)
    assert [dict(r.headers)["reason"] for r in dlq] == [b"invalid_payload"]
    schema = real.settings.postgres_schema
    with psycopg.connect(real.settings.postgres_dsn or "", autocommit=True) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
            )
        }
        position = conn.execute(
            f'SELECT notification_id FROM "{schema}".publication_status_tracking WHERE application_name = %s',
            ("Registry",),
        ).fetchone()
        stored = conn.execute(f'SELECT key_hash FROM "{schema}".api_keys').fetchone()
    assert {
        "registry_events",
        "publication_status",
        "publication_status_tracking",
        "api_keys",
    } <= tables
    assert position is not None and position[0] == real.status_projection.head()
    assert stored is not None and stored[0].startswith("hmac-sha256$") and key[3:] not in stored[0]
