"""`gongshi publish` as a department runs it: through the gateway or onto the log, then waiting
for every publication to be applied, parked or rejected, against a live `gongshi serve`
(uvicorn in a thread, with the worker and the projections running in the background)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.supervisor import Role, Supervisor, runners_for
from infra.bootstrap import Container, build
from infra.settings import Settings
from tests.builders import TODAY, department_key_file, envelope, penalty_payload, registered, uscc_for
from tests.e2e.browser import served_app

runner = CliRunner()


@contextmanager
def serving(container: Container, *, run_background: bool) -> Iterator[str]:
    """The app on a free port (uvicorn in a thread, lifespan on); yields its base URL."""
    with served_app(create_app(container, run_background=run_background), "uvicorn-publish-cli") as url:
        yield url


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A data directory, and the base URL of `gongshi serve` running on it."""
    data_dir = tmp_path_factory.mktemp("served")
    with serving(build(Settings(data_dir=data_dir, today=TODAY)), run_background=True) as url:
        yield data_dir, url


@pytest.fixture(scope="module")
def signing_key(served: tuple[Path, str]) -> Path:
    """TJ-AMR's signing key file, for `gongshi publish` onto the log."""
    return department_key_file(Settings(data_dir=served[0]), served[0] / "tj-amr.key")


