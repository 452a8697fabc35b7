"""Rate limits: counters per bucket and caller, through the `limits` library.

Embedded, one process keeps its counters in memory (`memory://`); with several API worker
processes the counters must be shared, so `GONGSHI_REDIS_URL` puts them in Redis (`limits`' Redis
storage, a moving window). Limits are written in the `limits` notation (`60/minute`,
`10/minute;100/hour`). The window counts on the real clock.

If Redis cannot be reached, a request is let through and the failure logged: the limits protect
the platform from abuse, and a counter store that is down must not take the public site with it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

__all__ = ["Decision", "RateLimiter", "parse_limit"]

log = logging.getLogger(__name__)


@lru_cache(maxsize=256)
def parse_limit(text: str) -> tuple[RateLimitItem, ...]:
    """`60/minute` or `10/minute;100/hour` → the `limits` items; ValueError when malformed."""
    try:
        items = tuple(parse_many(text))
    except ValueError as err:
        raise ValueError(f"限流设置“{text}”无效，应写作如 60/minute") from err
    if not items:
        raise ValueError(f"限流设置“{text}”无效，应写作如 60/minute")
    return items


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds until the caller may try again (when refused)


class RateLimiter:
    """Counts hits per (bucket, caller) against a limit."""

    def __init__(self, storage_uri: str = "memory://", *, key_prefix: str = "gongshi") -> None:
        """`key_prefix` names this platform's counters in a shared Redis (`GONGSHI_PREFIX`)."""
        self.storage_uri = storage_uri
        if storage_uri.startswith("memory://"):
            self._storage = storage_from_string(storage_uri)
        else:  # a Redis that is down answers at once instead of holding requests
            self._storage = storage_from_string(
                storage_uri,
                key_prefix=f"{key_prefix}:limits",
                socket_connect_timeout=0.5,
                socket_timeout=0.5,
            )
        self._limiter = MovingWindowRateLimiter(self._storage)

    @property
    def shared(self) -> bool:
        """Whether the counters are shared between processes."""
        return not self.storage_uri.startswith("memory://")

    def hit(self, bucket: str, caller: str, limit: str) -> Decision:
        """Count one hit of `caller` in `bucket`; refused when any of `limit`'s windows is full."""
        try:
            for item in parse_limit(limit):
                if not self._limiter.hit(item, bucket, caller):
                    stats = self._limiter.get_window_stats(item, bucket, caller)
                    return Decision(False, max(1, math.ceil(stats.reset_time - time.time())))
        except Exception:  # the counter store is down: let the request through (module doc)
            log.warning("rate limit storage %s failed; request let through", self._safe_uri(), exc_info=True)
        return Decision(True)

    def reset(self) -> None:
        """Forget every counter of this platform (tests, and an operator after a false alarm)."""
        self._storage.reset()

    def close(self) -> None:
        client = getattr(self._storage, "storage", None)  # the redis client, when there is one
        close = getattr(client, "close", None)
        if callable(close):
            close()

    def _safe_uri(self) -> str:
        scheme, _, rest = self.storage_uri.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"
