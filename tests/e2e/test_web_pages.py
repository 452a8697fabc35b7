"""The public website over a generated register: every page, its errors, the PDF extract and its
verification. HTML is checked as text (the browser tests drive the same pages in Chromium)."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
from datetime import datetime
from html import unescape
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from adapters.search_index.base import RecordQuery
from api.web.extract import FONT_FILES, render_pdf
from api.web.present import highlight
from domain.masking import contains_unmasked_resident_id
from domain.uscc import make_uscc
from projections.documents import public_view
from tests.e2e.conftest import TODAY, Platform
from tests.engines import in_ci

TAB_LABELS = (
    "基础信息",
    "变更记录",
    "备案信息",
    "行政许可",
    "行政处罚",
    "经营异常名录",
    "严重违法失信名单",
    "抽查检查结果",
    "年度报告",
    "即时信息",
    "业绩",
    "其他信息",
)


def html(platform: Platform, url: str, status: int = 200, **kwargs: Any) -> str:
    response = platform.client.get(url, **kwargs)
    assert response.status_code == status, (url, response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def first_row(platform: Platform, category: str) -> dict[str, Any]:
    page = platform.container.index.records(RecordQuery(category=category), TODAY, size=1)
    assert page.items, f"the generated register has no public {category} record"
    return page.items[0]


def any_doc(platform: Platform) -> dict[str, Any]:
    row = first_row(platform, "penalty")
    doc = platform.container.index.get_public(row["uscc"])
    assert doc is not None
    return doc


def require_font() -> None:
    if any(path.exists() for path, _ in FONT_FILES):
        return
    message = "no CJK font for the PDF extract — run `bash infra/provision/browser.sh`"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


# --- home, search -------------------------------------------------------------------------------


def test_home_page_has_one_search_box_and_recent_announcements(platform: Platform) -> None:
    page = html(platform, "/")
    assert 'lang="zh-CN"' in page
    assert page.count('name="q"') == 1
    assert "最新公告" in page
    announced = platform.container.index.records(RecordQuery(category="inspection"), TODAY, size=1).items
    assert announced and announced[0]["entity_name"] in unescape(page)
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in page


def test_search_highlights_the_matched_fragment_and_shows_the_summary(platform: Platform) -> None:
    doc = any_doc(platform)
    fragment = doc["name"][2:5]
    page = html(platform, "/search", params={"q": fragment, "status": doc["status"]})
    assert f"<mark>{fragment}</mark>" in page
    assert doc["uscc"] in page
    assert f'href="/entity/{doc["uscc"]}"' in page
    assert doc["status"] in page
    assert doc["registration"]["established_on"] in page
    assert doc["registration"]["legal_representative"]["name"] in page


def test_search_result_badges_show_the_flags_in_force(platform: Platform) -> None:
    row = first_row(platform, "penalty")
    page = html(platform, "/search", params={"q": row["uscc"]})
    assert "行政处罚公示中" in page


def test_search_narrows_by_district_and_status(platform: Platform) -> None:
    doc = any_doc(platform)
    fragment = doc["name"][2:4]
    same = html(platform, "/search", params={"q": fragment, "district": doc["district_code"]})
    assert doc["uscc"] in same
    other = "120101" if doc["district_code"] != "120101" else "120102"
    assert doc["uscc"] not in html(platform, "/search", params={"q": fragment, "district": other})
    status = "注销" if doc["status"] != "注销" else "存续"
    assert doc["uscc"] not in html(platform, "/search", params={"q": fragment, "status": status})
    listed = html(platform, "/search", params={"district": doc["district_code"]})
    assert "筛选结果" in listed and "户市场主体" in listed


def test_search_paginates_many_results(platform: Platform) -> None:
    first = html(platform, "/search", params={"q": "有限公司"})
    assert 'rel="next"' in first
    second = html(platform, "/search", params={"q": "有限公司", "page": "2"})
    assert 'aria-current="page">2<' in second
    assert html(platform, "/search", params={"q": "有限公司", "page": "abc"})


def test_search_without_results_explains_what_to_try(platform: Platform) -> None:
    page = html(platform, "/search", params={"q": "不存在的企业名称甲乙丙"})
    assert "没有找到" in page
    assert "拼音" in page and "18 位" in page


def result_count(page: str) -> int:
    found = re.search(r"共找到 <strong>(\d+)</strong> 户", page)
    return int(found.group(1)) if found else 0


def test_search_ignores_stray_punctuation_and_full_width_forms(platform: Platform) -> None:
    plain = result_count(html(platform, "/search", params={"q": "天津"}))
    assert plain > 0
    for typed in ('"天津', "天津*", "＂天津＂", "(天津", "“天津”"):
        assert result_count(html(platform, "/search", params={"q": typed})) == plain, typed
    api = platform.client.get("/api/v1/entities", params={"q": "天津*"}).json()
    assert api["total"] == plain


def test_a_one_character_query_is_answered_as_the_hint_says(platform: Platform) -> None:
    assert "至少 2 个字" in html(platform, "/")
    page = html(platform, "/search", params={"q": "天"})
    assert "查询内容过短" in page and "请至少输入 2 个字" in page
    assert result_count(page) == 0 and "没有找到" not in page
    assert result_count(html(platform, "/search", params={"q": "天津"})) > 0


def test_search_with_a_mistyped_uscc_offers_the_entity_meant(platform: Platform) -> None:
    doc = any_doc(platform)
    uscc = doc["uscc"]
    wrong = uscc[:10] + uscc[11] + uscc[10] + uscc[12:] if uscc[10] != uscc[11] else uscc[:17] + "0"
    page = html(platform, "/search", params={"q": wrong})
    assert "统一社会信用代码校验未通过" in page and "应为" not in page
    assert "您是否要找" in page and f'href="/entity/{uscc}"' in page


def test_empty_search_page_shows_how_to_search(platform: Platform) -> None:
    assert "怎样查询" in html(platform, "/search")


# --- the entity page ------------------------------------------------------------------------------


def test_entity_page_has_every_tab_as_an_anchored_section_and_a_timeline(platform: Platform) -> None:
    doc = any_doc(platform)
    page = html(platform, f"/entity/{doc['uscc']}")
    for label in TAB_LABELS:
        assert label in page
    for anchor in ("basic", "changes", "filings", "licences", "penalties", "abnormal", "serious"):
        assert f'id="{anchor}"' in page
        assert f"?tab={anchor}#{anchor}" in page
    svg = re.search(r"<svg class=\"timeline timeline-wide\".*?</svg>", page, re.S)
    assert svg is not None
    assert 'role="group"' in svg.group(0) and 'aria-label="时间轴：' in svg.group(0)
    assert svg.group(0).count('class="tl-link"') == svg.group(0).count('class="tl-event')  # each a link
    assert svg.group(0).count("<title>") >= 3  # the picture's title and one per event
    assert "成立" in svg.group(0)


def test_entity_page_tells_the_public_a_date_not_internal_positions(platform: Platform) -> None:
    doc = any_doc(platform)
    page = html(platform, f"/entity/{doc['uscc']}")
    assert f'信息截至 <time datetime="{TODAY.isoformat()}">{TODAY.isoformat()}</time>' in page
    assert "事件位置" not in page and "记录第" not in page
    # the JSON API lives in a developers' corner at the foot of the page, not beside the report
    start = page.index('<div class="entity-actions">')
    actions = page[start : page.index("</header>", start)]
    assert "下载信用信息报告（PDF）" in actions and "/api/v1/entities/" not in actions
    corner = page[page.index('<aside class="developers"') :]
    assert f'href="/api/v1/entities/{doc["uscc"]}"' in corner and "数据接口（JSON）" in corner


def test_entity_tab_parameter_shows_that_section_only(platform: Platform) -> None:
    doc = any_doc(platform)
    page = html(platform, f"/entity/{doc['uscc']}", params={"tab": "penalties"})
    sections = dict(re.findall(r'<section id="(\w+)" class="tab-panel[^"]*"[^>]*?( hidden)?>', page))
    assert sections["penalties"] == ""
    assert sections["basic"] == " hidden"
    assert 'data-tab="penalties" aria-current="page"' in page


def test_entity_page_shows_a_penalty_with_the_end_of_its_publicity_window(platform: Platform) -> None:
    row = first_row(platform, "penalty")
    page = html(platform, f"/entity/{row['uscc']}", params={"tab": "penalties"})
    assert row["record_id"] in unescape(page)
    penalty = row["detail"]
    assert penalty["publicity"]["ends_on"] in page
    assert "公示期" in page
    # which rule set gave the window, by name and code, on the page and in the timeline
    text = unescape(page)
    assert f"{penalty['publicity']['rule_set_name']}（{penalty['publicity']['rule_set']}）" in text
    assert f"公示至 {row['public_until']}（{penalty['publicity']['rule_set']}）" in text


def test_entity_page_masks_the_legal_representative(platform: Platform) -> None:
    doc = any_doc(platform)
    page = html(platform, f"/entity/{doc['uscc']}")
    masked = doc["registration"]["legal_representative"]["id_number"]
    assert "*" in masked and masked in page
    assert not contains_unmasked_resident_id(page)


def test_entity_page_accepts_a_registration_number(platform: Platform) -> None:
    doc = next(
        d
        for d in (platform.container.index.get_public(r["uscc"]) for r in platform.envelopes)
        if d and d.get("registration_number")
    )
    page = html(platform, f"/entity/{doc['registration_number']}")
    assert doc["uscc"] in page and doc["name"] in unescape(page)


def test_invalid_uscc_is_a_422_page_naming_the_wrong_character(platform: Platform) -> None:
    uscc = any_doc(platform)["uscc"]
    page = html(platform, f"/entity/{uscc[:5]}I{uscc[6:]}", status=422)
    assert "统一社会信用代码有误" in page
    assert "第6位“I”不是有效字符" in page and '<span class="wrong">' in page


def test_a_code_that_fails_its_check_names_no_position_and_offers_candidates(platform: Platform) -> None:
    doc = any_doc(platform)
    uscc = doc["uscc"]
    # the 11th character changed: the checks fail at 17/18, which is not where the typo is
    eleventh = next(c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != uscc[10])
    wrong = uscc[:10] + eleventh + uscc[11:]
    page = unescape(html(platform, f"/entity/{wrong}", status=422))
    assert "统一社会信用代码校验未通过" in page
    assert "第17位" not in page and "第18位" not in page and "应为" not in page
    assert '<span class="wrong">' not in page
    offered = re.findall(r'<div class="did-you-mean">.*?</div>', page, re.S)
    assert offered and f'<a href="/entity/{uscc}">{doc["name"]}</a>' in offered[0]
    api = platform.client.get(f"/api/v1/entities/{wrong}")
    assert api.status_code == 422 and api.json()["code"] == "invalid_uscc"
    assert uscc in [c["uscc"] for c in api.json()["candidates"]]
    # a registration number likewise
    numbered = next(
        d
        for d in (platform.container.index.get_public(r["uscc"]) for r in platform.envelopes)
        if d and d.get("registration_number")
    )
    number = numbered["registration_number"]
    swapped = next(
        number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        for i in range(2, 14)
        if number[i] != number[i + 1]
    )
    page = unescape(html(platform, f"/entity/{swapped}", status=422))
    assert "注册号校验未通过" in page and "第15位" not in page
    assert f'<a href="/entity/{numbered["uscc"]}">{numbered["name"]}</a>' in page


def test_unknown_entity_is_a_404_page(platform: Platform) -> None:
    unknown = make_uscc("120116", "WX999999").value
    page = html(platform, f"/entity/{unknown}", status=404)
    assert "未找到该市场主体" in page and unknown in page


def test_unknown_page_is_html_but_the_api_keeps_json_errors(platform: Platform) -> None:
    assert "页面不存在" in html(platform, "/no/such/page", status=404)
    api = platform.client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    bad = platform.client.get("/api/v1/entities/91120116MA0000000X")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_uscc"
    invalid = platform.client.get("/api/v1/records", params={"page": "0"})
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_request"


def test_pages_are_not_in_the_openapi_document_but_the_extract_api_is(platform: Platform) -> None:
    paths = platform.client.get("/openapi.json").json()["paths"]
    assert "/api/v1/extracts/{key}" in paths
    assert not {"/", "/search", "/entity/{uscc}", "/verify", "/publicity"} & set(paths)


# --- department publicity, announcements, content pages -------------------------------------------


def test_publicity_filters_by_category_department_and_date(platform: Platform) -> None:
    row = first_row(platform, "penalty")
    on = row["occurred_on"]
    params = {"category": "penalty", "department": row["department"], "from": on, "to": on}
    page = html(platform, "/publicity", params=params)
    assert row["record_id"] in unescape(page)
    names = {d.code: d.name for d in platform.container.departments.all()}
    assert f'<option value="{row["department"]}" selected>{names[row["department"]]}</option>' in page
    other = next(c for c in names if c not in (row["department"], "ENTERPRISE"))
    narrowed = html(platform, "/publicity", params={**params, "department": other})
    assert row["record_id"] not in unescape(narrowed)


def test_publicity_lists_licences_and_inspections_and_explains_a_bad_date(platform: Platform) -> None:
    for category in ("licence", "inspection"):
        row = first_row(platform, category)
        assert row["record_id"] in unescape(html(platform, "/publicity", params={"category": category}))
    page = html(platform, "/publicity", params={"from": "2024-13-01", "to": "2025-01-31"})
    assert "不是有效日期" in page
    assert page.count("2024-13-01") == 1  # named in its error only: not in the result line, form or links
    line = re.search(r'<p class="result-count"[^>]*>.*?</p>', page, re.S)
    assert line is not None and "日期 不限 至 2025-01-31" in line.group(0)


def test_announcements_list_entries_removals_and_inspections(platform: Platform) -> None:
    everything = html(platform, "/announcements")
    assert "列入经营异常名录" in everything
    for kind in ("abnormal", "serious", "inspection"):
        row = first_row(platform, kind)
        page = html(platform, "/announcements", params={"type": kind})
        assert row["record_id"] in unescape(page), kind
    removal = platform.container.index.records(RecordQuery(category="abnormal_removed"), TODAY, size=1).items
    if removal:
        page = html(platform, "/announcements", params={"type": "abnormal_removed"})
        assert removal[0]["entity_name"] in unescape(page)


def test_policy_and_faq_are_rendered_from_markdown(platform: Platform) -> None:
    policy = html(platform, "/policy")
    assert "<h1" in policy and "公示规则" in policy
    assert 'id="penalty-windows"' in policy
    for text in (
        "发改办财金〔2019〕527号",
        "国家发展改革委令第 58 号",
        "国家发展改革委令第 36 号",
        "国家市场监督管理总局令第 45 号",
        "公示之日",
        "不予公示",
        "1 月 1 日至 6 月 30 日",
        "信用修复",
        "异议",
    ):
        assert text in policy, text
    assert "<table>" in policy
    faq = html(platform, "/faq")
    assert "常见问题" in faq and "年度报告" in faq and "报告验证" in faq


def test_static_stylesheet_is_served(platform: Platform) -> None:
    response = platform.client.get("/static/site.css")
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]


def test_no_page_shows_an_unmasked_resident_id(platform: Platform) -> None:
    usccs = list(dict.fromkeys(e["uscc"] for e in platform.envelopes))[:40]
    urls = ["/", "/publicity", "/announcements", "/search?q=有限公司", "/search?q=天津"]
    urls += [f"/entity/{u}" for u in usccs]
    for url in urls:
        response = platform.client.get(url)
        assert response.status_code in (200, 404), url
        assert not contains_unmasked_resident_id(response.text), url


# --- the PDF extract and its verification -----------------------------------------------------------


def pdf_text(pdf: bytes, tmp_path: Path) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    path = tmp_path / "extract.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def embedded_fonts(pdf: pikepdf.Pdf) -> set[str]:
    """The names of the fonts whose program is embedded in `pdf`."""
    names = set()
    for obj in pdf.objects:
        is_descriptor = isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor"
        if is_descriptor and any(k in obj for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            names.add(str(obj.get("/FontName")))
    return names


def test_extract_pdf_carries_its_code_and_is_recorded_by_hash(platform: Platform, tmp_path: Path) -> None:
    require_font()
    doc = any_doc(platform)
    response = platform.client.get(f"/entity/{doc['uscc']}/extract.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    code = response.headers["x-verification-code"]
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        assert any("WenQuanYi" in name for name in embedded_fonts(opened))  # the CJK font is embedded
        assert f"verification-code:{code}" in str(opened.docinfo["/Keywords"])
    text = pdf_text(pdf, tmp_path)
    if text is not None:
        assert code in text and doc["name"] in text and "信用信息报告" in text
        assert not contains_unmasked_resident_id(text)

    sha256 = hashlib.sha256(pdf).hexdigest()
    by_hash = platform.client.get(f"/api/v1/extracts/{sha256}")
    assert by_hash.status_code == 200
    body = by_hash.json()
    assert set(body) == {"uscc", "as_of", "position", "version", "generated_at", "code", "sha256"}
    assert body["as_of"] == TODAY.isoformat() and body["version"] == int(doc["version"])
    assert body["uscc"] == doc["uscc"] and body["code"] == code and body["sha256"] == sha256
    assert body["position"] == platform.container.projection.position()
    generated_at = datetime.fromisoformat(body["generated_at"])
    assert platform.container.clock.date_of(generated_at) == TODAY  # a real instant, on the system date
    by_code = platform.client.get(f"/api/v1/extracts/{code.lower().replace('-', '')}")
    assert by_code.status_code == 200 and by_code.json() == body
    missing = platform.client.get("/api/v1/extracts/" + "0" * 64)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert platform.client.get("/api/v1/extracts/NOPE-NOPE-NOPE").status_code == 404


def csrf_token(page: str) -> str:
    """The hidden CSRF field of the form on `page` (api/csrf.py)."""
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert found, "the form has no CSRF field"
    return found.group(1)


def test_verify_page_tells_a_genuine_extract_from_an_altered_one(platform: Platform) -> None:
    require_font()
    doc = any_doc(platform)
    response = platform.client.get(f"/entity/{doc['uscc']}/extract.pdf")
    pdf, code = response.content, response.headers["x-verification-code"]
    form = html(platform, "/verify")
    assert "上传报告文件" in form
    token = {"csrf_token": csrf_token(form)}
    genuine = platform.client.post(
        "/verify", data=token, files={"file": ("report.pdf", pdf, "application/pdf")}
    )
    assert genuine.status_code == 200
    assert "真实" in genuine.text and doc["uscc"] in genuine.text and code in genuine.text
    altered = pdf[:-20] + bytes(b ^ 1 for b in pdf[-20:])
    forged = platform.client.post(
        "/verify", data=token, files={"file": ("report.pdf", altered, "application/pdf")}
    )
    assert "未通过验证" in forged.text and "真实" not in forged.text
    at = len(pdf) // 3  # a byte inside a compressed stream, which the seal covers
    inside = pdf[:at] + bytes([pdf[at] ^ 1]) + pdf[at + 1 :]
    flipped = platform.client.post(
        "/verify", data=token, files={"file": ("report.pdf", inside, "application/pdf")}
    )
    assert "未通过验证" in flipped.text and "电子签章无效" in flipped.text
    assert "电子签章有效" in genuine.text and f"<dt>信息截至</dt><dd>{TODAY.isoformat()}</dd>" in genuine.text
    appended = platform.client.post(
        "/verify", data=token, files={"file": ("report.pdf", pdf + b"\n% added later\n", "application/pdf")}
    )
    assert "未通过验证" in appended.text and "加盖电子签章之后被改动" in appended.text
    unsealed = render_pdf(public_view(doc, TODAY), {}, {"code": code, "verify": "", "reflects": ""})
    other = platform.client.post(
        "/verify", data=token, files={"file": ("report.pdf", unsealed, "application/pdf")}
    )
    assert "未通过验证" in other.text and "文件没有电子签章" in other.text
    assert "真实" in html(platform, "/verify", params={"code": code})
    assert "未通过验证" in html(platform, "/verify", params={"code": "AAAA-BBBB-CCCC"})
    typed = platform.client.post("/verify", data={**token, "code": code.lower()})
    assert "真实" in typed.text
    empty = platform.client.post("/verify", data={**token, "code": ""})
    assert "请选择要验证的报告文件" in empty.text
    # the three states share one look: a verdict box, ok, bad or warn
    assert 'class="verdict ok"' in genuine.text and 'class="verdict bad"' in forged.text
    assert 'class="verdict warn"' in empty.text and "notice" not in empty.text.split("<main", 1)[1]


def test_extract_of_an_invalid_uscc_is_the_422_page(platform: Platform) -> None:
    page = html(platform, "/entity/91120116MA0000000X/extract.pdf", status=422)
    assert "统一社会信用代码" in page


# --- presentation helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "marked"),
    [("滨海", "滨海"), ("binhai", "滨海"), ("bh", "滨海"), ("hengt", "恒通"), ("HENGTONG", "恒通")],
)
def test_highlight_marks_chinese_and_pinyin_matches(query: str, marked: str) -> None:
    assert f"<mark>{marked}</mark>" in highlight("天津滨海恒通科技有限公司", query)


def test_highlight_escapes_html() -> None:
    assert str(highlight("<b>天津</b>", "天津")) == "&lt;b&gt;<mark>天津</mark>&lt;/b&gt;"
