"""The matrix (api/access.py) covers every route the app serves, and the gate applies it: every
route is called as every caller — anonymous, a public key, an enterprise (token and session
cookie), a department, an agency with each scope alone and with all, an admin, the metrics
token — and answers as the table says: let through (the route's own answer), 401 (or, for an
enterprise page, the login page) or 403."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from api.access import ANYONE, GROUPS, MATRIX, Access, Caller, _row
from api.app import create_app
from api.gate import api_routes
from api.web.session import COOKIE
from domain.access import AGENCY_SCOPES, Role
from tests.e2e.conftest import METRICS_TOKEN, Platform, registered

PASSWORD = "matrix-password-1"
ENTERPRISE_USCC_INDEX = 0


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of everything the app serves: API routes, the docs, mounts."""
    found = set()
    for route in api_routes(app.routes):
        found |= {(m, route.path) for m in route.methods or ()}
    for route in app.routes:
        if isinstance(route, Route) and not hasattr(route, "original_router"):
            found |= {(m, route.path) for m in route.methods or () if m != "HEAD"}
        if isinstance(route, Mount):
            found.add(("MOUNT", route.path))
    return found


def rows(matrix: tuple[Access, ...] = MATRIX) -> set[tuple[str, str]]:
    return {("MOUNT" if r.mount else m, r.path) for r in matrix for m in r.methods}


def test_every_route_has_its_row_and_every_row_its_route(platform: Platform) -> None:
    app = create_app(platform.container, owns_container=False)
    served = served_routes(app)
    assert len(served) > 25
    assert sorted(served - rows()) == [], "routes missing from api/access.py MATRIX"
    assert sorted(rows() - served) == [], "rows of api/access.py MATRIX with no route"


def test_every_agency_row_names_its_scope_and_groups_hold_their_callers() -> None:
    for row in MATRIX:
        if row.path.startswith("/api/v1/agency/"):
            assert row.scope in AGENCY_SCOPES, row.path
        if row.scope is not None:
            assert row.allow == {Caller.AGENCY}, row.path
    assert Caller.METRICS not in ANYONE
    assert {g.path for g in GROUPS} >= {
        "/api/v1/agency",
        "/api/v1/enterprise",
        "/enterprise",
        "/api/v1/admin",
    }


# --- every route as every caller ------------------------------------------------------------------


@dataclass(frozen=True)
class As:
    """A caller of the matrix test: the matrix column it stands for, and its credential."""

    name: str
    caller: Caller
    scopes: tuple[str, ...] = ()
    cookie: bool = False  # the enterprise's session cookie instead of a bearer token


CALLERS = (
    As("anonymous", Caller.ANONYMOUS),
    As("public-key", Caller.PUBLIC),
    As("enterprise-token", Caller.ENTERPRISE),
    As("enterprise-cookie", Caller.ENTERPRISE, cookie=True),
    As("department", Caller.DEPARTMENT),
    *(As(f"agency-{scope}", Caller.AGENCY, scopes=(scope,)) for scope in AGENCY_SCOPES),
    As("agency-all-scopes", Caller.AGENCY, scopes=AGENCY_SCOPES),
    As("admin", Caller.ADMIN),
    As("metrics-token", Caller.METRICS),
)


