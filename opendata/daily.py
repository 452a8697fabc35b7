"""The daily open-data release inside `gongshi serve`: once the China hour reaches the configured
one, the day's snapshot and the delta from the previous release are written (`Releases.publish`)
and releases past the retention are removed. A release already there for today (after a restart)
is not written again. A failure is logged and tried again after `retry_after_s`; `stop()` ends a
release in progress at the next thousand entities, leaving nothing partial behind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from adapters.search_index.base import SearchIndex
from domain.clock import CHINA, Clock
from opendata.releases import Release, Releases
from opendata.snapshot import ExportCancelled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReleasePolicy:
    """When releases are written, how long they are kept and under which licence (from the
    settings); the data dictionary page and `/api/v1/open-data` state it."""

    daily: bool
    hour: int
    keep_days: int
    licence: str
    licence_url: str

    def text(self) -> str:
        if not self.daily:
            return "不定期发布（由平台运维人员生成）"
        return f"每日北京时间 {self.hour:02d}:00 起生成当日快照及相对上一次发布的增量"


class DailyOpenData:
    name = "open-data"

    def __init__(
        self,
        index: SearchIndex,
        department_names: Mapping[str, str],
        clock: Clock,
        releases: Releases,
        *,
        hour: int,
        keep_days: int,
        check_every_s: float = 60.0,
        retry_after_s: float = 600.0,
    ) -> None:
        self.index = index
        self.department_names = department_names
        self.clock = clock
        self.releases = releases
        self.hour = hour
        self.keep_days = keep_days
        self.check_every_s = check_every_s
        self.retry_after_s = retry_after_s
        self.last_release: Release | None = None
        self._stop = threading.Event()

    def due(self) -> date | None:
        """Today's date when its release is due and not written yet."""
        if self.clock.now().astimezone(CHINA).hour < self.hour:
            return None
        today = self.clock.today()
        return None if today in self.releases.days() else today

    def run_once(self) -> Release | None:
        """Write today's release if it is due; returns it (None when not due)."""
        day = self.due()
        if day is None:
            return None
        started = time.monotonic()
        release = self.releases.publish(self.index, self.department_names, day, should_stop=self._stop.is_set)
        removed = self.releases.prune(day, self.keep_days)
        counts = release.snapshot.counts
        log.info(
            "open data as of %s: %d entities, %d records in %.1f s%s%s",
            day,
            counts.entities,
            counts.records,
            time.monotonic() - started,
            f"; delta from {release.delta.from_.as_of}" if release.delta else "",
            f"; removed {', '.join(map(str, removed))}" if removed else "",
        )
        self.last_release = release
        return release

    def run_forever(self) -> None:
        while not self._stop.is_set():
            wait = self.check_every_s
            try:
                self.run_once()
            except ExportCancelled:
                return
            except Exception:  # the index may be down: try again later
                log.exception("open-data release failed; retrying in %.0f s", self.retry_after_s)
                wait = self.retry_after_s
            self._stop.wait(wait)

    def stop(self) -> None:
        self._stop.set()
