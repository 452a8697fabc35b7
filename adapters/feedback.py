"""Feedback on joint measures (联合奖惩反馈): what an agency applied to an entity under which
measure, when and on what basis — append-only, beside the event store, shown in the agency view
of the entity.

Embedded: a SQLite file (`feedback.sqlite3` in the data directory). Real: a table in the event
store's PostgreSQL database and schema. Nothing is updated or deleted (a trigger refuses it): a
correction is a new entry.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from adapters.sqlite_util import SQLiteTable

__all__ = ["Feedback", "FeedbackStore", "FeedbackUnavailable", "PostgresFeedbackStore", "SQLiteFeedbackStore"]


class FeedbackUnavailable(Exception):
    """The feedback table cannot be written or read."""


@dataclass(frozen=True)
class Feedback:
    uscc: str
    measure: str
    action: str
    applied_on: date
    agency: str
    recorded_at: datetime
    basis: str | None = None
    reference: str | None = None
    note: str | None = None
    agency_name: str | None = None
    officer: str | None = None
    key_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "uscc": self.uscc,
            "measure": self.measure,
            "action": self.action,
            "applied_on": self.applied_on.isoformat(),
            "basis": self.basis,
            "reference": self.reference,
            "note": self.note,
            "agency": self.agency,
            "agency_name": self.agency_name,
            "officer": self.officer,
            "recorded_at": self.recorded_at.isoformat(),
        }


_COLUMNS = (
    "uscc",
    "measure",
    "action",
    "applied_on",
    "basis",
    "reference",
    "note",
    "agency",
    "agency_name",
    "officer",
    "key_id",
    "recorded_at",
    "details",
)


def _params(f: Feedback, *, text_dates: bool) -> tuple[Any, ...]:
    return (
        f.uscc,
        f.measure,
        f.action,
        f.applied_on.isoformat() if text_dates else f.applied_on,
        f.basis,
        f.reference,
        f.note,
        f.agency,
        f.agency_name,
        f.officer,
        f.key_id,
        f.recorded_at.isoformat() if text_dates else f.recorded_at,
        json.dumps(f.details, ensure_ascii=False),
    )


def _row(row: Sequence[Any]) -> Feedback:
    id_, *values = row
    data = dict(zip(_COLUMNS, values, strict=True))
    applied, recorded = data["applied_on"], data["recorded_at"]
    return Feedback(
        id=int(id_),
        uscc=data["uscc"],
        measure=data["measure"],
        action=data["action"],
        applied_on=applied if isinstance(applied, date) else date.fromisoformat(str(applied)),
        basis=data["basis"],
        reference=data["reference"],
        note=data["note"],
        agency=data["agency"],
        agency_name=data["agency_name"],
        officer=data["officer"],
        key_id=data["key_id"],
        recorded_at=recorded if isinstance(recorded, datetime) else datetime.fromisoformat(str(recorded)),
        details=json.loads(data["details"] or "{}"),
    )


class FeedbackStore(ABC):
    @abstractmethod
    def record(self, feedback: Feedback) -> int:
        """Append one entry; its id."""

    @abstractmethod
    def for_entity(self, uscc: str, limit: int = 200) -> list[Feedback]:
        """The entity's entries, newest first."""

    def close(self) -> None:
        """Release connections."""


_APPEND_ONLY = "措施反馈只能追加，不能修改或删除"


class SQLiteFeedbackStore(FeedbackStore):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = SQLiteTable(
            path,
            (
                "CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "uscc TEXT NOT NULL, measure TEXT NOT NULL, action TEXT NOT NULL, applied_on TEXT NOT NULL, "
                "basis TEXT, reference TEXT, note TEXT, agency TEXT NOT NULL, agency_name TEXT, "
                "officer TEXT, key_id TEXT, recorded_at TEXT NOT NULL, details TEXT NOT NULL)",
                "CREATE INDEX IF NOT EXISTS feedback_by_uscc ON feedback (uscc, id)",
                *(
                    f"CREATE TRIGGER IF NOT EXISTS feedback_no_{a.lower()} BEFORE {a} ON feedback "
                    f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
                    for a in ("UPDATE", "DELETE")
                ),
            ),
            unavailable=FeedbackUnavailable,
        )

    def record(self, feedback: Feedback) -> int:
        marks = ", ".join("?" * len(_COLUMNS))
        rows = self._db.rows(
            f"INSERT INTO feedback ({', '.join(_COLUMNS)}) VALUES ({marks}) RETURNING id",
            _params(feedback, text_dates=True),
        )
        return int(rows[0][0])

    def for_entity(self, uscc: str, limit: int = 200) -> list[Feedback]:
        rows = self._db.rows(
            f"SELECT id, {', '.join(_COLUMNS)} FROM feedback WHERE uscc = ? ORDER BY id DESC LIMIT ?",
            (uscc, limit),
        )
        return [_row(r) for r in rows]

    def close(self) -> None:
        self._db.close()


class PostgresFeedbackStore(FeedbackStore):
    def __init__(self, dsn: str, *, schema: str | None = None, table: str = "agency_feedback") -> None:
        from adapters.pg import PgTable  # psycopg only when PostgreSQL is configured

        self._db = PgTable(
            dsn,
            table,
            (
                "CREATE TABLE IF NOT EXISTS {table} (id BIGSERIAL PRIMARY KEY, uscc TEXT NOT NULL, "
                "measure TEXT NOT NULL, action TEXT NOT NULL, applied_on DATE NOT NULL, basis TEXT, "
                "reference TEXT, note TEXT, agency TEXT NOT NULL, agency_name TEXT, officer TEXT, "
                "key_id TEXT, recorded_at TIMESTAMPTZ NOT NULL, details TEXT NOT NULL)",
                f'CREATE INDEX IF NOT EXISTS "{table}_by_uscc" ON {{table}} (uscc, id)',
                "CREATE OR REPLACE FUNCTION {feedback_append_only}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$",
                "CREATE OR REPLACE TRIGGER append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION {feedback_append_only}()",
            ),
            schema=schema,
            unavailable=FeedbackUnavailable,
            others=("feedback_append_only",),
        )

    def record(self, feedback: Feedback) -> int:
        marks = ", ".join(["%s"] * len(_COLUMNS))
        rows = self._db.rows(
            f"INSERT INTO {{table}} ({', '.join(_COLUMNS)}) VALUES ({marks}) RETURNING id",
            _params(feedback, text_dates=False),
        )
        return int(rows[0][0])

    def for_entity(self, uscc: str, limit: int = 200) -> list[Feedback]:
        rows = self._db.rows(
            f"SELECT id, {', '.join(_COLUMNS)} FROM {{table}} WHERE uscc = %s ORDER BY id DESC LIMIT %s",
            (uscc, limit),
        )
        return [_row(r) for r in rows]

    def close(self) -> None:
        self._db.close()
