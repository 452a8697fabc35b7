"""The department registry's history, one suite for SQLite and PostgreSQL: the shipped departments
are seeded once (a department the file adds later is seeded then, a changed one keeps its
changes), changes read back in order with their dates, and the registry folded from them gives the
mandate in force on each date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from adapters.department_store import DepartmentStore, PostgresDepartmentStore, SQLiteDepartmentStore
from domain.departments import DepartmentRegistry, seed_changes
from tests.engines import postgres_dsn, real, unique_prefix

AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
SHIPPED = DepartmentRegistry.load_default().all()


@pytest.fixture(params=["sqlite", real("postgres")])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DepartmentStore]:
    if request.param == "sqlite":
        s: DepartmentStore = SQLiteDepartmentStore(tmp_path / "departments.sqlite3")
        yield s
        s.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"dp_{request.node.name[5:25]}").replace("[", "_").replace("]", "")
    s = PostgresDepartmentStore(dsn, schema=schema)
    yield s
    s.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_the_shipped_departments_are_seeded_once(store: DepartmentStore) -> None:
    assert store.version() == 0
    assert store.seed(seed_changes(SHIPPED)) == len(SHIPPED)
    assert store.seed(seed_changes(SHIPPED)) == 0
    registry = DepartmentRegistry.from_source(store)
    assert registry.all() == SHIPPED
    assert store.version() == len(SHIPPED)


def test_changes_fold_into_the_mandate_in_force_on_each_date(store: DepartmentStore) -> None:
    store.seed(seed_changes(SHIPPED))
    amr = next(d for d in SHIPPED if d.code == "TJ-AMR")
    store.record("TJ-AMR", "kinds_set", date(2026, 12, 1), AT, "cli:zhang", {"kinds": ["penalty.imposed"]})
    new = {**amr.as_dict(), "code": "TJ-NEW", "name": "新接入部门", "kinds": ["other.recorded"]}
    store.record("TJ-NEW", "added", date(2026, 11, 22), AT, "cli:zhang", new)
    store.record("TJ-NEW", "disabled", date(2027, 1, 1), AT, "cli:li", {})
    changes = store.changes()
    assert [c.action for c in changes[-3:]] == ["kinds_set", "added", "disabled"]
    assert changes[-1].actor == "cli:li" and changes[-1].at == AT
    registry = DepartmentRegistry.from_source(store)
    assert registry.may_publish("TJ-AMR", "licence.granted", on=date(2026, 11, 30))
    assert not registry.may_publish("TJ-AMR", "licence.granted", on=date(2026, 12, 1))
    assert registry.may_publish("TJ-AMR", "penalty.imposed", on=date(2026, 12, 1))
    assert registry.get("TJ-NEW", on=date(2026, 11, 21)) is None
    assert registry.may_publish("TJ-NEW", "other.recorded", on=date(2026, 12, 31))
    assert registry.get("TJ-NEW", on=date(2027, 1, 1)) is None and registry.known("TJ-NEW")
    assert [c.action for c in registry.history("TJ-NEW")] == ["added", "disabled"]


def test_a_department_the_file_adds_later_is_seeded_and_a_changed_one_keeps_its_change(
    store: DepartmentStore,
) -> None:
    store.seed(seed_changes(SHIPPED[:2]))
    store.record(SHIPPED[0].code, "disabled", date(2026, 1, 1), AT, "cli:zhang", {})
    assert store.seed(seed_changes(SHIPPED)) == len(SHIPPED) - 2
    registry = DepartmentRegistry.from_source(store, today=lambda: date(2026, 11, 22))
    assert registry.get(SHIPPED[0].code) is None
    assert [d.code for d in registry.all()] == [d.code for d in SHIPPED[1:2]] + [d.code for d in SHIPPED[2:]]


def test_a_registry_rereads_its_source_only_when_it_moved(store: DepartmentStore) -> None:
    store.seed(seed_changes(SHIPPED))
    registry = DepartmentRegistry.from_source(store)
    assert not registry.refresh()
    store.record("TJ-TAX", "disabled", date.min, AT, "cli:zhang", {})
    assert "TJ-TAX" in registry
    assert registry.refresh()
    assert "TJ-TAX" not in registry
