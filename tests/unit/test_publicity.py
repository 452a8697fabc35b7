"""Penalty publicity windows: which rule set applies (who publishes, when decided), and the window
it gives — with a test at each boundary day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.departments import DepartmentRegistry
from domain.publicity import (
    LISTING_REPAIR,
    RULE_SETS,
    PenaltyFacts,
    PublicityPeriod,
    PublicityPolicy,
    Window,
    add_months,
    can_repair,
    default_publicised_on,
    is_market_supervision,
    is_penalty_public,
    market_supervision_codes,
    publicity_period,
    rule_set_for,
)

POLICY = PublicityPolicy(market_supervision_codes(DepartmentRegistry.load_default().all()))
MS = "TJ-AMR"  # market supervision
OTHER = "TJ-EM"  # any other department: the credit platform's rules


def period(
    decided_on: date,
    *,
    department: str = OTHER,
    severity: str = "general",
    policy: PublicityPolicy = POLICY,
    **facts: Any,
) -> PublicityPeriod:
    return publicity_period(
        PenaltyFacts(decided_on=decided_on, severity=severity, department=department, **facts), policy
    )


def public_on(p: PublicityPeriod, day: date) -> bool:
    return is_penalty_public(p, day)


# --- the rule sets as data -------------------------------------------------------------------------


def test_every_rule_set_carries_its_source_and_dates() -> None:
    assert [r.code for r in RULE_SETS] == ["NDRC-527-2019", "NDRC-58-2023", "NDRC-36-2026", "SAMR-45-2021"]
    for rule_set in RULE_SETS:
        assert rule_set.sources and all(s.document and s.articles for s in rule_set.sources)
        assert rule_set.issued_on <= rule_set.in_force_from
        assert rule_set.name.startswith("《")
    assert {r.code: r.in_force_from for r in RULE_SETS} == {
        "NDRC-527-2019": date(2019, 7, 1),
        "NDRC-58-2023": date(2023, 5, 1),
        "NDRC-36-2026": date(2026, 4, 1),
        "SAMR-45-2021": date(2021, 9, 1),
    }
    assert LISTING_REPAIR.sources and LISTING_REPAIR.min_months == 12


def test_market_supervision_is_known_by_department() -> None:
    departments = DepartmentRegistry.load_default()
    amr = departments.get(MS)
    tax = departments.get("TJ-TAX")
    assert amr is not None and tax is not None
    assert is_market_supervision(amr) and not is_market_supervision(tax)
    assert POLICY.scope_of(MS) == "market_supervision"
    assert POLICY.scope_of(OTHER) == "credit_platform"
    assert PublicityPolicy(frozenset({MS}), market_supervision_rules="credit_platform").scope_of(MS) == (
        "credit_platform"
    )


# --- entry into force: the day before and the day of each ---------------------------------------


@pytest.mark.parametrize(
    ("decided_on", "department", "code"),
    [
        (date(2019, 6, 30), OTHER, "NDRC-527-2019"),  # before the earliest set: the earliest
        (date(2019, 7, 1), OTHER, "NDRC-527-2019"),
        (date(2023, 4, 30), OTHER, "NDRC-527-2019"),
        (date(2023, 5, 1), OTHER, "NDRC-58-2023"),
        (date(2026, 3, 31), OTHER, "NDRC-58-2023"),
        (date(2026, 4, 1), OTHER, "NDRC-36-2026"),
        (date(2021, 8, 31), MS, "NDRC-527-2019"),  # market supervision before Order 45
        (date(2021, 9, 1), MS, "SAMR-45-2021"),
        (date(2023, 5, 1), MS, "SAMR-45-2021"),
        (date(2026, 4, 1), MS, "SAMR-45-2021"),
    ],
)
def test_the_rule_set_follows_the_publisher_and_the_decision_date(
    decided_on: date, department: str, code: str
) -> None:
    assert rule_set_for(decided_on, POLICY.scope_of(department)).code == code
    assert period(decided_on, department=department).rule_set == code


def test_market_supervision_may_be_put_under_the_credit_platform_rules() -> None:
    policy = PublicityPolicy(frozenset({MS}), market_supervision_rules="credit_platform")
    assert period(date(2026, 4, 1), department=MS, policy=policy).rule_set == "NDRC-36-2026"


# --- each window's last public day and first non-public day ---------------------------------------

WINDOWS = [
    # (label, decided_on, department, facts, rule set, starts_on, earliest repair, ends_on)
    ("527 general", date(2022, 3, 15), OTHER, {}, "NDRC-527-2019", date(2022, 3, 15), date(2022, 6, 15),
     date(2023, 3, 15)),
    ("527 minor counts as general", date(2022, 3, 15), OTHER, {"severity": "minor"}, "NDRC-527-2019",
     date(2022, 3, 15), date(2022, 6, 15), date(2023, 3, 15)),
    ("527 serious", date(2022, 3, 15), OTHER, {"severity": "serious"}, "NDRC-527-2019", date(2022, 3, 15),
     date(2022, 9, 15), date(2025, 3, 15)),
    ("527 specific serious: whole maximum", date(2022, 3, 15), OTHER,
     {"severity": "serious", "domain": "work_safety", "measures": ("fine", "suspension_of_business")},
     "NDRC-527-2019", date(2022, 3, 15), None, date(2025, 3, 15)),
    ("58 one band", date(2023, 5, 1), OTHER, {"severity": "minor"}, "NDRC-58-2023", date(2023, 5, 1),
     date(2023, 8, 1), date(2026, 5, 1)),
    ("58 serious same band", date(2024, 2, 29), OTHER, {"severity": "serious"}, "NDRC-58-2023",
     date(2024, 2, 29), date(2024, 5, 29), date(2027, 2, 28)),
    ("58 fire protection: 1 year minimum", date(2024, 2, 29), OTHER, {"domain": "fire_protection"},
     "NDRC-58-2023", date(2024, 2, 29), date(2025, 2, 28), date(2027, 2, 28)),
    ("58 special equipment: 1 year minimum", date(2025, 1, 10), OTHER, {"domain": "special_equipment"},
     "NDRC-58-2023", date(2025, 1, 10), date(2026, 1, 10), date(2028, 1, 10)),
    ("36 general", date(2026, 4, 1), OTHER, {"measures": ("fine",)}, "NDRC-36-2026", date(2026, 4, 1),
     date(2026, 7, 1), date(2027, 4, 1)),
    ("36 serious", date(2026, 4, 1), OTHER, {"severity": "serious"}, "NDRC-36-2026", date(2026, 4, 1),
     date(2027, 4, 1), date(2029, 4, 1)),
    ("36 licence revoked is serious", date(2026, 5, 20), OTHER,
     {"severity": "general", "measures": ("fine", "licence_revocation")}, "NDRC-36-2026", date(2026, 5, 20),
     date(2027, 5, 20), date(2029, 5, 20)),
    ("36 confiscation is at least general", date(2026, 5, 20), OTHER,
     {"severity": "minor", "measures": ("confiscation_of_gains",)}, "NDRC-36-2026", date(2026, 5, 20),
     date(2026, 8, 20), date(2027, 5, 20)),
    ("45 other: 3 years from publicity", date(2024, 3, 1), MS,
     {"measures": ("fine",), "fine_amount": Decimal("80000"), "publicised_on": date(2024, 3, 20)},
     "SAMR-45-2021", date(2024, 3, 20), date(2024, 9, 20), date(2027, 3, 20)),
    ("45 small fine: 3 months, no early stop", date(2024, 3, 1), MS,
     {"measures": ("warning", "fine"), "fine_amount": Decimal("50000"), "publicised_on": date(2024, 3, 20)},
     "SAMR-45-2021", date(2024, 3, 20), None, date(2024, 6, 20)),
    ("45 circulated criticism: 3 months", date(2024, 3, 1), MS,
     {"measures": ("circulated_criticism",), "publicised_on": date(2024, 3, 4)}, "SAMR-45-2021",
     date(2024, 3, 4), None, date(2024, 6, 4)),
    ("45 food: repair after a year", date(2024, 3, 1), MS,
     {"measures": ("fine",), "fine_amount": Decimal("200000"), "domain": "food",
      "publicised_on": date(2024, 3, 20)},
     "SAMR-45-2021", date(2024, 3, 20), date(2025, 3, 20), date(2027, 3, 20)),
    ("45 licence revoked: never stopped early", date(2024, 3, 1), MS,
     {"measures": ("fine", "licence_revocation"), "publicised_on": date(2024, 3, 20)}, "SAMR-45-2021",
     date(2024, 3, 20), None, date(2027, 3, 20)),
    ("45 kinds unknown, minor with a small fine", date(2024, 3, 1), MS,
     {"severity": "minor", "fine_amount": Decimal("2000"), "publicised_on": date(2024, 3, 20)},
     "SAMR-45-2021", date(2024, 3, 20), None, date(2024, 6, 20)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("decided_on", "department", "facts", "code", "starts", "earliest", "ends"),
    [w[1:] for w in WINDOWS],
    ids=[w[0] for w in WINDOWS],
)
def test_each_window_from_its_first_to_its_last_public_day(
    decided_on: date,
    department: str,
    facts: dict[str, Any],
    code: str,
    starts: date,
    earliest: date | None,
    ends: date,
) -> None:
    p = period(decided_on, department=department, **facts)
    assert (p.rule_set, p.starts_on, p.earliest_repair_on, p.ends_on) == (code, starts, earliest, ends)
    assert p.publicised and p.rule_set_name
    assert not public_on(p, starts - timedelta(days=1))
    assert public_on(p, starts)
    assert public_on(p, ends - timedelta(days=1))  # the last public day
    assert not public_on(p, ends)  # the first day it is no longer public
    if earliest is None:
        assert not can_repair(p, ends)
    else:
        assert not can_repair(p, earliest - timedelta(days=1))
        assert can_repair(p, earliest)


@pytest.mark.parametrize(
    "facts",
    [
        {"procedure": "simplified", "measures": ("fine",), "fine_amount": Decimal("1000")},
        {"measures": ("warning",)},
    ],
    ids=["simplified procedure", "a warning only"],
)
def test_market_supervision_does_not_publicise_simplified_procedure_or_warnings(
    facts: dict[str, Any],
) -> None:
    p = period(date(2024, 3, 1), department=MS, publicised_on=date(2024, 3, 5), **facts)
    assert (p.rule_set, p.publicised) == ("SAMR-45-2021", False)
    assert not public_on(p, date(2024, 3, 5))


@pytest.mark.parametrize(
    "facts",
    [{"severity": "minor"}, {"procedure": "simplified"}, {"measures": ("warning", "circulated_criticism")}],
    ids=["minor", "simplified procedure", "warning and criticism only"],
)
def test_order_36_light_penalties_are_not_publicised_unless_the_setting_says_so(
    facts: dict[str, Any],
) -> None:
    p = period(date(2026, 4, 1), **facts)
    assert (p.rule_set, p.publicised, p.penalty_class) == ("NDRC-36-2026", False, "light")
    shown = period(date(2026, 4, 1), policy=PublicityPolicy(POLICY.market_supervision_departments,
                                                             publicise_light=True), **facts)  # fmt: skip
    assert (shown.publicised, shown.earliest_repair_on, shown.ends_on) == (
        True,
        date(2026, 4, 1),
        date(2026, 7, 1),
    )


def test_light_the_day_before_order_36_is_still_publicised_under_order_58() -> None:
    p = period(date(2026, 3, 31), severity="minor")
    assert (p.rule_set, p.publicised, p.ends_on) == ("NDRC-58-2023", True, date(2029, 3, 31))


def test_the_small_fine_limit_is_a_setting() -> None:
    facts = {"measures": ("fine",), "fine_amount": Decimal("60000"), "publicised_on": date(2024, 3, 20)}
    assert period(date(2024, 3, 1), department=MS, **facts).ends_on == date(2027, 3, 20)
    hubei = PublicityPolicy(POLICY.market_supervision_departments, small_fine_limit=Decimal("99999.99"))
    assert period(date(2024, 3, 1), department=MS, policy=hubei, **facts).ends_on == date(2024, 6, 20)


# --- the publicity date ------------------------------------------------------------------------------


def test_publicised_on_defaults_to_the_applied_date_within_the_deadline() -> None:
    decided = date(2024, 9, 10)
    # 20 working days after 2024-09-10, past the Mid-Autumn (9-16/17) and National Day (10-1..7)
    # holidays and the make-up working days (9-14, 9-29, 10-12)
    assert default_publicised_on(decided, date(2024, 9, 12)) == date(2024, 9, 12)
    assert default_publicised_on(decided, date(2026, 11, 22)) == date(2024, 10, 14)
    assert default_publicised_on(decided, date(2024, 10, 14)) == date(2024, 10, 14)
    assert default_publicised_on(decided, date(2024, 10, 15)) == date(2024, 10, 14)


def test_publicised_on_falls_back_to_the_applied_date_where_the_calendar_ends() -> None:
    assert default_publicised_on(date(2026, 12, 20), date(2026, 12, 28)) == date(2026, 12, 28)


def test_a_market_supervision_window_without_a_publicity_date_counts_from_the_decision() -> None:
    p = period(date(2024, 3, 1), department=MS, measures=("fine",), fine_amount=Decimal("80000"))
    assert p.starts_on == date(2024, 3, 1)


# --- the rest ---------------------------------------------------------------------------------------


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


def test_the_serious_list_may_be_repaired_after_one_year() -> None:
    assert LISTING_REPAIR.earliest_repair_on(date(2024, 7, 1)) == date(2025, 7, 1)


def test_revoked_penalty_is_never_public() -> None:
    p = period(date(2024, 3, 15), severity="serious")
    assert not is_penalty_public(p, date(2024, 4, 1), revoked=True)


def test_repaired_penalty_leaves_public_view_on_the_repair_date() -> None:
    p = period(date(2024, 3, 15), severity="serious")
    repaired = date(2025, 6, 1)
    assert is_penalty_public(p, date(2025, 5, 31), repaired_on=repaired)
    assert not is_penalty_public(p, repaired, repaired_on=repaired)


def test_unknown_severity_is_rejected() -> None:
    with pytest.raises(ValueError, match="严重程度"):
        period(date(2024, 1, 1), severity="catastrophic")


def test_window_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        Window(12, 3)


@given(
    st.sampled_from(["minor", "general", "serious"]),
    st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)),
    st.sampled_from([MS, OTHER]),
    st.sampled_from(["other", "food", "work_safety", "special_equipment"]),
    st.integers(0, 30),
)
def test_windows_are_consistent_for_any_decision(
    severity: str, decided_on: date, department: str, domain: str, delay: int
) -> None:
    p = period(
        decided_on, department=department, severity=severity, domain=domain,
        publicised_on=decided_on + timedelta(days=delay),
    )  # fmt: skip
    if not p.publicised:
        assert p.ends_on is None and p.earliest_repair_on is None
        return
    assert p.ends_on is not None
    assert decided_on <= p.starts_on < p.ends_on
    if p.earliest_repair_on is not None:
        assert p.starts_on <= p.earliest_repair_on <= p.ends_on
    assert is_penalty_public(p, p.starts_on)
    assert is_penalty_public(p, p.ends_on - timedelta(days=1))
    assert not is_penalty_public(p, p.ends_on)


def test_the_settings_reach_the_rules_the_registry_and_the_projections_read(tmp_path: Path) -> None:
    from infra.bootstrap import build
    from infra.settings import Settings

    settings = Settings(
        data_dir=tmp_path,
        publicity_small_fine_limit=Decimal("99999.99"),
        publicity_publicise_light=True,
        publicity_market_supervision_rules="credit_platform",
    )
    container = build(settings)
    try:
        policy = container.registry.publicity
        assert (policy.small_fine_limit, policy.publicise_light, policy.market_supervision_rules) == (
            Decimal("99999.99"),
            True,
            "credit_platform",
        )
        assert MS in policy.market_supervision_departments
        assert container.reader.publicity is policy
    finally:
        container.close()
