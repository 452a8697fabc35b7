"""The building blocks of an entity's planned publications: the timeline, the serial numbers
departments issue, the registration's state over time, and date helpers (days are ordinals).
"""

from __future__ import annotations

import random
from datetime import date
from functools import cache
from typing import Any

from domain.publicity import add_months
from infra.datagen import names as kb
from infra.datagen.profiles import Profile, ProfileFactory

Item = tuple[int, int, str, str, dict[str, Any]]  # (day, order, department, kind, payload)

AMR = "TJ-AMR"
EARLIEST_DISCLOSURE = date(2014, 3, 1).toordinal()
FIRST_REPORT_YEAR = 2000  # AnnualReportSubmitted.year >= 2000 (the real system began with 2013's reports)


@cache
def iso(day: int) -> str:
    return date.fromordinal(day).isoformat()


@cache
def year_of(day: int) -> int:
    return date.fromordinal(day).year


@cache
def report_window(year: int) -> tuple[int, int]:
    return date(year + 1, 1, 1).toordinal(), date(year + 1, 6, 30).toordinal()


def months_later(day: int, months: int) -> int:
    return add_months(date.fromordinal(day), months).toordinal()


def money(amount: int) -> str:
    return f"{amount}.00"


class Timeline:
    """Publications of one entity; `order` breaks ties between publications of the same day."""

    __slots__ = ("items", "n", "today")

    def __init__(self, today: int) -> None:
        self.items: list[Item] = []
        self.n = 0
        self.today = today

    def add(
        self, day: int, department: str, kind: str, payload: dict[str, Any], *, early: bool = False
    ) -> None:
        if day > self.today:  # the platform rejects the future (`future_date`): a planner bug
            raise ValueError(f"{kind} planned on day {day}, after today ({self.today})")
        self.n += 1
        self.items.append((day, -1 if early else self.n, department, kind, payload))


class Numbers:
    """Serial numbers departments issue (decision numbers, licence numbers …), per key."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def next(self, key: str) -> int:
        n = self._last.get(key, 0) + 1
        self._last[key] = n
        return n

    def doc(self, prefix: str, day: int) -> str:
        """`津市监罚〔2024〕123号`"""
        year = year_of(day)
        return f"{prefix}〔{year}〕{self.next(f'{prefix}{year}')}号"


class EntityState:
    """The registration as it changes over time (for changes and annual reports)."""

    def __init__(self, p: Profile) -> None:
        self.name = p.name
        self.scope = list(p.scope)
        self.permits = list(p.permits)
        self.capital = p.capital
        self.representative = p.legal_representative
        self.addresses: list[tuple[int, str]] = [(p.established, p.address)]

    def address_on(self, day: int) -> str:
        current = self.addresses[0][1]
        for since, address in self.addresses:
            if since > day:
                break
            current = address
        return current


class PlannerBase:
    """What every part of the planner draws on."""

    def __init__(
        self, rng: random.Random, factory: ProfileFactory, today: date, abbreviations: dict[str, str]
    ) -> None:
        self.rng = rng
        self.people = factory
        self.today = today.toordinal()
        self.numbers = Numbers()
        self.abbr = abbreviations
        self.sector_departments = {
            sector: ((AMR, 4.0), ("TJ-TAX", 3.0), *extra) for sector, extra in kb.SECTOR_DEPARTMENTS.items()
        }
