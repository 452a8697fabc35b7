"""The clock port: the only way the system learns what day it is."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol


class Clock(Protocol):
    def today(self) -> date:
        """The date the whole system believes it is."""

    def now(self) -> datetime:
        """The current instant (timezone-aware), on the day `today()` returns."""
