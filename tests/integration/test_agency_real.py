"""The agency routes on the real engines: the event store and the access log on PostgreSQL, the
search index on Elasticsearch (the publication log stays embedded: the agency side reads what
the worker applied, however it came). Each route is called once through the HTTP API with a
stated purpose and must answer as on the embedded engines, and be on the access log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from adapters.access_log import AccessLogQuery
from api.app import create_app
from domain.access import AGENCY_SCOPES, Role
from infra.bootstrap import Container, build
from infra.datagen.generator import generate
from infra.settings import Settings
from tests import engines
from tests.builders import GENEROUS_LIMITS, TODAY
from tests.e2e.agency.conftest import (
    BOSS,
    HISTORY,
    HOLDING,
    PENALTY,
    SERIOUS,
    SHARED_B,
    SHARED_C,
    history_envelopes,
    text,
)
from tests.e2e.conftest import publish
from tests.integration.conftest import _drop_indexes, _drop_schema

pytestmark = pytest.mark.engines


@dataclass
class Real:
    container: Container
    client: TestClient
    key: str
    admin_key: str
    envelopes: list[dict[str, Any]]

    def headers(self, purpose: str = "真实引擎上的机构查询", **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.key}",
            "X-Purpose": text(purpose),
            "X-Officer": text("王五"),
        } | extra


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Real]:
    # module scope (settings_for is per test): one prefix, schema and indexes for the module
    prefix = engines.unique_prefix("agency")
    dsn = engines.postgres_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{prefix}"')
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("agency-real"),
        today=TODAY,
        prefix=prefix,
        postgres_dsn=dsn,
        postgres_schema=prefix,
        elasticsearch_url=engines.elasticsearch_url(),
        **GENEROUS_LIMITS,
    )
    container = build(settings)
    envelopes = [*generate(40, 21, TODAY), *history_envelopes()]
    try:
        publish(container, [json.dumps(e, ensure_ascii=False).encode() for e in envelopes])
        with Elasticsearch(settings.elasticsearch_url or "") as es:  # searches see every write
            es.indices.refresh(index=f"{prefix}-*")
        key = container.credentials.add(
            Role.AGENCY, "TJ-TAX-REAL", name="真实引擎稽查局", scopes=AGENCY_SCOPES
        )
        admin_key = container.credentials.add(Role.ADMIN, "real-operator")
        with TestClient(create_app(container)) as client:
            yield Real(container, client, key, admin_key, envelopes)
    finally:
        _drop_indexes(settings)
        _drop_schema(settings)


def test_the_record_as_of_a_date_and_its_history_come_from_postgresql(real: Real) -> None:
    response = real.client.get(
        f"/api/v1/agency/entities/{HISTORY}", params={"as_of": "2024-05-01"}, headers=real.headers()
    )
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["name"] == "天津星海云智科技有限公司" and sorted(record["flags"]) == ["abnormal", "penalty"]
    [penalty] = record["penalties"]
    history = real.client.get(f"/api/v1/agency/entities/{HISTORY}/history", headers=real.headers()).json()
    positions = {e["publication_id"]: e["position"] for e in history["events"]}
    assert penalty["decision_no"] == PENALTY
    assert penalty["provenance"]["position"] == positions[penalty["publication_id"]]
    assert len(history["events"]) == 7
    before = real.client.get(
        f"/api/v1/agency/entities/{HISTORY}", params={"as_of": "2021-01-01"}, headers=real.headers()
    )
    assert before.status_code == 404 and before.json()["code"] == "not_yet_registered"


def test_the_internal_extract_is_in_the_postgresql_ledger(real: Real) -> None:
    response = real.client.get(f"/api/v1/agency/entities/{HISTORY}/extract.pdf", headers=real.headers())
    assert response.status_code == 200 and response.headers["x-classification"] == "internal"
    found = real.container.extract_ledger.find(response.headers["x-verification-code"])
    assert found is not None and found.uscc == HISTORY


def test_every_call_is_on_the_postgresql_access_log(real: Real) -> None:
    refused = real.client.get(
        f"/api/v1/agency/entities/{HISTORY}", headers={"Authorization": f"Bearer {real.key}"}
    )
    assert refused.status_code == 400 and refused.json()["code"] == "purpose_required"
    real.client.get(
        f"/api/v1/agency/entities/{HISTORY}", headers=real.headers("保密调查第9号", **{"X-Confidential": "1"})
    )
    entries = real.container.access_log.entries(AccessLogQuery(uscc=HISTORY))
    assert entries[0].purpose == "保密调查第9号" and entries[0].confidential and entries[0].officer == "王五"
    assert all(e.agency == "TJ-TAX-REAL" for e in entries)
    listed = real.client.get(
        "/api/v1/admin/access-log",
        params={"uscc": HISTORY},
        headers={"Authorization": f"Bearer {real.admin_key}"},
    )
    assert listed.status_code == 200 and listed.json()["items"][0]["id"] == entries[0].id
    assert (
        real.container.access_log.reads_of(HISTORY, TODAY)[0].id != entries[0].id
    )  # the confidential one waits


def test_screening_persons_and_feedback_on_elasticsearch_and_postgresql(real: Real) -> None:
    screened = real.client.post(
        "/api/v1/agency/screen",
        json={"measure": "government_procurement", "entities": [SERIOUS, SHARED_B]},
        headers=real.headers(),
    )
    assert screened.status_code == 200, screened.text
    assert [r["restricted"] for r in screened.json()["results"]] == [True, False]
    persons = real.client.post(
        "/api/v1/agency/persons",
        json={"name": BOSS["name"], "id_number": BOSS["id_number"]},
        headers=real.headers(),
    )
    assert persons.status_code == 200, persons.text
    assert {r["uscc"] for r in persons.json()["roles"]} == {SERIOUS, SHARED_B, SHARED_C, HOLDING}
    assert {r["kind"] for r in persons.json()["roles"] if r["uscc"] == HOLDING} == {
        "shareholder",
        "key_staff",
    }
    assert [r["code"] for r in persons.json()["restrictions"]] == ["serious_list_representative"]
    created = real.client.post(
        "/api/v1/agency/feedback",
        json={"uscc": SERIOUS, "measure": "bidding", "action": "不予受理其投标", "applied_on": "2026-11-01"},
        headers=real.headers(),
    )
    assert created.status_code == 201, created.text
    record = real.client.get(f"/api/v1/agency/entities/{SERIOUS}", headers=real.headers()).json()
    assert record["feedback"][0]["action"] == "不予受理其投标"
    measures = real.client.get("/api/v1/agency/measures", headers=real.headers())
    assert measures.status_code == 200 and len(measures.json()) >= 5


def test_matching_on_elasticsearch_through_the_api(real: Real) -> None:
    rows = [{"name": "天津德明建筑工程有限责任公司"}, {"uscc": HISTORY}, {"name": "不存在的某某有限公司"}]
    response = real.client.post("/api/v1/agency/match", json={"rows": rows}, headers=real.headers())
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["decision"] for r in results] == ["match", "match", "none"]
    assert results[0]["candidates"][0]["uscc"] == SERIOUS
    streamed = real.client.post(
        "/api/v1/agency/match",
        content="名称\n天津德明建筑工程有限公司\n".encode(),
        headers=real.headers(**{"Content-Type": "text/csv", "Accept": "application/x-ndjson"}),
    )
    assert [json.loads(line)["decision"] for line in streamed.text.splitlines()] == ["match"]


def test_the_change_feed_and_watchlists_on_postgresql(real: Real) -> None:
    feed = real.client.get("/api/v1/agency/changes", params={"limit": 20}, headers=real.headers())
    assert feed.status_code == 200, feed.text
    changes = [json.loads(line) for line in feed.text.splitlines()]
    assert len(changes) == 20 and all(c["schema"] == "gongshi.change/2" for c in changes)
    created = real.client.post(
        "/api/v1/agency/watchlists", json={"name": "真实引擎关注", "usccs": [SERIOUS]}, headers=real.headers()
    )
    assert created.status_code == 201, created.text
    mine = real.client.get(
        f"/api/v1/agency/watchlists/{created.json()['id']}/changes", headers=real.headers()
    )
    assert {json.loads(line)["uscc"] for line in mine.text.splitlines()} == {SERIOUS}
    listed = real.client.get("/api/v1/agency/watchlists", headers=real.headers()).json()
    assert [w["name"] for w in listed if w["id"] == created.json()["id"]] == ["真实引擎关注"]
    gone = real.client.delete(f"/api/v1/agency/watchlists/{created.json()['id']}", headers=real.headers())
    assert gone.status_code == 204, gone.text
    after = real.client.get(
        f"/api/v1/agency/watchlists/{created.json()['id']}/changes", headers=real.headers()
    )
    assert after.status_code == 404
    sse = real.client.get(
        "/api/v1/agency/changes",
        params={"idle_timeout": 1, "after": changes[-1]["position"]},
        headers=real.headers(Accept="text/event-stream"),
    )
    assert sse.status_code == 200 and "event: change" in sse.text


def test_an_enterprise_reads_who_read_its_record_on_postgresql(real: Real) -> None:
    real.client.get(f"/api/v1/agency/entities/{SHARED_B}", headers=real.headers("采购资格审查（真实引擎）"))
    real.client.get(
        f"/api/v1/agency/entities/{SHARED_B}",
        headers=real.headers("立案调查（真实引擎）", **{"X-Confidential": "1"}),
    )
    real.client.get(f"/api/v1/agency/entities/{SHARED_C}", headers=real.headers("另一企业的查询（真实引擎）"))
    store = real.container.credentials
    store.activate(SHARED_B, store.invite(SHARED_B), "enterprise-password-1")
    token = {"Authorization": f"Bearer {store.login(SHARED_B, 'enterprise-password-1', 'test')}"}
    reads = real.client.get("/api/v1/enterprise/access-log", headers=token)
    assert reads.status_code == 200, reads.text
    # newest first; earlier tests of the module read SHARED_B too (screening, persons)
    purposes = [r["purpose"] for r in reads.json()["items"]]
    assert purposes[0] == "采购资格审查（真实引擎）"
    assert "立案调查（真实引擎）" not in purposes and "另一企业的查询（真实引擎）" not in purposes
    assert reads.json()["items"][0]["agency_name"] == "真实引擎稽查局"
    # the portal's dashboard reads the same log (on PostgreSQL)
    me = real.client.get("/api/v1/enterprise/me", headers=token).json()["reads"]
    assert me["available"] and [r["purpose"] for r in me["items"]] == purposes
    # administrators see the confidential read at once
    admin = real.client.get(
        "/api/v1/admin/access-log",
        params={"uscc": SHARED_B},
        headers={"Authorization": f"Bearer {real.admin_key}"},
    ).json()["items"]
    assert {"采购资格审查（真实引擎）", "立案调查（真实引擎）"} <= {i["purpose"] for i in admin}
