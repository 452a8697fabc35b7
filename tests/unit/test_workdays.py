"""Working days in China: the holiday table, and no silent guess for a year it does not hold."""

from __future__ import annotations

from datetime import date

import pytest

from domain.workdays import CalendarNotKnown, working_days


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
