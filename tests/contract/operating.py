"""A platform for the operators' commands (`gongshi dlq`, `departments`, `audit`), on the
embedded log with SQLite or on the real Kafka with PostgreSQL (fixture `operated` in conftest.py):
the container the test drives, and the environment the `gongshi` commands read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from adapters.credentials.signing import Signer
from api.cli import app
from domain.uscc import partition_key
from infra.bootstrap import Container
from infra.settings import Settings
from tests.builders import TODAY
from tests.engines import kafka_bootstrap, kafka_settings, postgres_dsn, unique_prefix

runner = CliRunner()


class Platform:
    def __init__(self, container: Container, engine: str) -> None:
        self.container = container
        self.engine = engine
        self.settings = container.settings

    def publish(self, message: dict[str, Any], signer: Signer) -> None:
        value = json.dumps(message, ensure_ascii=False).encode()
        self.container.log.produce(
            self.settings.publications_topic,
            value,
            key=partition_key(message["uscc"]),
            headers=signer.headers(value),
        )
        self.container.log.flush()

    def apply(self) -> None:
        self.container.worker.drain()
        self.container.status_projection.catch_up()

    def status(self, publication_id: str) -> dict[str, Any] | None:
        return self.container.status_view.get(publication_id)

    def cli(self, *args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result.stdout

    def published(self) -> int:
        return sum(self.container.log.end_offsets(self.settings.publications_topic).values())


def operated_platform(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Platform]:
    values: dict[str, Any] = {"data_dir": tmp_path / "var", "today": TODAY}
    if request.param != "embedded":
        prefix = unique_prefix("dlq")
        values |= {
            "kafka_bootstrap": kafka_bootstrap(),
            "kafka_partitions": 1,
            "prefix": prefix,
            "consumer_group": f"{prefix}-ingest",
            "postgres_dsn": postgres_dsn(),
            "postgres_schema": prefix,
            **kafka_settings(),
        }
        with psycopg.connect(values["postgres_dsn"], autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{prefix}"')
    for name, value in values.items():  # what the `gongshi` commands read
        monkeypatch.setenv(f"GONGSHI_{name.upper()}", str(value))
    container = Container(Settings(**values))
    s = container.settings
    container.log.ensure_topic(s.publications_topic, 1)
    container.log.ensure_topic(s.dlq_topic, 1)
    try:
        yield Platform(container, request.param)
    finally:
        delete_topics = getattr(container.log, "delete_topics", None)
        if delete_topics is not None:
            delete_topics([s.publications_topic, s.dlq_topic, s.changes_topic])
        container.close()
        if s.postgres_dsn:
            with psycopg.connect(s.postgres_dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{s.postgres_schema}" CASCADE')


def acts(platform: Platform) -> list[dict[str, Any]]:
    return [json.loads(line) for line in platform.cli("audit", "list", "--json").splitlines()]
