"""Rate limits over HTTP: each limit refuses with 429, `Retry-After` and a Chinese message, then
recovers; the public is counted per client address (API and pages apart), keyed callers per
key; behind a trusted proxy the forwarded address counts. The clock is moved with time-machine,
never waited for. Counters in memory are this process's; in Redis, every process's (the tests
marked `engines`)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from api.access import ANYONE, MATRIX, _row
from api.app import create_app
from api.limits import limited
from domain.access import Role
from infra.bootstrap import Container, build
from infra.settings import Settings
from tests.builders import TODAY
from tests.engines import redis_url, unique_prefix

START = 1_900_000_000  # a fixed instant: the windows count on the real clock, moved by the test


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def app_on(container: Container, **state: Any) -> TestClient:
    return TestClient(create_app(container, owns_container=False), **state)


@pytest.fixture
def defaults(tmp_path: Path) -> Iterator[Container]:
    """A platform with the shipped limits (nothing set)."""
    container = build(Settings(data_dir=tmp_path, today=TODAY))
    yield container
    container.close()


def test_the_shipped_defaults() -> None:
    settings = Settings()
    assert (settings.rate_limit_public_api, settings.rate_limit_pages, settings.rate_limit_extracts) == (
        "60/minute",
        "120/minute",
        "10/minute",
    )
    assert settings.redis_url is None and settings.trusted_proxies == ""


def hits(client: TestClient, path: str, n: int, **kwargs: Any) -> list[int]:
    return [client.get(path, **kwargs).status_code for _ in range(n)]


def test_the_public_api_allows_60_a_minute_per_address_then_429_and_recovers(
    defaults: Container, clock: Any
) -> None:
    with app_on(defaults) as client:
        assert hits(client, "/api/v1/departments", 60) == [200] * 60
        refused = client.get("/api/v1/departments")
        assert refused.status_code == 429
        assert refused.json() == {
            "code": "rate_limited",
            "message": "访问过于频繁，请 1 分钟后再试",
            "retry_after": 60,
        }
        assert refused.headers["Retry-After"] == "60"
        assert client.get("/").status_code == 200  # the pages are counted apart
        clock.shift(30)
        limited_still = client.get("/api/v1/departments")
        assert limited_still.status_code == 429 and limited_still.headers["Retry-After"] == "30"
        clock.shift(31)
        assert client.get("/api/v1/departments").status_code == 200


def test_the_pages_allow_120_a_minute_with_a_chinese_page(defaults: Container, clock: Any) -> None:
    with app_on(defaults) as client:
        assert hits(client, "/faq", 120) == [200] * 120
        refused = client.get("/policy")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        assert refused.headers["content-type"].startswith("text/html")
        assert "访问过于频繁" in refused.text and "请 1 分钟后再试" in refused.text
        assert client.get("/api/v1/departments").status_code == 200  # the API apart
        clock.shift(61)
        assert client.get("/faq").status_code == 200


def test_each_address_has_its_own_count(defaults: Container, clock: Any) -> None:
    with (
        app_on(defaults, client=("198.51.100.1", 1000)) as one,
        app_on(defaults, client=("198.51.100.2", 1)) as two,
    ):
        assert hits(one, "/api/v1/departments", 61)[-1] == 429
        assert two.get("/api/v1/departments").status_code == 200


def test_health_and_static_files_are_not_counted(defaults: Container, clock: Any) -> None:
    with app_on(defaults) as client:
        assert set(hits(client, "/healthz", 130)) == {200}
        assert set(hits(client, "/static/site.css", 130)) == {200}


def test_a_public_key_raises_the_limit_to_its_own(defaults: Container, clock: Any) -> None:
    store = defaults.credentials
    own = {"Authorization": f"Bearer {store.add(Role.PUBLIC, 'researcher', rate_limit='600/minute')}"}
    plain = {"Authorization": f"Bearer {store.add(Role.PUBLIC, 'hobbyist')}"}
    with app_on(defaults) as client:
        assert set(hits(client, "/api/v1/departments", 100, headers=own)) == {200}
        assert hits(client, "/api/v1/departments", 61, headers=plain)[-1] == 429  # the public limit, per key
        assert client.get("/api/v1/departments").status_code == 200  # the address is counted apart
        assert hits(client, "/api/v1/departments", 500, headers=own)[-1] == 200
        assert hits(client, "/api/v1/departments", 1, headers=own) == [429]  # 601st
        clock.shift(61)
        assert client.get("/api/v1/departments", headers=own).status_code == 200


def test_keyed_callers_are_counted_per_key(tmp_path: Path, clock: Any) -> None:
    container = build(Settings(data_dir=tmp_path, today=TODAY, rate_limit_keys="3/minute"))
    store = container.credentials
    first = {"X-Api-Key": store.add_key("TJ-AMR")}
    second = {"X-Api-Key": store.add_key("TJ-AMR")}
    admin = {"Authorization": f"Bearer {store.add(Role.ADMIN, 'ops', rate_limit='5/minute')}"}
    try:
        with app_on(container) as client:
            assert hits(client, "/api/v1/gateway/progress", 4, headers=first) == [200, 200, 200, 429]
            assert client.get("/api/v1/departments", headers=first).status_code == 429  # every route
            assert client.get("/api/v1/gateway/progress", headers=second).status_code == 200
            assert hits(client, "/api/v1/admin/projections", 6, headers=admin)[-2:] == [200, 429]
            assert client.get("/api/v1/departments").status_code == 200  # the anonymous apart
            clock.shift(61)
            assert client.get("/api/v1/gateway/progress", headers=first).status_code == 200
    finally:
        container.close()


def test_guessing_keys_is_counted_like_anything_else(defaults: Container, clock: Any) -> None:
    with app_on(defaults) as client:
        statuses = [
            client.get("/api/v1/departments", headers={"Authorization": f"Bearer gs_{n:043d}"}).status_code
            for n in range(61)
        ]
    assert statuses == [401] * 60 + [429]


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(tmp_path: Path, clock: Any) -> None:
    container = build(Settings(data_dir=tmp_path, today=TODAY, trusted_proxies="10.0.0.0/8"))
    try:
        with app_on(container, client=("10.0.0.5", 4000)) as proxy:
            alice = {"X-Forwarded-For": "203.0.113.10"}
            bob = {"X-Forwarded-For": "203.0.113.99, 203.0.113.11"}  # the client wrote the first
            assert hits(proxy, "/api/v1/departments", 61, headers=alice)[-1] == 429
            assert proxy.get("/api/v1/departments", headers=bob).status_code == 200
            forged = {"X-Forwarded-For": "203.0.113.77, 203.0.113.10"}  # a forged left part does not help
            assert proxy.get("/api/v1/departments", headers=forged).status_code == 429
        with app_on(container, client=("192.0.2.1", 4000)) as direct:  # not a proxy: its header is ignored
            assert hits(direct, "/api/v1/departments", 61, headers=alice)[-1] == 429
            assert direct.get("/api/v1/departments", headers=bob).status_code == 429
    finally:
        container.close()


def probe_app(container: Container) -> TestClient:
    """The app with a route that charges the extract bucket, as the extract route does."""
    router = APIRouter()
    router.add_api_route(
        "/api/v1/probe-extract", lambda: {"ok": True}, dependencies=[Depends(limited("extracts"))]
    )
    app = create_app(container, owns_container=False)
    app.include_router(router)
    app.state.matrix = (_row("GET", "/api/v1/probe-extract", ANYONE, "probe"), *MATRIX)
    return TestClient(app)


def test_the_extract_bucket_allows_10_a_minute(defaults: Container, clock: Any) -> None:
    with probe_app(defaults) as client:
        assert hits(client, "/api/v1/probe-extract", 11) == [200] * 10 + [429]
        refused = client.get("/api/v1/probe-extract")
        assert refused.headers["Retry-After"] == "60" and refused.json()["code"] == "rate_limited"
        assert client.get("/api/v1/departments").status_code == 200  # the API count is far from full
        clock.shift(61)
        assert client.get("/api/v1/probe-extract").status_code == 200


def test_two_processes_keep_two_memory_counts(tmp_path: Path, clock: Any) -> None:
    """Embedded, the counters are the process's own: two containers (two processes) do not share."""
    one = build(Settings(data_dir=tmp_path, today=TODAY, rate_limit_public_api="2/minute"))
    two = build(Settings(data_dir=tmp_path, today=TODAY, rate_limit_public_api="2/minute"))
    try:
        with app_on(one) as a, app_on(two) as b:
            assert hits(a, "/api/v1/departments", 3) == [200, 200, 429]
            assert b.get("/api/v1/departments").status_code == 200
    finally:
        one.close()
        two.close()


