"""Rate limits count per bucket and caller, answer how long to wait, and recover."""

from __future__ import annotations

import pytest
import time_machine

from adapters.rate_limits import RateLimiter, parse_limit


def test_a_full_window_refuses_and_says_how_long_to_wait() -> None:
    limiter = RateLimiter()
    with time_machine.travel(0, tick=False) as traveller:
        assert [limiter.hit("api", "10.0.0.1", "3/minute").allowed for _ in range(4)] == [
            True,
            True,
            True,
            False,
        ]
        refused = limiter.hit("api", "10.0.0.1", "3/minute")
        assert not refused.allowed and refused.retry_after == 60
        assert limiter.hit("api", "10.0.0.2", "3/minute").allowed  # another caller
        assert limiter.hit("pages", "10.0.0.1", "3/minute").allowed  # another bucket
        traveller.shift(61)
        assert limiter.hit("api", "10.0.0.1", "3/minute").allowed  # and it recovers


def test_several_windows_all_count() -> None:
    limiter = RateLimiter()
    with time_machine.travel(0, tick=False) as traveller:
        for _ in range(2):
            assert limiter.hit("x", "k", "2/second;3/minute").allowed
        assert not limiter.hit("x", "k", "2/second;3/minute").allowed
        traveller.shift(2)
        assert limiter.hit("x", "k", "2/second;3/minute").allowed
        traveller.shift(2)
        refused = limiter.hit("x", "k", "2/second;3/minute")
        assert not refused.allowed and 50 <= refused.retry_after <= 60


def test_a_malformed_limit_is_a_chinese_error() -> None:
    with pytest.raises(ValueError, match="限流设置"):
        parse_limit("sixty a minute")
    assert len(parse_limit("60/minute;1000/day")) == 2


def test_a_counter_store_that_is_down_lets_requests_through() -> None:
    limiter = RateLimiter("redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert limiter.shared
    assert limiter.hit("api", "10.0.0.1", "1/minute").allowed
    assert limiter.hit("api", "10.0.0.1", "1/minute").allowed
