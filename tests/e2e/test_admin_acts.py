"""Operators act over HTTP as on the command line: departments and mandates, keys, the DLQ and
jobs run by hand under /api/v1/admin/…, each audited with the admin key as who (the same entry
the CLI records with the OS user); and the agency view shows each fact's mandate — the kinds
its department might publish when the publication arrived — while the public view does not."""

from __future__ import annotations

import json
import os
import pwd
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.audit_trail import AuditUnavailable, SQLiteAuditTrail
from adapters.credentials import key_id_of
from api.app import create_app
from api.cli import app as cli
from domain.access import AGENCY_SCOPES, Role
from infra.bootstrap import Container
from tests.builders import envelope, penalty_payload, registered, uscc_for
from tests.e2e.conftest import TODAY, load, publish

ME = f"cli:{pwd.getpwuid(os.getuid()).pw_name}"
FIRM = uscc_for(971)


@dataclass
class Ops:
    container: Container
    client: TestClient
    data_dir: Path
    admin_key: str
    agency_key: str

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    @property
    def who(self) -> str:
        return f"admin:ops-wang/key:{key_id_of(self.admin_key)}"

    def agency(self, purpose: str = "行政处罚案件核查") -> dict[str, str]:
        from urllib.parse import quote

        return {"Authorization": f"Bearer {self.agency_key}", "X-Purpose": quote(purpose, safe="")}

    def last_act(self) -> Any:
        return self.container.audit.entries(limit=1)[-1]


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ops]:
    data_dir = tmp_path_factory.mktemp("admin-acts")
    container, _ = load(data_dir, entities=20, seed=23)
    store = container.credentials
    admin_key = store.add(Role.ADMIN, "ops-wang", name="ops-wang")
    agency_key = store.add(Role.AGENCY, "TJ-TAX-JC1", name="稽查局", scopes=AGENCY_SCOPES)
    with TestClient(create_app(container)) as client:
        yield Ops(container, client, data_dir, admin_key, agency_key)


