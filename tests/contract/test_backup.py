"""Backup and restore, on the embedded engines and with the event store on PostgreSQL: a loaded
platform is backed up, wiped (data dir deleted, schema dropped), restored onto the empty place —
the search index rebuilt from the restored store — and answers exactly as before: every public
record, every publication's status, an operator's key, the audit trail. A restore never writes
over data, and refuses a backup whose files do not match their manifest."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from infra.bootstrap import Container, build
from infra.settings import Settings
from tests.e2e.conftest import TODAY, load
from tests.engines import postgres_dsn, real, unique_prefix

runner = CliRunner()


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.output


@pytest.fixture(params=["sqlite", real("postgres")])
def where(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    values: dict[str, Any] = {"data_dir": tmp_path / "var", "today": TODAY}
    if request.param == "postgres":
        schema = unique_prefix("backup")
        values |= {"postgres_dsn": postgres_dsn(), "postgres_schema": schema}
        with psycopg.connect(values["postgres_dsn"], autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    for name, value in values.items():
        monkeypatch.setenv(f"GONGSHI_{name.upper()}", str(value))
    yield values
    if request.param == "postgres":
        with psycopg.connect(values["postgres_dsn"], autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{values["postgres_schema"]}" CASCADE')


def answers(container: Container, envelopes: list[dict], admin_key: str) -> dict[str, Any]:
    """What the platform answers: public records, search, statuses, the operator's audit view."""
    usccs = sorted({e["uscc"] for e in envelopes if e["kind"] == "registration.registered"})
    ids = [e["publication_id"] for e in envelopes]
    statuses = container.status_view.get_many(ids)
    with TestClient(create_app(container)) as client:
        records = {u: client.get(f"/api/v1/entities/{u}").json() for u in usccs}
        search = client.get("/api/v1/entities", params={"q": records[usccs[0]]["name"]}).json()
        audit = client.get("/api/v1/admin/audit", headers={"Authorization": f"Bearer {admin_key}"})
    assert audit.status_code == 200, audit.text
    acts = [(a["actor"], a["action"], a["arguments"]) for a in audit.json()]
    return {"records": records, "search": search, "statuses": statuses, "acts": acts}


def wipe(values: dict[str, Any]) -> None:
    shutil.rmtree(values["data_dir"])
    if values.get("postgres_dsn"):
        with psycopg.connect(values["postgres_dsn"], autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{values["postgres_schema"]}" CASCADE')


def test_a_backup_restored_onto_an_empty_place_answers_as_before(
    where: dict[str, Any], tmp_path: Path
) -> None:
    settings = {k: v for k, v in where.items() if k not in ("data_dir", "today")}
    container, envelopes = load(where["data_dir"], entities=40, seed=5, **settings)
    container.close()
    admin_key = cli("admins", "add", "ops-zhang").strip()
    before = answers(build(Settings(**where)), envelopes, admin_key)
    assert len(before["records"]) > 10 and all(r.get("uscc") for r in before["records"].values())
    assert {s["status"] for s in before["statuses"].values()} >= {"applied"}

    made = json.loads(cli("backup", "--out", str(tmp_path / "backup")).splitlines()[-1])
    assert made["notifications"] > 0
    assert not (tmp_path / "backup" / "search.sqlite3").exists()  # rebuilt, not backed up
    wipe(where)

    restored = json.loads(cli("restore", str(tmp_path / "backup")).splitlines()[-1])
    assert restored["rebuilt"]["entities"] == len(before["records"])
    after = answers(build(Settings(**where)), envelopes, admin_key)
    assert after["records"] == before["records"]
    assert after["search"] == before["search"]
    assert after["statuses"] == before["statuses"]
    # the trail as it was when backed up, then the restore itself (the backup's own act was later)
    assert after["acts"][: len(before["acts"])] == before["acts"]
    assert [a[1] for a in after["acts"][len(before["acts"]) :]] == ["backup.restored"]


def test_a_restore_writes_over_nothing_and_checks_every_file(where: dict[str, Any], tmp_path: Path) -> None:
    settings = {k: v for k, v in where.items() if k not in ("data_dir", "today")}
    container, _ = load(where["data_dir"], entities=5, seed=6, **settings)
    container.close()
    cli("backup", "--out", str(tmp_path / "backup"))
    assert "不是空目录" in cli("backup", "--out", str(tmp_path / "backup"), code=1)
    assert "不是空的" in cli("restore", str(tmp_path / "backup"), code=1)  # the platform is still there
    wipe(where)
    damaged = tmp_path / "backup" / ("platform.pgdump" if where.get("postgres_dsn") else "events.sqlite3")
    original = damaged.read_bytes()
    damaged.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    assert "已损坏" in cli("restore", str(tmp_path / "backup"), code=1)
    assert not where["data_dir"].exists()  # checked before anything was written
    damaged.write_bytes(original)
    cli("restore", str(tmp_path / "backup"))
