"""Rebuild without downtime: shadow tables (`*_next`) of one projection are filled while the
serving ones keep answering, then the serving tables are dropped and the shadows renamed in one
transaction: readers see the old tables or the new ones."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.search_index.base import IndexedEntity, check_projection
from adapters.search_index.sqlite.connection import Connections, transaction
from adapters.search_index.sqlite.documents import UPSERTS
from adapters.search_index.sqlite.schema import NEXT, TABLES, execute_script, schema
from adapters.search_index.sqlite.writer import record_position


class Rebuilds:
    def __init__(self, connections: Connections) -> None:
        self.connections = connections

    def begin(self, projection: str) -> str:
        tables = TABLES[check_projection(projection)]
        with transaction(self.connections.get()) as c:
            for table in tables:
                c.execute(f"DROP TABLE IF EXISTS {table}{NEXT}")
            row = c.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
            generation = int(row[0]) + 1 if row else 2
            c.execute(
                "INSERT INTO meta VALUES ('generation', ?) "
                "ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                (str(generation),),
            )
            execute_script(c, schema(projection, NEXT, f"g{generation}"))
        return f"g{generation}"

    def write(self, projection: str, target: str, entities: Sequence[IndexedEntity]) -> None:
        upsert = UPSERTS[check_projection(projection)]
        with transaction(self.connections.get()) as c:
            for entity in entities:
                upsert(c, entity, NEXT)

    def finish(self, projection: str, target: str, position: int) -> None:
        tables = TABLES[check_projection(projection)]
        with transaction(self.connections.get()) as c:
            for table in tables:
                c.execute(f"DROP TABLE {table}")
                c.execute(f"ALTER TABLE {table}{NEXT} RENAME TO {table}")
            record_position(c, projection, position)

    def abort(self, projection: str, target: str) -> None:
        c = self.connections.get()
        for table in TABLES[check_projection(projection)]:
            c.execute(f"DROP TABLE IF EXISTS {table}{NEXT}")
