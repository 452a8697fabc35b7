"""The publicity job: penalties enter and leave public view with their publicity windows.

What the public reads is already filtered by date (`public_view`, the records' `public_until`);
what is stored for filtering — the `penalty` flag a search can be narrowed by — is evaluated
when a document is written, so the job re-evaluates it for a date: every entity whose flag
differs on that date is re-written (`SearchIndex.reevaluate_flags`). Revocations, credit repairs
and removals from a list are events: the projection re-writes those entities as they arrive.

`DailyPublicity` runs the job inside `gongshi serve`: once at start, then whenever the system's
date has moved on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date

from adapters.search_index.base import FlagChange, SearchIndex
from domain.clock import Clock

log = logging.getLogger(__name__)


#: Announces the entities whose flags change with the date (`ChangeFeed.announce_publicity`).
Announce = Callable[[date, list[FlagChange]], object]


def run_publicity(index: SearchIndex, as_of: date, announce: Announce | None = None) -> int:
    """Re-evaluate the publicity windows as of `as_of`; returns how many entities changed. With
    `announce`, the changes are announced first (the change feed, cause `publicity`): a crash
    between the two announces them again on the next run (same keys, same positions)."""
    if announce is not None:
        found = index.flag_changes(as_of)
        if found:
            announce(as_of, found)
    changed = index.reevaluate_flags(as_of)
    log.info("publicity as of %s: %d entities changed", as_of, changed)
    return changed


class DailyPublicity:
    name = "publicity"

    def __init__(
        self,
        index: SearchIndex,
        clock: Clock,
        check_every_s: float = 60.0,
        *,
        announce: Announce | None = None,
        daily: Callable[[date], object] | None = None,
    ) -> None:
        self.index = index
        self.announce = announce
        self.daily = daily
        self.clock = clock
        self.check_every_s = check_every_s
        self.last_run: date | None = None
        self._stop = threading.Event()

    def run_once(self) -> int | None:
        """Run the job if it has not run for today's date yet; returns the entities changed
        (None when it had already run today)."""
        today = self.clock.today()
        if today == self.last_run:
            return None
        changed = run_publicity(self.index, today, self.announce)
        if self.daily is not None:
            self.daily(today)
        self.last_run = today
        return changed

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the index may be down: try again at the next check
                log.exception("publicity job failed; retrying")
            self._stop.wait(self.check_every_s)

    def stop(self) -> None:
        self._stop.set()
