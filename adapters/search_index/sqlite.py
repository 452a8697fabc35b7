"""The embedded search index on SQLite FTS5 (trigram tokenizer: Chinese substrings of 3+ chars).

Queries shorter than three characters (common in Chinese: 滨海, 恒通) fall back to LIKE over the
same columns. A document's stored version never goes backwards, so replays are harmless; the
projection's position is written in the same transaction as its documents.

Ranking is one SQL CASE over the tiers of the port (the Elasticsearch adapter's dis_max mirrors
it); when nothing matches, the fuzzy tier takes the entities sharing most of the query's grams
(an FTS5 unicode61 table of pre-computed grams) and orders them with rapidfuzz. Highlights are
computed in Python by `domain.names.highlight`, as on Elasticsearch.

Each projection owns its tables — `entities` (+ its FTS5 and grams tables), `records` (+
`records_entities`, the version each entity's rows were written at) and `sharing` — and its
position. A rebuild fills shadow tables (`*_next`) of one projection while the live ones keep
serving, then drops the live tables and renames the shadows in one transaction: readers see the
old tables or the new ones.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from adapters.search_index.base import (
    NO_FILTERS,
    PROJECTIONS,
    IndexedEntity,
    Page,
    RecordQuery,
    SearchFilters,
    SearchIndex,
    SearchUnavailable,
    check_projection,
)
from adapters.search_index.ranking import fuzzy_page, highlights
from domain import names

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


def _schema(projection: str, suffix: str, token: str) -> str:
    """The tables of one projection's generation (`suffix` "" = serving, "_next" = being
    rebuilt); index names carry `token` so a renamed generation never clashes with the next."""
    if projection == "entities":
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
  uscc UNINDEXED, name, former_names, codes, person, pinyin, name_canonical, former_canonical,
  name_core, former_core, tokenize='trigram'
);
CREATE VIRTUAL TABLE IF NOT EXISTS entities_grams{suffix} USING fts5(
  uscc UNINDEXED, grams, tokenize='unicode61'
);
"""
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

# The port's tiers: exact name > canonical name > core name > name prefix > name phrase > former
# name > legal representative > pinyin > anything else that matched.
SCORE = """
CASE WHEN e.name = :q THEN 900
     WHEN e.name_canonical = :canonical THEN 880
     WHEN :core IS NOT NULL AND e.name_core = :core THEN 860
     WHEN e.name LIKE :prefix ESCAPE '\\' OR e.name_canonical LIKE :canonical_prefix ESCAPE '\\' THEN 800
     WHEN e.name LIKE :contains ESCAPE '\\' OR e.name_canonical LIKE :canonical_contains ESCAPE '\\'
       OR (:core IS NOT NULL AND e.name_core LIKE :core_contains ESCAPE '\\') THEN 700
     WHEN e.former_names LIKE :contains ESCAPE '\\'
       OR e.former_canonical LIKE :canonical_contains ESCAPE '\\'
       OR (:core IS NOT NULL AND e.former_core LIKE :core_contains ESCAPE '\\') THEN 600
     WHEN e.person = :q THEN 500
     WHEN e.pinyin LIKE :lower_contains ESCAPE '\\' OR e.pinyin LIKE :squeezed_contains ESCAPE '\\' THEN 400
     ELSE 100 END
"""
ORDER = "ORDER BY score DESC, length(e.name), e.name"