def test_a_redis_that_is_down_lets_requests_through(tmp_path: Path, clock: Any) -> None:
    container = build(
        Settings(
            data_dir=tmp_path,
            today=TODAY,
            redis_url="redis://127.0.0.1:1/0",
            rate_limit_public_api="1/minute",
        )
    )
    try:
        with app_on(container) as client:
            assert hits(client, "/api/v1/departments", 3) == [200, 200, 200]
    finally:
        container.close()


# --- shared through Redis ---------------------------------------------------------------------------------


@pytest.mark.engines
def test_api_processes_share_one_count_through_redis(tmp_path: Path, clock: Any) -> None:
    prefix = unique_prefix("limits")
    settings = {
        "today": TODAY,
        "redis_url": redis_url(),
        "prefix": prefix,
        "rate_limit_public_api": "5/minute",
    }
    one = build(Settings(data_dir=tmp_path / "a", **settings))
    two = build(Settings(data_dir=tmp_path / "b", **settings))
    try:
        with app_on(one) as a, app_on(two) as b:
            assert hits(a, "/api/v1/departments", 3) == [200, 200, 200]
            assert hits(b, "/api/v1/departments", 2) == [200, 200]
            # and a separate OS process counting the same caller in the same Redis
            script = (
                "from adapters.rate_limits import RateLimiter\n"
                f"limiter = RateLimiter({redis_url()!r}, key_prefix={prefix!r})\n"
                "print(limiter.hit('api', 'testclient', '6/minute').allowed)\n"
            )
            other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
            assert other.stdout.strip() == "True"  # its 6th hit: the five above were seen there
            refused = a.get("/api/v1/departments")
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 60
            assert b.get("/api/v1/departments").status_code == 429
            clock.shift(61)
            assert b.get("/api/v1/departments").status_code == 200
    finally:
        one.rate_limiter.reset()  # only this prefix's counters
        one.close()
        two.close()
