"""The agency page in Chromium, under the CSP: log in with an agency key, state the purpose, look
an entity up as of a date, download the internal extract, upload a CSV to match and download the
results, screen a list for a measure and feed back the measure applied, make a watchlist, read its
changes and delete it — every call on the access log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.access_log import AccessLogQuery
from tests.e2e.agency.conftest import HISTORY, SERIOUS, AgencyPlatform
from tests.e2e.browser import launched_chromium, served
from tests.e2e.test_browser import DESKTOP, WATCH_CSP, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def agency_url(agency_platform: AgencyPlatform) -> Iterator[str]:
    with served(agency_platform.container, "uvicorn-agency-browser") as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


def test_an_officer_works_through_the_agency_page(
    chromium: Any, agency_url: str, agency_platform: AgencyPlatform, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    context = chromium.new_context(
        base_url=agency_url, viewport=DESKTOP, locale="zh-CN", accept_downloads=True
    )
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/agency")
        assert page.locator("h1").inner_text() == "机构工作台"
        page.get_by_label("机构密钥（gsa_ 开头）").fill(agency_platform.keys["all"])
        page.get_by_label("经办人").fill("张三")
        page.get_by_role("button", name="登录").click()
        page.get_by_label("本次查询的目的（至少 4 个字，记入访问日志）").fill("行政许可审查（页面）")

        page.get_by_label("统一社会信用代码", exact=True).first.fill(HISTORY)
        page.get_by_label("截至日期").fill("2024-05-01")
        page.locator("#lookup-form").get_by_role("button", name="查询").click()
        page.wait_for_selector("#lookup-result h3")
        assert "天津星海云智科技有限公司" in page.locator("#lookup-result").inner_text()
        assert "津市监罚〔2023〕7号" in page.locator("#lookup-result").inner_text()
        # each fact names the mandate it was accepted under (the kinds its department might publish)
        assert "依据职权" in page.locator("#lookup-result").inner_text()
        assert "收到；初始职权）：" in page.locator("#lookup-result").inner_text()
        shot(page, "agency-01-lookup")

        page.get_by_role("button", name="下载内部信用信息报告").click()
        with page.expect_download() as pdf:
            page.locator("#lookup-result a").click()
        assert pdf.value.suggested_filename.endswith(".pdf")

        source = tmp_path / "名单.csv"
        source.write_text(f"名称,统一社会信用代码\n天津德明建筑工程有限公司,\n,{HISTORY}\n", encoding="utf-8")
        page.set_input_files("#match-file", str(source))
        page.get_by_role("button", name="比对并下载结果").click()
        page.wait_for_selector("#match-result a")
        assert "已比对 2 行" in page.locator("#match-result").inner_text()
        with page.expect_download() as results:
            page.locator("#match-result a").click()
        saved = tmp_path / "results.csv"
        results.value.save_as(saved)
        assert saved.read_text(encoding="utf-8-sig").count("match") >= 2

        page.select_option("#screen-measure", "government_procurement")
        page.locator("#screen-usccs").fill(f"{SERIOUS}\n{HISTORY}")
        page.get_by_role("button", name="筛查").click()
        page.wait_for_selector("#screen-result table")
        screened = page.locator("#screen-result").inner_text()
        assert "受限 1 家" in screened and "严重违法" in screened
        shot(page, "agency-02-screen")

        # the measure applied goes back as feedback, and shows in the agency view of the entity
        page.get_by_role("button", name=f"反馈措施（对 {SERIOUS} 采取的）").click()
        assert page.locator("#feedback-uscc").input_value() == SERIOUS
        assert page.locator("#feedback-measure").input_value() == "government_procurement"
        page.get_by_label("采取的措施", exact=True).fill("拒绝其参加本次政府采购活动（页面）")
        page.get_by_role("button", name="提交反馈").click()
        page.wait_for_selector("#feedback-result >> text=已记录反馈")
        shot(page, "agency-02b-feedback")
        page.locator("#lookup-uscc").fill(SERIOUS)
        page.get_by_label("截至日期").fill(page.locator("#feedback-date").input_value())
        page.locator("#lookup-form").get_by_role("button", name="查询").click()
        page.wait_for_selector("#lookup-result >> text=拒绝其参加本次政府采购活动（页面）")
        kept = agency_platform.container.feedback.for_entity(SERIOUS)
        assert any(f.action == "拒绝其参加本次政府采购活动（页面）" and f.officer == "张三" for f in kept)

        page.get_by_label("名单名称").fill("页面关注名单")
        page.locator("#watch-usccs").fill(SERIOUS)
        page.get_by_role("button", name="新建关注名单").click()
        page.wait_for_selector("#watch-list li")
        page.locator("#watch-list li").last.get_by_role("button", name="查看变更").click()
        page.wait_for_selector("#watch-changes table")
        assert SERIOUS in page.locator("#watch-changes").inner_text()
        shot(page, "agency-03-watchlist")

        # deleting it (after the confirmation) takes it off the list and off the store
        before = page.locator("#watch-list li").count()
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#watch-list li").last.get_by_role("button", name="删除关注名单“页面关注名单”").click()
        page.wait_for_selector("#watch-result >> text=已删除关注名单")
        # (polled by Playwright's selectors: a wait_for_function string is eval, which the CSP refuses)
        expect(page.locator("#watch-list li")).to_have_count(before - 1)
        names = [w.name for w in agency_platform.container.change_store.watchlists("TJ-TAX-JC1")]
        assert "页面关注名单" not in names

        assert page.evaluate("window.__csp") == []
        logged = agency_platform.container.access_log.entries(AccessLogQuery(agency="TJ-TAX-JC1", limit=20))
        purposes = {e.purpose for e in logged}
        assert "行政许可审查（页面）" in purposes
        assert any(e.route == "/api/v1/agency/match" and e.officer == "张三" for e in logged)
    finally:
        context.close()


def test_without_a_purpose_the_page_asks_for_one(
    chromium: Any, agency_url: str, agency_platform: AgencyPlatform
) -> None:
    context = chromium.new_context(base_url=agency_url, viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/agency")
        page.get_by_label("机构密钥（gsa_ 开头）").fill(agency_platform.keys["read"])
        page.get_by_role("button", name="登录").click()
        page.get_by_label("统一社会信用代码", exact=True).first.fill(HISTORY)
        page.locator("#lookup-form").get_by_role("button", name="查询").click()
        assert "请先填写查询目的" in page.locator("#lookup-result").inner_text()
    finally:
        context.close()
