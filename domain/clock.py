"""The clock port: the only way the system learns what day and what instant it is.

Two kinds of time, never compared with each other:
- the **system date** (`today()`, a `date`): the date in China (Asia/Shanghai) — or
  `GONGSHI_TODAY` when an operator fixes it. Every count in days follows it: publicity windows,
  annual-report deadlines, validity in days, the daily jobs.
- **instants** (`now()`, a timezone-aware UTC `datetime`): always the real clock. Everything
  counted in minutes and seconds follows it: token lifetimes, timeouts, timestamps of stored rows
  and events.
An instant becomes a system date only through `date_of(instant)`; `instant.date()` gives the
UTC date, which is the day before the China date from 16:00 to 24:00 UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def china_date(instant: datetime) -> date:
    """The calendar date in China at `instant` (which must be timezone-aware)."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(CHINA).date()


class Clock(Protocol):
    def today(self) -> date:
        """The date the whole system believes it is (China date, or `GONGSHI_TODAY`)."""

    def now(self) -> datetime:
        """The real current instant, timezone-aware (UTC)."""

    def date_of(self, instant: datetime) -> date:
        """The system date at `instant`: `date_of(now()) == today()`."""
