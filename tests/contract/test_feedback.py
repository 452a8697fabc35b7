"""The feedback store, one suite for SQLite and PostgreSQL: an agency's report of a measure it
applied is found again for its entity, newest first, and cannot be changed or deleted."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from adapters.feedback import (
    Feedback,
    FeedbackStore,
    FeedbackUnavailable,
    PostgresFeedbackStore,
    SQLiteFeedbackStore,
)
from tests.engines import postgres_dsn, real, unique_prefix

A = "91120116MA05JQ2X4L"


def feedback(**overrides: object) -> Feedback:
    values: dict[str, object] = {
        "uscc": A,
        "measure": "government_procurement",
        "action": "拒绝其参加政府采购活动",
        "applied_on": date(2026, 11, 20),
        "agency": "TJ-FIN-1",
        "agency_name": "天津市财政局政府采购处",
        "officer": "孙七",
        "basis": "《企业信息公示暂行条例》第十八条",
        "reference": "津财采〔2026〕88号",
        "recorded_at": datetime(2026, 11, 21, 1, 2, 3, tzinfo=UTC),
    }
    return Feedback(**(values | overrides))  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", real("postgres")])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FeedbackStore]:
    if request.param == "sqlite":
        s: FeedbackStore = SQLiteFeedbackStore(tmp_path / "feedback.sqlite3")
        yield s
        s.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"fb_{request.node.name[5:25]}").replace("[", "_").replace("]", "")
    s = PostgresFeedbackStore(dsn, schema=schema)
    yield s
    s.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_feedback_is_found_for_its_entity_newest_first(store: FeedbackStore) -> None:
    first = store.record(feedback())
    second = store.record(feedback(action="不予评优", measure="honours"))
    store.record(feedback(uscc="91110108MA01K3P20A"))
    found = store.for_entity(A)
    assert [f.id for f in found] == [second, first]
    assert found[1] == feedback(id=first)


def test_feedback_cannot_be_changed_or_deleted(store: FeedbackStore) -> None:
    store.record(feedback())
    if isinstance(store, SQLiteFeedbackStore):
        conn = sqlite3.connect(store.path)
        with pytest.raises(sqlite3.IntegrityError, match="只能追加"):
            conn.execute("DELETE FROM feedback")
        conn.close()
    else:
        assert isinstance(store, PostgresFeedbackStore)
        with pytest.raises(FeedbackUnavailable, match="只能追加"):
            store._db.execute("UPDATE {table} SET action = 'x'")
    assert len(store.for_entity(A)) == 1
