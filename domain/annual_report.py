"""Annual-report deadlines: the report for year Y is due 1 January – 30 June of Y+1."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

__all__ = [
    "can_submit",
    "first_report_year",
    "is_on_time",
    "overdue_years",
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
