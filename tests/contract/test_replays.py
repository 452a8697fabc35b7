"""The replay ledger, one suite for SQLite and PostgreSQL: a DLQ entry is claimed once — also
when operators race — and a released claim (its replay never reached the log) may be made again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from adapters.replays import PostgresReplays, Replay, ReplayLedger, SQLiteReplays
from tests.engines import postgres_dsn, real, unique_prefix

AT = datetime(2026, 11, 22, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(params=["sqlite", real("postgres")])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReplayLedger]:
    if request.param == "sqlite":
        s: ReplayLedger = SQLiteReplays(tmp_path / "replays.sqlite3")
        yield s
        s.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"rp_{request.node.name[5:25]}").replace("[", "_").replace("]", "")
    s = PostgresReplays(dsn, schema=schema)
    yield s
    s.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_an_entry_is_claimed_once_and_read_back(ledger: ReplayLedger) -> None:
    first = Replay("g.dlq[0]@7", "TJ-AMR-1", AT, "cli:zhang")
    assert ledger.claim(first)
    assert not ledger.claim(Replay("g.dlq[0]@7", "TJ-AMR-1", AT, "cli:li"))
    assert ledger.claim(Replay("g.dlq[1]@7", None, AT, "cli:li"))
    found = ledger.replays(["g.dlq[0]@7", "g.dlq[0]@8", "g.dlq[1]@7"])
    assert found["g.dlq[0]@7"] == first
    assert set(found) == {"g.dlq[0]@7", "g.dlq[1]@7"}
    assert ledger.replays([]) == {}


def test_a_released_claim_may_be_made_again(ledger: ReplayLedger) -> None:
    assert ledger.claim(Replay("g.dlq[0]@1", "X", AT, "cli:zhang"))
    ledger.release("g.dlq[0]@1")
    assert ledger.replays(["g.dlq[0]@1"]) == {}
    assert ledger.claim(Replay("g.dlq[0]@1", "X", AT, "cli:li"))


def test_racing_claims_of_one_entry_let_one_win(ledger: ReplayLedger) -> None:
    start = threading.Barrier(6)

    def claim(n: int) -> bool:
        start.wait()
        return ledger.claim(Replay("g.dlq[2]@9", "X", AT, f"cli:op{n}"))

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(claim, range(6))) == [False] * 5 + [True]
