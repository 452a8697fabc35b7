"""The embedded search index on SQLite FTS5 (trigram tokenizer: Chinese substrings of 3+ chars).

Queries shorter than three characters (common in Chinese: 滨海, 恒通) fall back to LIKE over the
same columns. A document's stored version never goes backwards, so replays are harmless; the
projection's position is written in the same transaction as its documents.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from adapters.search_index.base import IndexedEntity, Page, RecordQuery, SearchIndex, SearchUnavailable
from domain.uscc import looks_like_registration_number, looks_like_uscc

SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
  uscc TEXT PRIMARY KEY, version INTEGER NOT NULL, name TEXT NOT NULL, former_names TEXT NOT NULL,
  codes TEXT NOT NULL, person TEXT NOT NULL, pinyin TEXT NOT NULL, status TEXT,
  established_on TEXT, public_doc TEXT NOT NULL, sharing_doc TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS entities_fts USING fts5(
  uscc UNINDEXED, name, former_names, codes, person, pinyin, tokenize='trigram'
);
CREATE TABLE IF NOT EXISTS records (
  uscc TEXT NOT NULL, category TEXT NOT NULL, record_id TEXT NOT NULL, department TEXT,
  occurred_on TEXT NOT NULL, public_until TEXT, row TEXT NOT NULL,
  PRIMARY KEY (uscc, category, record_id)
);
CREATE INDEX IF NOT EXISTS records_by_date ON records (occurred_on DESC);
CREATE INDEX IF NOT EXISTS records_by_category ON records (category, occurred_on DESC);
CREATE TABLE IF NOT EXISTS positions (projection TEXT PRIMARY KEY, position INTEGER NOT NULL);
"""

FIELDS = ("name", "former_names", "codes", "person", "pinyin")

# Ranking: exact code > exact name > name prefix > name substring > former name > person > pinyin.
SCORE = """
CASE WHEN e.codes LIKE :exact_code THEN 1000
     WHEN e.name = :q THEN 900
     WHEN e.name LIKE :prefix THEN 800
     WHEN e.name LIKE :contains THEN 700
     WHEN e.former_names LIKE :contains THEN 600
     WHEN e.person = :q THEN 500
     WHEN e.pinyin LIKE :contains_lower OR e.pinyin LIKE :pinyin THEN 400
     ELSE 100 END
"""


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SQLiteSearchIndex(SearchIndex):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._conn().executescript(SCHEMA)

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

    # --- writes -------------------------------------------------------------------------------

    def position(self, projection: str) -> int | None:
        row = (
            self._conn()
            .execute("SELECT position FROM positions WHERE projection=?", (projection,))
            .fetchone()
        )
        return None if row is None else int(row[0])

    def write(self, projection: str, entities: Sequence[IndexedEntity], position: int) -> None:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            for entity in entities:
                self._upsert(c, entity)
            c.execute(
                "INSERT INTO positions VALUES (?, ?) ON CONFLICT (projection) DO UPDATE "
                "SET position=excluded.position WHERE excluded.position > positions.position",
                (projection, position),
            )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def _upsert(self, c: sqlite3.Connection, e: IndexedEntity) -> None:
        row = c.execute("SELECT version FROM entities WHERE uscc=?", (e.uscc,)).fetchone()
        if row is not None and int(row[0]) >= e.version:
            return  # what is stored is as new or newer
        f = e.fields
        values = (
            e.version,
            f["name"],
            f["former_names"],
            f["codes"],
            f["person"],
            f["pinyin"],
            e.public["status"],
            e.public["registration"].get("established_on"),
            json.dumps(e.public, ensure_ascii=False),
            json.dumps(e.sharing, ensure_ascii=False),
        )
        if row is None:
            c.execute("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (e.uscc, *values))
        else:
            c.execute(
                "UPDATE entities SET version=?, name=?, former_names=?, codes=?, person=?, pinyin=?, "
                "status=?, established_on=?, public_doc=?, sharing_doc=? WHERE uscc=?",
                (*values, e.uscc),
            )
            c.execute("DELETE FROM entities_fts WHERE uscc=?", (e.uscc,))
            c.execute("DELETE FROM records WHERE uscc=?", (e.uscc,))
        c.execute("INSERT INTO entities_fts VALUES (?, ?, ?, ?, ?, ?)", (e.uscc, *(f[k] for k in FIELDS)))
        c.executemany(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
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

    # --- reads --------------------------------------------------------------------------------

    def search(self, q: str, today: date, page: int = 1, size: int = 20) -> Page:
        q = "".join(ch if ch.isprintable() else " " for ch in q).strip()  # FTS5 chokes on NUL
        if not q:
            return Page(0, [])
        compact = "".join(q.split()).upper()
        if looks_like_uscc(compact) or looks_like_registration_number(compact):
            rows = (
                self._conn()
                .execute(
                    "SELECT public_doc FROM entities WHERE uscc=? OR codes LIKE ? ESCAPE '\\'",
                    (compact, f"%{_like_escape(compact)}%"),
                )
                .fetchall()
            )
            return Page(len(rows), [json.loads(r[0]) for r in rows])
        squeezed = compact.lower()  # "tianjin binhai" is matched as "tianjinbinhai" in the pinyin
        params = {
            "q": q,
            "exact_code": _like_escape(compact),
            "prefix": f"{_like_escape(q)}%",
            "contains": f"%{_like_escape(q)}%",
            "contains_lower": f"%{_like_escape(q.lower())}%",
            "pinyin": f"%{_like_escape(squeezed)}%",
            "limit": size,
            "offset": (page - 1) * size,
        }
        if len(q) >= 3:
            match = '"' + q.replace('"', '""') + '"'
            if squeezed != q.lower() and len(squeezed) >= 3:
                match += ' OR pinyin : "' + squeezed.replace('"', '""') + '"'
            params["match"] = match
            source = "entities_fts f JOIN entities e ON e.uscc = f.uscc WHERE entities_fts MATCH :match"
        else:
            source = "entities e WHERE " + " OR ".join(
                f"e.{col} LIKE :contains ESCAPE '\\'"
                if col != "pinyin"
                else f"e.{col} LIKE :contains_lower ESCAPE '\\' OR e.{col} LIKE :pinyin ESCAPE '\\'"
                for col in FIELDS
            )
        c = self._conn()
        total = int(c.execute(f"SELECT COUNT(*) FROM {source}", params).fetchone()[0])
        rows = c.execute(
            f"SELECT e.public_doc, {SCORE} AS score FROM {source} "
            "ORDER BY score DESC, length(e.name), e.name LIMIT :limit OFFSET :offset",
            params,
        ).fetchall()
        return Page(total, [json.loads(r[0]) for r in rows])

    def get_public(self, uscc: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT public_doc FROM entities WHERE uscc=?", (uscc,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def get_sharing(self, uscc: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT sharing_doc FROM entities WHERE uscc=?", (uscc,)).fetchone()
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

    def count(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM entities").fetchone()[0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
