"""The audit trail of operators' acts: what `gongshi` does as an administrative act is recorded
with the operating-system user, read back by `gongshi audit list [--since]` and by
`GET /api/v1/admin/audit` (operators' keys only)."""

from __future__ import annotations

import json
import os
import pwd
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.audit_trail import AuditUnavailable, SQLiteAuditTrail
from api.app import create_app
from api.cli import app
from infra.bootstrap import Container, build
from infra.settings import Settings

runner = CliRunner()
ME = f"cli:{pwd.getpwuid(os.getuid()).pw_name}"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GONGSHI_TODAY", "2026-11-22")
    monkeypatch.setenv("USER", "someone-else")  # the actor comes from the uid, not the environment
    monkeypatch.setenv("LOGNAME", "someone-else")
    return tmp_path / "var"


def container(env: Path) -> Container:
    return build(Settings(data_dir=env))


def run(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def acts(env: Path) -> list[dict]:
    return [json.loads(line) for line in run(["audit", "list", "--json"]).splitlines()]


def test_keys_issued_and_revoked_are_recorded_with_the_os_user_and_never_the_key(env: Path) -> None:
    key = run(["agencies", "add", "TJ-TAX-JC1", "--name", "稽查局", "--scopes", "read,match"]).strip()
    key_id = key[len("gsa_") :][:8]
    run(["agencies", "revoke", key_id])
    admin = run(["admins", "add", "ops-zhang"]).strip()
    found = acts(env)
    assert [(a["actor"], a["action"]) for a in found] == [
        (ME, "keys.created"),
        (ME, "keys.revoked"),
        (ME, "keys.created"),
    ]
    assert found[0]["arguments"] == {
        "role": "agency",
        "subject": "TJ-TAX-JC1",
        "key_id": key_id,
        "scopes": ["read", "match"],
        "limit": None,
    }
    assert found[1]["arguments"] == {"role": "agency", "key_id": key_id}
    assert found[2]["arguments"]["subject"] == "ops-zhang"
    text = (env / "audit.sqlite3").read_bytes()
    assert key.encode() not in text and admin.encode() not in text
    # a refused act (no such key) is not an act
    assert runner.invoke(app, ["agencies", "revoke", key_id]).exit_code == 2
    assert len(acts(env)) == 3


def test_rebuilds_and_jobs_run_by_hand_are_recorded(env: Path) -> None:
    run(["projections", "rebuild", "entities"])
    run(["jobs", "run", "publicity", "--as-of", "2026-11-20"])
    found = acts(env)
    assert [a["action"] for a in found] == ["projections.rebuilt", "jobs.run"]
    assert found[0]["arguments"]["name"] == "entities"
    assert found[1]["arguments"] == {"job": "publicity", "as_of": "2026-11-20", "changed": 0}


def test_audit_list_since_keeps_the_later_acts(env: Path) -> None:
    trail = container(env).audit
    now = datetime.now(UTC)
    trail.record(now - timedelta(days=3), "cli:old", "keys.created", {})
    trail.record(now, "cli:new", "keys.created", {})
    since = (now - timedelta(days=1)).isoformat()
    later = [json.loads(line) for line in run(["audit", "list", "--json", "--since", since]).splitlines()]
    assert [a["actor"] for a in later] == ["cli:new"]
    table = run(["audit", "list"])
    assert "cli:old" in table and "cli:new" in table
    assert runner.invoke(app, ["audit", "list", "--since", "yesterday"]).exit_code == 2


def test_an_act_the_trail_cannot_record_fails_the_command(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AuditUnavailable("disk full")

    monkeypatch.setattr(SQLiteAuditTrail, "record", refuse)
    result = runner.invoke(app, ["admins", "add", "ops-li"])
    assert result.exit_code == 1
    assert "未能写入审计记录" in result.output


def test_the_api_serves_the_trail_to_operators_only(env: Path) -> None:
    admin = run(["admins", "add", "ops-zhang"]).strip()
    agency = run(["agencies", "add", "TJ-TAX-JC1", "--name", "稽查局", "--scopes", "read"]).strip()
    c = container(env)
    with TestClient(create_app(c)) as client:
        assert client.get("/api/v1/admin/audit").status_code == 401
        assert (
            client.get("/api/v1/admin/audit", headers={"Authorization": f"Bearer {agency}"}).status_code
            == 403
        )
        answer = client.get("/api/v1/admin/audit", headers={"Authorization": f"Bearer {admin}"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert [(a["actor"], a["action"], a["arguments"]["role"]) for a in body] == [
            (ME, "keys.created", "admin"),
            (ME, "keys.created", "agency"),
        ]
        later = datetime.fromisoformat(body[1]["at"]) + timedelta(microseconds=1)
        none = client.get(
            "/api/v1/admin/audit",
            params={"since": later.isoformat()},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert none.status_code == 200 and none.json() == []
        naive = client.get(
            "/api/v1/admin/audit",
            params={"since": "2026-11-22T00:00:00"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert naive.status_code == 422


def test_a_department_key_issued_and_revoked_is_recorded_with_what_was_removed(env: Path) -> None:
    issued = json.loads(run(["departments", "add-key", "TJ-AMR"]).splitlines()[-1])
    key_id = issued["api_key"].split("_", 1)[1][:8]
    run(["departments", "revoke-key", key_id])
    created, revoked = acts(env)
    assert (created["action"], created["arguments"]["subject"]) == ("keys.created", "TJ-AMR")
    assert created["arguments"]["signing_key_id"] == issued["signing_key_id"]
    assert "signing_private_key" not in json.dumps(created) and issued["api_key"] not in json.dumps(created)
    assert revoked["action"] == "keys.revoked"
    assert revoked["arguments"]["key_id"] == key_id
    assert revoked["arguments"]["revoked"] == [
        f"API key {key_id}",
        f"signing key {issued['signing_key_id']}",
    ]