class Credentials:
    """One credential per caller on the platform (the enterprise's token renewed when a call
    logged it out)."""

    def __init__(self, platform: Platform) -> None:
        store = platform.container.credentials
        self.store = store
        self.uscc = registered(platform)[ENTERPRISE_USCC_INDEX]["uscc"]
        if store.account(self.uscc) is None or store.account(self.uscc).activated_at is None:  # type: ignore[union-attr]
            store.activate(self.uscc, store.invite(self.uscc), PASSWORD)
        self.keys: dict[str, str] = {
            "public-key": store.add(Role.PUBLIC, "matrix-researcher"),
            "department": store.add_key("TJ-AMR"),
            "admin": store.add(Role.ADMIN, "matrix-operator"),
            "metrics-token": METRICS_TOKEN,
        }
        for who in CALLERS:
            if who.caller is Caller.AGENCY:
                self.keys[who.name] = store.add(Role.AGENCY, "TJ-TAX-JC1", scopes=who.scopes)
        self.token = ""

    def enterprise_token(self) -> str:
        if not self.token or self.store.authenticate(self.token) is None:
            self.token = self.store.login(self.uscc, PASSWORD, "matrix-test")
        return self.token

    def headers(self, who: As) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, cookies) of a call as `who`."""
        if who.caller is Caller.ANONYMOUS:
            return {}, {}
        if who.caller is Caller.ENTERPRISE:
            token = self.enterprise_token()
            return ({}, {COOKIE: token}) if who.cookie else ({"Authorization": f"Bearer {token}"}, {})
        return {"Authorization": f"Bearer {self.keys[who.name]}"}, {}


@pytest.fixture(scope="module")
def credentials(platform: Platform) -> Credentials:
    return Credentials(platform)


def sample_path(row: Access, uscc: str) -> str:
    values = {
        "uscc": uscc,
        "key": "0" * 64,
        "publication_id": "MATRIX-1",
        "rest": "site.css",
        "day": "2026-11-22",
        "name": "manifest.json",
        "user": "nobody",
        "year": "2025",
        "id": "MATRIX-NONE",
        "number": "MATRIX-NONE",
        "code": "TJ-AMR",
        "sha256": "0" * 64,
        "watchlist_id": "0" * 32,
        "key_id": "MATRIXNO",
    }
    path = row.path + "/{rest}" if row.mount else row.path
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], path)


BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/publications"): {"json": {}},
    ("POST", "/api/v1/enterprise/token"): {"json": {}},
    ("POST", "/api/v1/enterprise/activate"): {"json": {}},
    ("POST", "/verify"): {"data": {"code": "NOPE-NOPE-NOPE"}},
    ("POST", "/enterprise/login"): {"data": {}},
}


def gate_said(response: Any) -> str:
    """`unauthorized`, `forbidden`, `login` (sent to the login page) or `through`."""
    if response.status_code == 303 and response.headers["location"].startswith("/enterprise/login?next="):
        return "login"
    if response.status_code not in (401, 403):
        return "through"
    if response.request.method == "HEAD":  # no body to read the code from: the status says it
        return "unauthorized" if response.status_code == 401 else "forbidden"
    if response.headers.get("content-type", "").startswith("application/json"):
        code = response.json()["code"]
        return code if code in ("unauthorized", "forbidden") else "through"
    titles = {"需要登录": "unauthorized", "无权访问": "forbidden"}
    title = re.search(r'<h1 id="error-title">([^<]+)</h1>', response.text)
    return titles.get(title.group(1), "through") if title else "through"


def expected(row: Access, who: As, method: str) -> str:
    if who.cookie and row.path.startswith("/api/"):  # the API never reads the cookie
        who = CALLERS[0]
    if who.caller in row.allow and (row.scope is None or row.scope in who.scopes):
        return "through"
    if who.caller is not Caller.ANONYMOUS:
        return "forbidden"
    page = not row.path.startswith("/api/") and row.path not in ("/metrics", "/openapi.json")
    if Caller.ENTERPRISE in row.allow and page and method == "GET":
        return "login"
    return "unauthorized"


def call_every_route(
    client: TestClient, credentials: Credentials, matrix: tuple[Access, ...], uscc: str
) -> dict[str, tuple[str, str, int]]:
    """{'METHOD path as who': (expected, what the gate said, status)} for every row × caller."""
    outcomes = {}
    for row in matrix:
        for method in sorted(row.methods):
            for who in CALLERS:
                headers, cookies = credentials.headers(who)
                client.cookies.clear()
                client.cookies.update(cookies)
                response = client.request(
                    method,
                    sample_path(row, uscc),
                    headers=headers,
                    follow_redirects=False,
                    **BODIES.get((method, row.path), {}),
                )
                assert response.status_code < 500, (method, row.path, who.name, response.text[:300])
                outcomes[f"{method} {row.path} as {who.name}"] = (
                    expected(row, who, method),
                    gate_said(response),
                    response.status_code,
                )
    client.cookies.clear()
    return outcomes


def test_every_route_answers_every_caller_as_the_matrix_says(
    platform: Platform, credentials: Credentials
) -> None:
    app = create_app(platform.container, owns_container=False)
    with TestClient(app) as client:
        outcomes = call_every_route(client, credentials, MATRIX, credentials.uscc)
    wrong = {name: o for name, o in outcomes.items() if o[0] != o[1]}
    assert wrong == {}
    assert len(outcomes) == sum(len(r.methods) for r in MATRIX) * len(CALLERS)
    said = {o[1] for o in outcomes.values()}
    assert said == {"through", "unauthorized", "forbidden", "login"}  # every answer was seen


# --- the groups the agency and enterprise issues fill: ready, with scopes ---------------------------


def probe_router() -> APIRouter:
    """Routes the agency and enterprise issues will add, as they will look."""
    router = APIRouter()
    for scope in AGENCY_SCOPES:
        router.add_api_route(f"/api/v1/agency/probe-{scope}", lambda: {"ok": True}, methods=["GET"])
    router.add_api_route("/api/v1/enterprise/probe", lambda: {"ok": True}, methods=["GET"])
    router.add_api_route("/enterprise/probe", lambda: {"ok": True}, methods=["GET"])
    return router


PROBES = (
    *(
        _row("GET", f"/api/v1/agency/probe-{s}", frozenset({Caller.AGENCY}), "probe", scope=s)
        for s in AGENCY_SCOPES
    ),
    _row("GET", "/api/v1/enterprise/probe", frozenset({Caller.ENTERPRISE}), "probe"),
    _row("GET", "/enterprise/probe", frozenset({Caller.ENTERPRISE}), "probe", limit="pages"),
)


@pytest.fixture
def probed(platform: Platform) -> Iterator[TestClient]:
    app = create_app(platform.container, owns_container=False)
    app.include_router(probe_router())
    app.state.matrix = (*PROBES, *MATRIX)
    with TestClient(app) as client:
        yield client


def test_agency_routes_take_only_keys_with_their_scope(probed: TestClient, credentials: Credentials) -> None:
    outcomes = call_every_route(probed, credentials, PROBES, credentials.uscc)
    wrong = {name: o for name, o in outcomes.items() if o[0] != o[1]}
    assert wrong == {}
    through = sorted(name for name, o in outcomes.items() if o[1] == "through")
    assert through == sorted(
        [
            *(f"GET /api/v1/agency/probe-{s} as agency-{s}" for s in AGENCY_SCOPES),
            *(f"GET /api/v1/agency/probe-{s} as agency-all-scopes" for s in AGENCY_SCOPES),
            "GET /api/v1/enterprise/probe as enterprise-token",
            "GET /enterprise/probe as enterprise-cookie",
            "GET /enterprise/probe as enterprise-token",
        ]
    )


def test_the_forbidden_message_names_the_missing_scope(probed: TestClient, credentials: Credentials) -> None:
    key = credentials.keys["agency-read"]
    response = probed.get("/api/v1/agency/probe-screen", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403
    assert response.json() == {
        "code": "forbidden",
        "message": "该机构密钥没有“screen”权限范围，不能访问该地址",
    }


def test_an_unlisted_path_under_a_group_asks_for_the_groups_credential(platform: Platform) -> None:
    client = platform.client
    assert client.get("/api/v1/agency/nothing-here").status_code == 401
    assert client.get("/api/v1/admin/nothing-here").status_code == 401
    assert client.get("/api/v1/admin/nothing-here", headers=platform.admin).status_code == 404


def test_a_route_the_gate_matched_to_another_row_fails_closed(platform: Platform) -> None:
    # a table that would let a catch-all row stand in for /api/v1/departments
    loose = _row("GET", "/api/v1/{anything}", ANYONE, "too broad")
    app = create_app(platform.container, owns_container=False)
    app.state.matrix = (loose, *MATRIX)
    with TestClient(app) as client:
        response = client.get("/api/v1/departments")
    assert response.status_code == 500 and response.json()["code"] == "internal_error"


# --- credentials ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer gs_" + "x" * 43},  # well-formed, unknown
        {"Authorization": "Bearer not-a-key"},  # malformed
        {"Authorization": "Basic dXNlcjpwYXNz"},  # another scheme
        {"Authorization": "Bearer "},
        {"X-Api-Key": "gsadm_" + "x" * 43},  # X-Api-Key is for department keys only
    ],
    ids=["unknown", "malformed", "basic", "empty", "admin-in-x-api-key"],
)
def test_a_bad_credential_is_refused_even_on_a_public_route(
    platform: Platform, headers: dict[str, str]
) -> None:
    for path in ("/api/v1/departments", "/"):
        response = platform.client.get(path, headers=headers)
        assert response.status_code == 401, (path, headers)
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert platform.client.get("/api/v1/departments", headers=headers).json()["code"] == "unauthorized"


def test_a_revoked_key_is_refused_on_its_next_request(platform: Platform) -> None:
    store = platform.container.credentials
    key = store.add(Role.ADMIN, "soon-gone")
    headers = {"Authorization": f"Bearer {key}"}
    assert platform.client.get("/api/v1/admin/projections", headers=headers).status_code == 200
    assert store.revoke(key[len("gsadm_") :][:8], Role.ADMIN)
    assert platform.client.get("/api/v1/admin/projections", headers=headers).status_code == 401


def test_a_stale_session_cookie_is_dropped_not_refused(platform: Platform) -> None:
    client = platform.client
    client.cookies.set(COOKIE, "gse_" + "y" * 43)
    try:
        home = client.get("/")
        assert home.status_code == 200  # the public pages stay open
        assert f"{COOKIE}=" in home.headers["set-cookie"] and "Max-Age=0" in home.headers["set-cookie"]
        assert client.get("/enterprise/", follow_redirects=False).status_code == 303
    finally:
        client.cookies.clear()


def test_the_session_cookie_is_not_taken_on_the_api(platform: Platform, credentials: Credentials) -> None:
    client = platform.client
    client.cookies.set(COOKIE, credentials.enterprise_token())
    try:
        assert client.delete("/api/v1/enterprise/token").status_code == 401  # a bearer token only
        assert client.get("/enterprise/").status_code == 200  # while the page takes it
    finally:
        client.cookies.clear()


def test_refusals_are_logged_with_route_principal_and_address(
    platform: Platform, credentials: Credentials, caplog: pytest.LogCaptureFixture
) -> None:
    key = credentials.keys["department"]
    with caplog.at_level("WARNING", logger="gongshi.access"):
        platform.client.get("/api/v1/admin/projections", headers={"Authorization": f"Bearer {key}"})
    [line] = [r.getMessage() for r in caplog.records if r.name == "gongshi.access"]
    key_id = key[3:11]
    assert line == (
        f"refused 403 forbidden route=/api/v1/admin/projections principal=department:TJ-AMR/key:{key_id} "
        f"key={key_id} address=testclient"
    )


# --- an enterprise acts on its own record only --------------------------------------------------------


def test_every_enterprise_route_acts_on_the_callers_own_uscc_only(
    platform: Platform, credentials: Credentials
) -> None:
    """Every row the enterprise may call (but logging in) is marked own-only; each refuses another
    USCC named in its path or at the top of its JSON body with 403, before the route acts."""
    enterprise_rows = [
        r for r in MATRIX if Caller.ENTERPRISE in r.allow and r.allow != ANYONE and not r.mount
    ]
    assert {r.path for r in enterprise_rows if not r.own_only} <= {
        "/api/v1/enterprise/token",  # logging out: names no entity
        "/enterprise/",  # the start page (reads the session's own USCC only)
    }
    other = next(e["uscc"] for e in registered(platform) if e["uscc"] != credentials.uscc)
    headers, _ = credentials.headers(CALLERS[2])
    app = create_app(platform.container, owns_container=False)
    checked = 0
    with TestClient(app) as client:
        for row in enterprise_rows:
            if not row.own_only or not row.path.startswith("/api/"):
                continue
            for method in sorted(row.methods):
                body = {"json": {"uscc": other}} if method in ("POST", "PUT", "PATCH") else {}
                if "{uscc}" not in row.path and not body:
                    continue
                response = client.request(
                    method, sample_path(row, other), headers=headers, follow_redirects=False, **body
                )
                assert response.status_code == 403, (method, row.path, response.text[:200])
                assert response.json()["code"] == "forbidden"
                checked += 1
    assert checked >= 1
