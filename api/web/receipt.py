"""The receipt (回执) of an enterprise's filing, as a PDF: who filed what and when, where it stands,
and the verification code anyone can check (`GET /api/v1/receipts/{code}`, the `/verify` page).

Rendered like the credit extract (WeasyPrint, a tagged PDF/UA-1 from `templates/pdf/receipt.html`
with the extract's stylesheet and embedded CJK font): a receipt proves the filing, not the
content — the content is on the record, public as the enterprise chose.
"""

from __future__ import annotations

from api.web.extract import write_pdf
from api.web.rendering import ENV
from casework.desk import FilingStatus
from domain.clock import CHINA
from domain.kinds import PUBLICATION_KINDS

STATUS_TEXT = {"pending": "已提交，处理中", "applied": "已生效（已记入信用记录）", "rejected": "未被受理"}


def kind_label(kind: str) -> str:
    found = PUBLICATION_KINDS.get(kind)
    return found.label if found else kind


def render_receipt(status: FilingStatus, name: str, verify_url: str) -> bytes:
    f = status.filing
    subject = f"{f.key} 年度" if f.kind.startswith("annual_report.") else f.key
    state = STATUS_TEXT.get(status.status, status.status) + (f"：{status.message}" if status.message else "")
    rows = [  # (label, value, never wrapped)
        ("统一社会信用代码", f.uscc, True),
        ("事项", f"{kind_label(f.kind)}（{subject}）", False),
        ("报送编号", f.publication_id, True),
        ("报送时间", f.filed_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S（北京时间）"), True),
        ("报送日期（系统日期）", f.filed_on.isoformat(), True),
        ("经办", f.filed_by, False),
        ("处理状态", state, False),
        ("验证码", f.receipt_code, True),
        ("验证方式", f"访问 {verify_url} 输入验证码 {f.receipt_code}", False),
    ]
    return write_pdf(ENV.get_template("pdf/receipt.html").render(f=f, name=name, rows=rows))
