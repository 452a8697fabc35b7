"""Writes: a projection's rows and its position in one transaction, and the publicity job's
flag rewrite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import date

from adapters.search_index.base import FlagChange, IndexedEntity, check_projection
from adapters.search_index.sqlite.connection import Connections, transaction
from adapters.search_index.sqlite.documents import UPSERTS, flags_text


def record_position(c: sqlite3.Connection, projection: str, position: int) -> None:
    """The position of `projection`, never moved backwards."""
    c.execute(
        "INSERT INTO positions VALUES (?, ?) ON CONFLICT (projection) DO UPDATE "
        "SET position=excluded.position WHERE excluded.position > positions.position",
        (projection, position),
    )


class Writer:
    def __init__(self, connections: Connections) -> None:
        self.connections = connections

    def position(self, projection: str) -> int | None:
        c = self.connections.get()
        row = c.execute("SELECT position FROM positions WHERE projection=?", (projection,)).fetchone()
        return None if row is None else int(row[0])

    def write(self, projection: str, entities: Sequence[IndexedEntity], position: int) -> None:
        upsert = UPSERTS[check_projection(projection)]
        with transaction(self.connections.get()) as c:
            for entity in entities:
                upsert(c, entity, "")
            record_position(c, projection, position)

    def flag_changes(self, today: date) -> list[FlagChange]:
        rows = (
            self.connections.get()
            .execute(
                "SELECT uscc, version, flags, penalty_windows, public_doc FROM entities "
                "WHERE penalty_windows != '[]' OR flags LIKE '% penalty %' ORDER BY uscc"
            )
            .fetchall()
        )
        out = []
        for uscc, version, stored, windows, doc in rows:
            flags = set(stored.split())
            if _in_window(json.loads(windows), today) != ("penalty" in flags):
                after = flags ^ {"penalty"}
                out.append(
                    FlagChange(
                        uscc, int(version), tuple(sorted(flags)), tuple(sorted(after)), json.loads(doc)
                    )
                )
        return out

    def reevaluate_flags(self, today: date) -> int:
        with transaction(self.connections.get()) as c:
            rows = c.execute(
                "SELECT uscc, flags, penalty_windows FROM entities "
                "WHERE penalty_windows != '[]' OR flags LIKE '% penalty %'"
            ).fetchall()
            changed = 0
            for uscc, stored, windows in rows:
                flags = set(stored.split())
                wanted = _in_window(json.loads(windows), today)
                if wanted != ("penalty" in flags):
                    flags.symmetric_difference_update({"penalty"})
                    c.execute(
                        "UPDATE entities SET flags=?, flags_as_of=? WHERE uscc=?",
                        (flags_text(sorted(flags)), today.isoformat(), uscc),
                    )
                    changed += 1
        return changed


def _in_window(windows: Sequence[Sequence[str | None]], today: date) -> bool:
    day = today.isoformat()
    return any(str(start) <= day and (end is None or day < str(end)) for start, end in windows)
