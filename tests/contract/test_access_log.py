"""The access log, one suite for SQLite and PostgreSQL: an agency call is written with the USCCs
it read and found again by agency, entity and date; a streamed answer's counts are appended
once; nothing can be changed or deleted; and an enterprise sees the reads of its record, a
confidential one only once its delay has passed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from adapters.access_log import (
    AccessLog,
    AccessLogQuery,
    AccessLogUnavailable,
    PostgresAccessLog,
    SQLiteAccessLog,
)
from domain.agency_access import AccessEntry
from tests.engines import postgres_dsn, real, unique_prefix

A = "91120116MA05JQ2X4L"
B = "91110108MA01K3P20A"
DAY = date(2026, 11, 22)
AT = datetime(2026, 11, 22, 3, 4, 5, tzinfo=UTC)


def entry(**overrides: object) -> AccessEntry:
    values: dict[str, object] = {
        "at": AT,
        "read_on": DAY,
        "agency": "TJ-TAX-JC1",
        "agency_name": "天津市税务局稽查局",
        "key_id": "ab12cd34",
        "officer": "张三",
        "method": "GET",
        "route": "/api/v1/agency/entities/{uscc}",
        "path": f"/api/v1/agency/entities/{A}",
        "query": "as_of=2026-01-01",
        "purpose": "税务稽查 2026-17 号案",
        "confidential": False,
        "status": 200,
        "usccs": (A,),
        "counts": {"records": 12},
    }
    return AccessEntry(**(values | overrides))  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", real("postgres")])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccessLog]:
    if request.param == "sqlite":
        s: AccessLog = SQLiteAccessLog(tmp_path / "access_log.sqlite3", confidential_delay_days=180)
        yield s
        s.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"al_{request.node.name[5:25]}").replace("[", "_").replace("]", "")
    s = PostgresAccessLog(dsn, schema=schema, confidential_delay_days=180)
    yield s
    s.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_call_is_written_and_read_back_whole(log: AccessLog) -> None:
    entry_id = log.append(entry())
    [found] = log.entries()
    assert found.id == entry_id
    assert found.at == AT and found.read_on == DAY
    assert (found.agency, found.agency_name, found.key_id, found.officer) == (
        "TJ-TAX-JC1",
        "天津市税务局稽查局",
        "ab12cd34",
        "张三",
    )
    assert found.purpose == "税务稽查 2026-17 号案"
    assert found.route == "/api/v1/agency/entities/{uscc}" and found.query == "as_of=2026-01-01"
    assert found.usccs == (A,) and found.uscc_count == 1
    assert found.counts == {"records": 12}
    assert found.completed is None and found.ended_at is None


def test_listings_narrow_by_agency_entity_and_date_newest_first(log: AccessLog) -> None:
    first = log.append(entry())
    second = log.append(entry(agency="TJ-HRSS-1", usccs=(B,), read_on=DAY + timedelta(days=1)))
    third = log.append(entry(usccs=(A, B), read_on=DAY + timedelta(days=2)))
    assert [e.id for e in log.entries()] == [third, second, first]
    assert [e.id for e in log.entries(AccessLogQuery(agency="TJ-TAX-JC1"))] == [third, first]
    assert [e.id for e in log.entries(AccessLogQuery(uscc=B))] == [third, second]
    assert [e.id for e in log.entries(AccessLogQuery(date_from=DAY + timedelta(days=1)))] == [third, second]
    assert [e.id for e in log.entries(AccessLogQuery(date_to=DAY))] == [first]
    assert [e.id for e in log.entries(AccessLogQuery(before_id=third, limit=1))] == [second]


def test_a_streamed_answer_gets_its_counts_and_matches_appended_once(log: AccessLog) -> None:
    entry_id = log.append(entry(route="/api/v1/agency/match", method="POST", usccs=(), counts={}))
    ended = AT + timedelta(seconds=40)
    log.append_result(
        entry_id, ended_at=ended, completed=True, counts={"rows": 3, "match": 2}, usccs=[A, B, A]
    )
    [found] = log.entries()
    assert found.completed is True and found.ended_at == ended
    assert found.counts == {"rows": 3, "match": 2}
    assert set(found.usccs) == {A, B} and found.uscc_count == 2
    assert [e.id for e in log.entries(AccessLogQuery(uscc=B))] == [entry_id]
    with pytest.raises(AccessLogUnavailable):
        log.append_result(entry_id, ended_at=ended, completed=False, counts={})


def test_many_usccs_are_counted_and_a_few_shown(log: AccessLog) -> None:
    many = [f"9112011{n:010d}X"[:18] for n in range(300)]
    log.append(entry(usccs=tuple(many)))
    [found] = log.entries()
    assert found.uscc_count == 300 and len(found.usccs) == 50


def test_nothing_can_be_changed_or_deleted(log: AccessLog) -> None:
    log.append(entry())
    if isinstance(log, SQLiteAccessLog):
        conn = sqlite3.connect(log.path)
        for statement in (
            "UPDATE access_log SET purpose = 'x'",
            "DELETE FROM access_log",
            "DELETE FROM access_log_usccs",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="只能追加"):
                conn.execute(statement)
        conn.close()
    else:
        assert isinstance(log, PostgresAccessLog)
        for statement in (
            "UPDATE {table} SET purpose = 'x'",
            "DELETE FROM {access_log_usccs}",
            "TRUNCATE {table}",
        ):
            with pytest.raises(AccessLogUnavailable, match="只能追加"):
                log._db.execute(statement)
    [found] = log.entries()
    assert found.purpose == "税务稽查 2026-17 号案"


def test_an_enterprise_sees_reads_of_its_record_and_a_confidential_one_after_the_delay(
    log: AccessLog,
) -> None:
    plain = log.append(entry())
    secret = log.append(entry(confidential=True, purpose="立案调查（保密）"))
    log.append(entry(usccs=(B,)))  # another entity's record
    log.append(entry(status=404))  # a failed call read nothing
    assert [e.id for e in log.reads_of(A, DAY)] == [plain]
    assert [e.id for e in log.reads_of(A, DAY + timedelta(days=179))] == [plain]
    assert [e.id for e in log.reads_of(A, DAY + timedelta(days=180))] == [secret, plain]
    assert [e.id for e in log.reads_of(A, DAY - timedelta(days=1))] == []  # not yet read then
    # administrators see it at once
    assert secret in [e.id for e in log.entries(AccessLogQuery(uscc=A))]
    shown = log.reads_of(A, DAY + timedelta(days=200))[0].for_enterprise(180)
    assert shown["visible_from"] == DAY + timedelta(days=180)
    assert "officer" not in shown and "key_id" not in shown
