"""Annual-report deadlines: the report for year Y is due 1 January – 30 June of Y+1.

企业信息公示暂行条例 (State Council Order 654, 2014; text read in LawRefBook/Laws
`行政法规/企业信息公示暂行条例.md`): Art. 8 — the report for the previous year is filed from 1 January
to 30 June, and an entity registered in a year first reports from the next year (for that year);
Art. 12 — a correction of an annual report is completed before 30 June, and both the former and
the corrected information are shown; Art. 17 — an entity that has not filed is put on the
abnormal operations list.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args

from domain.masking import mask_phone
from domain.publications import OptionalReportField

__all__ = [
    "MONEY_FIELDS",
    "OPTIONAL_FIELDS",
    "REPORT_FIELD_LABELS",
    "REPORT_STATE_LABELS",
    "ReportObligation",
    "ReportProblem",
    "ReportState",
    "can_submit",
    "correction_window_closed",
    "first_report_year",
    "is_on_time",
    "overdue_years",
    "public_report",
    "report_obligations",
    "report_problems",
    "report_state",
    "report_window",
    "withheld_fields",
    "years_due",
]


def report_window(year: int) -> tuple[date, date]:
    """(first, last) day, both inclusive, on which the report for `year` is on time."""
    return date(year + 1, 1, 1), date(year + 1, 6, 30)


def first_report_year(established_on: date) -> int:
    """An entity established in year Y first reports for Y."""
    return established_on.year


def is_on_time(year: int, submitted_on: date) -> bool:
    """Submitted within the year's window."""
    start, end = report_window(year)
    return start <= submitted_on <= end


def can_submit(year: int, established_on: date, on: date) -> bool:
    """The report for `year` is owed and its window has opened (late reports are accepted)."""
    return year >= first_report_year(established_on) and on >= report_window(year)[0]


def years_due(established_on: date, today: date) -> list[int]:
    """Report years whose window has opened by `today`."""
    return list(range(first_report_year(established_on), today.year))


def overdue_years(established_on: date, submitted_years: Collection[int], today: date) -> list[int]:
    """Report years whose window has closed by `today` and that were not submitted."""
    return [
        y
        for y in years_due(established_on, today)
        if report_window(y)[1] < today and y not in submitted_years
    ]


# --- where an entity stands, per year ------------------------------------------------------------

#: due: the window is open and nothing is filed; filed: filed within the window; late: first filed
#: after 30 June; overdue: the window closed and nothing is filed.
ReportState = Literal["due", "filed", "late", "overdue"]
REPORT_STATE_LABELS: dict[str, str] = {
    "due": "待报送",
    "filed": "已报送",
    "late": "逾期补报",
    "overdue": "逾期未报",
}


@dataclass(frozen=True, slots=True)
class ReportObligation:
    """The report for `year`: its window, where it stands on `today`, and whether a correction is
    still accepted (until 30 June of the next year, Art. 12 of the Regulations)."""

    year: int
    opens_on: date
    due_on: date
    state: ReportState
    filed_on: date | None = None
    corrections: int = 0

    @property
    def label(self) -> str:
        return REPORT_STATE_LABELS[self.state]

    def can_correct(self, today: date) -> bool:
        return self.filed_on is not None and today <= self.due_on


def report_state(year: int, filed_on: date | None, today: date) -> ReportState:
    start, end = report_window(year)
    if filed_on is not None:
        return "filed" if filed_on <= end else "late"
    return "due" if start <= today <= end else "overdue"


def report_obligations(
    established_on: date, filed: Mapping[int, tuple[date, int]], today: date
) -> list[ReportObligation]:
    """One obligation per year whose window has opened by `today`, newest first; `filed` maps a
    year to (the date its report was first filed, how many corrections followed)."""
    out = []
    for year in reversed(years_due(established_on, today)):
        start, end = report_window(year)
        filed_on, corrections = filed.get(year, (None, 0))
        out.append(
            ReportObligation(year, start, end, report_state(year, filed_on, today), filed_on, corrections)
        )
    return out


def correction_window_closed(year: int, today: date) -> bool:
    """Art. 12: corrections of the report for `year` are made before 30 June of the next year."""
    return today > report_window(year)[1]


# --- the report's fields: what is public, and the cross-checks ---------------------------------------

