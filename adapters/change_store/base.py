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

Natural persons in a change (a legal representative in `sharing`, and its masked form in
`public`) are kept sealed when the store is given the personal-data vault (`seal_change`): the
sharing part's identity numbers, phones and home addresses as the events keep them, the public
part's masked values under the same person's key. Reads open them (`open_persons`); after
`gongshi persons erase` they read 已删除, in every feed that reads this table (the agencies' and
the public HTTP feed, SSE, webhooks). `seal_stored` seals the changes kept in plaintext before
(`gongshi persons migrate`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.masking import mask_id_number
from domain.personal_data import (
    ERASED,
    PERSONAL_FIELDS,
    SEALED,
    PersonalDataVault,
    is_person,
    open_persons,
    seal_persons,
)

__all__ = [
    "ChangeRow",
    "ChangeStore",
    "ChangeStoreUnavailable",
    "NewChange",
    "Watchlist",
    "WatchlistFilter",
    "WebhookState",
    "open_change",
    "persons_of",
    "seal_change",
    "seal_changes",
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


def _persons(value: Any) -> Iterator[dict[str, Any]]:
    """Every (unsealed) person in `value`."""
    if isinstance(value, dict):
        if is_person(value):
            yield value
        for v in value.values():
            yield from _persons(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _persons(v)


def _seal_masked(value: Any, vault: PersonalDataVault, real: Mapping[str, str]) -> Any:
    """`value` with every masked person whose real number is known (`real`: masked → number)
    sealed under that person's key; the others as they are (they hold no full number)."""
    if isinstance(value, dict):
        number = real.get(value["id_number"]) if is_person(value) else None
        if number is not None:
            fields = {k: value[k] for k in PERSONAL_FIELDS if isinstance(value.get(k), str)}
            kept = {k: _seal_masked(v, vault, real) for k, v in value.items() if k not in fields}
            return {**kept, SEALED: vault.seal(number, fields)}
        return {k: _seal_masked(v, vault, real) for k, v in value.items()}
    if isinstance(value, list):
        return [_seal_masked(v, vault, real) for v in value]
    return value


def seal_change(message: dict[str, Any], vault: PersonalDataVault, persons: Any = None) -> dict[str, Any]:
    """A copy of a change message with its natural persons sealed: those of the agency view
    (`sharing`) as the events seal them (`seal_persons`), those of the public view (masked) under
    the key of the person whose masked number they show — found among the sharing part's persons
    and `persons` (the entity's whole sharing document, when the caller has it) — so that an
    erasure makes both read 已删除. Sealed persons pass through: sealing again changes nothing."""
    real: dict[str, str] = {}
    for person in (*_persons(persons), *_persons(message.get("sharing"))):
        number = person["id_number"]
        if number != ERASED:
            real.setdefault(mask_id_number(number), number)
    sealed = dict(message)
    if "sharing" in message:
        sealed["sharing"] = seal_persons(message["sharing"], vault)
    if "public" in message:
        sealed["public"] = _seal_masked(message["public"], vault, real)
    return sealed


def persons_of(value: Any) -> list[dict[str, str]]:
    """The (unsealed) persons in `value`, each as its name and identity number: what
    `seal_change` needs of its `persons`, copied (the documents share objects with an aggregate
    that later events go on mutating)."""
    return [{"name": str(p["name"]), "id_number": p["id_number"]} for p in _persons(value)]


def seal_changes(
    messages: Sequence[tuple[dict[str, Any], Any]], vault: PersonalDataVault
) -> list[dict[str, Any]]:
    """`seal_change` of each (message, persons), the persons' current keys first read together
    when the vault can (`prefetch`: one query for a batch instead of one per person it has not
    sealed for yet). A person with no key left (erased) is not prefetched: sealing finds it as
    `seal` alone would."""
    prefetch = getattr(vault, "prefetch", None)
    if prefetch is not None:
        numbers = {
            person["id_number"]
            for message, persons in messages
            for person in (*_persons(persons), *_persons(message.get("sharing")))
        }
        numbers.discard(ERASED)
        prefetch(numbers)
    return [seal_change(message, vault, persons) for message, persons in messages]


def open_change(message: dict[str, Any], vault: PersonalDataVault) -> dict[str, Any]:
    """A change message with its sealed persons opened (erased fields read 已删除)."""
    opened: dict[str, Any] = open_persons(message, vault)
    return opened


class ChangeStore(ABC):
    #: seals the persons in what is kept, opens them in what is read (None: kept as given)
    vault: PersonalDataVault | None = None

    def _sealed(self, message: dict[str, Any]) -> dict[str, Any]:
        return message if self.vault is None else seal_change(message, self.vault)

    def _opened(self, rows: list[ChangeRow]) -> list[ChangeRow]:
        if self.vault is None or not rows:
            return rows
        self.vault.epoch()  # a person erased meanwhile (another process): no cached key is used
        return [ChangeRow(r.position, r.uscc, open_change(r.message, self.vault)) for r in rows]

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

    @abstractmethod
    def seal_stored(self, batch: int = 1000) -> int:
        """Seal the persons of the changes kept in plaintext (written before sealing existed),
        then compact the table so that no plaintext stays on disk (processes stopped; needs the
        vault). How many changes were rewritten; idempotent."""

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
