"""Working days in China: weekdays, less the public holidays, plus the weekend days the State
Council moves work to (调休).

The table is data (`data/workdays.json`), one entry per year the State Council has announced
(seeded from the PyPI package `chinesecalendar` 1.11.0, which knows years up to 2026), extendable
by a file of the same shape for later years (`GONGSHI_WORKDAYS_FILE`, read by the composition root:
`WorkingDays.extended`). A date in a year the table does not hold raises `CalendarNotKnown`: a
later year never silently counts as ordinary weekdays.

Where a deadline must still be given for such a year (an enterprise's due date, a department's
decision deadline), `deadline` counts that year's Mondays to Fridays instead and says so: the
`Deadline` it returns names the years it estimated, and carries a warning that every record of
that deadline shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["CalendarNotKnown", "Deadline", "WorkingDays", "working_days"]


class CalendarNotKnown(LookupError):
    """The holidays of this year have not been entered (or not yet announced)."""

    def __init__(self, year: int) -> None:
        super().__init__(f"{year} 年的节假日安排尚未录入，无法计算工作日")
        self.year = year


@dataclass(frozen=True, slots=True)
class Deadline:
    """A date `days` working days after a start, and the years whose holidays were not known
    (counted as Monday to Friday): a deadline in such a year is an estimate and says so."""

    on: date
    estimated_years: tuple[int, ...] = ()

    @property
    def estimated(self) -> bool:
        return bool(self.estimated_years)

    @property
    def warning(self) -> str | None:
        if not self.estimated_years:
            return None
        years = "、".join(str(y) for y in self.estimated_years)
        return f"{years} 年的节假日安排尚未录入，此期限暂按周一至周五计算，仅供参考"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: `on`, and `warning` when estimated."""
        out: dict[str, Any] = {"on": self.on.isoformat()}
        if self.warning:
            out["warning"] = self.warning
        return out


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

    def knows(self, year: int) -> bool:
        return year in self._years

    def extended(self, other: WorkingDays) -> WorkingDays:
        """This table with `other`'s years added (a year in both: `other`'s, e.g. a correction)."""
        return WorkingDays({**self._years, **other._years})

    def deadline(self, start: date, days: int) -> Deadline:
        """Like `add`, but a year the table does not hold counts as Monday to Friday, and the
        `Deadline` names it (never a silent guess)."""
        if days < 0:
            raise ValueError("days must not be negative")
        d, left, guessed = start, days, set[int]()
        while left:
            d += timedelta(days=1)
            if d.year in self._years:
                working = self.is_working_day(d)
            else:
                guessed.add(d.year)
                working = d.weekday() < 5
            if working:
                left -= 1
        return Deadline(d, tuple(sorted(guessed)))

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
