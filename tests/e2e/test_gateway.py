"""The HTTP gateway on embedded defaults: a department posts envelopes with its key, the worker
applies them from the log, and the department reads back what became of each one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.bootstrap import Container, build
from infra.settings import Settings
from tests.builders import TODAY, envelope, penalty_payload, registered, uscc_for

URL = "/api/v1/publications"


@dataclass
class Gateway:
    container: Container
    client: TestClient
    key: str

    def post(self, body: Any, key: str | None = None, header: str = "Authorization") -> Any:
        token = key or self.key
        value = f"Bearer {token}" if header == "Authorization" else token
        content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        return self.client.post(
            URL, content=content, headers={header: value, "Content-Type": "application/json"}
        )

    def status(self, publication_id: str, key: str | None = None) -> Any:
        return self.client.get(
            f"{URL}/{publication_id}", headers={"Authorization": f"Bearer {key or self.key}"}
        )

    def process(self) -> None:
        self.container.worker.drain()
        self.container.status_projection.catch_up()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    container = build(Settings(data_dir=tmp_path, today=TODAY))
    key = container.credentials.add_key("TJ-AMR")
    with TestClient(create_app(container)) as client:
        yield Gateway(container, client, key)


def published(container: Container) -> list[dict[str, Any]]:
    records = container.log.read(container.settings.publications_topic, 0, 0, 100)
    return [{"key": r.key, **json.loads(r.value)} for r in records]


def test_an_accepted_publication_is_pending_then_applied(gateway: Gateway) -> None:
    uscc = uscc_for(11)
    body = registered(uscc=f" {uscc[:9].lower()} {uscc[9:]} ", publication_id="GW-R-1")

    response = gateway.post(body)

    assert response.status_code == 202
    assert response.json() == {"publication_id": "GW-R-1", "status": "pending"}
    [on_log] = published(gateway.container)
    assert on_log["key"] == uscc  # spaces gone, upper-case: the entity's partition
    assert on_log["publication_id"] == "GW-R-1" and on_log["payload"] == body["payload"]
    assert gateway.status("GW-R-1").json() == {
        "publication_id": "GW-R-1",
        "status": "pending",
        "message": "尚未处理",
    }

    gateway.process()

    assert gateway.status("GW-R-1").json() == {
        "publication_id": "GW-R-1",
        "status": "applied",
        "uscc": uscc,
        "kind": "registration.registered",
    }
    assert gateway.container.registry.get_entity(uscc).name == body["payload"]["name"]


def test_the_key_may_come_in_x_api_key(gateway: Gateway) -> None:
    response = gateway.post(registered(uscc=uscc_for(12), publication_id="GW-R-2"), header="X-Api-Key")
    assert response.status_code == 202


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer gs_" + "x" * 43},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-Api-Key": "nope"},
    ],
    ids=["missing", "unknown", "not-bearer", "malformed"],
)
def test_without_a_valid_key_nothing_is_published(gateway: Gateway, headers: dict[str, str]) -> None:
    response = gateway.client.post(URL, json=registered(publication_id="GW-NOKEY"), headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert gateway.client.get(f"{URL}/GW-NOKEY", headers=headers).status_code == 401
    assert published(gateway.container) == []


def test_a_revoked_key_is_refused(gateway: Gateway) -> None:
    key = gateway.container.credentials.add_key("TJ-AMR")
    assert gateway.post(registered(uscc=uscc_for(13), publication_id="GW-R-3"), key=key).status_code == 202
    key_id = key[3:11]
    assert gateway.container.credentials.revoke(key_id)
    assert gateway.post(registered(uscc=uscc_for(14), publication_id="GW-R-4"), key=key).status_code == 401


def test_a_department_publishes_only_in_its_own_name(gateway: Gateway) -> None:
    body = envelope("penalty.imposed", penalty_payload(), department="TJ-TAX", publication_id="GW-TAX-1")
    response = gateway.post(body)
    assert response.status_code == 403
    assert response.json()["code"] == "department_mismatch"
    assert "TJ-TAX" in response.json()["message"]
    assert published(gateway.container) == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "不是有效的 JSON"),
        (b"[]", "（整体）：应为对象"),
        ({**registered(publication_id="GW-X"), "occurred_on": "yesterday"}, "occurred_on：应为有效日期"),
        ({k: v for k, v in registered().items() if k != "publication_id"}, "publication_id：缺少必填项"),
        ({**registered(publication_id="GW-Y"), "extra": 1}, "extra：不允许的字段"),
    ],
    ids=["not-json", "not-an-object", "bad-date", "no-publication-id", "unknown-field"],
)
def test_a_malformed_envelope_is_refused_and_nothing_is_published(
    gateway: Gateway, body: Any, fragment: str
) -> None:
    response = gateway.post(body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_envelope"
    assert fragment in response.json()["message"] and "信封格式错误" in response.json()["message"]
    assert published(gateway.container) == []


def test_an_oversized_body_is_refused(gateway: Gateway) -> None:
    body = registered(publication_id="GW-BIG")
    body["payload"]["business_scope"] = "软件开发" * 200_000
    response = gateway.post(body)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert "512 KB" in response.json()["message"]
    assert published(gateway.container) == []


def test_a_payload_the_worker_rejects_reads_rejected_with_its_code(gateway: Gateway) -> None:
    uscc = uscc_for(15)
    gateway.post(registered(uscc=uscc, publication_id="GW-R-5"))
    bad = envelope(
        "penalty.imposed", penalty_payload(severity="critical"), uscc=uscc, publication_id="GW-P-5"
    )
    assert gateway.post(bad).status_code == 202

    gateway.process()

    body = gateway.status("GW-P-5").json()
    assert (body["status"], body["code"], body["kind"]) == ("rejected", "invalid_payload", "penalty.imposed")
    assert "severity" in body["message"]
    dlq = gateway.container.log.read(gateway.container.settings.dlq_topic, 0, 0, 10)
    assert [dict(r.headers)["reason"] for r in dlq] == [b"invalid_payload"]


def test_a_publication_for_an_unregistered_entity_reads_parked_then_applied(gateway: Gateway) -> None:
    uscc = uscc_for(16)
    early = envelope("penalty.imposed", penalty_payload(), uscc=uscc, publication_id="GW-P-6")
    gateway.post(early)
    gateway.process()
    body = gateway.status("GW-P-6").json()
    assert body["status"] == "parked" and "登记" in body["message"]

    gateway.post(registered(uscc=uscc, publication_id="GW-R-6"))
    gateway.process()

    assert gateway.status("GW-P-6").json()["status"] == "applied"


def test_a_department_sees_only_its_own_publications(gateway: Gateway) -> None:
    gateway.post(registered(uscc=uscc_for(17), publication_id="GW-R-7"))
    gateway.process()
    tax = gateway.container.credentials.add_key("TJ-TAX")
    response = gateway.status("GW-R-7", key=tax)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_publication_id_with_slashes_reads_back(gateway: Gateway) -> None:
    gateway.post(registered(uscc=uscc_for(18), publication_id="TJ-AMR/2026/000018"))
    gateway.process()
    assert gateway.status("TJ-AMR/2026/000018").json()["status"] == "applied"


def test_the_gateway_answers_503_when_the_log_is_down(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.publication_log.base import LogUnavailable

    def down(*args: Any, **kwargs: Any) -> None:
        raise LogUnavailable("broker unreachable")

    monkeypatch.setattr(gateway.container.log, "produce", down)
    response = gateway.post(registered(uscc=uscc_for(19), publication_id="GW-R-9"))
    assert response.status_code == 503
    assert response.json()["code"] == "log_unavailable"


def test_the_openapi_document_describes_the_gateway(gateway: Gateway) -> None:
    spec = gateway.client.get("/openapi.json").json()
    post = spec["paths"][URL]["post"]
    assert set(post["responses"]) >= {"202", "401", "403", "422", "503"}
    assert "publication_id" in post["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(spec["components"]["securitySchemes"])


def test_a_department_reads_how_far_the_statuses_have_come(gateway: Gateway) -> None:
    headers = {"Authorization": f"Bearer {gateway.key}"}
    assert gateway.post(registered(uscc=uscc_for(31), publication_id="GW-PROGRESS-1")).status_code == 202
    gateway.container.worker.drain()
    before = gateway.client.get("/api/v1/gateway/progress", headers=headers).json()
    assert before["lag"] == before["head"] - before["position"] > 0
    gateway.container.status_projection.catch_up()
    after = gateway.client.get("/api/v1/gateway/progress", headers=headers).json()
    assert after == {"position": before["head"], "head": before["head"], "lag": 0}
    assert gateway.client.get("/api/v1/gateway/progress").status_code == 401


def test_the_gateway_signs_with_the_platform_key_in_the_name_of_the_calling_key(gateway: Gateway) -> None:
    uscc = uscc_for(12)
    assert gateway.post(registered(uscc=uscc, publication_id="GW-SIGNED-1")).status_code == 202
    [record] = gateway.container.log.read(gateway.container.settings.publications_topic, 0, 0, 10)
    headers = dict(record.headers)
    key_id = gateway.key[3:11]
    platform_key = gateway.container.platform_signer.key_id
    assert headers["gongshi-key-id"] == platform_key.encode()
    assert headers["gongshi-principal"] == f"department:TJ-AMR/key:{key_id}".encode()

    gateway.process()

    entity = gateway.container.registry.get_entity(uscc)
    assert entity.registered_by == {
        "department": "TJ-AMR",
        "publication_id": "GW-SIGNED-1",
        "signing_key_id": platform_key,
        "principal": f"department:TJ-AMR/key:{key_id}",
    }


def test_a_platform_key_that_was_revoked_is_never_used_again(tmp_path: Path) -> None:
    container = build(Settings(data_dir=tmp_path, today=TODAY))
    try:
        old = container.platform_signer
        assert container.credentials.revoke_signing_key(old.key_id)
    finally:
        container.close()
    restarted = build(Settings(data_dir=tmp_path, today=TODAY))
    try:
        with pytest.raises(RuntimeError, match="revoked"):
            restarted.platform_signer  # noqa: B018  (the property is what is tested)
    finally:
        restarted.close()
    (tmp_path / "platform-signing.key").unlink()  # the operator makes a new one
    renewed = build(Settings(data_dir=tmp_path, today=TODAY))
    try:
        assert renewed.platform_signer.key_id != old.key_id
    finally:
        renewed.close()
