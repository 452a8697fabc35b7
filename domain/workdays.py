"""Working days in China: weekdays, less the public holidays, plus the weekend days the State
Council moves work to (调休).

The table is data (`data/workdays.json`), one entry per year the State Council has announced
(seeded from the PyPI package `chinesecalendar` 1.11.0, which knows years up to 2026). A date in a
year the table does not hold raises `CalendarNotKnown`: a later year never silently counts as
ordinary weekdays.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources

__all__ = ["CalendarNotKnown", "WorkingDays", "working_days"]


class CalendarNotKnown(LookupError):
    """The holidays of this year have not been entered (or not yet announced)."""

    def __init__(self, year: int) -> None:
        super().__init__(f"{year} 年的节假日安排尚未录入，无法计算工作日")
        self.year = year


class WorkingDays:
    """Which dates are working days, for the years the table holds."""

    def __init__(self, years: dict[int, tuple[frozenset[date], frozenset[date]]]) -> None:
        self._years = years  # year → (holidays on weekdays, weekend days worked)

    @classmethod
    def from_json(cls, text: str) -> WorkingDays:
        raw = json.loads(text)["years"]
        return cls(
            {
                int(year): (
                    frozenset(date.fromisoformat(d) for d in entry["holidays"]),
                    frozenset(date.fromisoformat(d) for d in entry["workdays"]),
                )
                for year, entry in raw.items()
            }
        )

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self._years))

    def is_working_day(self, d: date) -> bool:
        entry = self._years.get(d.year)
        if entry is None:
            raise CalendarNotKnown(d.year)
        holidays, worked = entry
        if d in worked:
            return True
        return d.weekday() < 5 and d not in holidays

    def add(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` ("within N working days of `start`" ends on it)."""
        if days < 0:
            raise ValueError("days must not be negative")
        d, left = start, days
        while left:
            d += timedelta(days=1)
            if self.is_working_day(d):
                left -= 1
        return d


@lru_cache(maxsize=1)
def working_days() -> WorkingDays:
    """The table shipped in `domain/data/workdays.json`."""
    text = resources.files("domain").joinpath("data/workdays.json").read_text(encoding="utf-8")
    return WorkingDays.from_json(text)
