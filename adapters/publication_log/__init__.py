"""The publication log port and its adapters (embedded SQLite log; Kafka)."""

from adapters.publication_log.base import LogConsumer, LogRecord, LogUnavailable, PublicationLog

__all__ = ["LogConsumer", "LogRecord", "LogUnavailable", "PublicationLog"]
