"""The casework view: what the deadline jobs and the departments' desks ask of the whole register.

Per entity, a few rows: the entity (its registering department and authority, status, the year it
was established), the annual reports it filed, its listings (abnormal and serious, open or
removed, warned or not) and its applications and objections with their deciding department and
state. The jobs select from it in pages keyed by USCC (who has not filed for year Y, which
listings are due a warning or escalation, which removals are due); the departments list their
pending cases from it.

A materialised view in eventsourcing's projection pattern, like the status view: each
implementation subclasses the library's tracking recorder, so an entity's rows and the position
they were read up to are written in one transaction. Rows are replaced per entity (delete, then
insert), so a replay never doubles them. The jobs' own progress (`job_runs`) lives beside them.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import PersistenceError, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from adapters.pg import postgres_datastore
from adapters.sqlite_util import sqlite_datastore

__all__ = [
    "ApplicationRow",
    "CaseworkUnavailable",
    "CaseworkView",
    "EntityRows",
    "ListingRow",
    "PostgresCaseworkView",
    "SQLiteCaseworkView",
]


class CaseworkUnavailable(Exception):
    """The view's database cannot be reached or answered with an error."""


@contextmanager
def _translated(action: str) -> Iterator[None]:
    try:
        yield
    except (PersistenceError, psycopg.Error, sqlite3.Error, OSError) as err:
        raise CaseworkUnavailable(f"casework view: {action} failed: {err!r}") from err


@dataclass(frozen=True, slots=True)
class ListingRow:
    list: str  # abnormal | serious
    decision_no: str
    listed_on: str
    department: str | None
    cause: str | None = None
    year: int | None = None
    removed_on: str | None = None
    warned_on: str | None = None
    escalation_on: str | None = None


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    number: str
    kind: str  # repair | abnormal_removal | objection
    target: str
    record_no: str
    department: str
    status: str  # pending | approved | rejected | resolved
    filed_on: str
    due_on: str | None = None
    due_warning: str | None = None
    decided_on: str | None = None


@dataclass(frozen=True, slots=True)
class EntityRows:
    """Everything the view holds about one entity."""

    uscc: str
    name: str
    department: str
    authority: str | None
    status: str
    established_year: int
    reports: dict[int, str] = field(default_factory=dict)  # year → first filed on
    listings: tuple[ListingRow, ...] = ()
    applications: tuple[ApplicationRow, ...] = ()


