"""The command line: generate, publish, load, parked, departments."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from adapters.credentials.signing import Signer
from api.cli import app
from infra.bootstrap import build
from infra.settings import Settings
from tests.builders import department_key_file, platform_signed, registered, uscc_for

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GONGSHI_TODAY", "2026-11-22")
    # `gongshi publish` signs with TJ-AMR's key
    key = department_key_file(Settings(data_dir=tmp_path / "var"), tmp_path / "tj-amr.key")
    monkeypatch.setenv("GONGSHI_SIGNING_KEY_FILE", str(key))
    return tmp_path


def test_generate_is_deterministic_for_a_seed(env: Path) -> None:
    for name in ("a.jsonl", "b.jsonl"):
        result = runner.invoke(app, ["generate", "--entities", "30", "--seed", "5", "--out", str(env / name)])
        assert result.exit_code == 0, result.output
    assert (env / "a.jsonl").read_bytes() == (env / "b.jsonl").read_bytes()
    assert len((env / "a.jsonl").read_bytes().splitlines()) > 30


def test_load_applies_and_indexes_a_file_through_the_log(env: Path) -> None:
    source = env / "g.jsonl"
    assert (
        runner.invoke(app, ["generate", "--entities", "25", "--seed", "3", "--out", str(source)]).exit_code
        == 0
    )
    result = runner.invoke(app, ["load", str(source)])
    assert result.exit_code == 0, result.output
    container = build(Settings(data_dir=env / "var"))
    assert container.index.count() == 25
    assert container.projection.lag() == 0
    container.close()


def test_publish_keeps_bad_lines_for_the_worker_to_dead_letter(env: Path) -> None:
    source = env / "bad.jsonl"
    source.write_text('{"not": "an envelope"}\nnot json at all\n', encoding="utf-8")
    assert runner.invoke(app, ["publish", str(source)]).exit_code == 0
    container = build(Settings(data_dir=env / "var"))
    container.worker.drain()
    assert container.worker.counts["rejected"] == 2
    dlq = container.log.read(container.settings.dlq_topic, 0, 0, 10)
    assert [dict(r.headers)["reason"] for r in dlq] == [b"invalid_envelope", b"malformed"]
    assert dlq[1].value == b"not json at all"
    container.close()


def test_parked_lists_publications_waiting_for_registration(env: Path) -> None:
    source = env / "g.jsonl"
    runner.invoke(app, ["generate", "--entities", "5", "--seed", "9", "--out", str(source)])
    penalty = next(
        json.loads(line)
        for line in source.read_text(encoding="utf-8").splitlines()
        if json.loads(line)["kind"] != "registration.registered"
    )
    from domain.uscc import make_uscc

    penalty["uscc"] = make_uscc("120104", "PARKED01").value
    penalty["publication_id"] = "PARKED-TEST-1"
    lone = env / "lone.jsonl"
    lone.write_text(json.dumps(penalty, ensure_ascii=False) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["load", str(lone)]).exit_code == 0
    result = runner.invoke(app, ["parked"])
    assert result.exit_code == 0
    assert "PARKED-TEST-1" in result.output


def test_departments_list_shows_the_mandates(env: Path) -> None:
    result = runner.invoke(app, ["departments", "list"])
    assert result.exit_code == 0
    assert "TJ-AMR" in result.output and "TJ-CUSTOMS" in result.output


def test_run_api_with_several_workers_starts_them_and_serves(env: Path) -> None:
    source = env / "g.jsonl"
    assert (
        runner.invoke(app, ["generate", "--entities", "5", "--seed", "3", "--out", str(source)]).exit_code
        == 0
    )
    assert runner.invoke(app, ["load", str(source)]).exit_code == 0
    uscc = json.loads(source.read_text(encoding="utf-8").splitlines()[0])["uscc"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environment = {**os.environ, "GONGSHI_DATA_DIR": str(env / "var"), "GONGSHI_HTTP_PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "run", "api", "--workers", "2"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/entities/{uscc}", timeout=5)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the API did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and response.json()["uscc"] == uscc
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children]
        workers = [c for c in commands if b"spawn_main" in c]  # not multiprocessing's resource tracker
        assert len(workers) == 2  # the two worker processes under uvicorn's supervisor
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_run_ingest_applies_what_is_published_and_stops_cleanly_on_sigterm(env: Path) -> None:
    source = env / "g.jsonl"
    assert (
        runner.invoke(app, ["generate", "--entities", "3", "--seed", "4", "--out", str(source)]).exit_code
        == 0
    )
    publisher = build(Settings(data_dir=env / "var"))  # a file for every department: the platform signs
    lines = len(source.read_text(encoding="utf-8").splitlines())
    publisher.log.produce_many(
        publisher.settings.publications_topic,
        ((None, line) for line in source.read_bytes().splitlines()),
        headers_for=platform_signed(publisher),
    )
    publisher.close()
    environment = {**os.environ, "GONGSHI_DATA_DIR": str(env / "var"), "GONGSHI_TODAY": "2026-11-22"}
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "run", "ingest"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    container = build(Settings(data_dir=env / "var"))
    try:
        deadline = time.monotonic() + 60
        while container.registry.position("log:gongshi.publications:0") != lines - 1:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the worker did not apply the file"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        container.close()
    assert process.returncode == 0, stderr
    assert "started ingest" in stderr and "stopped ingest" in stderr


def test_add_key_prints_one_json_object_and_revoke_key_takes_back_all_it_issued(env: Path) -> None:
    result = runner.invoke(app, ["departments", "add-key", "TJ-TAX"])
    assert result.exit_code == 0, result.output
    issued = json.loads(result.stdout.strip().splitlines()[-1])
    assert issued["api_key"].startswith("gs_") and issued["signing_key_id"].startswith("sk_")
    # embedded: no Kafka, so no Kafka login
    assert (issued["kafka_username"], issued["kafka_password"], issued["sasl_mechanism"]) == (
        None,
        None,
        None,
    )
    key_id = issued["api_key"][3:11]
    container = build(Settings(data_dir=env / "var"))
    try:
        signer = Signer.from_base64(issued["signing_private_key"])
        assert signer.key_id == issued["signing_key_id"]
        assert container.credentials.department_for(issued["api_key"]) == "TJ-TAX"
        listed = runner.invoke(app, ["departments", "keys"]).stdout
        assert key_id in listed and issued["signing_key_id"] in listed

        revoked = runner.invoke(app, ["departments", "revoke-key", key_id])
        assert revoked.exit_code == 0, revoked.output
        assert container.credentials.department_for(issued["api_key"]) is None
        stored = container.credentials.signing_key(issued["signing_key_id"])
        assert stored is not None and stored[2]  # the signing key issued with it is revoked too
    finally:
        container.close()


def test_a_department_holds_two_signing_keys_at_most(env: Path) -> None:
    # the env fixture issued TJ-AMR one key already; a rotation adds the second
    assert runner.invoke(app, ["departments", "add-key", "TJ-AMR"]).exit_code == 0
    third = runner.invoke(app, ["departments", "add-key", "TJ-AMR"])
    assert third.exit_code == 2 and "吊销旧密钥" in third.output
    # nothing was half-issued: still one API key
    container = build(Settings(data_dir=env / "var"))
    try:
        assert [k.department for k in container.credentials.list_keys()] == ["TJ-AMR"]
    finally:
        container.close()


def test_publish_onto_the_log_needs_a_signing_key(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GONGSHI_SIGNING_KEY_FILE")
    source = env / "one.jsonl"
    source.write_text('{"publication_id": "X-1"}\n', encoding="utf-8")
    result = runner.invoke(app, ["publish", str(source), "--no-wait"])
    assert result.exit_code == 2
    assert "--signing-key" in result.output


def test_publish_signs_for_its_department_only_and_dlq_list_shows_the_rest(env: Path) -> None:
    source = env / "mixed.jsonl"
    amr = registered(uscc=uscc_for(31), publication_id="MIX-AMR")
    tax = {**registered(uscc=uscc_for(32), publication_id="MIX-TAX"), "department": "TJ-TAX"}
    source.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in (amr, tax)), encoding="utf-8")
    assert runner.invoke(app, ["publish", str(source), "--no-wait"]).exit_code == 0
    container = build(Settings(data_dir=env / "var"))
    try:
        container.worker.drain()
        assert dict(container.worker.counts) == {"applied": 1, "rejected": 1}
    finally:
        container.close()

    listed = runner.invoke(app, ["dlq", "list", "--limit", "5"])
    assert listed.exit_code == 0, listed.output
    [row] = [line for line in listed.stdout.splitlines() if "MIX-TAX" in line]
    assert "TJ-TAX" in row and "bad_signature" in row and "gongshi.publications[0]@1" in row
    assert "MIX-AMR" not in listed.stdout


def test_export_writes_snapshots_and_a_delta_that_applies_and_verifies(env: Path) -> None:
    source = env / "g.jsonl"
    assert (
        runner.invoke(app, ["generate", "--entities", "20", "--seed", "4", "--out", str(source)]).exit_code
        == 0
    )
    assert runner.invoke(app, ["load", str(source)]).exit_code == 0
    first, later, applied = env / "first", env / "later", env / "applied"

    result = runner.invoke(app, ["export", "snapshot", "--out", str(first)])
    assert result.exit_code == 0, result.output
    assert "snapshot as of 2026-11-22" in result.output and "20 entities" in result.output
    result = runner.invoke(app, ["export", "snapshot", "--as-of", "2029-12-31", "--out", str(later)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["export", "delta", "--from", str(first), "--to", str(later / "manifest.json")]
    )
    assert result.exit_code == 0, result.output
    assert "delta 2026-11-22 → 2029-12-31" in result.output
    assert (later / "delta-manifest.json").is_file()  # beside the later snapshot by default
    result = runner.invoke(
        app, ["export", "apply", "--snapshot", str(first), "--delta", str(later), "--out", str(applied)]
    )
    assert result.exit_code == 0, result.output
    for name in ("manifest.json", "entities.jsonl.gz", "records.csv.gz"):
        assert (applied / name).read_bytes() == (later / name).read_bytes()
    assert runner.invoke(app, ["export", "verify", str(later)]).exit_code == 0

    wrong = runner.invoke(
        app, ["export", "apply", "--snapshot", str(later), "--delta", str(later), "--out", str(env / "x")]
    )
    assert wrong.exit_code == 1 and "starts from the snapshot as of 2026-11-22" in wrong.output
    assert runner.invoke(app, ["export", "verify", str(env)]).exit_code == 1  # no manifest there
    bad = runner.invoke(app, ["export", "snapshot", "--as-of", "2026-13-01", "--out", str(env / "y")])
    assert bad.exit_code == 2 and not (env / "y").exists()
