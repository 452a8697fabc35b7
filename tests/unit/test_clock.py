"""The system date counts days in China; instants are real UTC; `date_of` is the one bridge."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.clock import FixedDateClock, SystemClock
from domain.clock import china_date

HOURS = (0, 8, 16, 23)  # 16:30 and 23:30 UTC are already the next day in China


@pytest.mark.parametrize("hour", HOURS)
def test_the_system_date_is_the_china_date_at_every_hour(hour: int) -> None:
    instant = datetime(2026, 12, 1, hour, 30, tzinfo=UTC)
    clock = SystemClock(now=lambda: instant)
    expected = date(2026, 12, 2) if hour >= 16 else date(2026, 12, 1)
    assert clock.today() == expected
    assert clock.date_of(clock.now()) == clock.today()
    assert clock.now() == instant  # instants are not moved into China's day


@pytest.mark.parametrize("hour", HOURS)
def test_a_fixed_date_keeps_instants_real_and_maps_them_onto_its_date(hour: int) -> None:
    real = datetime(2026, 12, 1, hour, 30, tzinfo=UTC)
    clock = FixedDateClock(date(2024, 5, 6), now=lambda: real)
    assert clock.today() == date(2024, 5, 6)
    assert clock.now() == real
    assert clock.date_of(clock.now()) == date(2024, 5, 6)
    assert clock.date_of(real - timedelta(days=1)) == date(2024, 5, 5)
    assert clock.date_of(real + timedelta(days=2)) == date(2024, 5, 8)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError):
        china_date(datetime(2026, 12, 1, 20, 30))
    with pytest.raises(ValueError):
        SystemClock().date_of(datetime(2026, 12, 1, 20, 30))


def test_china_midnight_is_16_utc() -> None:
    assert china_date(datetime(2026, 12, 1, 15, 59, 59, tzinfo=UTC)) == date(2026, 12, 1)
    assert china_date(datetime(2026, 12, 1, 16, 0, 0, tzinfo=UTC)) == date(2026, 12, 2)
