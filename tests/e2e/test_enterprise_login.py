"""Enterprise login: the API's token, the pages' session cookie, activation, and failed logins
slowed per account and address with the wait told in Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from adapters.credentials import SQLiteCredentialStore
from adapters.credentials.keys import password_hasher
from api.app import create_app
from api.web.session import COOKIE
from infra.bootstrap import Container, build
from infra.settings import Settings
from tests.builders import GENEROUS_LIMITS, TODAY, uscc_for
from tests.e2e.test_web_pages import csrf_token

USCC = uscc_for(7)
PASSWORD = "correct horse battery"
START = 1_900_000_000


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    built = build(Settings(data_dir=tmp_path, today=TODAY, trusted_proxies="10.0.0.0/8", **GENEROUS_LIMITS))
    built.__dict__["credentials"] = SQLiteCredentialStore(  # argon2 made cheap for the test
        tmp_path / "credentials.sqlite3",
        clock=built.clock,
        pepper=built.secret_key,
        hasher=password_hasher(cheap=True),
    )
    store = built.credentials
    store.activate(USCC, store.invite(USCC), PASSWORD)
    yield built
    built.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container, owns_container=False), follow_redirects=False) as c:
        yield c


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def login(client: TestClient, password: str = PASSWORD, uscc: str = USCC) -> Any:
    return client.post("/api/v1/enterprise/token", json={"uscc": uscc, "password": password})


# --- the API -----------------------------------------------------------------------------------------


def test_a_login_gives_a_bearer_token_for_an_hour_until_logout(
    client: TestClient, container: Container
) -> None:
    response = login(client, uscc=f" {USCC[:9].lower()}-{USCC[9:]} ")  # as typed
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["access_token"].startswith("gse_")
    principal = container.credentials.authenticate(body["access_token"])
    assert principal is not None and principal.subject == USCC
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.delete("/api/v1/enterprise/token", headers=bearer).status_code == 204
    again = client.delete("/api/v1/enterprise/token", headers=bearer)
    assert again.status_code == 401 and again.json()["code"] == "unauthorized"


def test_a_token_expires_after_an_hour(client: TestClient, clock: Any) -> None:
    bearer = {"Authorization": f"Bearer {login(client).json()['access_token']}"}
    clock.shift(3599)
    assert client.get("/enterprise/", headers=bearer).status_code == 200
    clock.shift(2)
    assert client.get("/api/v1/enterprise/nothing", headers=bearer).status_code == 401


def test_wrong_passwords_slow_down_that_address_with_the_wait_in_chinese(
    container: Container, clock: Any
) -> None:
    app = create_app(container, owns_container=False)
    with (
        TestClient(app, client=("198.51.100.1", 1)) as here,
        TestClient(app, client=("198.51.100.2", 1)) as there,
    ):
        first = login(here, "wrong password!")
        assert first.status_code == 401
        assert first.json() == {"code": "login_failed", "message": "统一社会信用代码或密码错误"}
        assert login(here, "wrong password!").status_code == 401
        third = login(here, "wrong password!")  # the third failure starts a delay: say so now
        assert third.status_code == 401 and third.headers["Retry-After"] == "2"
        assert third.json()["message"] == "统一社会信用代码或密码错误；失败次数过多，请 2 秒后再试"

        throttled = login(here)  # even the right password waits
        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "2"
        assert throttled.json() == {
            "code": "login_throttled",
            "message": "登录失败次数过多，请 2 秒后再试",
            "retry_after": 2,
        }
        assert login(there).status_code == 200  # the enterprise itself is not locked out

        clock.shift(2)
        assert login(here, "wrong again!!").status_code == 401
        longer = login(here)
        assert longer.status_code == 429 and longer.headers["Retry-After"] == "4"  # growing
        clock.shift(4)
        assert login(here).status_code == 200


def test_a_disabled_account_is_refused(client: TestClient, container: Container) -> None:
    container.credentials.disable(USCC)
    response = login(client)
    assert response.status_code == 403 and response.json()["code"] == "account_disabled"


def test_activation_sets_the_password_once(client: TestClient, container: Container) -> None:
    other = uscc_for(8)
    code = container.credentials.invite(other)
    weak = client.post("/api/v1/enterprise/activate", json={"uscc": other, "code": code, "password": "short"})
    assert weak.status_code == 400 and weak.json()["code"] == "weak_password"
    body = {"uscc": other, "code": code.lower(), "password": "a long enough password"}
    assert client.post("/api/v1/enterprise/activate", json=body).status_code == 201
    assert login(client, "a long enough password", uscc=other).status_code == 200
    reused = client.post("/api/v1/enterprise/activate", json=body)
    assert reused.status_code == 400 and reused.json()["code"] == "activation_invalid"


# --- the pages ---------------------------------------------------------------------------------------


def form(client: TestClient, password: str = PASSWORD, **extra: str) -> Any:
    """The login form as a browser sends it: read first (its CSRF field), then posted; a session
    from an earlier login in the test is dropped first (the page sends a logged-in caller on)."""
    if COOKIE in client.cookies:
        client.cookies.delete(COOKIE)
    token = csrf_token(client.get("/enterprise/login").text)
    return client.post(
        "/enterprise/login", data={"uscc": USCC, "password": password, "csrf_token": token, **extra}
    )


def test_the_login_page_is_a_chinese_form(client: TestClient) -> None:
    page = client.get("/enterprise/login")
    assert page.status_code == 200
    for text in (
        "企业登录",
        "统一社会信用代码",
        "密码",
        'name="uscc"',
        'type="password"',
        "不会锁定您的账户",
    ):
        assert text in page.text


def test_logging_in_sets_a_session_cookie_and_logging_out_ends_it(
    client: TestClient, container: Container
) -> None:
    assert client.get("/enterprise/").headers["location"] == "/enterprise/login?next=%2Fenterprise%2F"
    response = form(client, next="/enterprise/")
    assert response.status_code == 303 and response.headers["location"] == "/enterprise/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=gse_")
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes and "secure" not in attributes
    assert "SameSite=lax" in cookie and "Max-Age=3600" in cookie and "Path=/" in cookie
    token = client.cookies[COOKIE]

    home = client.get("/enterprise/")
    assert home.status_code == 200 and USCC in home.text and "退出登录" in home.text

    out = client.post("/enterprise/logout", data={"csrf_token": csrf_token(home.text)})
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert f"{COOKIE}=" in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
    assert container.credentials.authenticate(token) is None
    assert client.get("/enterprise/").status_code == 303


@pytest.mark.parametrize(
    ("base_url", "peer", "headers", "secure"),
    [
        ("https://testserver", ("203.0.113.5", 1), {}, True),  # served over https
        (
            "http://testserver",
            ("10.0.0.5", 1),
            {"X-Forwarded-Proto": "https"},
            True,
        ),  # a trusted proxy says so
        ("http://testserver", ("203.0.113.5", 1), {"X-Forwarded-Proto": "https"}, False),  # anyone else: no
    ],
)
def test_the_cookie_is_secure_when_served_over_https(
    container: Container, base_url: str, peer: tuple[str, int], headers: dict[str, str], secure: bool
) -> None:
    app = create_app(container, owns_container=False)
    with TestClient(app, base_url=base_url, client=peer, follow_redirects=False) as client:
        token = csrf_token(client.get("/enterprise/login", headers=headers).text)
        response = client.post(
            "/enterprise/login",
            data={"uscc": USCC, "password": PASSWORD, "csrf_token": token},
            headers=headers,
        )
    assert response.status_code == 303
    assert ("; secure" in response.headers["set-cookie"].lower()) is secure


def test_a_failed_login_shows_why_and_the_wait_on_the_form(client: TestClient, clock: Any) -> None:
    first = form(client, "wrong password!")
    assert (
        first.status_code == 401
        and "统一社会信用代码或密码错误" in first.text
        and "set-cookie" not in first.headers
    )
    form(client, "wrong password!")
    third = form(client, "wrong password!")
    assert "失败次数过多，请 2 秒后再试" in third.text
    throttled = form(client)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"
    assert "登录失败次数过多，请 2 秒后再试" in throttled.text
    clock.shift(2)
    assert form(client).status_code == 303


def test_after_login_only_paths_of_this_site_are_followed(client: TestClient) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert form(client, next=target).headers["location"] == "/enterprise/"
    assert form(client, next="/entity/" + USCC).headers["location"] == "/entity/" + USCC
