"""Fixtures shared by the contract suites (one suite, every adapter).

`store_env` is the event store's settings of an empty store on each engine (eventsourcing's
SQLite and PostgreSQL persistence, a schema of its own, dropped afterwards).

`log` is the port under test (`embedded` on a SQLite file, `kafka` on the real broker) and
`topic` a fresh three-partition topic on it; Kafka topics get a name unique to the run and are
deleted afterwards.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from adapters.event_store import postgres_env, sqlite_env
from adapters.publication_log.base import PublicationLog
from adapters.publication_log.embedded import EmbeddedLog
from tests.contract.operating import Platform, operated_platform
from tests.engines import kafka_bootstrap, kafka_login, postgres_dsn, real, unique_prefix

PARTITIONS = 3
_topic_numbers = itertools.count(1)
_schema_numbers = itertools.count(1)


def kafka_log(bootstrap: str) -> PublicationLog:
    from adapters.publication_log.kafka import KafkaLog

    # low group timeouts keep joins and rebalances quick in tests
    return KafkaLog(
        bootstrap,
        default_partitions=PARTITIONS,
        sasl=kafka_login(),
        client_id="gongshi-contract",
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
        join_timeout_s=15.0,
    )


@pytest.fixture(params=["embedded", real("kafka")])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PublicationLog]:
    if request.param == "embedded":
        port: PublicationLog = EmbeddedLog(tmp_path / "log.sqlite3", default_partitions=PARTITIONS)
    else:
        port = kafka_log(kafka_bootstrap())
    yield port
    port.close()


@pytest.fixture
def topic(log: PublicationLog) -> Iterator[str]:
    name = unique_prefix(f"contract.{next(_topic_numbers)}")
    log.ensure_topic(name, PARTITIONS)
    yield name
    delete_topics = getattr(log, "delete_topics", None)
    if delete_topics is not None:
        delete_topics([name])


@pytest.fixture(params=["embedded", real("kafka+postgres")])
def operated(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Platform]:
    """A platform for the operators' commands (tests/contract/operating.py)."""
    yield from operated_platform(request, tmp_path, monkeypatch)


@pytest.fixture(params=["sqlite", real("postgres")])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The event-store settings of an empty store on each engine."""
    if request.param == "sqlite":
        yield sqlite_env(tmp_path)
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"es_{next(_schema_numbers)}")  # one per test, even when names end alike
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield postgres_env(dsn, schema=schema)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
