"""The tables, their generations, and migration.

Each projection owns its tables — `entities` (+ its FTS5 and grams tables), `records` (+
`records_entities`, the version each entity's rows were written at) and `sharing` — and its
position. A rebuild fills shadow tables (`*_next`) of one projection beside the serving ones.

Opening an index of an older layout (`SCHEMA_VERSION`) drops it with its positions, so the
projections fill it again from the start of the notification log.
"""

from __future__ import annotations

import sqlite3

from adapters.search_index.base import PROJECTIONS
from adapters.search_index.sqlite.connection import transaction

#: 4: canonical forms fold traditional characters (stored name_canonical/core change).
SCHEMA_VERSION = 4
#: The tables each projection owns (a rebuild fills shadows of one projection's tables).
TABLES = {
    "entities": ("entities", "entities_fts", "entities_grams"),
    "records": ("records", "records_entities"),
    "sharing": ("sharing",),
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


ENTITY_COLUMNS = (
    "uscc",
    "version",
    *FTS_FIELDS,
    "status",
    "district_code",
    "entity_type",
    "industry",
    "established_on",
    "flags",
    "flags_as_of",
    "penalty_windows",
    "public_doc",
)


def _entities(suffix: str, token: str) -> str:
    e = f"entities{suffix}"
    return f"""
CREATE TABLE IF NOT EXISTS {e} (
  uscc TEXT PRIMARY KEY, version INTEGER NOT NULL, name TEXT NOT NULL, former_names TEXT NOT NULL,
  codes TEXT NOT NULL, person TEXT NOT NULL, pinyin TEXT NOT NULL,
  name_canonical TEXT NOT NULL, former_canonical TEXT NOT NULL, name_core TEXT NOT NULL,
  former_core TEXT NOT NULL, status TEXT, district_code TEXT, entity_type TEXT, industry TEXT,
  established_on TEXT, flags TEXT NOT NULL, flags_as_of TEXT, penalty_windows TEXT NOT NULL,
  public_doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {e}_status_{token} ON {e} (status);
CREATE INDEX IF NOT EXISTS {e}_district_{token} ON {e} (district_code);
CREATE INDEX IF NOT EXISTS {e}_type_{token} ON {e} (entity_type);
CREATE INDEX IF NOT EXISTS {e}_industry_{token} ON {e} (industry);
CREATE INDEX IF NOT EXISTS {e}_established_{token} ON {e} (established_on);
CREATE VIRTUAL TABLE IF NOT EXISTS entities_fts{suffix} USING fts5(
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


def migrate(c: sqlite3.Connection) -> None:
    """Create the schema; drop an index of an older layout (see the module's docstring)."""
    with transaction(c):
        version = int(c.execute("PRAGMA user_version").fetchone()[0])
        if version < SCHEMA_VERSION:
            for table in {*OLD_TABLES, *ALL_TABLES}:
                for name in (table, table + NEXT):
                    c.execute(f"DROP TABLE IF EXISTS {name}")
            c.execute("DROP TABLE IF EXISTS positions")
        execute_script(c, COMMON + "".join(schema(p, "", "g1") for p in PROJECTIONS))
        c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
