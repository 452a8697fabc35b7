"""The PDF credit extract (信用信息报告) of an entity's public record, and its issuing.

The PDF embeds a TrueType CJK font (WenQuanYi Micro Hei, Debian `fonts-wqy-microhei`): the
built-in CID fonts are not embedded and show empty boxes on machines without Adobe's CJK data.
Each issued file gets a fresh verification code printed on every page; the SHA-256 of the exact
bytes served is recorded in the extract ledger, so `/verify` can tell a genuine file from an
altered one. One extract is issued per entity version and system date: asked again, the ledger's
kept file is served as it was (same bytes, same code, no new ledger row).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from adapters.extract_ledger import ExtractLedger, IssuedExtract, new_code
from api.web import present
from domain.clock import CHINA, Clock
from domain.departments import DepartmentRegistry
from domain.kinds import SECTIONS
from projections.documents import public_view

FONT_NAME = "WQY"
#: How an internal extract names each penalty's state as of its date (projections.history).
PENALTY_STATES = {
    "public": "公示中",
    "not_yet_public": "尚未公示",
    "window_ended": "公示期满",
    "repaired": "已信用修复",
    "revoked": "已撤销",
    "not_publicised": "依规不予公示",
}
#: The plain sections the extract draws with tables of their own; the others share one layout.
_DRAWN_ABOVE = frozenset({"filings", "inspections"})
FONT_FILES: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
)
_font_lock = threading.Lock()
_font_ready = False


class ExtractFontMissing(Exception):
    """No CJK TrueType font to embed: install `fonts-wqy-microhei` (infra/provision/browser.sh)."""


def ensure_font() -> str:
    """Register the CJK font with reportlab once; raise ExtractFontMissing when none is installed."""
    global _font_ready
    if _font_ready:
        return FONT_NAME
    with _font_lock:
        if not _font_ready:
            found = next(((p, i) for p, i in FONT_FILES if p.exists()), None)
            if found is None:
                raise ExtractFontMissing("未安装中文字体 fonts-wqy-microhei，无法生成信用信息报告")
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(found[0]), subfontIndex=found[1]))
            _font_ready = True
    return FONT_NAME


def _styles() -> dict[str, ParagraphStyle]:
    font = ensure_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle(
            "small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#444")
        ),
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, leading=16, alignment=TA_CENTER),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontSize=12,
            leading=16,
            spaceBefore=10,
            spaceAfter=4,
            textColor=colors.HexColor("#0b3d6e"),
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=12),
        "head": ParagraphStyle("head", parent=base, fontSize=8.5, leading=12, textColor=colors.white),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("—" if text in (None, "") else str(text)).replace("\n", "<br/>"), style)


def _table(
    st: dict[str, ParagraphStyle], head: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float]
) -> Table:
    data = [[_p(h, st["head"]) for h in head]] + [[_p(c, st["cell"]) for c in row] for row in rows]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#0b3d6e")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b8c2cc")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f3f6f9")]),
            ]
        )
    )
    return table


def _pairs(st: dict[str, ParagraphStyle], pairs: Sequence[tuple[str, Any]]) -> Table:
    data = [[_p(k, st["cell"]), _p(v, st["cell"])] for k, v in pairs]
    table = Table(data, colWidths=[32 * mm, 142 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b8c2cc")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef2f6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _section(
    story: list[Flowable],
    st: dict[str, ParagraphStyle],
    title: str,
    head: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
) -> None:
    story.append(Paragraph(escape(f"{title}（{len(rows)}）"), st["h2"]))
    if rows:
        story.append(_table(st, head, rows, widths))
    else:
        story.append(_p("无公示信息", st["small"]))


def _penalty_until(penalty: dict[str, Any], internal: bool) -> str | None:
    """A penalty's end of publicity; on an internal extract with its state on the extract's date."""
    ends_on = (penalty.get("publicity") or {}).get("ends_on")
    if not internal:
        return ends_on
    return f"{ends_on or '—'}（{PENALTY_STATES.get(penalty.get('state', ''), '')}）"


def _story(
    view: dict[str, Any], st: dict[str, ParagraphStyle], names: dict[str, str], meta: dict[str, str]
) -> list[Flowable]:
    reg = view.get("registration") or {}

    def dept(code: str | None) -> str:
        return present.department_name(code, names)

    internal = bool(meta.get("internal"))
    heading = [
        ("统一社会信用代码", view["uscc"]),
        ("报告生成时间", meta["generated_at"]),
        ("信息截至", meta["reflects"]),
        ("验证码", meta["code"]),
        ("验证方式", meta["verify"]),
    ]
    if internal:
        heading += [
            ("查询机构", meta["agency"]),
            ("经办人", meta.get("officer") or "—"),
            ("查询目的", meta["purpose"]),
        ]
    notice = (
        "内部使用：本报告为机构依法履职所需的完整记录（截至所示业务日期），含未予公示、已超出公示期限、"
        "已撤销或已修复的记录及未去标识化的个人信息，每项记录附其来源（公示部门、公示编号、签名密钥、事件位置）。"
        "不得对外公开或提供给无关人员；本次查询已记入访问日志。"
        if internal
        else "本报告根据生成时本平台公示的信息自动生成，内容与网站公示信息一致。"
        "自然人身份证件号码等个人信息已按规定去标识化；超出公示期限或经信用修复的行政处罚不再公示。"
    )
    story: list[Flowable] = [
        Paragraph("市场主体信用信息报告（内部）" if internal else "市场主体信用信息报告", st["title"]),
        Spacer(1, 2 * mm),
        Paragraph(escape(view["name"]), st["subtitle"]),
        Spacer(1, 4 * mm),
        _pairs(st, heading),
        Spacer(1, 2 * mm),
        Paragraph(escape(notice), st["small"]),
    ]
    story.append(Paragraph("基础信息", st["h2"]))
    former = "、".join(f"{f['name']}（至 {f.get('until', '')}）" for f in view.get("former_names", []))
    story.append(
        _pairs(
            st,
            [
                ("名称", view["name"]),
                ("曾用名", former or "无"),
                ("注册号", view.get("registration_number")),
                ("类型", reg.get("entity_type")),
                ("法定代表人", present.person(reg.get("legal_representative"))),
                ("注册资本", present.capital(reg.get("registered_capital"))),
                ("成立日期", reg.get("established_on")),
                ("营业期限至", reg.get("operating_until") or "长期"),
                ("登记状态", view.get("status")),
                ("登记机关", reg.get("registration_authority")),
                ("所属区域", view.get("district_name")),
                ("所属行业", reg.get("industry")),
                ("住所", reg.get("address")),
                ("经营范围", reg.get("business_scope")),
            ],
        )
    )
    change_rows = [
        (
            c.get("occurred_on"),
            present.REGISTRATION_FIELDS.get(ch.get("field"), ch.get("field")),
            present.change_value(ch.get("field", ""), ch.get("before")),
            present.change_value(ch.get("field", ""), ch.get("after")),
        )
        for c in view.get("changes", [])
        for ch in c.get("changes", [])
    ]
    _section(
        story, st, "变更记录", ["变更日期", "变更事项", "变更前", "变更后"], change_rows, [22, 26, 63, 63]
    )
    _section(
        story,
        st,
        "备案信息",
        ["备案日期", "备案编号", "备案类型", "内容", "部门"],
        [
            (
                f.get("occurred_on"),
                f.get("filing_no"),
                f.get("filing_type"),
                f.get("content"),
                dept(f.get("department")),
            )
            for f in view.get("filings", [])
        ],
        [22, 32, 28, 62, 30],
    )
    _section(
        story,
        st,
        "行政许可",
        ["许可证编号", "许可名称", "内容", "有效期", "状态", "许可机关"],
        [
            (
                lic.get("licence_no"),
                lic.get("licence_name"),
                lic.get("content"),
                f"{lic.get('valid_from')} 至 {lic.get('valid_to') or '长期'}",
                lic.get("status"),
                dept(lic.get("department")),
            )
            for lic in view.get("licences", [])
        ],
        [28, 26, 46, 30, 14, 30],
    )
    _section(
        story,
        st,
        "行政处罚",
        ["决定书文号", "违法行为", "处罚内容", "决定日期", "程度", "公示截止", "处罚机关"],
        [
            (
                p.get("decision_no"),
                p.get("violation"),
                p.get("content"),
                p.get("decided_on"),
                present.SEVERITY_LABELS.get(p.get("severity", ""), p.get("severity")),
                _penalty_until(p, internal),
                dept(p.get("department")),
            )
            for p in view.get("penalties", [])
        ],
        [28, 40, 34, 18, 11, 18, 25],
    )
    for key, title in (("abnormal_listings", "经营异常名录"), ("serious_listings", "严重违法失信名单")):
        _section(
            story,
            st,
            title,
            ["决定书文号", "列入日期", "列入原因", "移出日期", "移出原因", "作出决定机关"],
            [
                (
                    x.get("decision_no"),
                    x.get("listed_on"),
                    x.get("reason"),
                    (x.get("removed") or {}).get("on"),
                    (x.get("removed") or {}).get("reason"),
                    dept(x.get("department")),
                )
                for x in view.get(key, [])
            ],
            [28, 18, 44, 18, 38, 28],
        )
    _section(
        story,
        st,
        "抽查检查结果",
        ["检查编号", "类型", "检查日期", "结果", "检查机关"],
        [
            (
                i.get("inspection_no"),
                i.get("inspection_type"),
                i.get("inspected_on"),
                i.get("result"),
                dept(i.get("department")),
            )
            for i in view.get("inspections", [])
        ],
        [36, 26, 20, 60, 32],
    )
    _section(
        story,
        st,
        "年度报告",
        ["年度", "报送日期", "经营状态", "公示的其他信息"],
        [
            (
                f"{r.get('year')} 年度",
                r.get("submitted_on"),
                r.get("operating_status"),
                "；".join(
                    f"{label}：{present.report_value(k, r[k])}"
                    for k, label in present.REPORT_FIELDS.items()
                    if k not in ("operating_status",) and r.get(k) not in (None, "", [])
                )
                + (f"（更正 {len(r['corrections'])} 次）" if r.get("corrections") else ""),
            )
            for r in view.get("annual_reports", [])
        ],
        [18, 22, 18, 116],
    )
    for section in SECTIONS:  # every other plain section, as a table of its items
        if section.plain and section.key not in _DRAWN_ABOVE and section.field:
            _section(
                story,
                st,
                section.label,
                ["日期", "编号", "类别", "内容", "公示部门"],
                [
                    (
                        x.get("occurred_on"),
                        x.get(section.number),
                        x.get(section.title),
                        x.get("content"),
                        dept(x.get("department")),
                    )
                    for x in view.get(section.field, [])
                ],
                [20, 34, 24, 66, 30],
            )
    story.append(Spacer(1, 6 * mm))
    story.append(Paragraph("— 报告结束 —", st["subtitle"]))
    return story


def _on_page(meta: dict[str, str]) -> Callable[[Canvas, Any], None]:
    def draw(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT_NAME, 7.5)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(18 * mm, 10 * mm, f"天津市市场主体信用信息公示系统 · 验证码 {meta['code']}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"第 {doc.page} 页")
        if meta.get("internal"):  # marked on every page: a header line and a watermark
            canvas.setFillColor(colors.HexColor("#b00020"))
            canvas.setFont(FONT_NAME, 9)
            canvas.drawString(18 * mm, A4[1] - 10 * mm, f"内部 · 仅限机构内部使用 · {meta['agency']}")
            canvas.setFillColor(colors.Color(0.7, 0.1, 0.1, alpha=0.12))
            canvas.setFont(FONT_NAME, 96)
            canvas.translate(A4[0] / 2, A4[1] / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, 0, "内部")
        canvas.restoreState()

    return draw


def render_pdf(view: dict[str, Any], names: dict[str, str], meta: dict[str, str]) -> bytes:
    """The extract's PDF bytes. `meta`: code, generated_at, reflects, verify (all display text)."""
    st = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"信用信息报告 {view['name']}",
        author="天津市市场主体信用信息公示系统",
        subject=f"{view['uscc']} 验证码 {meta['code']}",
        keywords=f"uscc:{view['uscc']} verification-code:{meta['code']}"
        + (" classification:internal" if meta.get("internal") else ""),
        creator="Gongshi",
    )
    page = _on_page(meta)
    doc.build(_story(view, st, names, meta), onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()


def issue(
    doc: dict[str, Any],
    verify_url: str,
    *,
    clock: Clock,
    position: int,
    departments: DepartmentRegistry,
    ledger: ExtractLedger,
) -> tuple[bytes, IssuedExtract]:
    """The extract of a stored public document (which reflects the event store up to
    `position`): the one already issued for its version today, else a new one, recorded in the
    ledger and kept for reuse."""
    today = clock.today()
    version = int(doc.get("version") or 0)
    earlier = ledger.kept(str(doc["uscc"]), version, today)
    if earlier is not None:
        return earlier.pdf, earlier.issued
    ensure_font()
    view = public_view(doc, today)
    generated_at = clock.now()
    code = new_code()
    local = generated_at.astimezone(CHINA)
    meta = {
        "code": code,
        "generated_at": local.strftime("%Y-%m-%d %H:%M:%S（北京时间）"),
        "reflects": f"平台事件位置 {position}（该主体记录第 {version} 版），公示日期 {today.isoformat()}",
        "verify": f"访问 {verify_url} 上传本文件或输入验证码 {code}",
    }
    names = {d.code: d.name for d in departments.all()}
    pdf = render_pdf(view, names, meta)
    issued = IssuedExtract(
        sha256=hashlib.sha256(pdf).hexdigest(),
        code=code,
        uscc=view["uscc"],
        position=position,
        version=version,
        generated_at=generated_at,
    )
    kept = ledger.keep(issued, today, pdf)  # a concurrent download's file wins if it came first
    return kept.pdf, kept.issued


def generated_at_text(when: datetime) -> str:
    return when.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def issue_internal(
    view: dict[str, Any],
    verify_url: str,
    *,
    clock: Clock,
    position: int,
    version: int,
    departments: DepartmentRegistry,
    ledger: ExtractLedger,
    agency: str,
    officer: str | None,
    purpose: str,
) -> tuple[bytes, IssuedExtract]:
    """An internal (内部) extract of an agency's as-of record (`projections.history`): every
    record, unmasked, each penalty's state on that date; marked 内部 on every page, with the
    agency, officer and purpose printed. Recorded in the ledger like the public extract (so
    `/verify` tells it is genuine), but never kept for reuse: each one names its reader."""
    ensure_font()
    generated_at = clock.now()
    code = new_code()
    local = generated_at.astimezone(CHINA)
    meta = {
        "internal": "1",
        "code": code,
        "generated_at": local.strftime("%Y-%m-%d %H:%M:%S（北京时间）"),
        "reflects": f"业务日期 {view['as_of']} 日终"
        + (f"，平台截至 {view['known_at']} 已记录的信息" if view.get("known_at") else "")
        + f"（平台事件位置 {position}，该主体记录第 {version} 版）",
        "verify": f"访问 {verify_url} 上传本文件或输入验证码 {code}",
        "agency": agency,
        "officer": officer or "",
        "purpose": purpose,
    }
    names = {d.code: d.name for d in departments.all()}
    pdf = render_pdf(view, names, meta)
    issued = IssuedExtract(
        sha256=hashlib.sha256(pdf).hexdigest(),
        code=code,
        uscc=view["uscc"],
        position=position,
        version=version,
        generated_at=generated_at,
    )
    ledger.record(issued)
    return pdf, issued
