"""`gongshi publish` as a department runs it: through the gateway or onto the log, then waiting
for every publication to be applied, parked or rejected, against a live `gongshi serve`
(uvicorn in a thread, with the worker and the projections running in the background)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from infra.bootstrap import build
from infra.settings import Settings
from tests.builders import TODAY, envelope, penalty_payload, registered, uscc_for

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A data directory, and the base URL of `gongshi serve` running on it."""
    data_dir = tmp_path_factory.mktemp("served")
    container = build(Settings(data_dir=data_dir, today=TODAY))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(container, run_background=True), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield data_dir, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


@pytest.fixture
def env(served: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(served[0]))
    monkeypatch.setenv("GONGSHI_TODAY", TODAY.isoformat())
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


def add_key(department: str) -> str:
    result = runner.invoke(app, ["departments", "add-key", department])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("gs_")
    return key


def test_publish_through_the_gateway_waits_for_every_status(env: tuple[Path, str], tmp_path: Path) -> None:
    _, url = env
    key = add_key("TJ-AMR")
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


def test_a_revoked_key_stops_publishing(env: tuple[Path, str], tmp_path: Path) -> None:
    _, url = env
    key = add_key("TJ-AMR")
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
