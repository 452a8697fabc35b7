"""The `engines` mark is on every test that uses a real engine (tests/engines.py,
tests/integration/conftest.py): a test without it that asks where an engine is fails, and
collection stops on an integration test without it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import engines
from tests.integration.conftest import HERE, unmarked_items

ADDRESSES = [engines.kafka_bootstrap, engines.postgres_dsn, engines.elasticsearch_url]


@pytest.mark.parametrize("address", ADDRESSES)
def test_a_test_without_the_mark_fails_when_it_asks_where_an_engine_is(address: Callable[[], str]) -> None:
    # this very test is not marked: the check fails it before looking for the engine
    with pytest.raises(pytest.fail.Exception, match="is not marked `engines`"):
        address()


def test_a_test_with_the_mark_may_ask(request: pytest.FixtureRequest) -> None:
    with pytest.raises(pytest.fail.Exception):
        engines.check_marked("Kafka")
    request.node.add_marker(pytest.mark.engines)
    engines.check_marked("Kafka")  # no failure now


@dataclass
class Item:
    path: Path
    nodeid: str
    marked: bool

    def get_closest_marker(self, name: str) -> object | None:
        return object() if self.marked and name == "engines" else None


def test_collection_names_the_integration_tests_without_the_mark() -> None:
    items = [
        Item(HERE / "test_a.py", "tests/integration/test_a.py::marked", True),
        Item(HERE / "test_a.py", "tests/integration/test_a.py::unmarked", False),
        Item(HERE.parent / "unit" / "test_b.py", "tests/unit/test_b.py::in_memory", False),
    ]
    assert unmarked_items(items) == ["tests/integration/test_a.py::unmarked"]  # type: ignore[arg-type]
