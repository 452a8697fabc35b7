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
from typing import Literal

__all__ = [
    "REPORT_STATE_LABELS",
    "ReportObligation",
    "ReportState",
    "can_submit",
    "correction_window_closed",
    "first_report_year",
    "is_on_time",
    "overdue_years",
    "report_obligations",
    "report_state",
    "report_window",
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