#: Art. 9(7): the enterprise chooses whether to publish each of these (`publicised`).
OPTIONAL_FIELDS: tuple[str, ...] = get_args(OptionalReportField)
#: Form 1 reports (stored before form 2) made phone and e-mail public only when chosen.
FORM1_OPTIONAL_FIELDS: tuple[str, ...] = ("phone", "email")
#: Every field of a report, in the order the record shows them, with its Chinese label.
REPORT_FIELD_LABELS: dict[str, str] = {
    "operating_status": "经营状态",
    "address": "通信地址",
    "postal_code": "邮政编码",
    "phone": "联系电话",
    "email": "电子邮箱",
    "online_stores": "网站或网店",
    "websites": "网站或网店",
    "investments": "对外投资设立企业、购买股权",
    "shareholders": "股东及出资信息",
    "equity_transfers": "股权变更信息",
    "employees": "从业人数",
    "total_assets": "资产总额",
    "total_liabilities": "负债总额",
    "guarantees": "对外提供保证担保",
    "owners_equity": "所有者权益合计",
    "revenue": "营业总收入",
    "main_business_revenue": "主营业务收入",
    "profit": "利润总额",
    "net_profit": "净利润",
    "tax_paid": "纳税总额",
}
MONEY_FIELDS: frozenset[str] = frozenset(OPTIONAL_FIELDS) - {"employees"}
#: The tolerance of "assets = liabilities + owners' equity" (a share of total assets).
BALANCE_TOLERANCE = Decimal("0.01")


def withheld_fields(report: Mapping[str, Any]) -> set[str]:
    """The fields of a stored report the public may not see: the optional ones not chosen (and,
    in a form 1 report, phone and e-mail when not chosen)."""
    chosen = set(report.get("publicised") or ())
    optional = set(OPTIONAL_FIELDS)
    if int(report.get("form") or 1) < 2:
        optional |= set(FORM1_OPTIONAL_FIELDS)
    return optional - chosen


def public_report(report: Mapping[str, Any], *, natural_person: bool) -> dict[str, Any]:
    """A stored report as the public sees it: unchosen optional fields gone (wherever the report
    is shown: the record, the PDF, search, open data); for a natural person (个体工商户) the mobile
    number masked like any other personal phone."""
    hidden = withheld_fields(report)
    shown = {k: v for k, v in report.items() if k not in hidden}
    if natural_person and isinstance(shown.get("phone"), str):
        shown["phone"] = mask_phone(shown["phone"])
    return shown


@dataclass(frozen=True, slots=True)
class ReportProblem:
    """A cross-check a report fails: where (`loc`, as pydantic names a field) and why (Chinese)."""

    loc: tuple[str | int, ...]
    message: str


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def report_problems(report: Mapping[str, Any], today: date) -> list[ReportProblem]:
    """The cross-checks of a report, each failure with a Chinese message: assets = liabilities +
    owners' equity within 1 % of assets; main-business revenue within total revenue; each
    shareholder's paid capital within the subscribed; no date after the system date."""
    problems: list[ReportProblem] = []
    assets, liabilities, equity = (
        _decimal(report.get(k)) for k in ("total_assets", "total_liabilities", "owners_equity")
    )
    if assets is not None and liabilities is not None and equity is not None:
        gap = abs(assets - (liabilities + equity))
        if gap > abs(assets) * BALANCE_TOLERANCE:
            problems.append(
                ReportProblem(
                    ("total_assets",),
                    f"资产总额（{assets}）应等于负债总额与所有者权益合计之和（{liabilities + equity}），"
                    "相差不得超过资产总额的 1%",
                )
            )
    revenue, main = _decimal(report.get("revenue")), _decimal(report.get("main_business_revenue"))
    if revenue is not None and main is not None and main > revenue:
        problems.append(
            ReportProblem(
                ("main_business_revenue",), f"主营业务收入（{main}）不能大于营业总收入（{revenue}）"
            )
        )
    for i, holder in enumerate(report.get("shareholders") or ()):
        if not isinstance(holder, Mapping):
            continue
        name = holder.get("name") or f"第 {i + 1} 位股东"
        subscribed, paid = _decimal(holder.get("subscribed_amount")), _decimal(holder.get("paid_amount"))
        if subscribed is not None and paid is not None and paid > subscribed:
            problems.append(
                ReportProblem(
                    ("shareholders", i, "paid_amount"),
                    f"股东“{name}”的实缴出资额（{paid}）不能大于认缴出资额（{subscribed}）",
                )
            )
        for field, label in (("subscribed_on", "认缴出资日期"), ("paid_on", "实缴出资日期")):
            day = _day(holder.get(field))
            if day is not None and day > today:
                problems.append(
                    ReportProblem(
                        ("shareholders", i, field), f"股东“{name}”的{label} {day} 晚于系统日期 {today}"
                    )
                )
    for i, transfer in enumerate(report.get("equity_transfers") or ()):
        day = _day(transfer.get("changed_on")) if isinstance(transfer, Mapping) else None
        if day is not None and day > today:
            problems.append(
                ReportProblem(
                    ("equity_transfers", i, "changed_on"), f"股权变更日期 {day} 晚于系统日期 {today}"
                )
            )
    return problems
