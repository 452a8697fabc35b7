"""Working days in China: the holiday table, and no silent guess for a year it does not hold."""

from __future__ import annotations

from datetime import date

import pytest

from domain.workdays import CalendarNotKnown, WorkingDays, working_days


def test_holidays_and_make_up_working_days_count_as_announced() -> None:
    days = working_days()
    assert not days.is_working_day(date(2024, 10, 1))  # National Day
    assert days.is_working_day(date(2024, 10, 12))  # a Saturday worked (调休)
    assert not days.is_working_day(date(2024, 10, 13))  # an ordinary Sunday
    assert days.is_working_day(date(2024, 10, 14))


def test_twenty_working_days_after_a_decision() -> None:
    # counted by hand: 9-11..13, 9-14 (worked Saturday), 9-18..20, 9-23..27, 9-29 (worked Sunday),
    # 9-30, 10-8..11, 10-12 (worked Saturday), 10-14
    assert working_days().add(date(2024, 9, 10), 20) == date(2024, 10, 14)
    assert working_days().add(date(2024, 9, 10), 0) == date(2024, 9, 10)


def test_a_year_the_table_does_not_hold_is_refused() -> None:
    assert working_days().years[-1] == 2026
    with pytest.raises(CalendarNotKnown):
        working_days().is_working_day(date(2027, 1, 4))


def test_a_deadline_in_a_known_year_is_exact() -> None:
    deadline = working_days().deadline(date(2024, 9, 10), 20)
    assert deadline.on == date(2024, 10, 14) and not deadline.estimated and deadline.warning is None
    assert deadline.as_dict() == {"on": "2024-10-14"}


def test_a_deadline_reaching_an_unknown_year_counts_weekdays_and_says_so() -> None:
    deadline = working_days().deadline(date(2026, 12, 28), 10)
    # 12-29..31 (2026 known: working days), then 2027 Monday to Friday: 1-1, 1-4..1-8, 1-11
    assert deadline.on == date(2027, 1, 11)
    assert deadline.estimated_years == (2027,)
    assert deadline.warning is not None and "2027 年的节假日安排尚未录入" in deadline.warning
    assert deadline.as_dict()["warning"] == deadline.warning


def test_a_later_year_can_be_added_from_a_file_of_the_same_shape() -> None:
    extra = WorkingDays.from_json('{"years": {"2027": {"holidays": ["2027-01-01"], "workdays": []}}}')
    table = working_days().extended(extra)
    assert table.knows(2027) and not table.is_working_day(date(2027, 1, 1))
    deadline = table.deadline(date(2026, 12, 28), 10)
    assert deadline.on == date(2027, 1, 12) and not deadline.estimated
