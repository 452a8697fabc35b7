"""Clock adapters. `GONGSHI_TODAY` fixes the date the whole system believes it is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


class SystemClock:
    """The real date and time in China."""

    def today(self) -> date:
        return datetime.now(CHINA).date()

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedDateClock:
    """A clock whose date is fixed (audits, demos, tests); the time of day still moves."""

    def __init__(self, today: date) -> None:
        self._today = today

    def today(self) -> date:
        return self._today

    def now(self) -> datetime:
        real = datetime.now(CHINA)
        return datetime.combine(self._today, real.timetz()).astimezone(UTC)
