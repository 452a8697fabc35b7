"""The tables, their generations, and migration.

Each projection owns its tables — `entities` (+ its FTS5 and grams tables), `records` (+
`records_entities`, the version each entity's rows were written at) and `sharing` — and its
position. A rebuild fills shadow tables (`*_next`) of one projection beside the serving ones.

The `entities` table has one column (and index) per `FILTER_FIELDS` row. Opening an index of an
older layout (`SCHEMA_VERSION`) drops it with its positions, so the projections fill it again
from the start of the notification log; a filter field defined since the table was created is
added in place (`ALTER TABLE … ADD COLUMN`, like Elasticsearch's `put_mapping`: documents get
it when rewritten, all of them on a rebuild).
"""

from __future__ import annotations

import sqlite3

from adapters.search_index import base
from adapters.search_index.base import PROJECTIONS
from adapters.search_index.sqlite.connection import transaction

#: 4: canonical forms fold traditional characters; filter columns named after `FILTER_FIELDS`.
SCHEMA_VERSION = 4
#: The tables each projection owns (a rebuild fills shadows of one projection's tables).
TABLES = {
    "entities": ("entities", "entities_fts", "entities_grams"),
    "records": ("records", "records_entities"),
    "sharing": ("sharing", "sharing_persons"),
}
ALL_TABLES = tuple(t for tables in TABLES.values() for t in tables)
#: The table holding one row per entity of each projection (what `count` counts).
ENTITY_TABLE = {"entities": "entities", "records": "records_entities", "sharing": "sharing"}
OLD_TABLES = ("entities", "entities_fts", "entities_grams", "records")  # schema version 2
NEXT = "_next"

#: The text columns search matches (the FTS5 table's columns, and LIKE for short terms).
FTS_FIELDS = (
    "name",
    "former_names",
    "codes",
    "person",
    "pinyin",
    "name_canonical",
    "former_canonical",
    "name_core",
    "former_core",
)


def entity_columns() -> tuple[str, ...]:
    return (
        "uscc",
        "version",
        *FTS_FIELDS,
        *(f.name for f in base.FILTER_FIELDS),
        "flags",
        "flags_as_of",
        "penalty_windows",
        "public_doc",
    )


def _entities(suffix: str, token: str) -> str:
    e = f"entities{suffix}"
    text = ", ".join(f"{name} TEXT NOT NULL" for name in FTS_FIELDS)
    filters = "".join(f"{f.name} TEXT, " for f in base.FILTER_FIELDS)
    indexes = "".join(
        f"CREATE INDEX IF NOT EXISTS {e}_{f.name}_{token} ON {e} ({f.name});\n" for f in base.FILTER_FIELDS
    )
    names = "".join(  # batch matching looks names up exactly
        f"CREATE INDEX IF NOT EXISTS {e}_{column}_{token} ON {e} ({column});\n"
        for column in ("name_canonical", "name_core")
    )
    return f"""
CREATE TABLE IF NOT EXISTS {e} (
  uscc TEXT PRIMARY KEY, version INTEGER NOT NULL, {text},
  {filters}flags TEXT NOT NULL, flags_as_of TEXT, penalty_windows TEXT NOT NULL, public_doc TEXT NOT NULL
);
{indexes}{names}CREATE VIRTUAL TABLE IF NOT EXISTS entities_fts{suffix} USING fts5(
  uscc UNINDEXED, {", ".join(FTS_FIELDS)}, tokenize='trigram'
);
CREATE VIRTUAL TABLE IF NOT EXISTS entities_grams{suffix} USING fts5(
  uscc UNINDEXED, grams, tokenize='unicode61'
);
"""


def schema(projection: str, suffix: str, token: str) -> str:
    """The tables of one projection's generation (`suffix` "" = serving, "_next" = being
    rebuilt); index names carry `token` so a renamed generation never clashes with the next."""
    if projection == "entities":
        return _entities(suffix, token)
    if projection == "records":
        r = f"records{suffix}"
        return f"""
CREATE TABLE IF NOT EXISTS {r} (
  uscc TEXT NOT NULL, category TEXT NOT NULL, record_id TEXT NOT NULL, department TEXT,
  occurred_on TEXT NOT NULL, public_until TEXT, row TEXT NOT NULL,
  PRIMARY KEY (uscc, category, record_id)
);
CREATE INDEX IF NOT EXISTS {r}_by_date_{token} ON {r} (occurred_on DESC);
CREATE INDEX IF NOT EXISTS {r}_by_category_{token} ON {r} (category, occurred_on DESC);
CREATE TABLE IF NOT EXISTS records_entities{suffix} (uscc TEXT PRIMARY KEY, version INTEGER NOT NULL);
"""
    return f"""
CREATE TABLE IF NOT EXISTS sharing{suffix} (
  uscc TEXT PRIMARY KEY, version INTEGER NOT NULL, sharing_doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sharing_persons{suffix} (
  id_number TEXT NOT NULL, uscc TEXT NOT NULL, PRIMARY KEY (id_number, uscc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sharing_persons{suffix}_by_uscc_{token} ON sharing_persons{suffix} (uscc);
"""


COMMON = """
CREATE TABLE IF NOT EXISTS positions (projection TEXT PRIMARY KEY, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def execute_script(c: sqlite3.Connection, script: str) -> None:
    """Run `;`-separated statements inside the caller's transaction (`executescript` commits)."""
    for statement in script.split(";\n"):
        if statement.strip():
            c.execute(statement)


def _add_filter_columns(c: sqlite3.Connection) -> None:
    """Filter fields defined since an `entities` table (serving or being rebuilt) was created."""
    for table in ("entities", "entities" + NEXT):
        present = {row[1] for row in c.execute(f"PRAGMA table_info({table})")}
        if not present:
            continue  # no such table
        for f in base.FILTER_FIELDS:
            if f.name not in present:
                c.execute(f"ALTER TABLE {table} ADD COLUMN {f.name} TEXT")
                c.execute(f"CREATE INDEX IF NOT EXISTS {table}_{f.name}_added ON {table} ({f.name})")


def migrate(c: sqlite3.Connection) -> None:
    """Create the schema; drop an index of an older layout (see the module's docstring)."""
    with transaction(c):
        version = int(c.execute("PRAGMA user_version").fetchone()[0])
        if version < SCHEMA_VERSION:
            for table in {*OLD_TABLES, *ALL_TABLES}:
                for name in (table, table + NEXT):
                    c.execute(f"DROP TABLE IF EXISTS {name}")
            c.execute("DROP TABLE IF EXISTS positions")
        _add_filter_columns(c)
        execute_script(c, COMMON + "".join(schema(p, "", "g1") for p in PROJECTIONS))
        c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
