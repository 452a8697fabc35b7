"""Clock adapters. `GONGSHI_TODAY` fixes the date the whole system believes it is.

See `domain/clock.py` for the two kinds of time: the system date counts days, instants are real.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from domain.clock import CHINA, china_date

__all__ = ["CHINA", "FixedDateClock", "SystemClock"]


def _real_now() -> datetime:
    return datetime.now(UTC)


class SystemClock:
    """The real date in China, and the real instant."""

    def __init__(self, now: Callable[[], datetime] = _real_now) -> None:
        self._now = now

    def today(self) -> date:
        return china_date(self._now())

    def now(self) -> datetime:
        return self._now().astimezone(UTC)

    def date_of(self, instant: datetime) -> date:
        return china_date(instant)


class FixedDateClock:
    """A clock whose system date is fixed (audits, demos, tests); instants stay real.

    The system runs a whole number of days away from the real China date: `today()` is always
    the fixed date, and an instant's system date is its China date shifted by the same number of
    days, so `date_of(now()) == today()` at every hour of the UTC day.
    """

    def __init__(self, today: date, now: Callable[[], datetime] = _real_now) -> None:
        self._today = today
        self._now = now

    def today(self) -> date:
        return self._today

    def now(self) -> datetime:
        return self._now().astimezone(UTC)

    def date_of(self, instant: datetime) -> date:
        shift = self._today - china_date(self._now())
        return china_date(instant) + shift
