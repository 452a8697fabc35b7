"""`gongshi agencies / admins / public-keys add|list|revoke` and `gongshi audit refusals`."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from domain.access import Role
from infra.bootstrap import Container, build
from infra.settings import Settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GONGSHI_TODAY", "2026-11-22")
    return tmp_path / "var"


def container(env: Path) -> Container:
    return build(Settings(data_dir=env))


def issued(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1  # the key alone on standard output; the words go to standard error
    return lines[-1]


@pytest.mark.parametrize(
    ("args", "role", "subject", "scopes", "limit"),
    [
        (
            ["agencies", "add", "TJ-TAX-JC1", "--name", "天津市税务局稽查局", "--scopes", "screen,read"],
            Role.AGENCY,
            "TJ-TAX-JC1",
            ("read", "screen"),
            None,
        ),
        (["admins", "add", "ops-zhang"], Role.ADMIN, "ops-zhang", (), None),
        (
            ["public-keys", "add", "researcher", "--limit", "600/minute"],
            Role.PUBLIC,
            "researcher",
            (),
            "600/minute",
        ),
        (["public-keys", "add", "hobbyist"], Role.PUBLIC, "hobbyist", (), None),
    ],
)
def test_add_prints_a_key_that_authenticates_as_its_role(
    env: Path, args: list[str], role: Role, subject: str, scopes: tuple[str, ...], limit: str | None
) -> None:
    key = issued(args)
    store = container(env).credentials
    principal = store.authenticate(key)
    assert principal is not None
    assert (principal.role, principal.subject, principal.scopes, principal.rate_limit) == (
        role,
        subject,
        scopes,
        limit,
    )


def test_list_shows_ids_never_keys_and_revoke_refuses_the_key(env: Path) -> None:
    key = issued(["agencies", "add", "TJ-HRSS-1", "--name", "人社局", "--scopes", "match"])
    key_id = key[len("gsa_") :][:8]
    listed = runner.invoke(app, ["agencies", "list"])
    assert listed.exit_code == 0 and key_id in listed.stdout and "match" in listed.stdout
    assert key not in listed.stdout and key[12:] not in listed.stdout
    assert runner.invoke(app, ["admins", "revoke", key_id]).exit_code == 2  # not an admin key
    revoked = runner.invoke(app, ["agencies", "revoke", key_id])
    assert revoked.exit_code == 0, revoked.output
    assert container(env).credentials.authenticate(key) is None
    assert runner.invoke(app, ["agencies", "revoke", key_id]).exit_code == 2  # already


@pytest.mark.parametrize(
    "args",
    [
        ["agencies", "add", "TJ-X", "--name", "x", "--scopes", "read,spy"],
        ["agencies", "add", "TJ-X", "--name", "x", "--scopes", ""],
        ["agencies", "add", "tj x", "--name", "x", "--scopes", "read"],
        ["public-keys", "add", "app", "--limit", "lots"],
        ["admins", "add", " "],
    ],
)
def test_bad_arguments_issue_no_key(env: Path, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert container(env).credentials.keys() == []


def test_audit_lists_a_revoked_key_still_in_use(env: Path) -> None:
    key = issued(["admins", "add", "ops-old"])
    department = container(env).credentials.add_key("TJ-AMR")
    assert runner.invoke(app, ["admins", "revoke", key[len("gsadm_") :][:8]]).exit_code == 0
    with TestClient(create_app(container(env))) as client:
        for _ in range(3):
            assert client.get("/metrics", headers={"Authorization": f"Bearer {key}"}).status_code == 401
        for _ in range(2):  # a department that tries the operators' routes
            assert client.get("/metrics", headers={"X-Api-Key": department}).status_code == 403
    result = runner.invoke(app, ["audit", "refusals"])
    assert result.exit_code == 0, result.output
    assert (
        "ops-old（已吊销）" in result.stdout
        and "unauthorized" in result.stdout
        and "/metrics" in result.stdout
    )
    assert "TJ-AMR" not in result.stdout  # twice is under --at-least 3
    everything = runner.invoke(app, ["audit", "refusals", "--at-least", "1"])
    assert "TJ-AMR" in everything.stdout and "forbidden" in everything.stdout
