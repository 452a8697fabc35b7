"""`--at-utc HH:MM`: run the session as if the real clock read that time of today (UTC).

The clock is moved with `time-machine` (wall clock only: `time.time`, `datetime.now`,
`date.today`; it keeps running from there), so the whole suite can be proved to pass at any hour
of the UTC day — from 16:00 to 24:00 UTC the China date is already tomorrow. `tests/at_hours.sh`
runs the engine-free tests at four such hours, inside `make test`. Monotonic clocks and sleeps
are untouched, so timeouts and background threads behave as usual (Debian's libfaketime 0.9.10
breaks both for Python here: `time.sleep` fails with EINVAL, or timed waits hang).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time

import pytest

from tests import engines


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--at-utc",
        metavar="HH:MM",
        default=None,
        help="run as if the real clock read HH:MM UTC today (time-machine, ticking)",
    )


def pytest_configure(config: pytest.Config) -> None:
    at = config.getoption("--at-utc")
    if not at:
        return
    import time_machine

    destination = datetime.combine(datetime.now(UTC).date(), time.fromisoformat(at), tzinfo=UTC)
    traveller = time_machine.travel(destination, tick=True)
    traveller.start()
    config.stash[_TRAVELLER] = traveller


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    at = config.getoption("--at-utc")
    return f"clock moved to {at} UTC today (time-machine)" if at else None


_TRAVELLER = pytest.StashKey[object]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Tell tests/engines.py which test runs, so a real engine used by a test without the
    `engines` mark fails that test (see tests/engines.py)."""
    engines.running(item)
    try:
        return (yield)
    finally:
        engines.running(None)
