"""Erasure of a natural person from an immutable history (crypto-shredding), on SQLite and with the
event store on PostgreSQL: identity numbers, phones and home addresses are stored sealed (a grep of
the store's raw rows finds none of them); `gongshi persons erase` deletes the person's keys — the
events still load, and the fields read 已删除 in the entity, the public and agency indexes and the
API, and in the agencies' and the public change feed (whose table keeps them sealed too), while
other persons stay readable; `gongshi persons migrate` seals events stored in plaintext
before, leaving no plaintext in the file or table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.clock import FixedDateClock
from api.app import create_app
from api.cli import app
from domain.access import AGENCY_SCOPES, Role
from domain.departments import DepartmentRegistry
from domain.masking import mask_id_number
from domain.personal_data import ERASED
from domain.registry import Registry
from domain.uscc import partition_key
from infra.bootstrap import Container, build
from infra.settings import Settings
from tests.builders import TODAY, person, registered, resident_id, uscc_for
from tests.engines import postgres_dsn, real, unique_prefix

runner = CliRunner()
ZHANG = resident_id(71)  # the person to erase
LI = resident_id(72)  # another person, kept
PHONE, HOME = "13900001111", "天津市河西区友谊路8号2单元301室"


def cli(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(params=["sqlite", real("postgres")])
def where(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    values: dict[str, Any] = {"data_dir": tmp_path / "var", "today": TODAY}
    if request.param == "postgres":
        schema = unique_prefix("erasure")
        values |= {"postgres_dsn": postgres_dsn(), "postgres_schema": schema}
        with psycopg.connect(values["postgres_dsn"], autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    for name, value in values.items():
        monkeypatch.setenv(f"GONGSHI_{name.upper()}", str(value))
    yield values
    if request.param == "postgres":
        with psycopg.connect(values["postgres_dsn"], autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{values["postgres_schema"]}" CASCADE')


def raw_store(values: dict[str, Any]) -> bytes:
    """Every byte the event store holds: the SQLite files, or every row of the PostgreSQL tables."""
    if values.get("postgres_dsn"):
        schema = values["postgres_schema"]
        with psycopg.connect(values["postgres_dsn"], autocommit=True) as conn:
            rows = conn.execute(
                f'SELECT state FROM "{schema}".registry_events '
                f'UNION ALL SELECT state FROM "{schema}".registry_snapshots'
            ).fetchall()
        return b"\n".join(bytes(r[0]) for r in rows)
    folder: Path = values["data_dir"]
    return b"".join(p.read_bytes() for p in folder.glob("events.sqlite3*"))


def raw_changes(values: dict[str, Any]) -> bytes:
    """Every byte the change table holds: its SQLite files, or its PostgreSQL rows as text."""
    if values.get("postgres_dsn"):
        schema = values["postgres_schema"]
        with psycopg.connect(values["postgres_dsn"], autocommit=True) as conn:
            rows = conn.execute(f'SELECT message::text FROM "{schema}".changes').fetchall()
        return "\n".join(r[0] for r in rows).encode()
    folder: Path = values["data_dir"]
    return b"".join(p.read_bytes() for p in folder.glob("changes.sqlite3*"))


def feed_representatives(client: TestClient, path: str, key: str, uscc: str) -> list[dict[str, Any]]:
    """The legal representatives each view of `uscc`'s changes shows in the feed at `path`."""
    headers = {
        "Authorization": f"Bearer {key}",
        "X-Purpose": quote("跟踪监管对象变动"),
        "X-Officer": quote("张三"),
    }
    response = client.get(path, params={"limit": 1000}, headers=headers)
    assert response.status_code == 200, response.text
    found = []
    for line in response.text.splitlines():
        change = json.loads(line)
        for view in ("public", "sharing"):
            rep = ((change.get(view) or {}).get("registration") or {}).get("legal_representative")
            if change["uscc"] == uscc and rep:
                found.append(rep)
    return found


def publish(container: Container, *messages: dict[str, Any]) -> None:
    sign = container.signed_by_platform("job:test")
    container.log.produce_many(
        container.settings.publications_topic,
        ((partition_key(m["uscc"]), json.dumps(m, ensure_ascii=False).encode()) for m in messages),
        headers_for=sign,
    )
    container.worker.drain()
    container.catch_up()


