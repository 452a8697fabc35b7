"""Publicity windows for administrative penalties, by the rule set in force on the decision date."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import cast, get_args

from domain.publications import Severity

__all__ = [
    "RULE_SETS",
    "PublicityPeriod",
    "RuleSet",
    "Window",
    "add_months",
    "can_repair",
    "is_penalty_public",
    "publicity_period",
    "rule_set_for",
]

SEVERITIES: tuple[str, ...] = get_args(Severity)


def add_months(d: date, months: int) -> date:
    """`d` plus `months` calendar months, clamped to the month's last day."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class Window:
    """How long a penalty stays public: repair possible after `min_months`, gone after `max_months`."""

    min_months: int
    max_months: int

    def __post_init__(self) -> None:
        if not 0 <= self.min_months <= self.max_months:
            raise ValueError("公示期限无效：最短期限须不大于最长期限")


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A versioned set of publicity windows; `windows[severity] is None` means not publicised."""

    code: str
    name: str
    in_force_from: date | None
    windows: Mapping[Severity, Window | None]


RULE_SETS: tuple[RuleSet, ...] = (
    RuleSet(
        code="SAMR-2021",
        name="《市场监督管理行政处罚信息公示规定》(2021)",
        in_force_from=None,
        windows=MappingProxyType(
            {"minor": Window(3, 36), "general": Window(12, 36), "serious": Window(36, 36)}
        ),
    ),
    RuleSet(
        code="NDRC-58-2023",
        name="国家发展改革委令第58号《失信行为纠正后的信用信息修复管理办法（试行）》",
        in_force_from=date(2023, 7, 1),
        windows=MappingProxyType(
            {"minor": Window(3, 3), "general": Window(3, 12), "serious": Window(12, 36)}
        ),
    ),
    RuleSet(
        code="NDRC-36-2026",
        name="国家发展改革委令第36号",
        in_force_from=date(2026, 4, 1),
        windows=MappingProxyType({"minor": None, "general": Window(3, 12), "serious": Window(12, 36)}),
    ),
)


def rule_set_for(decided_on: date) -> RuleSet:
    """The rule set in force on the decision date."""
    current = RULE_SETS[0]
    for rule_set in RULE_SETS[1:]:
        if rule_set.in_force_from is not None and rule_set.in_force_from <= decided_on:
            current = rule_set
    return current


@dataclass(frozen=True, slots=True)
class PublicityPeriod:
    """When a penalty is public (`starts_on` inclusive, `ends_on` exclusive) and repairable."""

    rule_set: str
    publicised: bool
    starts_on: date
    earliest_repair_on: date | None
    ends_on: date | None


def publicity_period(severity: str, decided_on: date) -> PublicityPeriod:
    """The publicity period of a penalty of `severity` decided on `decided_on`."""
    if severity not in SEVERITIES:
        raise ValueError(f"处罚严重程度“{severity}”无效，应为 {'/'.join(SEVERITIES)} 之一")
    rule_set = rule_set_for(decided_on)
    window = rule_set.windows.get(cast(Severity, severity))
    if window is None:
        return PublicityPeriod(rule_set.code, False, decided_on, None, None)
    return PublicityPeriod(
        rule_set=rule_set.code,
        publicised=True,
        starts_on=decided_on,
        earliest_repair_on=add_months(decided_on, window.min_months),
        ends_on=add_months(decided_on, window.max_months),
    )


def is_penalty_public(
    period: PublicityPeriod, today: date, *, revoked: bool = False, repaired_on: date | None = None
) -> bool:
    """Public while `starts_on <= today < ends_on`, unless revoked or repaired by `today`."""
    if not period.publicised or revoked:
        return False
    if today < period.starts_on:
        return False
    if period.ends_on is not None and today >= period.ends_on:
        return False
    return repaired_on is None or today < repaired_on


def can_repair(period: PublicityPeriod, on: date) -> bool:
    """Credit repair may be applied for from `earliest_repair_on`."""
    return period.earliest_repair_on is not None and on >= period.earliest_repair_on
