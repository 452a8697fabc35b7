"""PostgreSQL for the adapters that keep their data beside the event store, in its schema.

The credential store and the extract ledger each keep a single table in the event store's
database (and schema, when one is configured). Both want the same things: no connection until
the table is first used (building the container must not need the database up), the schema and
table created once, on that first use, and every vendor error turned into the adapter's own
"unavailable" exception, so the API answers 503 without knowing psycopg.

The table is named schema-qualified rather than through `search_path`, so a pooled connection
needs no per-session setup.

The status view is an eventsourcing recorder instead: its pool is eventsourcing's own
`PostgresDatastore`, made by `postgres_datastore` from the same DSN and schema as the event
store (and the recorder creates its tables; the schema must exist, as the event store's does).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql
from psycopg_pool import ConnectionPool

from adapters.event_store import postgres_env

__all__ = ["PgTable", "drop_empty_schema", "postgres_datastore", "tables_in_schema"]

Rows = list[tuple[Any, ...]]


class PgTable:
    """The table `name` (in `schema`, if given) on a pool to `dsn` opened on first use.

    `ddl` (one statement, or several in order) and queries are text with `{table}` for the table,
    `{name}` for each of the `others` tables kept beside it in the same schema, `{key}` for each
    identifier passed as a keyword (psycopg quotes them all; `sql.SQL.format`, so a literal brace
    is doubled) and `%s` for parameters. Each call runs in its own pooled connection, committed when it
    returns. A psycopg error or OSError (a pool timeout is a psycopg error too), also one met
    creating the schema or table, is raised as `unavailable`.
    """

    def __init__(
        self,
        dsn: str,
        name: str,
        ddl: str | Sequence[str],
        *,
        schema: str | None,
        unavailable: type[Exception],
        others: Sequence[str] = (),
    ) -> None:
        self.table = self._qualified(schema, name)
        self._others = {other: self._qualified(schema, other) for other in others}
        self._schema = schema
        self._ddl = ddl
        self._unavailable = unavailable
        self._pool = ConnectionPool(dsn, min_size=0, max_size=4, open=False, timeout=10)
        self._ready = False
        self._ready_lock = threading.Lock()

    def execute(self, query: str, params: tuple[Any, ...] = (), **identifiers: str) -> int:
        """Run a statement; how many rows it changed."""
        return self._run(query, params, identifiers)[0]

    def rows(self, query: str, params: tuple[Any, ...] = (), **identifiers: str) -> Rows:
        """Run a query; every row it returns."""
        return self._run(query, params, identifiers)[1]

    def try_insert(self, query: str, params: tuple[Any, ...] = (), **identifiers: str) -> bool:
        """Run an INSERT; False, not an error, when a unique key it writes is already taken."""
        try:
            self._run(query, params, identifiers, passthrough=psycopg.errors.UniqueViolation)
        except psycopg.errors.UniqueViolation:
            return False
        return True

    def close(self) -> None:
        self._pool.close()

    def _run(
        self,
        query: str,
        params: tuple[Any, ...],
        identifiers: dict[str, str],
        passthrough: type[Exception] | tuple[()] = (),
    ) -> tuple[int, Rows]:
        try:
            self._ensure()
            with self._pool.connection() as conn:
                cursor = conn.execute(self._compose(query, identifiers), params)
                return cursor.rowcount, (cursor.fetchall() if cursor.description else [])
        except passthrough:
            raise
        except (psycopg.Error, OSError) as err:
            raise self._unavailable(str(err)) from err

    def _ensure(self) -> None:
        """Open the pool and create the schema and table, once, by whichever caller comes first."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            self._pool.open(wait=False)
            with self._pool.connection() as conn:
                if self._schema:
                    conn.execute(
                        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self._schema))
                    )
                for statement in [self._ddl] if isinstance(self._ddl, str) else self._ddl:
                    conn.execute(self._compose(statement, {}))
            self._ready = True

    @staticmethod
    def _qualified(schema: str | None, name: str) -> sql.Identifier:
        return sql.Identifier(schema, name) if schema else sql.Identifier(name)

    def _compose(self, text: str, identifiers: dict[str, str]) -> sql.Composed:
        names = {key: sql.Identifier(value) for key, value in identifiers.items()}
        return sql.SQL(text).format(table=self.table, **self._others, **names)


def postgres_datastore(dsn: str, *, schema: str | None = None, pool_size: int = 2) -> PostgresDatastore:
    """eventsourcing's pool to the event store's database and schema, for a recorder of ours
    beside it; read from the DSN exactly as the event store's own settings are (`postgres_env`)."""
    env = postgres_env(dsn, schema=schema)
    return PostgresDatastore(
        env["POSTGRES_DBNAME"],
        env["POSTGRES_HOST"],
        env["POSTGRES_PORT"],
        env["POSTGRES_USER"],
        env["POSTGRES_PASSWORD"],
        schema=schema or "",
        pool_size=pool_size,
        connect_timeout=float(env["POSTGRES_CONNECT_TIMEOUT"]),
    )


def tables_in_schema(dsn: str, schema: str) -> int:
    """How many tables `schema` holds (0 also when it does not exist): backup's restore checks it."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchone()
    return int(row[0]) if row is not None else 0


def drop_empty_schema(dsn: str, schema: str) -> None:
    """Drop `schema` if it exists — never with what it holds (no CASCADE: anything in it fails
    the statement, raised as psycopg's error)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {}").format(sql.Identifier(schema)))
