"""The receipt (回执) of an enterprise's filing, as a PDF: who filed what and when, where it stands,
and the verification code anyone can check (`GET /api/v1/receipts/{code}`, the `/verify` page).

Built like the credit extract (the same embedded CJK font): a receipt proves the filing, not
the content — the content is on the record, public as the enterprise chose.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from api.web.extract import _pairs, _styles
from casework.desk import FilingStatus
from domain.clock import CHINA
from domain.kinds import PUBLICATION_KINDS

STATUS_TEXT = {"pending": "已提交，处理中", "applied": "已生效（已记入信用记录）", "rejected": "未被受理"}


def kind_label(kind: str) -> str:
    found = PUBLICATION_KINDS.get(kind)
    return found.label if found else kind


def render_receipt(status: FilingStatus, name: str, verify_url: str) -> bytes:
    f = status.filing
    st = _styles()
    subject = f"{f.key} 年度" if f.kind.startswith("annual_report.") else f.key
    rows = [
        ("市场主体名称", name or "—"),
        ("统一社会信用代码", f.uscc),
        ("事项", f"{kind_label(f.kind)}（{subject}）"),
        ("报送编号", f.publication_id),
        ("报送时间", f.filed_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S（北京时间）")),
        ("报送日期（系统日期）", f.filed_on.isoformat()),
        ("经办", f.filed_by),
        (
            "处理状态",
            STATUS_TEXT.get(status.status, status.status) + (f"：{status.message}" if status.message else ""),
        ),
        ("验证码", f.receipt_code),
        ("验证方式", f"访问 {verify_url} 输入验证码 {f.receipt_code}"),
    ]
    story = [
        Paragraph("企业信息报送回执", st["title"]),
        Spacer(1, 4 * mm),
        _pairs(st, rows),
        Spacer(1, 3 * mm),
        Paragraph(
            "本回执证明上述事项已通过天津市市场主体信用信息公示系统报送。报送的内容以系统公示为准；"
            "企业选择不公示的信息不对社会公示。",
            st["small"],
        ),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"报送回执 {f.publication_id}",
        author="天津市市场主体信用信息公示系统",
        subject=f"{f.uscc} 验证码 {f.receipt_code}",
        keywords=f"uscc:{f.uscc} receipt-code:{f.receipt_code}",
        creator="Gongshi",
    )
    doc.build(story)
    return buffer.getvalue()
