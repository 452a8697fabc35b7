"""Enterprises on the real engines: a report filed through the API goes over Kafka (SASL) to the
PostgreSQL event store, its draft and receipt kept in PostgreSQL, the record indexed in
Elasticsearch with the unchosen figures left out; the deadline jobs list, warn and escalate from the
PostgreSQL casework view, and a second run changes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from adapters.casework_view import PostgresCaseworkView
from adapters.enterprise_store import PostgresEnterpriseStore
from api.app import create_app
from infra.bootstrap import Container, build
from tests.builders import annual_report_payload, envelope, listing_payload, registered, uscc_for
from tests.e2e.enterprise_platform import MovableClock
from tests.integration.conftest import SettingsFactory

pytestmark = pytest.mark.engines

FILER, SILENT = uscc_for(951), uscc_for(952)


@pytest.fixture
def real(settings_for: SettingsFactory) -> Iterator[tuple[Container, MovableClock]]:
    settings = settings_for("enterprise", elasticsearch=True, today=date(2026, 5, 20), jobs_batch_size=1)
    container = build(settings)
    clock = MovableClock(date(2026, 5, 20))
    container.__dict__["clock"] = clock
    yield container, clock
    container.close()


def settle(container: Container, done: Callable[[], bool], timeout_s: float = 180) -> None:
    """Run the worker and the followers until `done()` (Kafka delivers when it delivers)."""
    deadline = time.monotonic() + timeout_s
    while True:
        container.worker.run_once(timeout_s=0.5)
        container.catch_up()
        if done():
            return
        assert time.monotonic() < deadline, "the platform did not settle"


def publish(container: Container, *envelopes: dict[str, Any]) -> None:
    container.publisher.publish(envelopes, "job:test")


def test_a_report_filed_through_the_api_travels_kafka_postgres_and_elasticsearch(
    real: tuple[Container, MovableClock],
) -> None:
    container, _ = real
    assert isinstance(container.enterprise_store, PostgresEnterpriseStore)
    publish(container, registered(uscc=FILER, occurred_on="2024-03-01"))
    settle(container, lambda: container.index.get_public(FILER) is not None)
    store = container.credentials
    store.activate(FILER, store.invite(FILER), "real-engines-password")
    with TestClient(create_app(container, owns_container=False)) as client:
        token = client.post(
            "/api/v1/enterprise/token", json={"uscc": FILER, "password": "real-engines-password"}
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        body = {k: v for k, v in annual_report_payload(2025, publicised=["employees"]).items() if k != "year"}
        assert (
            client.put("/api/v1/enterprise/annual-reports/2025", json=body, headers=headers).status_code
            == 200
        )
        filed = client.post("/api/v1/enterprise/annual-reports/2025/submit", headers=headers)
        assert filed.status_code == 202, filed.text
        publication_id = filed.json()["publication_id"]
        settle(
            container,
            lambda: (
                client.get(f"/api/v1/enterprise/filings/{publication_id}", headers=headers).json()["status"]
                == "applied"
            ),
        )
        [public] = client.get(f"/api/v1/entities/{FILER}").json()["annual_reports"]
        assert public["employees"] == 42 and "revenue" not in public and "total_assets" not in public
        receipt = client.get(f"/api/v1/receipts/{filed.json()['receipt_code']}")
        assert receipt.status_code == 200 and receipt.json()["status"] == "applied"
    event = container.entity_reader.get_entity(FILER).annual_reports["2025"]
    assert event["principal"] == f"enterprise:{FILER}" and event["signing_key_id"].startswith("sk_")
    with psycopg.connect(container.settings.postgres_dsn or "", autocommit=True) as conn:
        schema = container.settings.postgres_schema
        [(drafts,)] = conn.execute(f'SELECT count(*) FROM "{schema}".enterprise_drafts').fetchall()
        [(filings,)] = conn.execute(f'SELECT count(*) FROM "{schema}".enterprise_filings').fetchall()
    assert (drafts, filings) == (1, 1)


def test_the_deadline_jobs_on_the_real_engines(real: tuple[Container, MovableClock]) -> None:
    container, clock = real
    assert isinstance(container.casework_view, PostgresCaseworkView)
    others = [uscc_for(960 + n) for n in range(3)]
    publish(
        container,
        *(registered(uscc=u, occurred_on="2024-03-01") for u in (FILER, SILENT, *others)),
        envelope(
            "annual_report.submitted", annual_report_payload(2025), uscc=FILER, occurred_on="2026-05-20"
        ),
        envelope(
            "abnormal.listed", listing_payload("津滨市监异〔2023〕5号"), uscc=FILER, occurred_on="2023-07-03"
        ),
    )
    settle(
        container,
        lambda: (
            container.casework_projection.lag() == 0 and container.casework_view.reports_filed(FILER) != {}
        ),
    )

    def run(name: str, day: date) -> int:
        clock.set(day)
        settle(container, lambda: container.casework_projection.lag() == 0)
        published = int(container.job(name).run(day).published)
        settle(
            container,
            lambda: container.casework_projection.lag() == 0 and container.worker.run_once(0.5) == 0,
        )
        return published

    assert run("annual-reports", date(2026, 7, 1)) == 4  # SILENT and the three others, one per batch
    assert run("annual-reports", date(2026, 7, 1)) == 0
    assert run("annual-reports", date(2026, 7, 2)) == 0
    for uscc in (SILENT, *others):
        [listing] = container.entity_reader.get_entity(uscc).abnormal_listings.values()
        assert listing["cause"] == "annual_report" and listing["year"] == 2025
    assert container.entity_reader.get_entity(FILER).abnormal_listings.keys() == {"津滨市监异〔2023〕5号"}
    settle(
        container, lambda: "abnormal" in (container.index.get_public(SILENT) or {}).get("flags", ["abnormal"])
    )
    # the 2023 listing of FILER: warned 60 days before three years, escalated on the day
    assert run("serious-escalation", date(2026, 5, 4)) == 1
    assert run("serious-escalation", date(2026, 7, 3)) == 1
    assert run("serious-escalation", date(2026, 7, 3)) == 0
    [serious] = container.entity_reader.get_entity(FILER).serious_listings.values()
    assert serious["listed_on"] == "2026-07-03" and serious["principal"] == "job:serious-escalation"
