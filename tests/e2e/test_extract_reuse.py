"""The PDF extract: one issued extract per entity, entity version and system date (the same bytes
served again, no new ledger row), its own rate limit, and the verification address it prints,
which is the configured public URL whatever `Host` the request named."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.clock import FixedDateClock
from tests.builders import change_payload, envelope
from tests.e2e.conftest import PUBLIC_URL, TODAY, Platform, publish
from tests.e2e.test_web_pages import csrf_token, pdf_text, require_font


def ledger_rows(platform: Platform, uscc: str) -> int:
    path = platform.container.settings.data_dir / "extracts.sqlite3"
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM extracts WHERE uscc = ?", (uscc,)).fetchone()[0])


def an_entity(platform: Platform, n: int) -> dict[str, Any]:
    """The n-th registered entity's public document (each test takes its own)."""
    usccs = sorted({e["uscc"] for e in platform.envelopes if e["kind"] == "registration.registered"})
    doc = platform.container.index.get_public(usccs[n])
    assert doc is not None
    return doc


@pytest.fixture(autouse=True)
def fresh_limits(hardened: Platform) -> Iterator[None]:
    hardened.container.rate_limiter.reset()
    yield
    hardened.container.rate_limiter.reset()


def download(platform: Platform, uscc: str, **headers: str) -> Any:
    response = platform.client.get(f"/entity/{uscc}/extract.pdf", headers=headers)
    assert response.status_code == 200, response.text[:300]
    return response


def test_two_downloads_on_one_day_are_one_extract(hardened: Platform) -> None:
    require_font()
    uscc = an_entity(hardened, 0)["uscc"]
    first, second = download(hardened, uscc), download(hardened, uscc)
    assert first.content == second.content
    assert first.headers["x-verification-code"] == second.headers["x-verification-code"]
    assert ledger_rows(hardened, uscc) == 1


def test_the_next_system_day_issues_a_new_extract(hardened: Platform) -> None:
    require_font()
    uscc = an_entity(hardened, 1)["uscc"]
    today = download(hardened, uscc)
    container = hardened.container
    container.__dict__["clock"] = FixedDateClock(TODAY + timedelta(days=1))
    try:
        tomorrow = download(hardened, uscc)
        again = download(hardened, uscc)
    finally:
        container.__dict__["clock"] = FixedDateClock(TODAY)
    assert tomorrow.content != today.content
    assert tomorrow.headers["x-verification-code"] != today.headers["x-verification-code"]
    assert again.content == tomorrow.content
    assert ledger_rows(hardened, uscc) == 2
    for response in (today, tomorrow):  # both stay verifiable
        found = hardened.client.get(f"/api/v1/extracts/{response.headers['x-content-sha256']}")
        assert found.status_code == 200


def test_a_new_event_issues_a_new_extract(hardened: Platform) -> None:
    require_font()
    doc = an_entity(hardened, 2)
    before = download(hardened, doc["uscc"])
    change = envelope(
        "registration.changed",
        change_payload("address", doc["registration"]["address"], "天津市滨海新区新港路1号"),
        uscc=doc["uscc"],
        occurred_on=TODAY,
    )
    publish(hardened.container, [json.dumps(change, ensure_ascii=False).encode()])
    assert int(hardened.container.index.get_public(doc["uscc"])["version"]) > int(doc["version"])
    after = download(hardened, doc["uscc"])
    assert after.content != before.content
    assert ledger_rows(hardened, doc["uscc"]) == 2
    # the earlier file stays genuine, as of its date, and says the record has moved on since
    assert "✓ 真实" in (page := verify(hardened, before.content)) and "电子签章有效" in page
    assert "已有更新" in page and f"<dt>信息截至</dt><dd>{TODAY.isoformat()}</dd>" in page
    assert "已有更新" not in verify(hardened, after.content)


def verify(platform: Platform, pdf: bytes) -> str:
    """The /verify page's answer to an uploaded file (the CSRF cookie is `Secure` under an https
    public URL, so it is passed by hand to the plain-http test client)."""
    form = platform.client.get("/verify")
    token = {"csrf_token": csrf_token(form.text)}
    cookies = {"gongshi_csrf": form.cookies["gongshi_csrf"]}
    files = {"file": ("report.pdf", pdf, "application/pdf")}
    response = platform.client.post("/verify", data=token, files=files, cookies=cookies)
    assert response.status_code == 200, response.text[:300]
    return response.text


def test_extract_downloads_have_their_own_lower_limit(
    hardened: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_font()
    monkeypatch.setattr(hardened.container.settings, "rate_limit_extracts", "3/minute")
    uscc = an_entity(hardened, 3)["uscc"]
    for _ in range(3):
        download(hardened, uscc)
    refused = hardened.client.get(f"/entity/{uscc}/extract.pdf")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "信用信息报告下载过于频繁" in refused.text
    assert hardened.client.get(f"/entity/{uscc}").status_code == 200  # the pages are not limited by it
    hardened.container.rate_limiter.reset()  # the window passes
    download(hardened, uscc)


def test_a_forged_host_never_reaches_the_extract(hardened: Platform, tmp_path: Path) -> None:
    require_font()
    uscc = an_entity(hardened, 4)["uscc"]
    pdf = download(hardened, uscc, host="evil.example").content
    text = pdf_text(pdf, tmp_path)
    assert text is not None, "pdftotext (poppler-utils) is needed: bash infra/provision/browser.sh"
    flat = "".join(text.split())
    assert f"{PUBLIC_URL}/verify" in flat
    assert "evil.example" not in flat and b"evil.example" not in pdf


def test_a_forged_host_never_reaches_a_page_or_a_redirect(hardened: Platform) -> None:
    uscc = an_entity(hardened, 5)["uscc"]
    for url in ("/", f"/entity/{uscc}", "/verify", "/search?q=有限公司", "/docs", "/nowhere"):
        response = hardened.client.get(url, headers={"host": "evil.example"})
        assert "evil.example" not in response.text, url
    redirect = hardened.client.get("/search/?q=x", headers={"host": "evil.example"}, follow_redirects=False)
    assert redirect.status_code in (301, 302, 307, 308)
    assert redirect.headers["location"] == f"{PUBLIC_URL}/search?q=x"
