"""Security headers, CSRF protection of every form that changes something, and `/docs` served
from the platform's own files — checked as HTTP; `test_browser.py` loads the pages in Chromium
with the CSP on and fails on any violation."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi import params
from fastapi.routing import APIRoute

from api.app import create_app
from api.csrf import check_csrf
from api.headers import PAGE_CSP
from tests.e2e.conftest import Platform, registered
from tests.e2e.test_web_pages import csrf_token
from tests.unit.test_route_dependencies import api_routes


def page_urls(platform: Platform) -> list[str]:
    uscc = registered(platform)[0]["uscc"]
    return [
        "/",
        "/search?q=有限公司",
        "/search?q=不存在的名称甲乙丙",
        f"/entity/{uscc}",
        f"/entity/{uscc}?tab=penalties",
        "/publicity",
        "/announcements",
        "/policy",
        "/faq",
        "/verify",
        "/verify?code=AAAA-BBBB-CCCC",
        "/docs",
        "/nowhere",
        "/entity/91120116MA0000000X",
    ]


class _Inline(HTMLParser):
    """Collects what the page CSP would block: inline scripts, event-handler and style attributes,
    <style> elements, and anything loaded from another origin."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name == "style":
                self.found.append(f"{tag} style=")
            if name in ("src", "href", "action") and value and re.match(r"^(https?:)?//", value):
                self.found.append(f"{tag} {name}={value}")
            if name == "href" and value and value.lower().startswith("javascript:"):
                self.found.append(f"{tag} href=javascript:")


def test_pages_carry_the_security_headers(platform: Platform) -> None:
    for url in page_urls(platform):
        response = platform.client.get(url)
        assert response.headers["content-type"].startswith("text/html"), url
        csp = response.headers["content-security-policy"]
        assert csp == PAGE_CSP, url
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "http" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"


def test_api_answers_carry_the_headers_too(platform: Platform) -> None:
    for url in ("/api/v1/entities?q=有限公司", "/api/v1/nowhere", "/openapi.json", "/static/site.css"):
        response = platform.client.get(url)
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_no_page_has_what_the_csp_would_block(platform: Platform) -> None:
    for url in page_urls(platform):
        parser = _Inline()
        parser.feed(platform.client.get(url).text)
        assert parser.found == [], url


def test_the_inline_check_sees_what_it_looks_for() -> None:
    parser = _Inline()
    parser.feed(
        '<script>x()</script><a onclick="x()" href="javascript:x()">a</a><span style="color:red"></span>'
        '<script src="https://cdn.example/x.js"></script><style>p{}</style>'
    )
    assert len(parser.found) == 6


# --- CSRF -----------------------------------------------------------------------------------------


def pdf_upload() -> dict[str, Any]:
    return {"file": ("report.pdf", b"%PDF-1.4 not an extract", "application/pdf")}


def test_a_form_post_without_its_token_is_refused_with_a_chinese_page(platform: Platform) -> None:
    platform.client.cookies.clear()
    response = platform.client.post("/verify", files=pdf_upload())
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "无法确认表单来源" in response.text and "刷新后重新提交" in response.text


def test_a_token_only_goes_with_its_own_cookie(platform: Platform) -> None:
    platform.client.cookies.clear()
    token = csrf_token(platform.client.get("/verify").text)
    cookie = platform.client.cookies.get("gongshi_csrf")
    assert cookie
    assert platform.client.post("/verify", data={"csrf_token": token}, files=pdf_upload()).status_code == 200
    platform.client.cookies.clear()  # another browser (the attacker's page cannot read ours)
    platform.client.get("/verify")
    assert platform.client.cookies.get("gongshi_csrf") != cookie
    forged = platform.client.post("/verify", data={"csrf_token": token}, files=pdf_upload())
    assert forged.status_code == 403
    bad = platform.client.post("/verify", data={"csrf_token": "0" * 64}, files=pdf_upload())
    assert bad.status_code == 403


def test_the_csrf_cookie_is_http_only_and_strict(platform: Platform) -> None:
    platform.client.cookies.clear()
    header = platform.client.get("/verify").headers["set-cookie"]
    assert header.startswith("gongshi_csrf=")
    assert "HttpOnly" in header and "SameSite=strict" in header and "Path=/" in header
    assert "Secure" not in header  # the platform fixture's public URL is http
    assert "set-cookie" not in platform.client.get("/policy").headers  # no form, no cookie


def test_under_https_the_cookie_is_secure_and_hsts_is_sent(hardened: Platform, platform: Platform) -> None:
    hardened.client.cookies.clear()
    response = hardened.client.get("/verify")
    assert "Secure" in response.headers["set-cookie"]
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in platform.client.get("/verify").headers  # plain http


def test_the_token_also_travels_as_a_header(platform: Platform) -> None:
    platform.client.cookies.clear()
    token = csrf_token(platform.client.get("/verify").text)
    response = platform.client.post(
        "/verify", data={"code": "AAAA-BBBB-CCCC"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 200 and "未通过验证" in response.text


def test_every_route_that_changes_something_is_protected(platform: Platform) -> None:
    """A route with an unsafe method takes the CSRF check, or is an API route a browser cannot be
    made to call with the user's credentials: the gate never reads the session cookie on
    `/api/…` (a key must come in `Authorization`, which a browser never sends by itself), and an
    API route open to the anonymous takes only a JSON body (FastAPI refuses any other content
    type, and a cross-site form cannot send `application/json`)."""
    app = create_app(platform.container, owns_container=False)
    unprotected = []
    for route in api_routes(app.routes):
        if not isinstance(route, APIRoute) or not (route.methods - {"GET", "HEAD", "OPTIONS"}):
            continue
        calls = {d.call for d in _dependencies(route.dependant)}
        if check_csrf in calls:
            continue
        if route.path.startswith("/api/") and not _takes_form(route):
            continue
        unprotected.append(f"{sorted(route.methods)} {route.path}")
    assert unprotected == []


def _takes_form(route: APIRoute) -> bool:
    return any(
        isinstance(p.field_info, params.Form | params.File)
        for d in [route.dependant, *_dependencies(route.dependant)]
        for p in d.body_params
    )


def _dependencies(dependant: Any) -> list[Any]:
    found = []
    for dep in dependant.dependencies:
        found.append(dep)
        found.extend(_dependencies(dep))
    return found


# --- /docs ----------------------------------------------------------------------------------------


def test_docs_load_nothing_from_outside(platform: Platform) -> None:
    page = platform.client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") or s.startswith("data:") for s in sources), sources
    for source in sources:
        if source.startswith("/static/"):
            assert platform.client.get(source).status_code == 200, source
    assert "/static/swagger-ui/swagger-ui-bundle.js" in sources
    assert any(re.fullmatch(r"/static/docs\.js\?v=[0-9a-f]{12}", s) for s in sources), sources


@pytest.mark.parametrize(
    "url", ["/redoc", "/static/swagger-ui/index.html", "/static/swagger-ui/swagger-initializer.js"]
)
def test_only_what_docs_uses_is_served(platform: Platform, url: str) -> None:
    assert platform.client.get(url).status_code == 404
