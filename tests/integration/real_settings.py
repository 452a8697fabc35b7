"""Settings for a test on Kafka + PostgreSQL with a unique prefix, cleaned up afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psycopg

from infra.bootstrap import Container
from infra.settings import Settings
from tests.engines import kafka_bootstrap, postgres_dsn, unique_prefix


@contextmanager
def real_settings(label: str, data_dir: Path, today: date, partitions: int) -> Iterator[Settings]:
    """A PostgreSQL schema and Kafka topics of their own; dropped when the block ends."""
    prefix = unique_prefix(label)
    dsn = postgres_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{prefix}"')
    settings = Settings(
        data_dir=data_dir,
        today=today,
        prefix=prefix,
        kafka_bootstrap=kafka_bootstrap(),
        kafka_partitions=partitions,
        postgres_dsn=dsn,
        postgres_schema=prefix,
        consumer_group=f"{prefix}-ingest",
    )
    try:
        yield settings
    finally:
        cleanup = Container(settings)
        cleanup.log.delete_topics([settings.publications_topic, settings.dlq_topic])  # type: ignore[attr-defined]
        cleanup.close()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{prefix}" CASCADE')
