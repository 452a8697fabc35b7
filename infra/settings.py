"""The one settings object. Nothing else in the system reads the environment."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGSHI_", extra="ignore")

    data_dir: Path = Field(Path("./var"), description="where the embedded engines keep their files")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    today: date | None = Field(None, description="fix the date the whole system believes it is")

    kafka_bootstrap: str | None = Field(None, description="e.g. 127.0.0.1:9092; unset = embedded log")
    kafka_partitions: int = 6
    postgres_dsn: str | None = Field(
        None, description="e.g. postgresql://gongshi:gongshi@127.0.0.1:5432/gongshi"
    )
    postgres_schema: str | None = None
    elasticsearch_url: str | None = Field(None, description="e.g. http://127.0.0.1:9200")

    prefix: str = Field("gongshi", description="prefix of topic and index names (unique per test run)")
    consumer_group: str = "gongshi-ingest"
    ingest_batch_size: int = 500
    projection_batch_size: int = 500

    @property
    def publications_topic(self) -> str:
        return f"{self.prefix}.publications"

    @property
    def dlq_topic(self) -> str:
        return f"{self.prefix}.publications.dlq"

    @property
    def changes_topic(self) -> str:
        """The change feed: one message per change to an entity's public or sharing document."""
        return f"{self.prefix}.changes"
