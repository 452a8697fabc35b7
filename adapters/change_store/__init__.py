"""The change feed's table and the agencies' watchlists (see `base`)."""

from adapters.change_store.base import (
    ChangeRow,
    ChangeStore,
    ChangeStoreUnavailable,
    NewChange,
    Watchlist,
    WatchlistFilter,
    WebhookState,
)

__all__ = [
    "ChangeRow",
    "ChangeStore",
    "ChangeStoreUnavailable",
    "NewChange",
    "Watchlist",
    "WatchlistFilter",
    "WebhookState",
]
