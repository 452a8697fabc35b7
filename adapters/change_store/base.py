"""The change feed's table and the agencies' watchlists, beside the event store.

Every change message (`gongshi.change/2`, made by `projections.changes`) is kept here for
`GONGSHI_CHANGE_FEED_RETENTION_DAYS` (default 400) under a position of its own: one sequence for
both causes (an event, or a publicity window that opened or closed with the date), increasing
in the order the changes were written, never reused. `append` is idempotent on each change's
`key` (`event:<notification id>`, `publicity:<uscc>:<date>`): a batch written again (a crash
between the table and the log) gets the positions it had.

Watchlists belong to an agency: a list of USCCs (up to 100,000; matched in the database) or a
filter (district, entity type, flags entered or left, record categories, departments; matched
as changes are read). A watchlist may have a webhook: its delivery state (the position delivered,
attempts, when to try again) is kept here too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ChangeRow",
    "ChangeStore",
    "ChangeStoreUnavailable",
    "NewChange",
    "Watchlist",
    "WatchlistFilter",
    "WebhookState",
]


class ChangeStoreUnavailable(Exception):
    """The change table cannot be written or read."""


@dataclass(frozen=True)
class NewChange:
    """A change to keep: its idempotency key, what a watchlist filters on, and the message (a
    JSON-ready dict without its position)."""

    key: str
    uscc: str
    recorded_at: datetime
    message: dict[str, Any]


@dataclass(frozen=True)
class ChangeRow:
    position: int
    uscc: str
    message: dict[str, Any]  # with its `position`


@dataclass(frozen=True)
class WatchlistFilter:
    """Every field given must hold; within a field, any value. Districts are division codes."""

    districts: tuple[str, ...] = ()
    entity_types: tuple[str, ...] = ()
    flags_entered: tuple[str, ...] = ()
    flags_left: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()

    def holds(self, message: dict[str, Any]) -> bool:
        before, after = set(message.get("flags_before") or ()), set(message.get("flags_after") or ())
        if self.districts and message.get("district") not in self.districts:
            return False
        if self.entity_types and message.get("entity_type") not in self.entity_types:
            return False
        if self.flags_entered and not set(self.flags_entered) & (after - before):
            return False
        if self.flags_left and not set(self.flags_left) & (before - after):
            return False
        if self.categories and not set(self.categories) & set(message.get("categories") or ()):
            return False
        return not self.departments or message.get("department") in self.departments

    def public(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class Watchlist:
    id: str
    agency: str
    name: str
    created_at: datetime
    filter: WatchlistFilter | None = None
    uscc_count: int = 0
    webhook_url: str | None = None


@dataclass
class WebhookState:
    watchlist_id: str
    position: int = 0
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ChangeStore(ABC):
    # --- the feed ---------------------------------------------------------------------------

    @abstractmethod
    def append(self, changes: Sequence[NewChange]) -> list[int]:
        """Keep `changes`; their positions, in order (a key kept before keeps its position)."""

    @abstractmethod
    def after(self, position: int, limit: int) -> list[ChangeRow]:
        """Changes after `position`, oldest first."""

    @abstractmethod
    def after_for_usccs(self, watchlist_id: str, position: int, limit: int) -> list[ChangeRow]:
        """Changes after `position` to the entities of a USCC watchlist, oldest first."""

    @abstractmethod
    def bounds(self) -> tuple[int | None, int, int]:
        """(oldest position kept or None, newest position, highest position purged (0: none))."""

    @abstractmethod
    def purge(self, before: datetime) -> int:
        """Drop the changes recorded before `before`; how many went."""

    # --- watchlists ---------------------------------------------------------------------------

    @abstractmethod
    def create_watchlist(self, watchlist: Watchlist, usccs: Sequence[str]) -> None: ...

    @abstractmethod
    def watchlist(self, watchlist_id: str) -> Watchlist | None: ...

    @abstractmethod
    def watchlists(self, agency: str | None = None) -> list[Watchlist]:
        """An agency's watchlists (everyone's when None), oldest first."""

    @abstractmethod
    def delete_watchlist(self, watchlist_id: str) -> bool:
        """Drop a watchlist with its USCCs and webhook state (its feed and deliveries stop);
        False when there was none. The changes themselves stay."""

    @abstractmethod
    def webhook_state(self, watchlist_id: str) -> WebhookState: ...

    @abstractmethod
    def save_webhook_state(self, state: WebhookState) -> None: ...

    def close(self) -> None:
        """Release connections."""