def _like_escape(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(term: str) -> str:
    return f"%{_like_escape(term)}%"


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _flags_text(flags: Sequence[str]) -> str:
    return " " + " ".join(sorted(flags)) + " "


class SQLiteSearchIndex(SearchIndex):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._migrate(self._conn())

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            except sqlite3.Error as err:
                raise SearchUnavailable(str(err)) from err
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @staticmethod
    def _migrate(c: sqlite3.Connection) -> None:
        """Create the schema; an index of an older layout is dropped (with its positions), so
        the projection fills it again from the start of the notification log."""
        c.execute("BEGIN IMMEDIATE")
        try:
            version = int(c.execute("PRAGMA user_version").fetchone()[0])
            if version < SCHEMA_VERSION:
                for table in {*OLD_TABLES, *ALL_TABLES}:
                    for name in (table, table + NEXT):
                        c.execute(f"DROP TABLE IF EXISTS {name}")
                c.execute("DROP TABLE IF EXISTS positions")
            schema = COMMON + "".join(_schema(p, "", "g1") for p in PROJECTIONS)
            for statement in schema.split(";\n"):
                if statement.strip():
                    c.execute(statement)
            c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    # --- writes -------------------------------------------------------------------------------

    def position(self, projection: str) -> int | None:
        row = (
            self._conn()
            .execute("SELECT position FROM positions WHERE projection=?", (projection,))
            .fetchone()
        )
        return None if row is None else int(row[0])

    def write(self, projection: str, entities: Sequence[IndexedEntity], position: int) -> None:
        upsert = self._upserts[check_projection(projection)]
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            for entity in entities:
                upsert(c, entity, "")
            self._record_position(c, projection, position)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    @staticmethod
    def _record_position(c: sqlite3.Connection, projection: str, position: int) -> None:
        c.execute(
            "INSERT INTO positions VALUES (?, ?) ON CONFLICT (projection) DO UPDATE "
            "SET position=excluded.position WHERE excluded.position > positions.position",
            (projection, position),
        )

    @property
    def _upserts(self) -> dict[str, Callable[[sqlite3.Connection, IndexedEntity, str], None]]:
        return {"entities": _upsert_entity, "records": _upsert_records, "sharing": _upsert_sharing}

    # --- reads --------------------------------------------------------------------------------

    @staticmethod
    def _filter_sql(filters: SearchFilters, params: dict[str, Any]) -> str:
        where = []
        for column, value in (
            ("status", filters.status),
            ("district_code", filters.district),
            ("entity_type", filters.entity_type),
            ("industry", filters.industry),
        ):
            if value:
                where.append(f"e.{column} = :f_{column}")
                params[f"f_{column}"] = value
        for i, flag in enumerate(sorted(set(filters.flags))):
            where.append(f"e.flags LIKE :f_flag{i}")
            params[f"f_flag{i}"] = f"% {_like_escape(flag)} %"
        if filters.established_from:
            where.append("e.established_on >= :f_from")
            params["f_from"] = filters.established_from.isoformat()
        if filters.established_to:
            where.append("e.established_on <= :f_to")
            params["f_to"] = filters.established_to.isoformat()
        return " AND ".join(where) or "1"

    def search(
        self, q: str, today: date, page: int = 1, size: int = 20, *, filters: SearchFilters = NO_FILTERS
    ) -> Page:
        query = names.analyse(q)
        params: dict[str, Any] = {"limit": size, "offset": (page - 1) * size}
        filter_sql = self._filter_sql(filters, params)
        c = self._conn()
        if not query.text:
            if not filters:
                return Page(0, [])
            by_name = "ORDER BY length(e.name), e.name"
            return self._page(c, "entities e", filter_sql, "0 AS score", by_name, params)
        if query.is_code:
            params.update(compact=query.compact, code=_contains(query.compact))
            where = f"(e.uscc = :compact OR e.codes LIKE :code ESCAPE '\\') AND {filter_sql}"
            page_ = self._page(c, "entities e", where, "0 AS score", "ORDER BY e.uscc", params)
            return Page(page_.total, page_.items, [None] * len(page_.items))
        params.update(
            q=query.text,
            canonical=query.canonical,
            core=query.core,
            prefix=f"{_like_escape(query.text)}%",
            canonical_prefix=f"{_like_escape(query.canonical)}%",
            contains=_contains(query.text),
            canonical_contains=_contains(query.canonical),
            core_contains=_contains(query.core or ""),
            lower_contains=_contains(query.lower),
            squeezed_contains=_contains(query.squeezed),
        )
        where = f"({self._candidates(query, params)}) AND {filter_sql}"
        found = self._page(c, "entities e", where, f"{SCORE} AS score", ORDER, params)
        if found.total == 0:
            return self._fuzzy(c, query, filter_sql, params, page, size)
        return Page(found.total, found.items, highlights(query, found.items))

    @staticmethod
    def _candidates(query: names.Query, params: dict[str, Any]) -> str:
        """Which entities match at all: an FTS5 phrase per term of 3+ characters, LIKE below."""
        terms: list[tuple[tuple[str, ...] | None, str]] = [
            (None, query.text),
            (("name_canonical", "former_canonical"), query.canonical),
            (("pinyin",), query.squeezed),
        ]
        if query.core:
            terms.append((("name_core", "former_core"), query.core))
        match, likes = [], []
        for i, (columns, term) in enumerate(terms):
            if len(term) >= 3:
                prefix = "{" + " ".join(columns) + "} : " if columns else ""
                match.append(prefix + _phrase(term))
            elif term:
                params[f"like{i}"] = _contains(term)
                for column in columns or FTS_FIELDS:
                    likes.append(f"e.{column} LIKE :like{i} ESCAPE '\\'")
                if columns is None:
                    params[f"like_lower{i}"] = _contains(term.lower())
                    likes.append(f"e.pinyin LIKE :like_lower{i} ESCAPE '\\'")
        if match:
            params["match"] = " OR ".join(match)
            likes.insert(0, "e.uscc IN (SELECT uscc FROM entities_fts WHERE entities_fts MATCH :match)")
        return " OR ".join(likes) or "0"

    @staticmethod
    def _page(
        c: sqlite3.Connection, source: str, where: str, score: str, order: str, params: dict[str, Any]
    ) -> Page:
        total = int(c.execute(f"SELECT COUNT(*) FROM {source} WHERE {where}", params).fetchone()[0])
        if total == 0:
            return Page(0, [])
        rows = c.execute(
            f"SELECT e.public_doc, {score} FROM {source} WHERE {where} {order} LIMIT :limit OFFSET :offset",
            params,
        ).fetchall()
        return Page(total, [json.loads(r[0]) for r in rows])

    def _fuzzy(
        self,
        c: sqlite3.Connection,
        query: names.Query,
        filter_sql: str,
        params: dict[str, Any],
        page: int,
        size: int,
    ) -> Page:
        grams = query.grams()
        if not grams:
            return Page(0, [])
        params = {
            **params,
            "grams": " OR ".join(_phrase(g) for g in grams),
            "candidates": 5 * names.FUZZY_CANDIDATES,
        }
        rows = c.execute(
            "SELECT e.public_doc, g.grams FROM entities_grams g JOIN entities e ON e.uscc = g.uscc "
            f"WHERE entities_grams MATCH :grams AND {filter_sql} "
            "ORDER BY bm25(entities_grams) LIMIT :candidates",
            params,
        ).fetchall()
        return fuzzy_page(query, [(json.loads(doc), stored.split()) for doc, stored in rows], page, size)

    def get_public(self, uscc: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT public_doc FROM entities WHERE uscc=?", (uscc,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def get_sharing(self, uscc: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT sharing_doc FROM sharing WHERE uscc=?", (uscc,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def records(self, query: RecordQuery, today: date, page: int = 1, size: int = 20) -> Page:
        where = ["(public_until IS NULL OR public_until > :today)"]
        params: dict[str, Any] = {"today": today.isoformat(), "limit": size, "offset": (page - 1) * size}
        if query.category:
            where.append("category = :category")
            params["category"] = query.category
        if query.department:
            where.append("department = :department")
            params["department"] = query.department
        if query.uscc:
            where.append("uscc = :uscc")
            params["uscc"] = query.uscc
        if query.date_from:
            where.append("occurred_on >= :date_from")
            params["date_from"] = query.date_from.isoformat()
        if query.date_to:
            where.append("occurred_on <= :date_to")
            params["date_to"] = query.date_to.isoformat()
        clause = " AND ".join(where)
        c = self._conn()
        total = int(c.execute(f"SELECT COUNT(*) FROM records WHERE {clause}", params).fetchone()[0])
        rows = c.execute(
            f"SELECT row FROM records WHERE {clause} ORDER BY occurred_on DESC, uscc, record_id "
            "LIMIT :limit OFFSET :offset",
            params,
        ).fetchall()
        return Page(total, [json.loads(r[0]) for r in rows])

    def count(self, projection: str = "entities") -> int:
        table = ENTITY_TABLE[check_projection(projection)]
        return int(self._conn().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    # --- the publicity job ----------------------------------------------------------------------

    def reevaluate_flags(self, today: date) -> int:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
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
                        (_flags_text(sorted(flags)), today.isoformat(), uscc),
                    )
                    changed += 1
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return changed

    # --- rebuild without downtime -----------------------------------------------------------------

    def begin_rebuild(self, projection: str) -> str:
        tables = TABLES[check_projection(projection)]
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            for table in tables:
                c.execute(f"DROP TABLE IF EXISTS {table}{NEXT}")
            row = c.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
            generation = int(row[0]) + 1 if row else 2
            c.execute(
                "INSERT INTO meta VALUES ('generation', ?) "
                "ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                (str(generation),),
            )
            for statement in _schema(projection, NEXT, f"g{generation}").split(";\n"):
                if statement.strip():
                    c.execute(statement)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return f"g{generation}"

    def write_rebuild(self, projection: str, target: str, entities: Sequence[IndexedEntity]) -> None:
        upsert = self._upserts[check_projection(projection)]
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            for entity in entities:
                upsert(c, entity, NEXT)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def finish_rebuild(self, projection: str, target: str, position: int) -> None:
        tables = TABLES[check_projection(projection)]
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            for table in tables:
                c.execute(f"DROP TABLE {table}")
                c.execute(f"ALTER TABLE {table}{NEXT} RENAME TO {table}")
            self._record_position(c, projection, position)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def abort_rebuild(self, projection: str, target: str) -> None:
        c = self._conn()
        for table in TABLES[check_projection(projection)]:
            c.execute(f"DROP TABLE IF EXISTS {table}{NEXT}")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _stored_version(c: sqlite3.Connection, table: str, uscc: str) -> int | None:
    row = c.execute(f"SELECT version FROM {table} WHERE uscc=?", (uscc,)).fetchone()
    return None if row is None else int(row[0])


def _upsert_entity(c: sqlite3.Connection, e: IndexedEntity, suffix: str) -> None:
    entities, fts, grams = (t + suffix for t in TABLES["entities"])
    stored = _stored_version(c, entities, e.uscc)
    if stored is not None and stored >= e.version:
        return  # what is stored is as new or newer
    f, public = e.fields, e.public
    registration = public.get("registration") or {}
    values = {
        "uscc": e.uscc,
        "version": e.version,
        **{k: f.get(k, "") for k in FTS_FIELDS},
        "status": public.get("status"),
        "district_code": public.get("district_code"),
        "entity_type": registration.get("entity_type"),
        "industry": registration.get("industry"),
        "established_on": registration.get("established_on"),
        "flags": _flags_text(e.flags),
        "flags_as_of": e.flags_as_of,
        "penalty_windows": json.dumps([list(w) for w in e.penalty_windows]),
        "public_doc": json.dumps(public, ensure_ascii=False),
    }
    if stored is not None:
        for table in (entities, fts, grams):
            c.execute(f"DELETE FROM {table} WHERE uscc=?", (e.uscc,))
    c.execute(
        f"INSERT INTO {entities} ({', '.join(ENTITY_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(ENTITY_COLUMNS))})",
        tuple(values[k] for k in ENTITY_COLUMNS),
    )
    c.execute(
        f"INSERT INTO {fts} (uscc, {', '.join(FTS_FIELDS)}) VALUES (?{', ?' * len(FTS_FIELDS)})",
        (e.uscc, *(f.get(k, "") for k in FTS_FIELDS)),
    )
    c.execute(f"INSERT INTO {grams} (uscc, grams) VALUES (?, ?)", (e.uscc, f.get("grams", "")))


def _upsert_records(c: sqlite3.Connection, e: IndexedEntity, suffix: str) -> None:
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


def _upsert_sharing(c: sqlite3.Connection, e: IndexedEntity, suffix: str) -> None:
    c.execute(
        f"INSERT INTO sharing{suffix} VALUES (?, ?, ?) ON CONFLICT (uscc) DO UPDATE "
        f"SET version=excluded.version, sharing_doc=excluded.sharing_doc "
        f"WHERE excluded.version > sharing{suffix}.version",
        (e.uscc, e.version, json.dumps(e.sharing, ensure_ascii=False)),
    )


def _in_window(windows: Sequence[Sequence[str | None]], today: date) -> bool:
    day = today.isoformat()
    return any(str(start) <= day and (end is None or day < str(end)) for start, end in windows)
