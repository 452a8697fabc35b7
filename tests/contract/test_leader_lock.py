"""Leader locks, one suite for the file lock (embedded) and the PostgreSQL advisory lock: one
holder at a time, the next one gets it once the first releases it or its process or connection
ends, a lost connection is noticed by `held()`, and two schemas keep separate locks."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from adapters.leader_lock import FileLeaderLock, LeaderLock, PostgresLeaderLock
from tests.engines import postgres_dsn, real, unique_prefix

Make = Callable[[str], LeaderLock]


@pytest.fixture(params=["file", real("postgres")])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Make]:
    made: list[LeaderLock] = []
    schema = unique_prefix("lock")
    if request.param == "file":

        def new(name: str) -> LeaderLock:
            made.append(FileLeaderLock(tmp_path / "locks", name))
            return made[-1]
    else:
        dsn = postgres_dsn()

        def new(name: str) -> LeaderLock:
            made.append(PostgresLeaderLock(dsn, name, schema=schema))
            return made[-1]

    yield new
    for lock in made:
        lock.release()


def test_one_holder_at_a_time(make: Make) -> None:
    first, second = make("open-data"), make("open-data")
    assert first.try_acquire()
    assert first.held()
    assert not second.try_acquire()
    assert not second.held()
    assert first.try_acquire()  # taking a lock already held is a yes


def test_the_next_holder_gets_it_after_a_release(make: Make) -> None:
    first, second = make("publicity"), make("publicity")
    assert first.try_acquire()
    first.release()
    assert not first.held()
    assert second.try_acquire()
    assert not first.try_acquire()
    first.release()  # releasing a lock not held changes nothing
    assert second.held()


def test_locks_of_other_names_are_independent(make: Make) -> None:
    a, b = make("deadline-jobs"), make("open-data")
    assert a.try_acquire()
    assert b.try_acquire()


def _holder_script(kind: str, where: str, name: str) -> str:
    if kind == "file":
        made = f"FileLeaderLock(Path({where!r}), {name!r})"
    else:
        made = f"PostgresLeaderLock({postgres_dsn()!r}, {name!r}, schema={where!r})"
    return (
        "import sys, time\nfrom pathlib import Path\n"
        "from adapters.leader_lock import FileLeaderLock, PostgresLeaderLock\n"
        f"lock = {made}\nassert lock.try_acquire()\nprint('held', flush=True)\ntime.sleep(600)\n"
    )


@pytest.mark.parametrize("kind", ["file", real("postgres")])
def test_a_holder_that_dies_gives_the_lock_up(kind: str, tmp_path: Path) -> None:
    schema = unique_prefix("lockdie")
    where = str(tmp_path / "locks") if kind == "file" else schema
    holder = subprocess.Popen(
        [sys.executable, "-c", _holder_script(kind, where, "jobs")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        waiting: LeaderLock = (
            FileLeaderLock(tmp_path / "locks", "jobs")
            if kind == "file"
            else PostgresLeaderLock(postgres_dsn(), "jobs", schema=schema)
        )
        assert not waiting.try_acquire()
        holder.kill()
        holder.wait(timeout=30)
        deadline = time.monotonic() + 30  # the server notices the closed connection
        while not waiting.try_acquire():
            assert time.monotonic() < deadline, "the lock of a killed process was never given up"
            time.sleep(0.2)
        waiting.release()
    finally:
        holder.kill()
        holder.wait(timeout=30)


@pytest.mark.engines
def test_a_lost_connection_is_noticed() -> None:
    dsn = postgres_dsn()
    lock = PostgresLeaderLock(dsn, "open-data", schema=unique_prefix("locklost"))
    assert lock.try_acquire()
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
            " AND classid::bigint = %s AND objid::bigint = %s",
            ((lock.key & 0xFFFFFFFFFFFFFFFF) >> 32, lock.key & 0xFFFFFFFF),
        )
    assert not lock.held()
    other = PostgresLeaderLock(dsn, "open-data", schema=lock.schema)
    assert other.try_acquire()
    other.release()


@pytest.mark.engines
def test_two_schemas_keep_separate_locks() -> None:
    dsn = postgres_dsn()
    a = PostgresLeaderLock(dsn, "open-data", schema=unique_prefix("locka"))
    b = PostgresLeaderLock(dsn, "open-data", schema=unique_prefix("lockb"))
    try:
        assert a.try_acquire()
        assert b.try_acquire()
    finally:
        a.release()
        b.release()
