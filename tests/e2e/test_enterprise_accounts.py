"""Enterprise accounts: the invitation from the command line, the liaison and its invited users
(each with its own login), the own-USCC-only rule, and `GET /api/v1/enterprise/me`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from infra.bootstrap import build
from infra.settings import Settings
from tests.builders import uscc_for
from tests.e2e.enterprise_platform import PASSWORD, EnterprisePlatform, enterprise_platform

USCC = uscc_for(301)
OTHER = uscc_for(302)
runner = CliRunner()


@pytest.fixture
def ep(tmp_path: Path) -> Iterator[EnterprisePlatform]:
    with enterprise_platform(tmp_path / "var", date(2026, 5, 20)) as platform:
        platform.register(USCC, established="2021-06-01")
        platform.register(OTHER, established="2022-02-01")
        platform.account(USCC)
        platform.account(OTHER)
        yield platform


# --- the invitation ---------------------------------------------------------------------------------


def test_invite_prints_the_activation_code_alone_on_the_last_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "var"
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(data))
    monkeypatch.setenv("GONGSHI_TODAY", "2026-05-20")
    with enterprise_platform(data, date(2026, 5, 20)) as platform:
        platform.register(USCC)
    result = runner.invoke(app, ["enterprises", "invite", USCC.lower()])
    assert result.exit_code == 0, result.output
    code = result.stdout.splitlines()[-1]
    assert len(result.stdout.splitlines()) == 1 and len(code.replace("-", "")) >= 10
    container = build(Settings(data_dir=data))
    try:
        container.credentials.activate(USCC, code, PASSWORD)
        assert container.credentials.login(USCC, PASSWORD, "cli-test")
        again = runner.invoke(app, ["enterprises", "invite", USCC])  # a new invite voids the old code
        assert again.exit_code == 0
        with pytest.raises(Exception, match="激活码无效"):
            container.credentials.activate(USCC, code, "another-password-2")
        container.credentials.activate(USCC, again.stdout.splitlines()[-1], "another-password-2")
    finally:
        container.close()


def test_invite_refuses_a_uscc_the_register_does_not_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(tmp_path / "var"))
    result = runner.invoke(app, ["enterprises", "invite", USCC])
    assert result.exit_code == 2 and "登记簿中没有" in result.output
    bad = runner.invoke(app, ["enterprises", "invite", USCC[:-1] + "0"])
    assert bad.exit_code == 2 and "请逐位核对" in bad.output
    forced = runner.invoke(app, ["enterprises", "invite", USCC, "--force"])
    assert forced.exit_code == 0 and forced.stdout.strip()


def test_no_department_key_is_issued_for_the_enterprise_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(tmp_path / "var"))
    result = runner.invoke(app, ["departments", "add-key", "ENTERPRISE"])
    assert result.exit_code == 2 and "不发放部门密钥" in result.output


# --- me -----------------------------------------------------------------------------------------------


def test_me_names_the_enterprise_and_its_annual_reports_with_their_states(ep: EnterprisePlatform) -> None:
    response = ep.client.get("/api/v1/enterprise/me", headers=ep.auth(USCC))
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["uscc"] == USCC and me["today"] == "2026-05-20"
    assert me["acting"] == {"principal": f"enterprise:{USCC}", "user": None, "liaison": True}
    states = {r["year"]: (r["state"], r["due_on"]) for r in me["annual_reports"]}
    assert states == {
        2025: ("due", "2026-06-30"),
        2024: ("overdue", "2025-06-30"),
        2023: ("overdue", "2024-06-30"),
        2022: ("overdue", "2023-06-30"),
        2021: ("overdue", "2022-06-30"),
    }
    assert me["next_report"] == {"year": 2026, "opens_on": "2027-01-01", "due_on": "2027-06-30"}
    assert me["reads"] == {"available": True, "items": [], "more": False, "confidential_delay_days": 180}


def test_me_needs_an_enterprise_login(ep: EnterprisePlatform) -> None:
    assert ep.client.get("/api/v1/enterprise/me").status_code == 401


# --- invited users ------------------------------------------------------------------------------------


def test_the_liaison_invites_a_user_who_logs_in_with_its_own_password(ep: EnterprisePlatform) -> None:
    invited = ep.client.post(
        "/api/v1/enterprise/users",
        json={"user": "Wang.Li", "display_name": "王丽", "kind": "staff"},
        headers=ep.auth(USCC),
    )
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert body["user"] == "wang.li" and body["kind_label"] == "本企业经办人" and body["activated_at"] is None
    activated = ep.client.post(
        "/api/v1/enterprise/activate",
        json={"uscc": USCC, "user": "wang.li", "code": body["code"], "password": "wang-li-password"},
    )
    assert activated.status_code == 201, activated.text
    login = ep.client.post(
        "/api/v1/enterprise/token", json={"uscc": USCC, "user": "WANG.LI", "password": "wang-li-password"}
    )
    assert login.status_code == 200, login.text
    user_token = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = ep.client.get("/api/v1/enterprise/me", headers=user_token).json()
    assert me["acting"] == {
        "principal": f"enterprise:{USCC}/user:wang.li",
        "user": "wang.li",
        "liaison": False,
    }
    # the user's password is not the liaison's, and the liaison's does not log the user in
    wrong = ep.client.post(
        "/api/v1/enterprise/token", json={"uscc": USCC, "user": "wang.li", "password": PASSWORD}
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "login_failed"
    # an invited user may not manage users
    refused = ep.client.get("/api/v1/enterprise/users", headers=user_token)
    assert refused.status_code == 403 and "联络员" in refused.json()["message"]
    # the liaison revokes the user: its token ends at once
    listed = ep.client.get("/api/v1/enterprise/users", headers=ep.auth(USCC)).json()
    assert [u["user"] for u in listed] == ["wang.li"] and listed[0]["activated_at"]
    assert ep.client.delete("/api/v1/enterprise/users/wang.li", headers=ep.auth(USCC)).status_code == 204
    assert ep.client.get("/api/v1/enterprise/me", headers=user_token).status_code == 401
    again = ep.client.post(
        "/api/v1/enterprise/token", json={"uscc": USCC, "user": "wang.li", "password": "wang-li-password"}
    )
    assert again.status_code == 403 and again.json()["code"] == "account_disabled"
    assert ep.client.delete("/api/v1/enterprise/users/wang.li", headers=ep.auth(USCC)).status_code == 404


def test_an_accounting_agent_holds_one_login_per_enterprise_it_serves(ep: EnterprisePlatform) -> None:
    codes = {}
    for uscc in (USCC, OTHER):
        r = ep.client.post(
            "/api/v1/enterprise/users",
            json={"user": "daizhang", "display_name": "天津某代理记账有限公司", "kind": "agent"},
            headers=ep.auth(uscc),
        )
        assert r.status_code == 201
        codes[uscc] = r.json()["code"]
    store = ep.container.credentials
    store.activate(USCC, codes[USCC], "agent-password-a", user="daizhang")
    store.activate(OTHER, codes[OTHER], "agent-password-b", user="daizhang")
    principal = store.authenticate(store.login(OTHER, "agent-password-b", "x", user="daizhang"))
    assert principal is not None and principal.id == f"enterprise:{OTHER}/user:daizhang"
    with pytest.raises(Exception, match="错误"):
        store.login(USCC, "agent-password-b", "x", user="daizhang")


def test_a_malformed_user_name_is_refused_in_chinese(ep: EnterprisePlatform) -> None:
    r = ep.client.post(
        "/api/v1/enterprise/users",
        json={"user": "王 丽", "display_name": "王丽", "kind": "staff"},
        headers=ep.auth(USCC),
    )
    assert (
        r.status_code == 400 and r.json()["code"] == "invalid_user_name" and "用户名" in r.json()["message"]
    )


def test_disabling_the_account_ends_every_login_of_the_enterprise(ep: EnterprisePlatform) -> None:
    code = ep.client.post(
        "/api/v1/enterprise/users",
        json={"user": "zhao", "display_name": "赵", "kind": "staff"},
        headers=ep.auth(USCC),
    ).json()["code"]
    ep.container.credentials.activate(USCC, code, "zhao-password-1", user="zhao")
    user_headers = {"Authorization": f"Bearer {ep.token(USCC, 'zhao', password='zhao-password-1')}"}
    liaison_headers = ep.auth(USCC)
    ep.container.credentials.disable(USCC)
    for headers in (user_headers, liaison_headers):
        assert ep.client.get("/api/v1/enterprise/me", headers=headers).status_code == 401


# --- the own-USCC rule -----------------------------------------------------------------------------------


def test_another_uscc_in_the_body_is_forbidden(ep: EnterprisePlatform) -> None:
    refused = ep.client.post(
        "/api/v1/enterprise/users",
        json={"user": "li", "display_name": "李", "kind": "staff", "uscc": OTHER},
        headers=ep.auth(USCC),
    )
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert OTHER not in refused.json()["message"] and USCC in refused.json()["message"]
    own = ep.client.post(
        "/api/v1/enterprise/users",
        json={"user": "li", "display_name": "李", "kind": "staff", "uscc": USCC.lower()},
        headers=ep.auth(USCC),
    )
    assert own.status_code == 201
