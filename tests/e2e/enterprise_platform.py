"""A small platform for the enterprise tests: its own data directory, a clock whose system date
the test moves (what `GONGSHI_TODAY` does for a whole process), registered entities published
through the log and applied by the worker, and enterprise logins."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from adapters.clock import FixedDateClock
from adapters.credentials import SQLiteCredentialStore
from adapters.credentials.keys import password_hasher
from api.app import create_app
from infra.bootstrap import Container, build
from infra.settings import Settings
from tests.builders import GENEROUS_LIMITS, platform_signed, registered, signed_items

PASSWORD = "enterprise-password-1"


class MovableClock(FixedDateClock):
    """A fixed system date the test moves (`set`); instants stay real."""

    def set(self, day: date) -> None:
        self._today = day


@dataclass
class EnterprisePlatform:
    container: Container
    client: TestClient
    clock: MovableClock
    tokens: dict[tuple[str, str | None], str] = field(default_factory=dict)

    def on(self, day: date) -> None:
        """Move the system date (the whole platform believes it)."""
        self.clock.set(day)

    def publish(self, *envelopes: dict[str, Any], principal: str = "job:test") -> None:
        """Put envelopes on the log (signed by the platform for `principal`) and apply them."""
        c = self.container
        for key, value, headers in signed_items(envelopes, platform_signed(c, principal)):
            c.log.produce(c.settings.publications_topic, value, key, headers)
        c.log.flush()
        self.process()

    def process(self) -> None:
        """Apply what is on the log and bring every follower up to date."""
        self.container.worker.drain()
        self.container.catch_up()

    def register(self, uscc: str, *, established: str = "2020-03-15", **payload: Any) -> str:
        self.publish(registered(uscc=uscc, occurred_on=established, **payload))
        return uscc

    def account(self, uscc: str) -> str:
        """Activate the liaison's account (a fresh invitation each time)."""
        store = self.container.credentials
        store.activate(uscc, store.invite(uscc), PASSWORD)
        self.tokens.pop((uscc, None), None)
        return uscc

    def token(self, uscc: str, user: str | None = None, password: str = PASSWORD) -> str:
        key = (uscc, user)
        if key not in self.tokens or self.container.credentials.authenticate(self.tokens[key]) is None:
            self.tokens[key] = self.container.credentials.login(uscc, password, "testclient", user=user)
        return self.tokens[key]

    def auth(self, uscc: str, user: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(uscc, user)}"}


def build_platform(data_dir: Path, today: date, **settings: Any) -> EnterprisePlatform:
    clock = MovableClock(today)
    container = build(Settings(data_dir=data_dir, today=today, **{**GENEROUS_LIMITS, **settings}))
    container.__dict__["clock"] = clock
    container.__dict__["credentials"] = SQLiteCredentialStore(  # argon2 made cheap for the tests
        data_dir / "credentials.sqlite3",
        clock=clock,
        pepper=container.secret_key,
        hasher=password_hasher(cheap=True),
    )
    client = TestClient(create_app(container, owns_container=False), follow_redirects=False)
    return EnterprisePlatform(container, client, clock)


@contextmanager
def enterprise_platform(data_dir: Path, today: date, **settings: Any) -> Iterator[EnterprisePlatform]:
    platform = build_platform(data_dir, today, **settings)
    with platform.client:
        yield platform
    platform.container.close()


__all__ = ["PASSWORD", "EnterprisePlatform", "MovableClock", "build_platform", "enterprise_platform"]
