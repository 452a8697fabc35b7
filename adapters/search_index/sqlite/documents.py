"""The rows each projection writes, version-guarded: a stored version never goes backwards, so
replays are harmless. `suffix` "" writes the serving tables, "_next" the shadows of a rebuild."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence

from adapters.search_index.base import IndexedEntity
from adapters.search_index.sqlite.schema import FTS_FIELDS, TABLES, entity_columns
from domain.persons import identity_numbers

Upsert = Callable[[sqlite3.Connection, IndexedEntity, str], None]


def flags_text(flags: Sequence[str]) -> str:
    """Flags stored space-padded, so `LIKE '% flag %'` finds one."""
    return " " + " ".join(sorted(flags)) + " "


def _stored_version(c: sqlite3.Connection, table: str, uscc: str) -> int | None:
    row = c.execute(f"SELECT version FROM {table} WHERE uscc=?", (uscc,)).fetchone()
    return None if row is None else int(row[0])


def upsert_entity(c: sqlite3.Connection, e: IndexedEntity, suffix: str) -> None:
    entities, fts, grams = (t + suffix for t in TABLES["entities"])
    stored = _stored_version(c, entities, e.uscc)
    if stored is not None and stored >= e.version:
        return  # what is stored is as new or newer
    f = e.fields
    values = {
        "uscc": e.uscc,
        "version": e.version,
        **{k: f.get(k, "") for k in FTS_FIELDS},
        **e.filters,
        "flags": flags_text(e.flags),
        "flags_as_of": e.flags_as_of,
        "penalty_windows": json.dumps([list(w) for w in e.penalty_windows]),
        "public_doc": json.dumps(e.public, ensure_ascii=False),
    }
    if stored is not None:
        for table in (entities, fts, grams):
            c.execute(f"DELETE FROM {table} WHERE uscc=?", (e.uscc,))
    columns = entity_columns()
    c.execute(
        f"INSERT INTO {entities} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        tuple(values.get(k) for k in columns),
    )
    c.execute(
        f"INSERT INTO {fts} (uscc, {', '.join(FTS_FIELDS)}) VALUES (?{', ?' * len(FTS_FIELDS)})",
        (e.uscc, *(f.get(k, "") for k in FTS_FIELDS)),
    )
    c.execute(f"INSERT INTO {grams} (uscc, grams) VALUES (?, ?)", (e.uscc, f.get("grams", "")))


def upsert_records(c: sqlite3.Connection, e: IndexedEntity, suffix: str) -> None:
    """The entity's rows replace the ones stored (a revoked penalty's row goes), unless a newer
    version of the entity wrote them (`records_entities` holds the version per entity)."""
    records, versions = (t + suffix for t in TABLES["records"])
    stored = _stored_version(c, versions, e.uscc)
    if stored is not None and stored >= e.version:
        return
    c.execute(f"DELETE FROM {records} WHERE uscc=?", (e.uscc,))
    c.executemany(
        f"INSERT OR REPLACE INTO {records} VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                e.uscc,
                r["category"],
                r["record_id"],
                r["department"],
                r["occurred_on"],
                r["public_until"],
                json.dumps(r, ensure_ascii=False),
            )
            for r in e.rows
        ],
    )
    c.execute(
        f"INSERT INTO {versions} VALUES (?, ?) ON CONFLICT (uscc) DO UPDATE SET version=excluded.version",
        (e.uscc, e.version),
    )


def upsert_sharing(c: sqlite3.Connection, e: IndexedEntity, suffix: str) -> None:
    """The agency document, and the identity numbers of the persons it names in a role
    (`sharing_persons`: how agencies find a person's entities), both version-guarded."""
    written = c.execute(
        f"INSERT INTO sharing{suffix} VALUES (?, ?, ?) ON CONFLICT (uscc) DO UPDATE "
        f"SET version=excluded.version, sharing_doc=excluded.sharing_doc "
        f"WHERE excluded.version > sharing{suffix}.version",
        (e.uscc, e.version, json.dumps(e.sharing, ensure_ascii=False)),
    ).rowcount
    if written:
        c.execute(f"DELETE FROM sharing_persons{suffix} WHERE uscc=?", (e.uscc,))
        c.executemany(
            f"INSERT OR IGNORE INTO sharing_persons{suffix} (id_number, uscc) VALUES (?, ?)",
            [(number, e.uscc) for number in identity_numbers(e.sharing)],
        )


UPSERTS: dict[str, Upsert] = {"entities": upsert_entity, "records": upsert_records, "sharing": upsert_sharing}
