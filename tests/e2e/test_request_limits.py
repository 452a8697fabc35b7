"""Request limits: a body past its route's limit is refused 413 `body_too_large` before it is
read in full (also when no Content-Length announces it), a long query string 414
`query_too_long`, and a page past the last one 404 `page_out_of_range` with the page count —
JSON for the API, a Chinese page for the website."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from fastapi import FastAPI

from api.app import create_app
from api.request_limits import BODY_LIMITS, DEFAULT_BODY_BYTES, MIB, body_limit_for
from tests.e2e.conftest import Platform

CHUNK = MIB // 4


def drive(
    app: FastAPI, method: str, path: str, headers: dict[str, str], chunks: int, head: bytes = b""
) -> dict[str, Any]:
    """Call the ASGI app as a server would with a body streamed in `chunks` pieces of CHUNK bytes
    (the first starting with `head`; no Content-Length unless `headers` has one); how many
    pieces the app pulled."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled < chunks:
            pulled += 1
            piece = (head + b"x" * CHUNK)[:CHUNK] if pulled == 1 else b"x" * CHUNK
            return {"type": "http.request", "body": piece, "more_body": pulled < chunks}
        await asyncio.sleep(3600)  # a client that has sent everything waits for the answer
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=30))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return {"status": start["status"], "body": body.decode(), "pulled": pulled}


def test_the_body_limits_table() -> None:
    assert body_limit_for("POST", "/api/v1/publications") == 512 * 1024
    assert body_limit_for("POST", "/verify") == 10 * MIB
    assert body_limit_for("POST", "/enterprise/login") == DEFAULT_BODY_BYTES
    assert body_limit_for("GET", "/verify") == DEFAULT_BODY_BYTES
    assert all(limit.why for limit in BODY_LIMITS)


def test_an_upload_past_its_limit_is_refused_before_it_is_read(platform: Platform) -> None:
    app = create_app(platform.container, owns_container=False)
    headers = {"content-type": "multipart/form-data; boundary=xyz", "host": "127.0.0.1:8000"}
    head = (
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    )
    answer = drive(app, "POST", "/verify", headers, chunks=80, head=head)  # 20 MB, no Content-Length
    assert answer["status"] == 413
    assert "提交的内容超过了 10 MB 的上限" in answer["body"] and "<html" in answer["body"]
    assert answer["pulled"] * CHUNK <= 10 * MIB + CHUNK  # stopped at the first piece past the limit


def test_a_gateway_body_past_its_limit_is_refused_without_content_length(tmp_path: Any) -> None:
    from infra.bootstrap import build
    from infra.settings import Settings

    container = build(Settings(data_dir=tmp_path))
    key = container.credentials.add_key("TJ-AMR")
    app = create_app(container)
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}", "host": "x"}
    answer = drive(app, "POST", "/api/v1/publications", headers, chunks=8)  # 2 MB
    container.close()
    assert answer["status"] == 413
    assert '"code":"body_too_large"' in answer["body"].replace(" ", "")
    assert answer["pulled"] <= 3


def test_a_declared_length_past_the_limit_is_refused_at_once(platform: Platform) -> None:
    response = platform.client.post(
        "/verify",
        content=b"x" * (64 * 1024),
        headers={"content-type": "multipart/form-data; boundary=xyz", "content-length": str(11 * MIB)},
    )
    assert response.status_code == 413
    assert "提交的内容过大" in response.text


def test_a_small_form_route_keeps_the_default_limit(platform: Platform) -> None:
    response = platform.client.post("/", content=b"q=" + b"x" * (DEFAULT_BODY_BYTES + 1))
    assert response.status_code == 413


@pytest.mark.parametrize("url", ["/api/v1/entities?q=", "/search?q="])
def test_a_long_query_string_is_refused(platform: Platform, url: str) -> None:
    response = platform.client.get(url + "有" * 1000)  # 9,000 bytes percent-encoded
    assert response.status_code == 414
    if url.startswith("/api/"):
        assert response.json()["code"] == "query_too_long"
        assert "2048" in response.json()["message"]
    else:
        assert "查询地址过长" in response.text
    assert platform.client.get(url + "有限公司").status_code == 200


# --- page depth -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/entities?q=有限公司&size=10",
        "/api/v1/records?category=penalty&size=5",
        "/api/v1/records?size=7",
    ],
)
def test_an_api_page_past_the_last_is_404_with_the_page_count(platform: Platform, url: str) -> None:
    first = platform.client.get(url)
    assert first.status_code == 200
    total, size = first.json()["total"], first.json()["size"]
    pages = -(-total // size)
    assert pages >= 2
    assert platform.client.get(f"{url}&page={pages}").status_code == 200
    for page in (pages + 1, 10**9):
        response = platform.client.get(f"{url}&page={page}")
        assert response.status_code == 404
        body = response.json()
        assert body["code"] == "page_out_of_range"
        assert (body["pages"], body["total"]) == (pages, total)
        assert f"第 {page} 页超出范围：共 {pages} 页" in body["message"]


def test_page_one_of_an_empty_search_is_not_out_of_range(platform: Platform) -> None:
    response = platform.client.get("/api/v1/entities?q=不存在的名称甲乙丙")
    assert response.status_code == 200 and response.json()["total"] == 0
    beyond = platform.client.get("/api/v1/entities?q=不存在的名称甲乙丙&page=2")
    assert beyond.status_code == 404 and beyond.json()["pages"] == 0


@pytest.mark.parametrize(
    "url",
    [
        "/search?q=有限公司",
        "/publicity?category=penalty",
        "/publicity",
        "/announcements",
        "/announcements?type=abnormal",
    ],
)
def test_a_page_past_the_last_says_so_with_the_page_count(platform: Platform, url: str) -> None:
    first = platform.client.get(url)
    assert first.status_code == 200
    last = max([int(n) for n in re.findall(r'aria-label="第 (\d+) 页"', first.text)] or [1])
    for page in (last + 1, 10**9):
        response = platform.client.get(f"{url}&page={page}" if "?" in url else f"{url}?page={page}")
        assert response.status_code == 404, (url, page)
        assert f"第 {page} 页超出范围：共 {last} 页" in response.text
        assert "没有找到" not in response.text and "没有符合条件" not in response.text
        assert "前往最后一页" in response.text
