"""Reading the change table for a watchlist, and delivering its changes to its webhook.

`watchlist_changes` is what `GET /api/v1/agency/watchlists/{id}/changes` and the webhooks read:
a USCC watchlist's changes come from the database (a join), a filter's are read in order and
kept when the filter holds, at most `scan` rows at a time — the cursor returned moves past what
was read, so a narrow filter over a long stretch of unrelated changes still advances.

`WebhookDispatcher` (a runner of `gongshi serve`) posts each webhook watchlist's new changes as
one JSON body, signed (`X-Gongshi-Signature: sha256=<hex HMAC-SHA256 of the body under the
watchlist's secret>`), and moves its position only on a 2xx answer; a failure is tried again
after a growing wait (5 s, 10 s, 20 s … at most an hour). Each watchlist has its own position
and wait, and the dispatcher runs beside the feed: a slow or failing receiver delays nothing
but its own deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from adapters.change_store.base import ChangeRow, ChangeStore, Watchlist

log = logging.getLogger(__name__)

#: Delivery: (url, body, headers) → the HTTP status; raises when nothing was answered.
Send = Callable[[str, bytes, dict[str, str]], int]
FIRST_WAIT_S = 5.0
MAX_WAIT_S = 3600.0


def watchlist_changes(
    store: ChangeStore, watchlist: Watchlist, after: int, limit: int, scan: int = 5000
) -> tuple[list[ChangeRow], int]:
    """(the watchlist's changes after `after`, at most `limit`; the position to read on from)."""
    if watchlist.filter is None:
        rows = store.after_for_usccs(watchlist.id, after, limit)
        return rows, (rows[-1].position if rows else after)
    found: list[ChangeRow] = []
    cursor = after
    scanned = 0
    while len(found) < limit and scanned < scan:
        batch = store.after(cursor, min(1000, scan - scanned))
        if not batch:
            break
        for row in batch:
            cursor = row.position
            scanned += 1
            if watchlist.filter.holds(row.message):
                found.append(row)
                if len(found) == limit:
                    break
    return found, cursor


def webhook_secret(platform_secret: bytes, watchlist_id: str) -> str:
    """A watchlist's webhook key (64 hex characters; sign with its UTF-8 bytes): derived from the
    platform secret, so none is stored; shown to the agency once, when the watchlist is made."""
    return hmac.new(platform_secret, f"webhook:{watchlist_id}".encode(), hashlib.sha256).hexdigest()


def signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookDispatcher:
    name = "webhooks"

    def __init__(
        self,
        store: ChangeStore,
        send: Send,
        secret_for: Callable[[str], bytes],
        now: Callable[[], datetime],
        *,
        batch: int = 100,
        idle_s: float = 1.0,
    ) -> None:
        self.store = store
        self.send = send
        self.secret_for = secret_for
        self.now = now
        self.batch = batch
        self.idle_s = idle_s
        self._stop = threading.Event()

    def run_once(self) -> int:
        """One delivery to each webhook that is due and has changes; how many changes went."""
        delivered = 0
        for watchlist in self.store.watchlists():
            if watchlist.webhook_url:
                delivered += self._deliver(watchlist)
        return delivered

    def _deliver(self, watchlist: Watchlist) -> int:
        state = self.store.webhook_state(watchlist.id)
        now = self.now()
        if state.next_attempt_at is not None and now < state.next_attempt_at:
            return 0
        rows, cursor = watchlist_changes(self.store, watchlist, state.position, self.batch)
        if not rows:
            if cursor != state.position:  # read past changes the filter left out
                state.position = cursor
                self.store.save_webhook_state(state)
            return 0
        body = json.dumps(
            {"watchlist": watchlist.id, "name": watchlist.name, "changes": [r.message for r in rows]},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Gongshi-Signature": signature(self.secret_for(watchlist.id), body),
            "X-Gongshi-Watchlist": watchlist.id,
            "X-Gongshi-Delivery": f"{watchlist.id}:{rows[0].position}-{rows[-1].position}",
        }
        try:
            status = self.send(watchlist.webhook_url or "", body, headers)
            if not 200 <= status < 300:
                raise RuntimeError(f"HTTP {status}")
        except Exception as err:  # refused, unreachable, timed out, or a non-2xx answer
            state.attempts += 1
            wait = min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (state.attempts - 1))
            state.next_attempt_at = now + timedelta(seconds=wait)
            state.last_error = str(err)[:500]
            self.store.save_webhook_state(state)
            log.warning("webhook of watchlist %s failed (%s); next try in %.0f s", watchlist.id, err, wait)
            return 0
        state.position, state.attempts, state.next_attempt_at = cursor, 0, None
        state.last_error, state.delivered_at = None, now
        self.store.save_webhook_state(state)
        return len(rows)

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                if self.run_once() == 0:
                    self._stop.wait(self.idle_s)
            except Exception:  # the store may be down: try again
                log.exception("webhook dispatcher failed; retrying")
                self._stop.wait(5.0)

    def stop(self) -> None:
        self._stop.set()
