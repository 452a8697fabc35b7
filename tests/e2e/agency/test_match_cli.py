"""`gongshi match FILE.csv --out FILE.csv`: the API's matcher from the command line, the results as
a CSV, the run on the access log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.access_log import AccessLogQuery
from api.cli import app
from api.cli.match import read_results
from infra.bootstrap import build
from infra.settings import Settings
from tests.builders import department_key_file

runner = CliRunner()


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[dict]]:
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GONGSHI_TODAY", "2026-11-22")
    key = department_key_file(Settings(data_dir=tmp_path / "var"), tmp_path / "tj-amr.key")
    monkeypatch.setenv("GONGSHI_SIGNING_KEY_FILE", str(key))
    source = tmp_path / "g.jsonl"
    assert (
        runner.invoke(app, ["generate", "--entities", "30", "--seed", "9", "--out", str(source)]).exit_code
        == 0
    )
    assert runner.invoke(app, ["load", str(source)]).exit_code == 0
    envelopes = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    return tmp_path, [e for e in envelopes if e["kind"] == "registration.registered"]


def test_a_csv_list_is_matched_to_a_csv_of_results_and_logged(loaded: tuple[Path, list[dict]]) -> None:
    tmp, registered = loaded
    lines = ["名称,统一社会信用代码,法定代表人"]
    lines += [
        f"{e['payload']['name']},,{e['payload']['legal_representative']['name']}" for e in registered[:10]
    ]
    lines += [f",{e['uscc']}," for e in registered[10:15]]
    lines += ["完全不存在的某某有限公司,,"]
    source = tmp / "名单.csv"
    source.write_text("\n".join(lines) + "\n", encoding="gb18030")
    out = tmp / "results.csv"
    result = runner.invoke(
        app,
        ["match", str(source), "--out", str(out), "--purpose", "社保稽核名单比对", "--agency", "TJ-HRSS-1"],
    )
    assert result.exit_code == 0, result.output
    rows = read_results(out)
    assert [r["decision"] for r in rows] == ["match"] * 15 + ["none"]
    assert [r["candidate_1_uscc"] for r in rows[:15]] == [e["uscc"] for e in registered[:15]]
    container = build(Settings(data_dir=tmp / "var"))
    [entry] = container.access_log.entries(AccessLogQuery(agency="TJ-HRSS-1"))
    assert entry.route == "cli:match" and entry.purpose == "社保稽核名单比对"
    assert entry.completed is True and entry.counts == {"rows": 16, "match": 15, "possible": 0, "none": 1}
    assert entry.uscc_count == 15
    container.close()


def test_a_purpose_is_required(loaded: tuple[Path, list[dict]]) -> None:
    tmp, _ = loaded
    source = tmp / "l.csv"
    source.write_text("name\nx\n", encoding="utf-8")
    result = runner.invoke(
        app, ["match", str(source), "--out", str(tmp / "o.csv"), "--purpose", "查", "--agency", "A"]
    )
    assert result.exit_code == 2