@pytest.fixture
def env(served: tuple[Path, str], signing_key: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(served[0]))
    monkeypatch.setenv("GONGSHI_TODAY", TODAY.isoformat())
    monkeypatch.setenv("GONGSHI_SIGNING_KEY_FILE", str(signing_key))
    return served


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text(
        "".join(
            (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines
        ),
        encoding="utf-8",
    )
    return path


def sample(tag: str, n: int) -> list[Any]:
    """One registration and its penalty, a penalty the worker rejects, one for an unregistered
    entity (parked), and a line that is not JSON."""
    uscc = uscc_for(n)
    return [
        registered(uscc=uscc, publication_id=f"{tag}-R"),
        envelope("penalty.imposed", penalty_payload(), uscc=uscc, publication_id=f"{tag}-P"),
        envelope("penalty.imposed", penalty_payload(severity="x"), uscc=uscc, publication_id=f"{tag}-BAD"),
        envelope("penalty.imposed", penalty_payload(), uscc=uscc_for(n + 1), publication_id=f"{tag}-PARKED"),
        "this is not json",
    ]


def issue(department: str) -> dict[str, Any]:
    """`departments add-key`: the JSON object alone on the last line of standard output."""
    result = runner.invoke(app, ["departments", "add-key", department])
    assert result.exit_code == 0, result.output
    issued: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert issued["api_key"].startswith("gs_")
    return issued


@contextmanager
def issued_key(department: str) -> Iterator[str]:
    """A department key for the test, revoked afterwards (a department holds two at most)."""
    issued = issue(department)
    try:
        yield issued["api_key"]
    finally:
        runner.invoke(app, ["departments", "revoke-key", issued["api_key"][3:11]])


@pytest.fixture
def amr_key(env: tuple[Path, str]) -> Iterator[str]:
    with issued_key("TJ-AMR") as key:
        yield key


def test_publish_through_the_gateway_waits_for_every_status(
    env: tuple[Path, str], amr_key: str, tmp_path: Path
) -> None:
    _, url = env
    key = amr_key
    source = write_jsonl(tmp_path / "gw.jsonl", sample("CLI-GW", 201))

    result = runner.invoke(
        app,
        [
            "publish",
            str(source),
            "--via",
            "gateway",
            "--gateway-url",
            url,
            "--api-key",
            key,
            "--timeout",
            "60",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "accepted 4, rejected 2, parked 1, applied 2" in result.stdout
    assert "invalid_envelope" in result.output  # what the gateway refused, by code


def test_publish_onto_the_log_waits_for_the_worker(env: tuple[Path, str], tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "log.jsonl", [*sample("CLI-LOG", 301), {"no": "publication id"}])

    result = runner.invoke(app, ["publish", str(source), "--via", "log", "--timeout", "60"])

    assert result.exit_code == 0, result.output
    assert "accepted 4, rejected 3, parked 1, applied 2" in result.stdout


def test_publish_without_waiting_only_counts(env: tuple[Path, str], tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "nowait.jsonl", sample("CLI-NOWAIT", 401))
    result = runner.invoke(app, ["publish", str(source), "--no-wait"])
    assert result.exit_code == 0, result.output
    assert "accepted 4, rejected 1" in result.stdout


def test_a_revoked_key_stops_publishing(env: tuple[Path, str], amr_key: str, tmp_path: Path) -> None:
    _, url = env
    key = amr_key
    listed = runner.invoke(app, ["departments", "keys"])
    assert key[3:11] in listed.stdout
    assert runner.invoke(app, ["departments", "revoke-key", key[3:11]]).exit_code == 0
    source = write_jsonl(tmp_path / "revoked.jsonl", sample("CLI-REVOKED", 501))

    result = runner.invoke(
        app, ["publish", str(source), "--via", "gateway", "--gateway-url", url, "--api-key", key]
    )

    assert result.exit_code == 1
    assert "unauthorized" in result.output


def test_keys_are_issued_only_to_known_departments(env: tuple[Path, str]) -> None:
    result = runner.invoke(app, ["departments", "add-key", "TJ-NOPE"])
    assert result.exit_code == 2
    assert "TJ-NOPE" in result.output and "TJ-AMR" in result.output
    assert runner.invoke(app, ["departments", "revoke-key", "unknown1"]).exit_code == 2


# --- when no worker is running -------------------------------------------------------------------


@pytest.fixture
def alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory no `gongshi serve` runs on."""
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GONGSHI_TODAY", TODAY.isoformat())
    key = department_key_file(Settings(data_dir=tmp_path / "var"), tmp_path / "tj-amr.key")
    monkeypatch.setenv("GONGSHI_SIGNING_KEY_FILE", str(key))
    return tmp_path


def registrations(tag: str, first: int, n: int) -> list[Any]:
    return [registered(uscc=uscc_for(first + i), publication_id=f"{tag}-{i}") for i in range(n)]


def test_publish_says_at_once_that_no_worker_is_running(alone: Path) -> None:
    source = write_jsonl(alone / "alone.jsonl", registrations("ALONE", 601, 3))

    # a --timeout far beyond the stall: exit code 3 (not 1) shows it stopped on the stall
    result = runner.invoke(app, ["publish", str(source), "--timeout", "240"])

    assert result.exit_code == 3, result.output
    assert "没有处理进程在应用这些公示（3 条仍待处理）" in result.output
    assert "公示队列中还有 3 条未被应用" in result.output
    assert "gongshi serve" in result.output and "gongshi run ingest" in result.output
    assert "gongshi run projections" in result.output
    assert "accepted 3, rejected 0, parked 0, applied 0, pending 3" in result.stdout


def test_publish_names_the_missing_projections_when_only_the_worker_runs(alone: Path) -> None:
    source = write_jsonl(alone / "half.jsonl", registrations("HALF", 651, 3))
    container = build(Settings(data_dir=alone / "var", today=TODAY))
    supervisor = Supervisor(runners_for(container, Role.ingest))
    supervisor.start()
    try:
        result = runner.invoke(app, ["publish", str(source), "--timeout", "240", "--stall-timeout", "3"])
    finally:
        supervisor.stop()
        container.close()

    assert result.exit_code == 3, result.output
    assert "投影进程（gongshi run projections）没有在运行" in result.output
    assert "公示队列中还有" not in result.output  # the worker applied them all


def test_publish_through_a_gateway_without_a_worker_says_so(alone: Path) -> None:
    source = write_jsonl(alone / "gw-alone.jsonl", registrations("GW-ALONE", 681, 2))
    key = issue("TJ-AMR")["api_key"]
    container = build(Settings(data_dir=alone / "var", today=TODAY))
    with serving(container, run_background=False) as url:  # `gongshi run api` alone
        result = runner.invoke(
            app,
            [
                *("publish", str(source), "--via", "gateway", "--gateway-url", url, "--api-key", key),
                *("--timeout", "240", "--stall-timeout", "3"),
            ],
        )

    assert result.exit_code == 3, result.output
    assert "没有处理进程在应用这些公示（2 条仍待处理）" in result.output
    assert "在网关所在的服务器上启动处理进程：gongshi serve" in result.output


class SlowWorker:
    """Applies one publication, brings the status view up to date, rests, and so on: progress
    all along, but the whole file takes longer than the stall timeout."""

    name = "slow"

    def __init__(self, data_dir: Path, rest_s: float) -> None:
        self.container = build(Settings(data_dir=data_dir, today=TODAY, ingest_batch_size=1))
        self.rest_s = rest_s
        self._stop = threading.Event()

    def run_forever(self) -> None:
        worker, status = self.container.worker, self.container.status_projection
        while not self._stop.is_set():
            worker.run_once(timeout_s=0.1)
            status.catch_up()
            self._stop.wait(self.rest_s)

    def stop(self) -> None:
        self._stop.set()


def test_publish_keeps_waiting_while_the_worker_makes_progress(alone: Path) -> None:
    count, stall_s, rest_s = 10, 2.0, 0.5  # at least 5 s of work, never 2 s without progress
    source = write_jsonl(alone / "slow.jsonl", registrations("SLOW", 701, count))
    slow = SlowWorker(alone / "var", rest_s)
    supervisor = Supervisor([slow])
    supervisor.start()
    try:
        result = runner.invoke(
            app, ["publish", str(source), "--timeout", "240", "--stall-timeout", str(stall_s)]
        )
    finally:
        supervisor.stop()
        slow.container.close()

    assert result.exit_code == 0, result.output
    assert f"accepted {count}, rejected 0, parked 0, applied {count}" in result.stdout
    assert slow.container.worker.counts["applied"] == count
