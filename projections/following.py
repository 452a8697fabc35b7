"""What every projection runner shares: following the notification log in a loop."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

log = logging.getLogger(__name__)


class Follower(ABC):
    """A runner that processes the notification log batch by batch until stopped."""

    name: str

    def __init__(self) -> None:
        self._stop = threading.Event()

    @abstractmethod
    def position(self) -> int:
        """The last notification id processed (0 before the first)."""

    @abstractmethod
    def head(self) -> int:
        """The last notification id in the event store."""

    def lag(self) -> int:
        return max(0, self.head() - self.position())

    @abstractmethod
    def run_once(self) -> int:
        """Process one batch; returns the number of notifications consumed (0 = caught up)."""

    def catch_up(self) -> int:
        total = 0
        while count := self.run_once():
            total += count
        return total

    def run_forever(self, idle_s: float = 0.2) -> None:
        while not self._stop.is_set():
            try:
                if self.run_once() == 0:
                    self._stop.wait(idle_s)
            except Exception:  # keep following; the error is logged and retried
                log.exception("projection %s failed; retrying", self.name)
                self._stop.wait(2.0)

    def stop(self) -> None:
        self._stop.set()
