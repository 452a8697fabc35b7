"""How the public pages say things: Chinese labels, money and date formats, match highlighting.

Shared by the HTML templates (as Jinja filters and globals) and the PDF extract.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from markupsafe import Markup, escape
from pypinyin import lazy_pinyin

from domain.annual_report import MONEY_FIELDS, REPORT_FIELD_LABELS
from domain.kinds import CATEGORIES, SECTIONS
from domain.publicity import RULE_SETS
from domain.uscc import TIANJIN_DISTRICTS

CATEGORY_LABELS = {c.key: c.label for c in CATEGORIES}

#: The entity page's tabs, one per section of the record: key → (label, the public document's
#: list holding them or None).
TABS: tuple[tuple[str, str, str | None], ...] = tuple((s.key, s.label, s.field) for s in SECTIONS)
TAB_KEYS = frozenset(key for key, _, _ in TABS)
#: The plain sections (shown as a generic table where nothing more specific is drawn), by tab key.
PLAIN_SECTIONS = {s.key: s for s in SECTIONS if s.plain}

#: Which tab a publicity row (record category) belongs to.
CATEGORY_TABS = {c.key: c.section for c in CATEGORIES}

FLAG_LABELS = {"abnormal": "经营异常", "serious": "严重违法失信", "penalty": "行政处罚公示中"}
FLAG_HINTS = {
    "abnormal": "该主体目前被列入经营异常名录",
    "serious": "该主体目前被列入严重违法失信名单",
    "penalty": "该主体有处于公示期内的行政处罚",
}
STATUS_CLASSES = {"存续": "ok", "注销": "muted", "吊销": "bad"}
STATUSES = ("存续", "吊销", "注销")
SEVERITY_LABELS = {"minor": "轻微", "general": "一般", "serious": "严重"}
RULE_SET_NAMES = {r.code: r.name for r in RULE_SETS}

REGISTRATION_FIELDS = {
    "name": "名称",
    "entity_type": "类型",
    "legal_representative": "法定代表人",
    "registered_capital": "注册资本",
    "address": "住所",
    "business_scope": "经营范围",
    "registration_authority": "登记机关",
    "industry": "所属行业",
    "operating_until": "营业期限至",
    "phone": "联系电话",
    "established_on": "成立日期",
    "registration_number": "注册号",
}
#: Every field of an annual report with its label, in the record's order (domain/annual_report.py).
REPORT_FIELDS = dict(REPORT_FIELD_LABELS)
REPORT_MONEY_FIELDS = MONEY_FIELDS

DISTRICTS: tuple[tuple[str, str], ...] = tuple((code, name) for code, (name, _) in TIANJIN_DISTRICTS.items())


def decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def money(value: Any, currency: str = "CNY") -> str:
    """`"3100.00"` → `3,100.00 元`; other currencies keep their code."""
    if isinstance(value, dict):
        return money(value.get("amount"), str(value.get("currency") or "CNY"))
    amount = decimal(value)
    if amount is None:
        return "—"
    unit = "元" if currency == "CNY" else currency
    return f"{amount:,.2f} {unit}"


def capital(value: Any) -> str:
    """Registered capital in 万元: `{"amount": "2000000.00"}` → `200 万元人民币`."""
    if not isinstance(value, dict):
        return money(value)
    amount = decimal(value.get("amount"))
    if amount is None:
        return "—"
    text = f"{amount / 10000:,.4f}".rstrip("0").rstrip(".")
    currency = str(value.get("currency") or "CNY")
    return f"{text} 万元" + ("人民币" if currency == "CNY" else f"（{currency}）")


def person(value: Any) -> str:
    """A (masked) natural person: name and masked identity number."""
    if isinstance(value, dict):
        name = str(value.get("name") or "")
        number = value.get("id_number")
        return f"{name}（证件号码 {number}）" if number else name
    return "" if value is None else str(value)


def change_value(field: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if field == "legal_representative":
        return person(value)
    if field == "registered_capital":
        return capital(value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{v}" for k, v in value.items())
    return str(value)


def _report_item(field: str, item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    if field == "online_stores":
        kind = "网店" if item.get("kind") == "shop" else "网站"
        return f"{kind}：{item.get('name')}（{item.get('url')}）"
    if field == "investments":
        amount = f"，投资额 {money(item['amount'])}" if item.get("amount") not in (None, "") else ""
        code = f"（{item['uscc']}）" if item.get("uscc") else ""
        return f"{item.get('name')}{code}{amount}"
    if field == "shareholders":

        def part(prefix: str, label: str) -> str:
            extra = "，".join(str(item[k]) for k in (f"{prefix}_on", f"{prefix}_method") if item.get(k))
            return f"{label} {money(item.get(f'{prefix}_amount') or 0)}" + (f"（{extra}）" if extra else "")

        return f"{item.get('name')}：{part('subscribed', '认缴')}，{part('paid', '实缴')}"
    if field == "equity_transfers":
        return (
            f"{item.get('shareholder')}：{item.get('before_percent')}% → {item.get('after_percent')}%"
            f"（{item.get('changed_on')}）"
        )
    return "，".join(f"{k}：{v}" for k, v in item.items())


def report_value(field: str, value: Any) -> str:
    if field in REPORT_MONEY_FIELDS:
        return money(value)
    if field == "employees":
        return f"{value} 人"
    if isinstance(value, list):
        return "；".join(_report_item(field, v) for v in value) or "—"
    return str(value)


def department_name(code: str | None, names: dict[str, str]) -> str:
    if not code:
        return "—"
    return names.get(code, code)


# --- highlighting -----------------------------------------------------------------------------

_ASCII_WORDS = re.compile(r"^[A-Za-z\s']+$")


def _spans_text(text: str, needle: str) -> list[tuple[int, int]]:
    spans, lower, start = [], text.lower(), 0
    needle = needle.lower()
    while needle and (at := lower.find(needle, start)) >= 0:
        spans.append((at, at + len(needle)))
        start = at + len(needle)
    return spans


def _spans_pinyin(text: str, query: str) -> list[tuple[int, int]]:
    """Characters of `text` whose pinyin (full or initials) spells `query` (e.g. binhai, bh)."""
    target = re.sub(r"[\s']", "", query).lower()
    if not target:
        return []
    syllables = [s.lower() for s in lazy_pinyin(list(text))]
    for i in range(len(text)):
        full = initials = ""
        for j in range(i, len(text)):
            if not syllables[j].isalpha() or syllables[j] == text[j].lower():
                break
            remaining = target[len(full) :]
            if target.startswith(full) and syllables[j].startswith(remaining) and remaining:
                return [(i, j + 1)]
            full += syllables[j]
            initials += syllables[j][0]
            if initials == target:
                return [(i, j + 1)]
            if not (target.startswith(full) or target.startswith(initials)):
                break
    return []


def highlight(text: Any, query: str | None) -> Markup:
    """`text` escaped, with the part matching the search `query` wrapped in <mark>."""
    text = "" if text is None else str(text)
    q = (query or "").strip()
    if not q or not text:
        return Markup(escape(text))
    compact = "".join(q.split())
    spans = _spans_text(text, q) or _spans_text(text, compact)
    if not spans and _ASCII_WORDS.match(q) and len(compact) >= 2:
        spans = _spans_pinyin(text, q)
    if not spans:
        return Markup(escape(text))
    out, last = [], 0
    for start, end in spans:
        out.append(escape(text[last:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)