@pytest.fixture
def cli_env(ops: Ops, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The command line on the same data dir and system date as the `ops` platform."""
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(ops.data_dir))
    monkeypatch.setenv("GONGSHI_TODAY", TODAY.isoformat())
    return CliRunner()


def send(ops: Ops, *envelopes: dict[str, Any]) -> None:
    publish(ops.container, [json.dumps(e, ensure_ascii=False).encode() for e in envelopes])


# --- departments and mandates -------------------------------------------------------------------


def test_an_operator_connects_a_department_over_http_audited_with_the_admin_key(ops: Ops) -> None:
    body = {
        "code": "TJ-MARINE",
        "name": "天津市海洋局",
        "type": "sector_regulator",
        "kinds": ["licence.granted", "penalty.imposed"],
        "abbreviation": "津海",
    }
    answer = ops.client.post("/api/v1/admin/departments", json=body, headers=ops.admin)
    assert answer.status_code == 201, answer.text
    done = answer.json()
    assert done["action"] == "added" and done["effective_from"] == TODAY.isoformat()
    assert done["kinds"] == ["licence.granted", "penalty.imposed"] and done["actor"] == ops.who
    act = ops.last_act()
    assert act.actor == ops.who and act.action == "departments.added"
    assert act.arguments["department"] == "TJ-MARINE" and act.arguments["change"] == done["change"]
    assert act.arguments["fields"]["kinds"] == ["licence.granted", "penalty.imposed"]
    listed = {d["code"]: d for d in ops.client.get("/api/v1/departments").json()}
    assert listed["TJ-MARINE"]["kinds"] == ["licence.granted", "penalty.imposed"]
    history = ops.container.departments.history("TJ-MARINE")
    assert history[-1].actor == ops.who

    again = ops.client.post("/api/v1/admin/departments", json=body, headers=ops.admin)
    assert again.status_code == 409 and again.json()["code"] == "department_exists"
    assert "已存在" in again.json()["message"]


@pytest.mark.parametrize(
    ("kinds", "code", "words"),
    [
        (["penalty.imposed", "no.such"], "unknown_kind", "未知的公示类型"),
        (["registration.registered"], "kind_not_allowed", "行业主管部门不能公示"),
        ([], "kinds_required", "至少给出一个公示类型"),
    ],
)
def test_a_mandate_outside_what_the_type_allows_is_refused_in_chinese(
    ops: Ops, kinds: list[str], code: str, words: str
) -> None:
    before = len(ops.container.audit.entries(limit=10_000))
    answer = ops.client.put(
        "/api/v1/admin/departments/TJ-HRSS/kinds", json={"kinds": kinds}, headers=ops.admin
    )
    assert answer.status_code == 422 and answer.json()["code"] == code
    assert words in answer.json()["message"]
    assert len(ops.container.audit.entries(limit=10_000)) == before  # a refused act is no act


def test_unknown_departments_are_404_and_disabling_is_dated(ops: Ops) -> None:
    for method, path, body in (
        ("PUT", "/api/v1/admin/departments/TJ-NOPE/kinds", {"kinds": ["penalty.imposed"]}),
        ("POST", "/api/v1/admin/departments/TJ-NOPE/disable", {}),
    ):
        answer = ops.client.request(method, path, json=body, headers=ops.admin)
        assert answer.status_code == 404 and answer.json()["code"] == "department_not_found"
    answer = ops.client.post(
        "/api/v1/admin/departments/TJ-CT/disable", json={"effective_from": "2027-01-01"}, headers=ops.admin
    )
    assert answer.status_code == 200 and answer.json()["action"] == "disabled"
    assert ops.last_act().action == "departments.disabled" and ops.last_act().actor == ops.who
    assert ops.container.departments.get("TJ-CT") is not None  # still in force today
    assert ops.container.departments.get("TJ-CT", on=TODAY.replace(year=2027, month=1, day=1)) is None


def test_the_cli_and_the_api_record_the_same_entry_but_for_who(ops: Ops, cli_env: CliRunner) -> None:
    kinds = ["licence.granted", "licence.changed", "licence.revoked", "penalty.imposed"]
    result = cli_env.invoke(cli, ["departments", "set-kinds", "TJ-EM", "--kinds", ",".join(kinds)])
    assert result.exit_code == 0, result.output
    by_cli = ops.last_act()
    answer = ops.client.put("/api/v1/admin/departments/TJ-EM/kinds", json={"kinds": kinds}, headers=ops.admin)
    assert answer.status_code == 200, answer.text
    by_api = ops.last_act()
    assert (by_cli.actor, by_api.actor) == (ME, ops.who)
    assert by_cli.action == by_api.action == "departments.kinds_set"
    same = {k: v for k, v in by_cli.arguments.items() if k != "change"}
    assert same == {k: v for k, v in by_api.arguments.items() if k != "change"}
    assert by_api.arguments["change"] == by_cli.arguments["change"] + 1


# --- the agency view names each fact's mandate --------------------------------------------------


def test_the_agency_view_shows_the_mandate_each_fact_was_accepted_under(ops: Ops) -> None:
    seeded = sorted(ops.container.departments.get("TJ-TAX").kinds)  # type: ignore[union-attr]
    first = envelope("penalty.imposed", penalty_payload("津税罚〔2026〕1号"), uscc=FIRM, department="TJ-TAX")
    send(ops, registered(uscc=FIRM, name="天津海河税通贸易有限公司"), first)
    narrowed = ["penalty.amended", "penalty.imposed", "penalty.revoked"]
    answer = ops.client.put(
        "/api/v1/admin/departments/TJ-TAX/kinds", json={"kinds": narrowed}, headers=ops.admin
    )
    assert answer.status_code == 200, answer.text
    change = answer.json()["change"]
    second = envelope("penalty.imposed", penalty_payload("津税罚〔2026〕2号"), uscc=FIRM, department="TJ-TAX")
    send(ops, second)

    record = ops.client.get(f"/api/v1/agency/entities/{FIRM}", headers=ops.agency())
    assert record.status_code == 200, record.text
    by_no = {p["decision_no"]: p["provenance"]["mandate"] for p in record.json()["penalties"]}
    before, after = by_no["津税罚〔2026〕1号"], by_no["津税罚〔2026〕2号"]
    assert before["department"] == after["department"] == "TJ-TAX"
    assert before["department_name"] == "国家税务总局天津市税务局"
    assert before["arrived_on"] == after["arrived_on"] == TODAY.isoformat()
    assert before["kinds"] == seeded and before["in_force_from"] is None and before["allows_kind"] is True
    assert after["kinds"] == narrowed and after["change"] == change and after["allows_kind"] is True
    assert after["in_force_from"] == TODAY.isoformat()
    registered_by = record.json()["registered_by"]["provenance"]["mandate"]
    assert registered_by["department"] == "TJ-AMR" and "registration.registered" in registered_by["kinds"]

    history = ops.client.get(f"/api/v1/agency/entities/{FIRM}/history", headers=ops.agency())
    assert [e["mandate"]["kinds"] for e in history.json()["events"][1:]] == [seeded, narrowed]

    public = ops.client.get(f"/api/v1/entities/{FIRM}")
    assert public.status_code == 200 and "mandate" not in public.text and "provenance" not in public.text
    ops.client.put("/api/v1/admin/departments/TJ-TAX/kinds", json={"kinds": seeded}, headers=ops.admin)


# --- keys ---------------------------------------------------------------------------------------


def test_agency_and_public_keys_are_issued_and_revoked_over_http(ops: Ops) -> None:
    answer = ops.client.post(
        "/api/v1/admin/keys",
        json={"role": "agency", "subject": "TJ-EE-ZF", "name": "生态环境执法总队", "scopes": ["read"]},
        headers=ops.admin,
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    issued = answer.json()
    key, key_id = issued["key"], issued["key_id"]
    assert key_id_of(key) == key_id and issued["scopes"] == ["read"]
    act = ops.last_act()
    assert (act.actor, act.action) == (ops.who, "keys.created")
    assert act.arguments == {
        "role": "agency",
        "subject": "TJ-EE-ZF",
        "key_id": key_id,
        "scopes": ["read"],
        "limit": None,
    }
    assert key not in json.dumps(act.arguments)
    headers = {"Authorization": f"Bearer {key}", "X-Purpose": "%E8%A1%8C%E6%94%BF%E6%89%A7%E6%B3%95"}
    assert ops.client.get(f"/api/v1/agency/entities/{FIRM}", headers=headers).status_code == 200

    revoked = ops.client.delete(f"/api/v1/admin/keys/{key_id}", headers=ops.admin)
    assert revoked.status_code == 200 and revoked.json() == {
        "key_id": key_id,
        "role": "agency",
        "revoked": [f"API key {key_id}"],
    }
    act = ops.last_act()
    assert (act.actor, act.action, act.arguments) == (
        ops.who,
        "keys.revoked",
        {"role": "agency", "key_id": key_id},
    )
    assert ops.client.get(f"/api/v1/agency/entities/{FIRM}", headers=headers).status_code == 401
    gone = ops.client.delete(f"/api/v1/admin/keys/{key_id}", headers=ops.admin)
    assert gone.status_code == 404 and gone.json()["code"] == "key_not_found"


def test_admin_keys_are_not_issued_over_http_and_bad_scopes_are_refused(ops: Ops) -> None:
    for body, code in (
        ({"role": "admin", "subject": "ops-li"}, "invalid_request"),
        ({"role": "agency", "subject": "TJ-X", "scopes": ["everything"]}, "invalid_scopes"),
        ({"role": "agency", "subject": "lower case"}, "invalid_agency_code"),
        ({"role": "public", "subject": "researcher", "limit": "lots"}, "invalid_limit"),
    ):
        answer = ops.client.post("/api/v1/admin/keys", json=body, headers=ops.admin)
        assert answer.status_code == 422 and answer.json()["code"] == code, (body, answer.text)


def test_a_department_key_is_revoked_with_its_signing_key(ops: Ops) -> None:
    key = ops.container.credentials.add(Role.DEPARTMENT, "TJ-HEALTH")
    key_id = key_id_of(key)
    answer = ops.client.delete(f"/api/v1/admin/keys/{key_id}", headers=ops.admin)
    assert answer.status_code == 200 and answer.json()["role"] == "department"
    assert f"API key {key_id}" in answer.json()["revoked"]
    act = ops.last_act()
    assert (act.actor, act.action, act.arguments["role"]) == (ops.who, "keys.revoked", "department")


# --- the dead-letter queue and jobs -------------------------------------------------------------


def test_the_dlq_is_replayed_once_and_purged_over_http(ops: Ops) -> None:
    outside = envelope(
        "filing.recorded", {"filing_type": "章程备案", "content": "修改章程"}, uscc=FIRM, department="TJ-TAX"
    )
    send(ops, outside)
    answer = ops.client.post(
        "/api/v1/admin/dlq/replay", json={"reason": "outside_mandate"}, headers=ops.admin
    )
    assert answer.status_code == 200, answer.text
    replayed = answer.json()
    assert replayed["replayed"] >= 1
    mine = [e for e in replayed["entries"] if e["publication_id"] == outside["publication_id"]]
    assert mine and mine[0]["replayed"] is True
    act = ops.last_act()
    assert (act.actor, act.action) == (ops.who, "dlq.replayed")
    assert outside["publication_id"] in act.arguments["publication_ids"]

    again = ops.client.post("/api/v1/admin/dlq/replay", json={"id": mine[0]["id"]}, headers=ops.admin)
    assert again.status_code == 200 and again.json()["replayed"] == 0
    assert again.json()["entries"][0]["earlier_by"] == ops.who
    for body, code in (({}, "replay_selection"), ({"id": "9@999999"}, "dead_letter_not_found")):
        refused = ops.client.post("/api/v1/admin/dlq/replay", json=body, headers=ops.admin)
        assert refused.json()["code"] == code and refused.status_code in (404, 422)

    purged = ops.client.post("/api/v1/admin/dlq/purge", json={"older_than_days": 30}, headers=ops.admin)
    assert purged.status_code == 200 and purged.json()["deleted"] == 0
    act = ops.last_act()
    assert (act.actor, act.action, act.arguments["older_than_days"]) == (ops.who, "dlq.purged", 30)
    bad = ops.client.post("/api/v1/admin/dlq/purge", json={"older_than_days": 0}, headers=ops.admin)
    assert bad.status_code == 422


def test_jobs_run_by_hand_over_http_are_audited(ops: Ops) -> None:
    answer = ops.client.post("/api/v1/admin/jobs/parked-expiry", json={}, headers=ops.admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["figures"] == {"expired": 0} and answer.json()["as_of"] == TODAY.isoformat()
    act = ops.last_act()
    assert (act.actor, act.action, act.arguments["job"]) == (ops.who, "jobs.run", "parked-expiry")
    answer = ops.client.post("/api/v1/admin/jobs/publicity", json={"as_of": "2026-11-20"}, headers=ops.admin)
    assert answer.status_code == 200 and "changed" in answer.json()["figures"]
    assert ops.last_act().arguments["as_of"] == "2026-11-20"
    answer = ops.client.post("/api/v1/admin/jobs/annual-reports", json={}, headers=ops.admin)
    assert answer.status_code == 200 and "published" in answer.json()["figures"]
    future = ops.client.post(
        "/api/v1/admin/jobs/annual-reports", json={"as_of": "2027-01-01"}, headers=ops.admin
    )
    assert future.status_code == 422 and future.json()["code"] == "as_of_in_future"
    assert "晚于系统日期" in future.json()["message"]
    nope = ops.client.post("/api/v1/admin/jobs/rebuild-everything", json={}, headers=ops.admin)
    assert nope.status_code == 404 and nope.json()["code"] == "job_not_found"


def test_an_act_the_trail_cannot_take_is_reported_as_done_but_unrecorded(
    ops: Ops, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> None:
        raise AuditUnavailable("disk full")

    monkeypatch.setattr(SQLiteAuditTrail, "record", refuse)
    answer = ops.client.post("/api/v1/admin/jobs/parked-expiry", json={}, headers=ops.admin)
    assert answer.status_code == 503 and answer.json()["code"] == "audit_unavailable"
    assert "操作已完成，但未能写入审计记录" in answer.json()["message"]


def test_only_admin_keys_may_act(ops: Ops) -> None:
    body = {"kinds": ["penalty.imposed"]}
    path = "/api/v1/admin/departments/TJ-HRSS/kinds"
    assert ops.client.put(path, json=body).status_code == 401
    assert (
        ops.client.put(path, json=body, headers={"Authorization": f"Bearer {ops.agency_key}"}).status_code
        == 403
    )


def test_an_engine_that_is_down_is_a_503_with_a_stable_code(
    ops: Ops, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.department_store import DepartmentsUnavailable
    from adapters.publication_log.base import LogUnavailable

    def log_down(*_: object, **__: object) -> None:
        raise LogUnavailable("broker down")

    def store_down(*_: object, **__: object) -> None:
        raise DepartmentsUnavailable("database down")

    monkeypatch.setattr("api.operations.replay", log_down)
    answer = ops.client.post(
        "/api/v1/admin/dlq/replay", json={"reason": "outside_mandate"}, headers=ops.admin
    )
    assert answer.status_code == 503 and answer.json()["code"] == "log_unavailable"
    assert "可重试" in answer.json()["message"]
    monkeypatch.setattr(type(ops.container.department_store), "record", store_down)
    answer = ops.client.post("/api/v1/admin/departments/TJ-EE/disable", json={}, headers=ops.admin)
    assert answer.status_code == 503 and answer.json()["code"] == "store_unavailable"