def representative(registration: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = registration["legal_representative"]
    return found


def firms() -> tuple[dict[str, Any], dict[str, Any]]:
    zhang = registered(
        uscc=uscc_for(7101),
        publication_id="ER-1",
        name="天津张记贸易有限公司",
        legal_representative=person("张伟", id_number=ZHANG, phone=PHONE, address=HOME),
    )
    li = registered(
        uscc=uscc_for(7102),
        publication_id="ER-2",
        name="天津李记科技有限公司",
        legal_representative=person("李娜", id_number=LI),
    )
    return zhang, li


def test_a_person_is_stored_sealed_and_erased_everywhere_while_the_events_still_load(
    where: dict[str, Any],
) -> None:
    zhang, li = firms()
    container = build(Settings(**where))
    publish(container, zhang, li)
    stored = raw_store(where)
    assert stored and ZHANG.encode() not in stored and PHONE.encode() not in stored
    assert HOME.encode() not in stored and LI.encode() not in stored
    changes = raw_changes(where)
    assert changes and ZHANG.encode() not in changes and PHONE.encode() not in changes
    assert HOME.encode() not in changes and mask_id_number(ZHANG).encode() not in changes
    topic = container.settings.changes_topic
    announced = b"\n".join(r.value for r in container.log.read(topic, 0, 0, 1000))
    assert b'"_sealed_"' in announced and ZHANG.encode() not in announced and HOME.encode() not in announced
    assert representative(container.registry.get_entity(zhang["uscc"]).registration)["id_number"] == ZHANG
    shared = container.index.get_sharing(zhang["uscc"])
    assert shared is not None and representative(shared["registration"])["id_number"] == ZHANG
    container.close()

    erased = cli("persons", "erase", ZHANG, "--reason", "本人依法申请删除")
    assert erased["keys_deleted"] >= 1 and erased["rebuilt"]["entities"] == 2

    container = build(Settings(**where))
    try:
        entity = container.registry.get_entity(zhang["uscc"])
        rep = entity.registration["legal_representative"]
        assert (rep["name"], rep["id_number"], rep["phone"], rep["address"]) == (
            "张伟",
            ERASED,
            ERASED,
            ERASED,
        )
        assert representative(container.registry.get_entity(li["uscc"]).registration)["id_number"] == LI
        sharing = container.index.get_sharing(zhang["uscc"])
        assert sharing is not None and representative(sharing["registration"])["id_number"] == ERASED
        assert ZHANG not in json.dumps(sharing, ensure_ascii=False)
        acts = [e for e in container.audit.entries() if e.action == "persons.erased"]
        assert acts[0].arguments["person"] == erased["person"] and ZHANG not in json.dumps(acts[0].arguments)
        agency = container.credentials.add(Role.AGENCY, "TJ-TAX-JC1", name="稽查局", scopes=AGENCY_SCOPES)
        reader = container.credentials.add(Role.PUBLIC, "erasure-feed")
        with TestClient(create_app(container)) as client:
            public = client.get(f"/api/v1/entities/{zhang['uscc']}").text
            other = client.get(f"/api/v1/entities/{li['uscc']}").text
            # the change feeds read as the entity views do: the agencies' (both views) and the public one
            agency_feed = feed_representatives(client, "/api/v1/agency/changes", agency, zhang["uscc"])
            public_feed = feed_representatives(client, "/api/v1/changes", reader, zhang["uscc"])
            kept = feed_representatives(client, "/api/v1/agency/changes", agency, li["uscc"])
        assert ERASED in public and mask_id_number(ZHANG) not in public
        assert mask_id_number(LI) in other
        assert len(agency_feed) == 2 and len(public_feed) == 1
        for rep in (*agency_feed, *public_feed):
            assert (rep["name"], rep["id_number"], rep["phone"], rep["address"]) == ("张伟", *[ERASED] * 3)
        assert [rep["id_number"] for rep in kept] == [mask_id_number(LI), LI]
        changes = raw_changes(where)
        assert ZHANG.encode() not in changes and mask_id_number(ZHANG).encode() not in changes
    finally:
        container.close()
    # erasing again (by the ref the audit trail names) finds nothing left; a later publication
    # naming the number is sealed under a key of its own, the erased events stay erased
    assert (
        cli("persons", "erase", "--ref", erased["person"], "--reason", "恢复备份后重做")["keys_deleted"] == 0
    )
    container = build(Settings(**where))
    try:
        later = registered(
            uscc=uscc_for(7103),
            publication_id="ER-3",
            name="天津张记二号商贸有限公司",
            legal_representative=person("张伟", id_number=ZHANG),
        )
        publish(container, later)
        assert representative(container.registry.get_entity(later["uscc"]).registration)["id_number"] == ZHANG
        container.registry.forget_cached()
        assert (
            representative(container.registry.get_entity(zhang["uscc"]).registration)["id_number"] == ERASED
        )
    finally:
        container.close()


def test_events_stored_in_plaintext_before_are_sealed_by_the_migration(where: dict[str, Any]) -> None:
    zhang, li = firms()
    container = build(Settings(**where))
    plain = Registry(
        clock=FixedDateClock(TODAY),
        departments=DepartmentRegistry.load_default(),
        env=container.event_store_env,
    )  # as the platform stored events before sealing
    plain.process([zhang, li])
    plain.close()
    assert ZHANG.encode() in raw_store(where)
    container.close()

    assert cli("persons", "migrate")["events_rewritten"] == 2
    stored = raw_store(where)
    assert ZHANG.encode() not in stored and PHONE.encode() not in stored and LI.encode() not in stored
    container = build(Settings(**where))
    try:
        rep = representative(container.registry.get_entity(zhang["uscc"]).registration)
        assert (rep["id_number"], rep["phone"], rep["address"]) == (ZHANG, PHONE, HOME)
    finally:
        container.close()
    assert cli("persons", "migrate")["events_rewritten"] == 0  # idempotent
