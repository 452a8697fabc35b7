"""Agencies' reads of the sharing projection: documents in batches, a person's entities."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from adapters.search_index.sqlite.connection import Connections

#: SQLite's default limit on bound parameters is 32,766; batches stay well below it.
BATCH = 900


class AgencyReader:
    def __init__(self, connections: Connections) -> None:
        self.connections = connections

    def sharing_many(self, usccs: Sequence[str]) -> dict[str, dict[str, Any]]:
        c = self.connections.get()
        out: dict[str, dict[str, Any]] = {}
        distinct = list(dict.fromkeys(usccs))
        for start in range(0, len(distinct), BATCH):
            chunk = distinct[start : start + BATCH]
            marks = ", ".join("?" * len(chunk))
            for uscc, doc in c.execute(
                f"SELECT uscc, sharing_doc FROM sharing WHERE uscc IN ({marks})", chunk
            ):
                out[str(uscc)] = json.loads(doc)
        return out

    def entities_of_person(self, id_number: str, limit: int) -> list[str]:
        rows = self.connections.get().execute(
            "SELECT uscc FROM sharing_persons WHERE id_number = ? ORDER BY uscc LIMIT ?",
            (id_number.strip().upper(), limit),
        )
        return [str(r[0]) for r in rows]
