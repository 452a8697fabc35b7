"""Penalty publicity windows under the rule set in force on the decision date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.publicity import (
    RULE_SETS,
    PublicityPeriod,
    Window,
    add_months,
    can_repair,
    is_penalty_public,
    publicity_period,
    rule_set_for,
)

decision_dates = st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31))
severities = st.sampled_from(["minor", "general", "serious"])


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 5, 15), 12) == date(2025, 5, 15)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(0, 120))
def test_add_months_lands_in_the_right_month_never_later_day(d: date, months: int) -> None:
    result = add_months(d, months)
    assert (result.year * 12 + result.month) - (d.year * 12 + d.month) == months
    assert result.day <= d.day


@pytest.mark.parametrize(
    ("decided_on", "code"),
    [
        (date(2021, 7, 15), "SAMR-2021"),
        (date(2023, 6, 30), "SAMR-2021"),
        (date(2023, 7, 1), "NDRC-58-2023"),
        (date(2026, 3, 31), "NDRC-58-2023"),
        (date(2026, 4, 1), "NDRC-36-2026"),
        (date(2030, 1, 1), "NDRC-36-2026"),
        (date(2010, 1, 1), "SAMR-2021"),
    ],
)
def test_rule_set_in_force_on_the_decision_date_applies(decided_on: date, code: str) -> None:
    assert rule_set_for(decided_on).code == code
    assert publicity_period("general", decided_on).rule_set == code


def test_rule_sets_are_ordered_by_entry_into_force() -> None:
    assert [r.code for r in RULE_SETS] == ["SAMR-2021", "NDRC-58-2023", "NDRC-36-2026"]
    assert RULE_SETS[0].in_force_from is None


def test_penalty_decided_the_day_before_order_58_uses_the_2021_windows() -> None:
    period = publicity_period("general", date(2023, 6, 30))
    assert period == PublicityPeriod(
        "SAMR-2021", True, date(2023, 6, 30), date(2024, 6, 30), date(2026, 6, 30)
    )


def test_general_penalty_under_order_58_is_public_3_months_to_1_year() -> None:
    period = publicity_period("general", date(2023, 7, 1))
    assert period.earliest_repair_on == date(2023, 10, 1)
    assert period.ends_on == date(2024, 7, 1)


def test_serious_penalty_under_order_58_is_public_1_to_3_years() -> None:
    period = publicity_period("serious", date(2024, 2, 29))
    assert period.earliest_repair_on == date(2025, 2, 28)
    assert period.ends_on == date(2027, 2, 28)


def test_minor_penalty_under_order_58_is_public_exactly_3_months() -> None:
    period = publicity_period("minor", date(2024, 11, 30))
    assert period.publicised
    assert period.earliest_repair_on == period.ends_on == date(2025, 2, 28)


def test_serious_penalty_under_2021_rules_cannot_be_repaired_before_3_years() -> None:
    period = publicity_period("serious", date(2022, 5, 10))
    assert period.earliest_repair_on == period.ends_on == date(2025, 5, 10)
    assert not can_repair(period, date(2025, 5, 9))
    assert can_repair(period, date(2025, 5, 10))


def test_minor_penalty_under_2021_rules_is_public_up_to_3_years() -> None:
    period = publicity_period("minor", date(2023, 6, 30))
    assert period.earliest_repair_on == date(2023, 9, 30)
    assert period.ends_on == date(2026, 6, 30)


def test_minor_penalty_decided_the_day_before_order_36_is_still_publicised() -> None:
    period = publicity_period("minor", date(2026, 3, 31))
    assert period.rule_set == "NDRC-58-2023" and period.publicised


def test_penalty_under_order_36_minor_is_not_publicised() -> None:
    period = publicity_period("minor", date(2026, 4, 1))
    assert period.rule_set == "NDRC-36-2026"
    assert not period.publicised
    assert period.ends_on is None and period.earliest_repair_on is None
    assert not is_penalty_public(period, date(2026, 4, 1))
    assert not can_repair(period, date(2030, 1, 1))


def test_general_penalty_under_order_36_keeps_the_3_month_to_1_year_window() -> None:
    period = publicity_period("general", date(2026, 4, 1))
    assert (period.earliest_repair_on, period.ends_on) == (date(2026, 7, 1), date(2027, 4, 1))


def test_penalty_leaves_public_view_on_the_day_its_window_ends() -> None:
    period = publicity_period("general", date(2024, 3, 15))
    assert not is_penalty_public(period, date(2024, 3, 14))
    assert is_penalty_public(period, date(2024, 3, 15))
    assert is_penalty_public(period, date(2025, 3, 14))
    assert not is_penalty_public(period, date(2025, 3, 15))


def test_revoked_penalty_is_never_public() -> None:
    period = publicity_period("serious", date(2024, 3, 15))
    assert not is_penalty_public(period, date(2024, 4, 1), revoked=True)


def test_repaired_penalty_leaves_public_view_on_the_repair_date() -> None:
    period = publicity_period("serious", date(2024, 3, 15))
    repaired = date(2025, 6, 1)
    assert is_penalty_public(period, date(2025, 5, 31), repaired_on=repaired)
    assert not is_penalty_public(period, repaired, repaired_on=repaired)


def test_unknown_severity_is_rejected() -> None:
    with pytest.raises(ValueError, match="严重程度"):
        publicity_period("catastrophic", date(2024, 1, 1))


def test_window_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        Window(12, 3)


@given(severities, decision_dates)
def test_windows_are_consistent_for_any_decision(severity: str, decided_on: date) -> None:
    period = publicity_period(severity, decided_on)
    assert period.rule_set == rule_set_for(decided_on).code
    if not period.publicised:
        assert severity == "minor" and decided_on >= date(2026, 4, 1)
        return
    assert period.ends_on is not None and period.earliest_repair_on is not None
    assert period.starts_on == decided_on <= period.earliest_repair_on <= period.ends_on
    assert is_penalty_public(period, decided_on)
    assert is_penalty_public(period, period.ends_on - timedelta(days=1))
    assert not is_penalty_public(period, period.ends_on)
    assert can_repair(period, period.earliest_repair_on)
    assert not can_repair(period, period.earliest_repair_on - timedelta(days=1))
