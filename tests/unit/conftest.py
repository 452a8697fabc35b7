"""Unit-test fixtures: an in-memory Registry on a fixed date, and a registered entity."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.registry import Registry
from tests import builders


@pytest.fixture
def registry() -> Iterator[Registry]:
    """`Registry` on 2026-11-22 with the shipped departments, events in memory (POPO)."""
    app = builders.make_registry(builders.POPO_ENV)
    yield app
    app.close()


@pytest.fixture(params=["popo", "sqlite"])
def any_registry(request: pytest.FixtureRequest) -> Iterator[Registry]:
    """The same test on the in-memory (POPO) and the SQLite (`:memory:`) recorders."""
    env = builders.POPO_ENV if request.param == "popo" else builders.SQLITE_MEMORY_ENV
    app = builders.make_registry(env)
    yield app
    app.close()


@pytest.fixture
def uscc(registry: Registry) -> str:
    """The USCC of an entity registered on 2020-03-15 (天津滨海星海科技有限公司) in `registry`."""
    outcome = registry.apply_publication(builders.registered())
    assert outcome.status == "applied", outcome
    return builders.USCC
