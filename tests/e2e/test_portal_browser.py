"""The enterprise portal in Chromium, at desktop width and at 375 px: activation, login, the
dashboard's obligations, the report form with a saved draft, an error told beside its field, the
publish choices, the confirmation, the filing and its receipt, the history — under the CSP, with
every form carrying its CSRF token, nothing wider than the phone's screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.builders import uscc_for
from tests.e2e.axe import audit
from tests.e2e.browser import launched_chromium, served
from tests.e2e.enterprise_platform import EnterprisePlatform, enterprise_platform
from tests.e2e.test_browser import DESKTOP, PHONE, SCREENSHOTS, WATCH_CSP

pytestmark = pytest.mark.browser

USCC = uscc_for(701)
PASSWORD = "portal-password-1"


@pytest.fixture(scope="module")
def ep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnterprisePlatform]:
    with enterprise_platform(tmp_path_factory.mktemp("portal") / "var", date(2026, 5, 20)) as platform:
        platform.register(USCC, established="2024-03-01")
        yield platform


@pytest.fixture(scope="module")
def base_url(ep: EnterprisePlatform) -> Iterator[str]:
    with served(ep.container, "uvicorn-portal-tests") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


def context_for(browser: Any, base_url: str, viewport: dict[str, int]) -> Any:
    phone = viewport == PHONE
    context = browser.new_context(
        base_url=base_url,
        viewport=viewport,
        locale="zh-CN",
        accept_downloads=True,
        **({"device_scale_factor": 2, "is_mobile": True, "has_touch": True} if phone else {}),
    )
    context.add_init_script(WATCH_CSP)
    return context


def fits(tab: Any, what: str) -> None:
    """Nothing wider than the screen, no CSP violation, and axe finds nothing serious."""
    audit(tab, "portal-" + re.sub(r"[^0-9A-Za-z]+", "-", f"{tab.viewport_size['width']} {what}").strip("-"))
    overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{what} is {overflow}px wider than the screen"
    assert tab.evaluate("window.__csp") == [], (what, tab.evaluate("window.__csp"))


def shot(tab: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(
    ("viewport", "year", "before", "after"),
    [(DESKTOP, 2025, "待报送", "已报送"), (PHONE, 2024, "逾期未报", "逾期补报")],
    ids=["desktop", "phone"],
)
def test_the_portal_from_activation_to_a_filed_report(
    browser: Any,
    base_url: str,
    ep: EnterprisePlatform,
    viewport: dict[str, int],
    year: int,
    before: str,
    after: str,
    tmp_path: Path,
) -> None:
    name = "phone" if viewport == PHONE else "desktop"
    code = ep.container.credentials.invite(USCC)
    context = context_for(browser, base_url, viewport)
    try:
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        # activation with the code, then the login
        tab.goto("/enterprise/login")
        tab.get_by_role("link", name="以激活码设置密码").click()
        tab.get_by_label("统一社会信用代码").fill(USCC)
        tab.get_by_label("激活码").fill(code)
        tab.get_by_label("新密码（至少 10 个字符）").fill(PASSWORD)
        tab.get_by_role("button", name="激活").click()
        assert "账户已激活" in tab.get_by_role("status").inner_text()
        fits(tab, "the activation page")
        tab.goto("/enterprise/login")
        tab.get_by_label("统一社会信用代码").fill(USCC)
        tab.get_by_label("密码", exact=True).fill(PASSWORD)
        tab.get_by_role("button", name="登录").click()
        tab.wait_for_url("**/enterprise/")
        # the dashboard: each year's report with its state
        row = tab.locator("tr", has_text=f"{year} 年度")
        assert before in row.inner_text()
        reads = tab.locator("section", has=tab.get_by_role("heading", name="谁查阅了本企业的信用记录"))
        assert "尚无机构查阅本企业的信用记录" in reads.inner_text()  # the agency access log, empty here
        fits(tab, "the dashboard")
        shot(tab, f"20-{name}-enterprise-dashboard")
        # the form: a wrong postal code is told beside its field; the draft keeps what was typed
        row.get_by_role("link").click()
        tab.wait_for_url(f"**/enterprise/annual-reports/{year}")
        tab.get_by_label("通信地址").fill("天津市滨海新区第三大街51号")
        tab.get_by_label("邮政编码").fill("3004")
        tab.get_by_label("经营状态").select_option("开业")
        tab.locator("#f-shareholders-0-name").fill("张三")
        tab.locator("#f-shareholders-0-subscribed_amount").fill("1000000")
        tab.locator("#f-shareholders-0-paid_amount").fill("500000")
        tab.get_by_label("从业人数（人）").fill("12")
        tab.get_by_label("营业总收入（元）").fill("3000000")
        tab.locator("input[name=publicised][value=employees]").check()
        tab.get_by_label("资产总额（元）").fill("9999999")
        tab.get_by_role("button", name="保存草稿").click()
        error = tab.locator("#err-postal_code")  # beside its field, in Chinese
        assert error.is_visible() and any("\u4e00" <= ch <= "\u9fff" for ch in error.inner_text())
        assert tab.get_by_role("alert").is_visible()
        assert tab.get_by_label("邮政编码").get_attribute("aria-invalid") == "true"
        assert tab.locator("#f-shareholders-0-name").input_value() == "张三"
        fits(tab, "the form with an error")
        shot(tab, f"21-{name}-report-error")
        tab.get_by_label("邮政编码").fill("300457")
        tab.get_by_role("button", name="保存草稿").click()
        assert "草稿已保存" in tab.get_by_role("status").inner_text()
        assert tab.locator("#f-shareholders-1-name").count() == 1  # a fresh row to add another
        # review: what will be public and what not
        tab.get_by_role("button", name="检查并报送").click()
        tab.wait_for_url("**/confirm")
        public = tab.locator("#public-title").locator("xpath=..").inner_text()
        private = tab.locator("#private-title").locator("xpath=..").inner_text()
        assert "从业人数" in public and "资产总额" not in public
        assert "资产总额" in private and "营业总收入" in private
        fits(tab, "the confirmation")
        shot(tab, f"22-{name}-report-confirm")
        tab.get_by_role("button", name="确认报送").click()
        tab.wait_for_url(f"**/annual-reports/{year}?filed=*")
        assert "已提交" in tab.get_by_role("status").inner_text()
        ep.process()
        tab.reload()
        assert "已生效" in tab.locator("main").inner_text()
        with tab.expect_download() as download:
            tab.get_by_role("link", name="下载回执").first.click()
        path = tmp_path / "receipt.pdf"
        download.value.save_as(path)
        assert path.read_bytes().startswith(b"%PDF")
        tab.goto("/enterprise/")
        assert after in tab.locator("tr", has_text=f"{year} 年度").inner_text()
        fits(tab, "the dashboard after filing")
        shot(tab, f"23-{name}-enterprise-dashboard-filed")
    finally:
        context.close()


def test_a_form_posted_without_its_csrf_token_is_refused(base_url: str, ep: EnterprisePlatform) -> None:
    import httpx

    token = ep.container.credentials.login(USCC, PASSWORD, "t")
    response = httpx.post(
        f"{base_url}/enterprise/annual-reports/2025",
        data={"address": "x", "action": "save"},
        cookies={"gongshi_session": token},
        follow_redirects=False,
    )
    assert response.status_code == 403 and "无法确认该表单由本站页面提交" in response.text
