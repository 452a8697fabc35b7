"""Event store settings: eventsourcing's SQLite persistence (embedded) or PostgreSQL.

The composition root passes the mapping returned here as the application's `env`; nothing
reads the process environment for it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

# Aggregates stay in a repository cache and are fast-forwarded with their new events instead
# of being replayed from the start at every batch (the projection reloads each touched entity).
CACHE = {"AGGREGATE_CACHE_MAXSIZE": "20000", "AGGREGATE_CACHE_FASTFORWARD": "y"}


def sqlite_env(data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        **CACHE,
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(data_dir / "events.sqlite3"),
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def postgres_env(dsn: str, *, schema: str | None = None, pool_size: int = 5) -> dict[str, str]:
    url = urlparse(dsn)
    env = {
        **CACHE,
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "gongshi",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "gongshi"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_CONNECT_TIMEOUT": "10",
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env