_TABLES = ("cw_entities", "cw_reports", "cw_listings", "cw_applications", "cw_job_runs")
_DDL = (
    "CREATE TABLE IF NOT EXISTS {s}cw_entities (uscc TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "department TEXT NOT NULL, authority TEXT, status TEXT NOT NULL, established_year INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {s}cw_reports (uscc TEXT NOT NULL, year INTEGER NOT NULL, "
    "filed_on TEXT NOT NULL, PRIMARY KEY (uscc, year))",
    "CREATE TABLE IF NOT EXISTS {s}cw_listings (uscc TEXT NOT NULL, list TEXT NOT NULL, "
    "decision_no TEXT NOT NULL, listed_on TEXT NOT NULL, department TEXT, cause TEXT, year INTEGER, "
    "removed_on TEXT, warned_on TEXT, escalation_on TEXT, PRIMARY KEY (uscc, list, decision_no))",
    "CREATE INDEX IF NOT EXISTS cw_listings_open ON {s}cw_listings (list, removed_on, listed_on)",
    "CREATE TABLE IF NOT EXISTS {s}cw_applications (number TEXT PRIMARY KEY, uscc TEXT NOT NULL, "
    "kind TEXT NOT NULL, target TEXT NOT NULL, record_no TEXT NOT NULL, department TEXT NOT NULL, "
    "status TEXT NOT NULL, filed_on TEXT NOT NULL, due_on TEXT, due_warning TEXT, decided_on TEXT)",
    "CREATE INDEX IF NOT EXISTS cw_applications_desk ON {s}cw_applications (department, kind, status)",
    "CREATE INDEX IF NOT EXISTS cw_applications_entity ON {s}cw_applications (uscc)",
    "CREATE TABLE IF NOT EXISTS {s}cw_job_runs (job TEXT NOT NULL, run_key TEXT NOT NULL, "
    "after_uscc TEXT NOT NULL, published INTEGER NOT NULL, done INTEGER NOT NULL, "
    "PRIMARY KEY (job, run_key))",
)

#: Active entities that owe the report for :year, have not filed it and are not listed for it.
_NON_FILERS = (
    "SELECT e.uscc, e.name, e.department, e.authority FROM {s}cw_entities e "
    "WHERE e.uscc > {p} AND e.status = {p} AND e.established_year <= {p} "
    "AND NOT EXISTS (SELECT 1 FROM {s}cw_reports r WHERE r.uscc = e.uscc AND r.year = {p}) "
    "AND NOT EXISTS (SELECT 1 FROM {s}cw_listings l WHERE l.uscc = e.uscc AND l.list = 'abnormal' "
    "AND l.cause = 'annual_report' AND l.year = {p}) ORDER BY e.uscc LIMIT {p}"
)
_OPEN_ABNORMAL = (
    "SELECT l.uscc, l.decision_no, l.listed_on, l.department, l.cause, l.year, l.warned_on, "
    "l.escalation_on, e.name, e.status FROM {s}cw_listings l JOIN {s}cw_entities e ON e.uscc = l.uscc "
    "WHERE l.list = 'abnormal' AND l.removed_on IS NULL AND l.listed_on <= {p} "
    "AND (l.uscc > {p} OR (l.uscc = {p} AND l.decision_no > {p})) ORDER BY l.uscc, l.decision_no LIMIT {p}"
)


class CaseworkView(TrackingRecorder, ABC):
    """Port: the rows the jobs and desks read, and the position of the log they reflect."""

    placeholder = "?"
    schema_prefix = ""

    def _sql(self, text: str) -> str:
        return text.replace("{s}", self.schema_prefix).replace("{p}", self.placeholder)

    @abstractmethod
    def _execute_many(
        self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]], tracking: Tracking | None
    ) -> None:
        """Run each (statement, rows) in one transaction, recording `tracking` in it."""

    @abstractmethod
    def _rows(self, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]: ...

    def replace(self, entities: Sequence[EntityRows], tracking: Tracking) -> None:
        """Replace the rows of each entity and record `tracking`, in one transaction."""
        usccs = [(e.uscc,) for e in entities]
        statements: list[tuple[str, Sequence[Sequence[Any]]]] = [
            (self._sql(f"DELETE FROM {{s}}{table} WHERE uscc = {{p}}"), usccs) for table in _TABLES[:4]
        ]
        statements.append(
            (
                self._sql("INSERT INTO {s}cw_entities VALUES ({p}, {p}, {p}, {p}, {p}, {p})"),
                [(e.uscc, e.name, e.department, e.authority, e.status, e.established_year) for e in entities],
            )
        )
        statements.append(
            (
                self._sql("INSERT INTO {s}cw_reports VALUES ({p}, {p}, {p})"),
                [(e.uscc, year, on) for e in entities for year, on in e.reports.items()],
            )
        )
        statements.append(
            (
                self._sql(
                    "INSERT INTO {s}cw_listings VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})"
                ),
                [
                    (
                        e.uscc,
                        x.list,
                        x.decision_no,
                        x.listed_on,
                        x.department,
                        x.cause,
                        x.year,
                        x.removed_on,
                        x.warned_on,
                        x.escalation_on,
                    )
                    for e in entities
                    for x in e.listings
                ],
            )
        )
        statements.append(
            (
                self._sql("INSERT INTO {s}cw_applications VALUES (" + ", ".join(["{p}"] * 11) + ")"),
                [
                    (
                        a.number,
                        e.uscc,
                        a.kind,
                        a.target,
                        a.record_no,
                        a.department,
                        a.status,
                        a.filed_on,
                        a.due_on,
                        a.due_warning,
                        a.decided_on,
                    )
                    for e in entities
                    for a in e.applications
                ],
            )
        )
        self._execute_many(statements, tracking)

    # --- what the jobs ask ------------------------------------------------------------------------

    def non_filers(
        self, year: int, after: str, limit: int, status: str = "存续"
    ) -> list[tuple[str, str, str, str | None]]:
        """(uscc, name, department, authority) of active entities owing the report for `year`,
        not filed and not listed for it, after `after`, in USCC order."""
        with _translated("selecting non-filers"):
            rows = self._rows(self._sql(_NON_FILERS), (after, status, year, year, year, limit))
        return [(str(u), str(n), str(d), a) for u, n, d, a in rows]

    def open_abnormal(self, listed_until: date, after: tuple[str, str], limit: int) -> list[dict[str, Any]]:
        """Abnormal listings not removed, listed on or before `listed_until`, after `after`
        ((uscc, decision_no)), in that order."""
        keys = (
            "uscc",
            "decision_no",
            "listed_on",
            "department",
            "cause",
            "year",
            "warned_on",
            "escalation_on",
            "name",
            "status",
        )
        with _translated("selecting open listings"):
            rows = self._rows(
                self._sql(_OPEN_ABNORMAL),
                (listed_until.isoformat(), after[0], after[0], after[1], limit),
            )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def serious_listed(self, uscc: str, decision_no: str) -> bool:
        with _translated("reading a listing"):
            rows = self._rows(
                self._sql(
                    "SELECT 1 FROM {s}cw_listings WHERE uscc = {p} AND list = 'serious' AND decision_no = {p}"
                ),
                (uscc, decision_no),
            )
        return bool(rows)

    def reports_filed(self, uscc: str) -> dict[int, str]:
        with _translated("reading reports"):
            rows = self._rows(self._sql("SELECT year, filed_on FROM {s}cw_reports WHERE uscc = {p}"), (uscc,))
        return {int(y): str(on) for y, on in rows}

    def listing(self, uscc: str, decision_no: str) -> dict[str, Any] | None:
        with _translated("reading a listing"):
            rows = self._rows(
                self._sql(
                    "SELECT cause, year, removed_on, department FROM {s}cw_listings "
                    "WHERE uscc = {p} AND list = 'abnormal' AND decision_no = {p}"
                ),
                (uscc, decision_no),
            )
        if not rows:
            return None
        cause, year, removed_on, department = rows[0]
        return {"cause": cause, "year": year, "removed_on": removed_on, "department": department}

    def applications(
        self,
        *,
        department: str | None = None,
        kinds: Sequence[str] = (),
        status: str | None = None,
        uscc: str | None = None,
        due_until: date | None = None,
        after: str = "",
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Applications and objections, by number, narrowed as asked."""
        conditions, params = ["number > {p}"], [after]
        for column, value in (("department", department), ("status", status), ("uscc", uscc)):
            if value is not None:
                conditions.append(f"{column} = {{p}}")
                params.append(value)
        if kinds:
            conditions.append("kind IN (" + ", ".join("{p}" for _ in kinds) + ")")
            params.extend(kinds)
        if due_until is not None:
            conditions.append("due_on IS NOT NULL AND due_on <= {p}")
            params.append(due_until.isoformat())
        keys = (
            "number",
            "uscc",
            "kind",
            "target",
            "record_no",
            "department",
            "status",
            "filed_on",
            "due_on",
            "due_warning",
            "decided_on",
        )
        query = (
            f"SELECT {', '.join(keys)} FROM {{s}}cw_applications WHERE {' AND '.join(conditions)} "
            "ORDER BY number LIMIT {p}"
        )
        with _translated("selecting applications"):
            rows = self._rows(self._sql(query), (*params, limit))
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def application(self, number: str) -> dict[str, Any] | None:
        """One application or objection by its number."""
        keys = (
            "number",
            "uscc",
            "kind",
            "target",
            "record_no",
            "department",
            "status",
            "filed_on",
            "due_on",
            "due_warning",
            "decided_on",
        )
        with _translated("reading an application"):
            rows = self._rows(
                self._sql(f"SELECT {', '.join(keys)} FROM {{s}}cw_applications WHERE number = {{p}}"),
                (number,),
            )
        return dict(zip(keys, rows[0], strict=True)) if rows else None

    # --- the jobs' progress ------------------------------------------------------------------------

    def job_progress(self, job: str, run_key: str) -> tuple[str, int, bool]:
        """(resume after this USCC, published so far, done) of one run of a job."""
        with _translated("reading job progress"):
            rows = self._rows(
                self._sql(
                    "SELECT after_uscc, published, done FROM {s}cw_job_runs WHERE job = {p} AND run_key = {p}"
                ),
                (job, run_key),
            )
        if not rows:
            return "", 0, False
        return str(rows[0][0]), int(rows[0][1]), bool(rows[0][2])

    def save_job_progress(self, job: str, run_key: str, after: str, published: int, done: bool) -> None:
        self._execute_many(
            [
                (self._sql("DELETE FROM {s}cw_job_runs WHERE job = {p} AND run_key = {p}"), [(job, run_key)]),
                (
                    self._sql("INSERT INTO {s}cw_job_runs VALUES ({p}, {p}, {p}, {p}, {p})"),
                    [(job, run_key, after, published, int(done))],
                ),
            ],
            None,
        )

    def close(self) -> None:
        self.datastore.close()  # type: ignore[attr-defined]


class SQLiteCaseworkView(SQLiteTrackingRecorder, CaseworkView):
    """The view in a SQLite file (embedded)."""

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *(self._sql(d) for d in _DDL)]

    @classmethod
    def open(cls, path: Path) -> SQLiteCaseworkView:
        view = cls(sqlite_datastore(path))
        view.create_table()
        return view

    def _execute_many(
        self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]], tracking: Tracking | None
    ) -> None:
        with self.datastore.transaction(commit=True) as c:
            for statement, rows in statements:
                if rows:
                    c.executemany(statement, rows)
            if tracking is not None:
                self._insert_tracking(c, tracking)

    def _rows(self, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(query, tuple(params))
            return [tuple(r) for r in c.fetchall()]


class PostgresCaseworkView(PostgresTrackingRecorder, CaseworkView):
    """The view in the event store's PostgreSQL database and schema."""

    placeholder = "%s"

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        kwargs.setdefault("tracking_table_name", "casework_tracking")
        super().__init__(datastore, **kwargs)
        schema = self.datastore.schema
        self.schema_prefix = f'"{schema}".' if schema else ""
        from psycopg.sql import SQL

        for statement in _DDL:  # (an index is made in its table's schema)
            self.sql_create_statements.append(SQL(self._sql(statement)))  # type: ignore[arg-type]

    @classmethod
    def open(cls, dsn: str, schema: str | None = None, pool_size: int = 2) -> PostgresCaseworkView:
        view = cls(postgres_datastore(dsn, schema=schema, pool_size=pool_size))
        view.create_table()
        return view

    def _execute_many(
        self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]], tracking: Tracking | None
    ) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for statement, rows in statements:
                if rows:
                    curs.executemany(statement.encode(), rows)
            if tracking is not None:
                self._insert_tracking(curs, tracking)

    def _rows(self, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query.encode(), tuple(params))
            return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in curs.fetchall()]
