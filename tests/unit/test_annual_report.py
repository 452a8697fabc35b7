"""Annual-report deadlines."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from domain.annual_report import (
    can_submit,
    first_report_year,
    is_on_time,
    overdue_years,
    report_window,
    years_due,
)


def test_report_for_a_year_is_due_from_january_to_june_of_the_next() -> None:
    assert report_window(2024) == (date(2025, 1, 1), date(2025, 6, 30))


def test_entity_registered_in_a_year_first_reports_for_that_year() -> None:
    assert first_report_year(date(2023, 12, 31)) == 2023


def test_report_on_the_first_and_last_day_is_on_time() -> None:
    assert not is_on_time(2024, date(2024, 12, 31))
    assert is_on_time(2024, date(2025, 1, 1))
    assert is_on_time(2024, date(2025, 6, 30))
    assert not is_on_time(2024, date(2025, 7, 1))


def test_late_report_may_still_be_submitted() -> None:
    assert can_submit(2022, date(2020, 5, 1), date(2025, 9, 1))


def test_report_cannot_be_submitted_before_its_window_opens() -> None:
    assert not can_submit(2024, date(2020, 5, 1), date(2024, 12, 31))
    assert can_submit(2024, date(2020, 5, 1), date(2025, 1, 1))


def test_no_report_is_owed_for_years_before_establishment() -> None:
    assert not can_submit(2019, date(2020, 5, 1), date(2025, 1, 1))


def test_years_due_are_those_whose_window_has_opened() -> None:
    assert years_due(date(2021, 8, 1), date(2024, 12, 31)) == [2021, 2022, 2023]
    assert years_due(date(2021, 8, 1), date(2025, 1, 1)) == [2021, 2022, 2023, 2024]
    assert years_due(date(2024, 8, 1), date(2024, 12, 31)) == []


def test_year_becomes_overdue_on_the_first_of_july() -> None:
    established = date(2022, 3, 1)
    assert overdue_years(established, {2022}, date(2024, 6, 30)) == []
    assert overdue_years(established, {2022}, date(2024, 7, 1)) == [2023]
    assert overdue_years(established, set(), date(2024, 7, 1)) == [2022, 2023]
    assert overdue_years(established, [2022, 2023], date(2024, 7, 1)) == []


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)),
    st.sets(st.integers(2000, 2035)),
)
def test_overdue_years_are_due_unsubmitted_and_closed(
    established: date, today: date, submitted: set[int]
) -> None:
    due = years_due(established, today)
    overdue = overdue_years(established, submitted, today)
    assert set(overdue) <= set(due)
    for year in overdue:
        assert year not in submitted
        assert report_window(year)[1] < today
    for year in due:
        assert can_submit(year, established, today)


def test_each_year_owed_is_due_filed_late_or_overdue() -> None:
    from domain.annual_report import report_obligations

    established = date(2021, 6, 1)
    filed = {2021: (date(2022, 3, 1), 0), 2022: (date(2023, 8, 1), 0), 2024: (date(2025, 6, 30), 2)}
    states = {o.year: o.state for o in report_obligations(established, filed, date(2025, 7, 1))}
    assert states == {2024: "filed", 2023: "overdue", 2022: "late", 2021: "filed"}
    on_june_30 = {o.year: o.state for o in report_obligations(established, {}, date(2026, 6, 30))}
    assert on_june_30[2025] == "due" and on_june_30[2024] == "overdue"


def test_a_report_may_be_corrected_until_the_thirtieth_of_june() -> None:
    from domain.annual_report import ReportObligation, correction_window_closed

    filed = ReportObligation(2025, date(2026, 1, 1), date(2026, 6, 30), "filed", date(2026, 3, 1))
    assert filed.can_correct(date(2026, 6, 30)) and not filed.can_correct(date(2026, 7, 1))
    assert not correction_window_closed(2025, date(2026, 6, 30))
    assert correction_window_closed(2025, date(2026, 7, 1))
