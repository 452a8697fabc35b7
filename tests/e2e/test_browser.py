"""The website in a real browser: Debian's Chromium driven by Playwright over a uvicorn server.

Chromium and the CJK font come from `infra/provision/browser.sh` (the Playwright browser download
does not work here). Under CI=true a missing Chromium fails the run; elsewhere it skips.
Screenshots land in `test-artifacts/screenshots/`. Every page a test looks at is also audited
with axe-core (`tests/e2e/axe.py`: a serious or critical violation fails the test), and
`test_every_page_passes_axe` runs it over every public page at desktop and phone width (axe is
a script: the tests with JavaScript switched off look at pages it audits in those).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.search_index.base import RecordQuery
from tests.e2e.axe import SWAGGER_UI, audit
from tests.e2e.browser import launched_chromium, served
from tests.e2e.conftest import TODAY, Platform

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def base_url(platform: Platform) -> Iterator[str]:
    with served(platform.container, "uvicorn-browser-tests") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url, viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    try:
        yield tab
    finally:
        context.close()


def shot(page: Any, name: str, *, full_page: bool = True, allow: frozenset[str] = frozenset()) -> None:
    """Audit the page with axe, then keep a screenshot of it."""
    audit(page, name, allow=allow)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def penalised(platform: Platform) -> dict[str, Any]:
    """An entity with a penalty inside its publicity window (its public document)."""
    row = platform.container.index.records(RecordQuery(category="penalty"), TODAY, size=1).items[0]
    doc = platform.container.index.get_public(row["uscc"])
    assert doc is not None
    return doc


def test_search_then_entity_tabs_and_timeline(page: Any, platform: Platform) -> None:
    doc = penalised(platform)
    page.goto("/")
    assert page.locator("h1").inner_text() == "查一家企业的信用记录"
    shot(page, "01-home")
    page.get_by_label("企业名称、曾用名、拼音、统一社会信用代码或注册号").fill(doc["name"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    first = page.locator("ol.results > li").first
    assert doc["name"] in first.locator("h2").inner_text()
    assert first.locator("mark").count() >= 1
    assert "行政处罚公示中" in first.inner_text()
    shot(page, "02-search-results")

    first.locator("h2 a").click()
    page.wait_for_url(f"**/entity/{doc['uscc']}")
    assert page.locator("h1").inner_text() == doc["name"]
    svg = page.locator("svg.timeline-wide")
    assert svg.is_visible()
    box = svg.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 60
    assert svg.get_attribute("role") == "group"
    assert (svg.get_attribute("aria-label") or "").startswith("时间轴：")
    assert page.locator("svg.timeline-wide g.tl-penalty").count() >= 1
    assert page.locator("svg.timeline-compact").is_hidden()
    shot(page, "03-entity")
    # a marker takes the keyboard's focus, is named by its text, and leads to its record
    marker = page.locator("svg.timeline-wide a.tl-link:has(g.tl-penalty)").first
    marker.focus()
    assert page.evaluate("document.activeElement.getAttribute('class')") == "tl-link"
    assert (marker.get_attribute("aria-label") or "")[:4].isdigit()
    page.keyboard.press("Enter")
    page.wait_for_url("**tab=penalties*")
    assert page.locator("section#penalties").is_visible()
    page.go_back()
    page.wait_for_url(f"**/entity/{doc['uscc']}")

    page.locator("nav.tabs").get_by_role("link", name="行政处罚").click()
    page.wait_for_url("**tab=penalties*")
    assert page.locator("section#penalties").is_visible()
    assert page.locator("section#basic").is_hidden()
    assert page.locator("#penalties .record-card").count() >= 1
    shot(page, "04-entity-penalties-tab", full_page=False)
    page.go_back()
    from playwright.sync_api import expect

    expect(page.locator("section#basic")).to_be_visible()  # no string function: the page's CSP


def test_tabs_work_without_javascript(browser: Any, base_url: str, platform: Platform) -> None:
    doc = penalised(platform)
    context = browser.new_context(base_url=base_url, viewport=DESKTOP, java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(f"/entity/{doc['uscc']}")
        tab.locator("nav.tabs").get_by_role("link", name="行政许可").click()
        tab.wait_for_url("**tab=licences*")
        assert tab.locator("section#licences").is_visible()
        assert tab.locator("section#penalties").is_hidden()
        assert tab.locator("nav.tabs a[aria-current=page]").first.inner_text().startswith("行政许可")
    finally:
        context.close()


def test_keyboard_reaches_the_search_box_and_submits(page: Any) -> None:
    page.goto("/")
    assert page.evaluate("document.activeElement.id") == "q"  # the home page's one search box
    page.keyboard.type("有限公司")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    assert page.locator("ol.results > li").count() > 0
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_department_publicity_filter(page: Any, platform: Platform) -> None:
    row = platform.container.index.records(RecordQuery(category="penalty"), TODAY, size=1).items[0]
    department = platform.container.departments.get(row["department"])
    assert department is not None
    page.goto("/publicity")
    page.get_by_label("信息类别").select_option("penalty")
    page.get_by_label("公示部门").select_option(department.code)
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(f"**department={department.code}*")
    rows = page.locator("table.records tbody tr")
    assert rows.count() >= 1
    for i in range(rows.count()):
        assert department.name in rows.nth(i).inner_text()
    assert row["entity_name"] in page.locator("table.records").inner_text()
    shot(page, "05-publicity-filtered")


def test_announcements_by_type(page: Any) -> None:
    page.goto("/announcements")
    assert page.locator("table.records tbody tr").count() >= 1
    page.locator("nav.tabs").get_by_role("link", name="列入经营异常名录").click()
    page.wait_for_url("**type=abnormal")
    assert page.locator("table.records tbody tr").count() >= 1
    assert "列入经营异常名录公告" in page.locator(".result-count").inner_text()
    shot(page, "06-announcements-abnormal")


def test_pdf_download_then_verify_upload(page: Any, platform: Platform, tmp_path: Path) -> None:
    doc = penalised(platform)
    page.goto(f"/entity/{doc['uscc']}")
    with page.expect_download() as info:
        page.get_by_role("link", name="下载信用信息报告（PDF）").click()
    download = info.value
    saved = tmp_path / "extract.pdf"
    download.save_as(str(saved))
    assert saved.read_bytes().startswith(b"%PDF")

    page.goto("/verify")
    page.get_by_label("选择 PDF 文件").set_input_files(str(saved))
    page.get_by_role("button", name="验证文件").click()
    verdict = page.locator("section.verdict")
    verdict.wait_for()
    assert "真实" in verdict.inner_text()
    assert doc["uscc"] in verdict.inner_text()
    shot(page, "07-verify-genuine")

    altered = tmp_path / "altered.pdf"
    altered.write_bytes(saved.read_bytes().replace(b"%%EOF", b"%%EOF\n%", 1))
    page.goto("/verify")
    page.get_by_label("选择 PDF 文件").set_input_files(str(altered))
    page.get_by_role("button", name="验证文件").click()
    assert "未通过验证" in page.locator("section.verdict").inner_text()
    shot(page, "07-verify-altered")


def test_invalid_uscc_page_in_the_browser(page: Any, platform: Platform) -> None:
    doc = penalised(platform)
    uscc = doc["uscc"]
    eleventh = next(c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != uscc[10])
    response = page.goto(f"/entity/{uscc[:10]}{eleventh}{uscc[11:]}")
    assert response is not None and response.status == 422
    assert "校验未通过" in page.locator(".error-message").inner_text()
    shot(page, "08-invalid-uscc")
    page.locator(".did-you-mean").get_by_role("link", name=doc["name"]).click()
    page.wait_for_url(f"**/entity/{uscc}")


def test_phone_width(browser: Any, base_url: str, platform: Platform) -> None:
    doc = penalised(platform)
    context = browser.new_context(
        base_url=base_url, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        tab = context.new_page()
        for name, url in (
            ("09-phone-home", "/"),
            ("10-phone-search", "/search?q=" + doc["name"][2:4]),
            ("11-phone-entity", f"/entity/{doc['uscc']}"),
            ("12-phone-publicity", "/publicity?category=penalty"),
            ("13-phone-policy", "/policy"),
            ("14-phone-open-data", "/open-data"),
        ):
            tab.goto(url)
            overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{url} is {overflow}px wider than the phone screen"
            audit(tab, name)
            tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
            if url.startswith("/entity/"):
                assert tab.locator("svg.timeline-compact").is_visible()
                assert tab.locator("svg.timeline-wide").is_hidden()
                assert tab.locator("nav.tabs").is_visible()
    finally:
        context.close()


def test_enterprise_login_on_a_phone(browser: Any, base_url: str, platform: Platform) -> None:
    """The login form at phone width: a wrong password says why in Chinese, the right one lands on
    the enterprise's page with a session cookie scripts cannot read, logout ends it."""
    store = platform.container.credentials
    # an account of its own (the last registered entity), its password set here whatever other
    # tests on the shared platform did before: a new invitation lets it be set again
    uscc = [e["uscc"] for e in platform.envelopes if e["kind"] == "registration.registered"][-1]
    password = "browser-password-1"
    store.activate(uscc, store.invite(uscc), password)
    context = browser.new_context(
        base_url=base_url,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        tab = context.new_page()
        tab.goto("/enterprise/")  # not logged in: sent to the login page, coming back afterwards
        assert "/enterprise/login?next=" in tab.url
        overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the login page is {overflow}px wider than the phone screen"
        tab.get_by_label("统一社会信用代码").fill(uscc)
        tab.get_by_label("密码").fill("not the password")
        tab.get_by_role("button", name="登录").click()
        assert tab.get_by_role("alert").inner_text() == "统一社会信用代码或密码错误"
        audit(tab, "15-phone-login-failed")
        tab.screenshot(path=str(SCREENSHOTS / "14-phone-login-failed.png"), full_page=False)

        tab.get_by_label("密码").fill(password)
        tab.get_by_role("button", name="登录").click()
        tab.wait_for_url("**/enterprise/")
        assert uscc in tab.locator("main").inner_text()
        assert tab.evaluate("document.cookie") == ""  # HttpOnly: no script reads the session
        [cookie] = [c for c in context.cookies() if c["name"] == "gongshi_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # plain http here
        audit(tab, "15-phone-enterprise-home")
        tab.screenshot(path=str(SCREENSHOTS / "15-phone-enterprise-home.png"), full_page=False)

        tab.get_by_role("button", name="退出登录").click()
        tab.wait_for_url(base_url + "/")
        assert [c for c in context.cookies() if c["name"] == "gongshi_session"] == []
        tab.goto("/enterprise/")
        assert "/enterprise/login" in tab.url
    finally:
        context.close()


# --- the Content-Security-Policy holds on every page ------------------------------------------------

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.effectiveDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


def watched(browser: Any, base_url: str, **options: Any) -> tuple[Any, Any, list[str]]:
    """A page that records CSP violations (events and console reports) and every request that
    would leave the platform (those are aborted)."""
    context = browser.new_context(base_url=base_url, viewport=DESKTOP, locale="zh-CN", **options)
    context.add_init_script(WATCH_CSP)
    problems: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(base_url) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            problems.append(f"outside request: {r.request.url}")
            r.abort()

    context.route("**/*", route)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.on(
        "console",
        lambda m: problems.append(f"console: {m.text}") if "Content Security Policy" in m.text else None,
    )
    return context, tab, problems


def test_every_page_loads_under_the_csp(browser: Any, base_url: str, platform: Platform) -> None:
    doc = penalised(platform)
    context, tab, problems = watched(browser, base_url)
    try:
        for url in (
            "/",
            "/search?q=" + doc["name"][2:4],
            f"/entity/{doc['uscc']}",
            f"/entity/{doc['uscc']}?tab=penalties",
            "/publicity?category=penalty",
            "/announcements",
            "/policy",
            "/faq",
            "/verify",
            "/search?q=有限公司&page=100000",
            "/nowhere",
        ):
            response = tab.goto(url)
            assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
            tab.wait_for_load_state("load")
            violations = tab.evaluate("window.__csp")
            assert violations == [], (url, violations)
            audit(tab, "csp-" + re.sub(r"[^0-9A-Za-z]+", "-", url).strip("-"))
        tab.goto(f"/entity/{doc['uscc']}")  # the script runs: the tabs switch without a reload
        tab.locator("nav.tabs").get_by_role("link", name="行政处罚").click()
        from playwright.sync_api import expect

        expect(tab.locator("section#basic")).to_be_hidden()
        assert tab.evaluate("window.__csp") == []
    finally:
        context.close()
    assert problems == []


def test_the_csp_check_sees_a_violation(browser: Any, base_url: str) -> None:
    context, tab, _ = watched(browser, base_url)
    try:
        tab.goto("/policy")
        tab.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=color:red>x</p>')")
        for _ in range(100):  # evaluate, not a string wait_for_function (the CSP refuses eval)
            if tab.evaluate("window.__csp.length"):
                break
            tab.wait_for_timeout(50)
        assert tab.evaluate("window.__csp")[0].startswith("style-src")
    finally:
        context.close()


def test_docs_list_the_operations_with_nothing_from_outside(
    browser: Any, base_url: str, platform: Platform
) -> None:
    context, tab, problems = watched(browser, base_url)
    try:
        response = tab.goto("/docs")
        assert response is not None and response.status == 200
        tab.locator(".opblock").first.wait_for()
        paths = tab.locator(".opblock-summary-path").all_inner_texts()
        assert any("/api/v1/entities" in p for p in paths) and any("/api/v1/publications" in p for p in paths)
        assert len(paths) >= 8
        assert tab.evaluate("window.__csp") == []
        shot(tab, "14-docs", allow=SWAGGER_UI)
    finally:
        context.close()
    assert problems == []


# --- the entity page's tab bar --------------------------------------------------------------------


def phone_context(browser: Any, base_url: str, **options: Any) -> Any:
    return browser.new_context(
        base_url=base_url,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        **options,
    )


def with_empty_tabs(platform: Platform) -> dict[str, Any]:
    """A penalised entity with a last tab that has nothing to show (so one is folded), and the
    penalties' tab after at least three others that do."""
    doc = penalised(platform)
    assert any(not (doc.get(key) or []) for key in ("inspections", "serious_listings", "licences"))
    return doc


def test_on_a_phone_the_selected_tab_is_in_view_and_empty_tabs_fold_behind_more(
    browser: Any, base_url: str, platform: Platform
) -> None:
    doc = with_empty_tabs(platform)
    context = phone_context(browser, base_url)
    try:
        tab = context.new_page()
        tab.goto(f"/entity/{doc['uscc']}?tab=penalties")
        strip = tab.locator("nav.tabs > ul")
        current = strip.locator("a[aria-current=page]")
        assert current.inner_text().startswith("行政处罚")
        box = current.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        # the strip says that it scrolls: shadows at its edges (scroll shadows), and no scrollbar
        background = strip.evaluate("e => getComputedStyle(e).backgroundImage")
        assert background.count("radial-gradient") == 2 and background.count("linear-gradient") == 2
        # tabs with nothing to show are folded behind 更多, and reachable there
        folded = tab.locator("nav.tabs > ul li.foldable")
        assert folded.count() >= 1 and all(not li.is_visible() for li in folded.all())
        more = tab.locator("details.tabs-more")
        assert more.is_visible() and not more.locator("ul a").first.is_visible()
        audit(tab, "phone-entity-penalties-tab")
        tab.locator("section#penalties").scroll_into_view_if_needed()
        shot(tab, "16-phone-entity-penalties-tab", full_page=False)
        more.locator("summary").click()
        first_folded = more.locator("ul a").first
        assert first_folded.is_visible()
        audit(tab, "phone-entity-more-open")
        shot(tab, "17-phone-entity-more-open", full_page=False)
        key = first_folded.get_attribute("data-tab")
        first_folded.click()
        tab.wait_for_url(f"**tab={key}*")
        assert tab.locator(f"section#{key}").is_visible() and tab.locator("section#penalties").is_hidden()
        assert not more.evaluate("e => e.open")
        shown = strip.locator(f"li.foldable a[data-tab={key}]")  # the chosen one shows in the strip
        assert shown.is_visible() and shown.get_attribute("aria-current") == "page"
    finally:
        context.close()


def test_without_javascript_a_folded_tab_is_still_a_link(
    browser: Any, base_url: str, platform: Platform
) -> None:
    doc = with_empty_tabs(platform)
    context = phone_context(browser, base_url, java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(f"/entity/{doc['uscc']}")
        more = tab.locator("details.tabs-more")
        more.locator("summary").click()
        link = more.locator("ul a").first
        key = link.get_attribute("data-tab")
        link.click()
        tab.wait_for_url(f"**tab={key}*")
        assert tab.locator(f"section#{key}").is_visible()
        current = tab.locator("nav.tabs > ul a[aria-current=page]")
        assert current.is_visible() and current.get_attribute("data-tab") == key  # not folded now
    finally:
        context.close()


@pytest.mark.parametrize(("viewport", "script"), [(LAPTOP, True), (LAPTOP, False), (PHONE, True)])
def test_a_jump_to_a_section_lands_below_the_sticky_tab_bar(
    browser: Any, base_url: str, platform: Platform, viewport: dict[str, int], script: bool
) -> None:
    doc = penalised(platform)
    context = browser.new_context(base_url=base_url, viewport=viewport, java_script_enabled=script)
    try:
        tab = context.new_page()
        tab.goto(f"/entity/{doc['uscc']}#penalties")
        tab.wait_for_load_state("load")
        if script:  # the script measured the bar; jump again so the offset applies
            tab.evaluate("location.hash = ''; location.hash = '#penalties'")
        assert tab.evaluate(
            "scrollY + innerHeight < document.documentElement.scrollHeight - 1"
        )  # not the end
        bar = tab.locator("nav.tabs").bounding_box()
        section = tab.locator("section#penalties").bounding_box()
        heading = tab.locator("#penalties-title").bounding_box()
        assert bar is not None and section is not None and heading is not None
        assert abs(bar["y"]) <= 1, "the tab bar sticks to the top of the screen"
        assert heading["y"] >= bar["y"] + bar["height"], (bar, heading)
        assert bar["height"] <= section["y"] <= bar["height"] + 16, (
            "the jump stops just below the bar",
            bar,
            section,
        )
    finally:
        context.close()


# --- axe over every public page, at desktop and phone width ----------------------------------------


def public_pages(platform: Platform) -> list[str]:
    doc = penalised(platform)
    uscc = doc["uscc"]
    wrong = uscc[:10] + ("0" if uscc[10] != "0" else "1") + uscc[11:]
    return [
        "/",
        "/search?q=" + doc["name"][2:4],
        "/search?q=有限公司&page=100000",
        "/search?q=天",
        f"/entity/{uscc}",
        f"/entity/{uscc}?tab=penalties",
        f"/entity/{wrong}",
        "/publicity?category=penalty",
        "/announcements",
        "/policy",
        "/faq",
        "/verify",
        "/verify?code=AAAA-BBBB-CCCC",
        "/open-data",
        "/enterprise/login",
        "/nowhere",
    ]


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_passes_axe(
    browser: Any, base_url: str, platform: Platform, viewport: dict[str, int]
) -> None:
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="zh-CN")
    try:
        tab = context.new_page()
        for url in public_pages(platform):
            tab.goto(url)
            name = "page-" + re.sub(r"[^0-9A-Za-z]+", "-", f"{viewport['width']} {url}").strip("-")
            audit(tab, name)
    finally:
        context.close()


def test_the_audit_fails_on_a_serious_violation(page: Any) -> None:
    """The check can fail: an image without a text alternative is a critical violation."""
    page.goto("/policy")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/x.png\">')")
    with pytest.raises(AssertionError, match="image-alt"):
        audit(page, "self-test-image-without-alt")
