"""The publicity job (daily inside `gongshi serve`, or `gongshi jobs run publicity --as-of`) and
the projection commands (`gongshi projections rebuild|status`), on the embedded engines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.clock import FixedDateClock
from adapters.search_index.base import SearchFilters, SearchUnavailable
from adapters.search_index.sqlite import SQLiteSearchIndex
from api.cli import app
from infra.bootstrap import Container, build
from infra.settings import Settings
from projections.publicity import DailyPublicity
from tests import builders

runner = CliRunner()
PENALISED = SearchFilters(flags=("penalty",))
# decided 2026-06-01 by the tax bureau, general misconduct (NDRC Order 36): public until 2027-06-01
WINDOW_CLOSED = date(2027, 6, 1)


class MovableClock(FixedDateClock):
    """A fixed-date clock whose date a test moves."""

    @property
    def day(self) -> date:
        return self._today

    @day.setter
    def day(self, value: date) -> None:
        self._today = value


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GONGSHI_TODAY", builders.TODAY.isoformat())
    return tmp_path / "var"


@pytest.fixture
def platform(data_dir: Path) -> Container:
    """Two entities, one with a penalty in its publicity window, projected into the index."""
    container = build(Settings(data_dir=data_dir, today=builders.TODAY))
    for n, name in ((1, "天津宏远科技有限公司"), (2, "天津宏远物流有限公司")):
        outcome = container.registry.apply_publication(
            builders.registered(uscc=builders.uscc_for(n), name=name)
        )
        assert outcome.status == "applied"
    penalty = builders.envelope(
        "penalty.imposed",
        builders.penalty_payload("津市监罚〔2026〕5号", decided_on="2026-06-01"),
        uscc=builders.uscc_for(1),
        department="TJ-TAX",
        occurred_on="2026-06-01",
    )
    assert container.registry.apply_publication(penalty).status == "applied"
    container.catch_up()
    yield container
    container.close()


def penalised(container: Container) -> list[str]:
    return [item["name"] for item in container.index.search("", builders.TODAY, filters=PENALISED).items]


def test_the_projection_flags_a_penalty_in_its_window_and_the_job_unflags_it_when_it_ends(
    platform: Container,
) -> None:
    assert penalised(platform) == ["天津宏远科技有限公司"]
    job = DailyPublicity(platform.index, MovableClock(WINDOW_CLOSED))
    assert job.run_once() == 1
    assert penalised(platform) == []


def test_the_daily_job_runs_once_per_date(platform: Container) -> None:
    clock = MovableClock(builders.TODAY)
    job = DailyPublicity(platform.index, clock)
    assert job.run_once() == 0  # nothing to change today
    assert job.run_once() is None  # already ran today
    clock.day = WINDOW_CLOSED
    assert job.run_once() == 1
    assert job.run_once() is None
    assert job.last_run == WINDOW_CLOSED


class FlakyIndex(SQLiteSearchIndex):
    """Fails the first re-evaluation (search down), then stops the job on the second."""

    job: DailyPublicity

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls = 0

    def reevaluate_flags(self, today: date) -> int:
        self.calls += 1
        if self.calls == 1:
            raise SearchUnavailable("down")
        self.job.stop()
        return 0


def test_the_daily_job_keeps_running_when_the_index_is_down(tmp_path: Path) -> None:
    index = FlakyIndex(tmp_path / "search.sqlite3")
    job = DailyPublicity(index, MovableClock(builders.TODAY), check_every_s=0)
    index.job = job
    job.run_forever()  # returns once the second attempt stopped it
    assert index.calls == 2 and job.last_run == builders.TODAY
    index.close()


def test_jobs_run_publicity_as_of_a_date(platform: Container, data_dir: Path) -> None:
    result = runner.invoke(app, ["jobs", "run", "publicity", "--as-of", WINDOW_CLOSED.isoformat()])
    assert result.exit_code == 0, result.output
    assert "1 entities changed" in result.output
    assert penalised(platform) == []
    back = runner.invoke(app, ["jobs", "run", "publicity", "--as-of", "2026-07-01"])
    assert "1 entities changed" in back.output
    assert penalised(platform) == ["天津宏远科技有限公司"]
    bad = runner.invoke(app, ["jobs", "run", "publicity", "--as-of", "next tuesday"])
    assert bad.exit_code != 0


def test_projections_rebuild_fills_new_generations(platform: Container, data_dir: Path) -> None:
    renamed = builders.envelope(
        "registration.changed",
        builders.change_payload("name", "天津宏远物流有限公司", "天津宏远供应链有限公司"),
        uscc=builders.uscc_for(2),
        occurred_on="2026-09-01",
    )
    assert platform.registry.apply_publication(renamed).status == "applied"  # not projected yet
    result = runner.invoke(app, ["projections", "rebuild", "all", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    for name in ("entities", "records", "sharing"):
        assert f"{name}: 2 entities" in result.output
    assert platform.index.get_sharing(builders.uscc_for(2))["name"] == "天津宏远供应链有限公司"
    assert sorted(item["name"] for item in platform.index.search("宏远", builders.TODAY).items) == [
        "天津宏远供应链有限公司",
        "天津宏远科技有限公司",
    ]
    assert platform.projection.lag() == 0
    status = runner.invoke(app, ["projections", "status"])
    assert status.exit_code == 0
    for name in ("entities", "records", "sharing", "publication_status", "changes"):
        assert name in status.output
