"""The one supervisor of background threads, for `gongshi serve` and `gongshi run`."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.leader_lock import FileLeaderLock
from api.app import create_app
from api.cli import app as cli
from api.cli.run import supervise
from api.supervisor import Exclusive, LeaderLost, Role, Supervisor, runners_for
from infra.bootstrap import FOLLOWER_NAMES, UnknownFollower, build
from infra.settings import Settings
from tests.builders import TODAY

WAIT_S = 10.0


class Looping:
    """Runs until stopped, like the followers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = threading.Event()
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None

    def run_forever(self) -> None:
        self.thread = threading.current_thread()
        self.started.set()
        self._stop.wait()

    def stop(self) -> None:
        self._stop.set()


class Crashing(Looping):
    def run_forever(self) -> None:
        self.started.set()
        raise RuntimeError("the event store is on fire")


class Returning(Looping):
    def run_forever(self) -> None:
        self.started.set()


class Deaf(Looping):
    """Ignores `stop()` until released."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.release = threading.Event()

    def run_forever(self) -> None:
        self.started.set()
        self.release.wait()

    def stop(self) -> None:
        pass


class StopFails(Looping):
    def stop(self) -> None:
        super().stop()
        raise OSError("connection reset while stopping")


def test_each_runner_runs_in_a_thread_of_its_own_and_all_stop_cleanly() -> None:
    runners = [Looping("ingest"), Looping("entities"), Looping("publicity")]
    supervisor = Supervisor(runners)
    supervisor.start()
    for runner in runners:
        assert runner.started.wait(WAIT_S)
    assert sorted(supervisor.running()) == ["entities", "ingest", "publicity"]
    assert len({r.thread for r in runners}) == 3
    assert threading.current_thread() not in {r.thread for r in runners}

    assert supervisor.stop() == []
    assert supervisor.running() == []
    assert supervisor.failures == {}


def test_a_runner_that_raises_is_reported_by_name_and_ends_the_wait(caplog: pytest.LogCaptureFixture) -> None:
    healthy, crashing = Looping("entities"), Crashing("ingest")
    supervisor = Supervisor([healthy, crashing])
    with caplog.at_level(logging.ERROR, logger="api.supervisor"), supervisor:
        assert supervisor.wait(timeout_s=WAIT_S) is False
        assert list(supervisor.failures) == ["ingest"]
        assert "on fire" in str(supervisor.failures["ingest"])
        assert supervisor.running() == ["entities"]  # the others go on until stopped
    assert supervisor.running() == []
    assert "ingest stopped by an error" in caplog.text


def test_a_runner_that_returns_before_it_is_stopped_counts_as_failed() -> None:
    with Supervisor([Looping("entities"), Returning("changes")]) as supervisor:
        assert supervisor.wait(timeout_s=WAIT_S) is False
        assert list(supervisor.failures) == ["changes"]


def test_runners_that_end_because_they_were_stopped_are_not_failures() -> None:
    supervisor = Supervisor([Looping("entities")])
    supervisor.start()
    supervisor.stop()
    assert supervisor.wait(timeout_s=WAIT_S) is True
    assert supervisor.failures == {}


def test_a_runner_that_ignores_stop_is_named_and_does_not_hang_the_stop() -> None:
    deaf = Deaf("records")
    supervisor = Supervisor([Looping("entities"), deaf], join_timeout_s=0.2)
    supervisor.start()
    assert deaf.started.wait(WAIT_S)
    try:
        assert supervisor.stop() == ["records"]
    finally:
        deaf.release.set()


def test_one_stop_that_fails_does_not_keep_the_others_running() -> None:
    supervisor = Supervisor([StopFails("sharing"), Looping("changes")])
    supervisor.start()
    assert supervisor.stop() == []


def test_two_runners_may_not_share_a_name() -> None:
    with pytest.raises(ValueError, match="share a name"):
        Supervisor([Looping("entities"), Looping("entities")])


def test_supervise_stops_on_request_and_reports_a_failure() -> None:
    ok = Supervisor([Looping("entities")])
    threading.Timer(0.1, ok.request_stop).start()
    assert supervise(ok) is True
    assert ok.running() == []

    failing = Supervisor([Looping("entities"), Crashing("ingest")])
    assert supervise(failing) is False
    assert failing.running() == []


def test_each_role_runs_its_runners(tmp_path: Path) -> None:
    container = build(Settings(data_dir=tmp_path, today=TODAY))
    try:
        followers = ["entities", "records", "sharing", "publication_status", "casework", "changes"]
        assert [r.name for r in runners_for(container, Role.ingest)] == ["ingest"]
        assert [r.name for r in runners_for(container, Role.projections)] == followers
        serve = ["ingest", *followers, "publicity", "deadline-jobs", "parked-expiry", "open-data", "webhooks"]
        assert [r.name for r in runners_for(container, Role.serve)] == serve
    finally:
        container.close()
    without = build(Settings(data_dir=tmp_path, today=TODAY, open_data_daily=False))
    try:
        assert "open-data" not in [r.name for r in runners_for(without, Role.serve)]
    finally:
        without.close()


def test_the_projections_role_runs_the_followers_it_is_given_in_catch_up_order(tmp_path: Path) -> None:
    container = build(Settings(data_dir=tmp_path, today=TODAY))
    try:
        chosen = runners_for(container, Role.projections, ["changes", "records", "entities"])
        assert [r.name for r in chosen] == ["entities", "records", "changes"]
        assert "casework_projection" not in container.__dict__  # the others are not even built
        assert [f.name for f in container.followers] == list(FOLLOWER_NAMES)
        with pytest.raises(UnknownFollower, match="status"):
            runners_for(container, Role.projections, ["entities", "status"])
        with pytest.raises(ValueError, match="projections"):
            runners_for(container, Role.ingest, ["entities"])
    finally:
        container.close()


def test_gongshi_run_projections_only_refuses_an_unknown_name_and_lists_the_valid_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["run", "projections", "--only", "entities,status", "--until-idle"])
    assert result.exit_code == 2
    message = re.sub(r"[\s│]", "", result.output)  # rich's error box, wrapped
    assert "没有名为status的投影" in message
    assert "可选：" + "、".join(FOLLOWER_NAMES) in message
    result = CliRunner().invoke(cli, ["run", "ingest", "--only", "entities"])
    assert result.exit_code == 2


def test_gongshi_run_projections_only_runs_and_catches_up_just_those_followers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(tmp_path))
    ran: list[list[str] | None] = []
    monkeypatch.setattr(
        "api.cli.run.runners_for", lambda container, role, only: ran.append(only) or [Returning("x")]
    )
    CliRunner().invoke(cli, ["run", "projections", "--only", "sharing,casework", "--only", "sharing"])
    assert ran == [["sharing", "casework"]]  # the option repeated or a comma list, each name once

    result = CliRunner().invoke(cli, ["run", "projections", "--only", "casework", "--until-idle"])
    assert result.exit_code == 0, result.output
    assert "投影 casework" in result.output
    assert not any(f"投影 {name} " in result.output for name in FOLLOWER_NAMES if name != "casework")


class Forgetful(FileLeaderLock):
    """A lock whose connection can be cut (what a PostgreSQL advisory lock meets)."""

    cut = False

    def held(self) -> bool:
        return not self.cut and super().held()


def test_a_daily_runner_runs_in_one_process_at_a_time_and_the_next_one_takes_over(tmp_path: Path) -> None:
    locks = tmp_path / "locks"
    first, second = Looping("open-data"), Looping("open-data")
    one = Supervisor([Exclusive(first, FileLeaderLock(locks, "open-data"), retry_s=0.05)])
    two_exclusive = Exclusive(second, FileLeaderLock(locks, "open-data"), retry_s=0.05)
    two = Supervisor([two_exclusive])
    one.start()
    assert first.started.wait(WAIT_S)
    two.start()
    assert not second.started.wait(0.5)  # standing by: the other process holds the lock
    assert two.running() == ["open-data"]
    assert one.stop() == []
    assert second.started.wait(WAIT_S)  # the lock came free: this one runs the job now
    assert two_exclusive.leading.is_set()
    assert two.stop() == []
    assert one.failures == {} and two.failures == {}
    assert not two_exclusive.leading.is_set()


def test_a_standby_stops_at_once_without_running_the_job(tmp_path: Path) -> None:
    holder = FileLeaderLock(tmp_path / "locks", "publicity")
    assert holder.try_acquire()
    waiting = Looping("publicity")
    supervisor = Supervisor([Exclusive(waiting, FileLeaderLock(tmp_path / "locks", "publicity"), retry_s=60)])
    supervisor.start()
    assert supervisor.stop() == []
    assert not waiting.started.is_set()
    assert supervisor.failures == {}


def test_a_lost_lock_stops_the_job_and_is_reported(tmp_path: Path) -> None:
    lock = Forgetful(tmp_path / "locks", "deadline-jobs")
    job = Looping("deadline-jobs")
    supervisor = Supervisor([Exclusive(job, lock, check_every_s=0.05)])
    supervisor.start()
    assert job.started.wait(WAIT_S)
    lock.cut = True
    assert supervisor.wait(timeout_s=WAIT_S) is False
    assert isinstance(supervisor.failures["deadline-jobs"], LeaderLost)
    assert not lock.held()
    supervisor.stop()


def test_serve_runs_its_daily_runners_and_the_webhooks_under_leader_locks(tmp_path: Path) -> None:
    container = build(Settings(data_dir=tmp_path, today=TODAY))
    try:
        daily = [r for r in runners_for(container, Role.serve) if isinstance(r, Exclusive)]
        assert [r.name for r in daily] == [
            "publicity",
            "deadline-jobs",
            "parked-expiry",
            "open-data",
            "webhooks",
        ]
        assert all(isinstance(r.lock, FileLeaderLock) for r in daily)
    finally:
        container.close()


def test_serve_starts_its_threads_with_the_app_and_stops_them_on_shutdown(tmp_path: Path) -> None:
    container = build(Settings(data_dir=tmp_path, today=TODAY))
    app = create_app(container, run_background=True)
    with TestClient(app) as client:
        assert client.get("/healthz").json()["today"] == TODAY.isoformat()
        supervisor = app.state.supervisor
        assert sorted(supervisor.running()) == sorted(
            [
                "ingest",
                "entities",
                "records",
                "sharing",
                "publication_status",
                "casework",
                "changes",
                "publicity",
                "deadline-jobs",
                "parked-expiry",
                "open-data",
                "webhooks",
            ]
        )
    assert supervisor.running() == []
    assert supervisor.failures == {}


def test_gongshi_run_exits_non_zero_when_a_runner_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("api.cli.run.runners_for", lambda container, role, only: [Crashing("ingest")])
    result = CliRunner().invoke(cli, ["run", "ingest"])
    assert result.exit_code == 1
    assert "ingest" in result.output and "on fire" in result.output
