"""The change feed on the embedded engines (SQLite event store, SQLite log, SQLite tracking).

Each change to an entity's public or sharing document is announced once per position, keyed by
USCC, in the order the event store recorded it; a crash between the flush and the recorded
position announces the batch again with the same positions, so consumers dedupe on `position`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from eventsourcing.persistence import Tracking

from adapters.change_store.base import open_change
from adapters.change_store.sqlite import SQLiteChangeStore
from adapters.clock import FixedDateClock
from adapters.event_store import sqlite_env
from adapters.publication_log.base import LogRecord
from adapters.publication_log.embedded import EmbeddedLog
from adapters.tracking import SQLiteTrackingStore
from domain.departments import DepartmentRegistry
from domain.entity import MarketEntity, entity_id
from domain.personal_data import ERASED
from domain.registry import Registry
from infra.bootstrap import build
from infra.settings import Settings
from projections.changes import ChangeFeed, ChangeMessage, documents
from tests.builders import (
    TODAY,
    USCC,
    change_payload,
    envelope,
    make_registry,
    penalty_payload,
    person,
    registered,
    uscc_for,
)
from tests.unit.test_personal_data import MemoryVault

TOPIC = "gongshi.changes"
NOW = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)
ASYNCAPI = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return sqlite_env(tmp_path / "events")


@pytest.fixture
def writer(env: dict[str, str]) -> Iterator[Registry]:
    """The ingestion side: applies publications to the SQLite event store."""
    app = make_registry(env)
    yield app
    app.close()


@pytest.fixture
def log(tmp_path: Path) -> EmbeddedLog:
    return EmbeddedLog(tmp_path / "log.sqlite3")


@pytest.fixture
def tracking(tmp_path: Path) -> Iterator[SQLiteTrackingStore]:
    store = SQLiteTrackingStore.open(tmp_path / "tracking.sqlite3")
    yield store
    store.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteChangeStore]:
    change_store = SQLiteChangeStore(tmp_path / "changes.sqlite3")
    yield change_store
    change_store.close()


@pytest.fixture
def feed(
    env: dict[str, str], log: EmbeddedLog, tracking: SQLiteTrackingStore, store: SQLiteChangeStore
) -> Iterator[ChangeFeed]:
    """The feed, with an application object of its own on the same store."""
    change_feed = ChangeFeed(make_registry(env), log, TOPIC, tracking, store, batch_size=500, now=lambda: NOW)
    yield change_feed
    change_feed.close()


def penalty(publication_id: str, uscc: str = USCC, **payload: Any) -> dict[str, Any]:
    return envelope("penalty.imposed", penalty_payload(**payload), uscc=uscc, publication_id=publication_id)


def amendment(publication_id: str, uscc: str = USCC) -> dict[str, Any]:
    payload = {"decision_no": "津市监罚〔2025〕1号", "reason": "复议变更", "content": "警告"}
    return envelope("penalty.amended", payload, uscc=uscc, publication_id=publication_id)


def performance(publication_id: str, uscc: str = USCC) -> dict[str, Any]:
    payload = {"record_no": "YJ-2024-1", "category": "表彰", "title": "守合同重信用", "content": "2023 年度"}
    return envelope("performance.recorded", payload, uscc=uscc, publication_id=publication_id)


def records(log: EmbeddedLog) -> list[LogRecord]:
    return [r for p in sorted(log.end_offsets(TOPIC)) for r in log.read(TOPIC, p, 0, 10_000)]


def announced(log: EmbeddedLog) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records(log)]


def positions(registry: Registry) -> list[int]:
    return [n.id for n in registry.recorder.select_notifications(start=1, limit=1000)]


def keys_of(entity: MarketEntity) -> dict[str, list[str]]:
    docs = documents(entity)
    return {view: [k for k in doc if k != "version"] for view, doc in docs.items()}


def test_a_registration_then_a_penalty_are_announced_in_order_keyed_by_uscc(
    writer: Registry, feed: ChangeFeed, log: EmbeddedLog
) -> None:
    writer.process([registered(publication_id="R-1"), penalty("P-1")])

    assert feed.catch_up() == 2

    registration, imposed = positions(writer)
    found = records(log)
    assert [r.key for r in found] == [USCC, USCC]
    assert all(r.headers == (("content-type", b"application/json"),) for r in found)
    first, second = (json.loads(r.value) for r in found)
    assert {
        k: first[k] for k in ("schema", "uscc", "position", "event_position", "entity_version", "cause")
    } == {
        "schema": "gongshi.change/2",
        "uscc": USCC,
        "position": 1,
        "event_position": registration,
        "entity_version": 1,
        "cause": "event",
    }
    assert (first["event"], first["department"], first["publication_id"]) == ("Registered", "TJ-AMR", "R-1")
    assert (first["occurred_on"], first["timestamp"]) == ("2020-03-15", "2026-11-22T02:30:00Z")
    assert first["changed"] == keys_of(writer.get_entity(USCC))
    assert (first["district"], first["district_name"], first["entity_type"]) == (
        "120116",
        "滨海新区",
        "有限责任公司",
    )
    assert first["flags_before"] == first["flags_after"] == [] and first["categories"] == []
    assert first["public"]["name"] == first["sharing"]["name"] == "天津滨海星海科技有限公司"
    rep = first["sharing"]["registration"]["legal_representative"]["id_number"]
    assert "*" not in rep and "*" in first["public"]["registration"]["legal_representative"]["id_number"]
    assert "version" not in first["changed"]["public"] and "name" in first["changed"]["public"]
    assert (second["position"], second["event_position"], second["entity_version"], second["event"]) == (
        2,
        imposed,
        2,
        "PenaltyImposed",
    )
    assert second["categories"] == ["penalty"] and second["flags_after"] == ["penalty"]
    assert second["public"]["penalties"][0]["decision_no"] == "津市监罚〔2025〕1号"
    assert (second["publication_id"], second["occurred_on"]) == ("P-1", "2024-05-01")
    assert second["changed"] == {"public": ["penalties"], "sharing": ["penalties", "last_occurred_on"]}
    assert (feed.position(), feed.lag()) == (imposed, 0)


def test_changes_read_across_batches_are_the_same_as_in_one_batch(
    env: dict[str, str], writer: Registry, log: EmbeddedLog, tmp_path: Path
) -> None:
    """An entity is loaded at the version before the batch's first event for it, then moved on:
    the batch size changes nothing, and an in-place change (an amendment) is still seen."""
    other = uscc_for(2)
    writer.process([registered(publication_id="R-1"), registered(uscc=other, publication_id="R-2")])
    writer.process([penalty("P-1"), penalty("P-2", uscc=other)])
    writer.process([amendment("A-1"), amendment("A-2", uscc=other)])

    trackers = [SQLiteTrackingStore.open(tmp_path / f"{name}.sqlite3") for name in ("a", "b")]
    stores = [SQLiteChangeStore(tmp_path / f"{name}-changes.sqlite3") for name in ("a", "b")]
    one_batch = ChangeFeed(make_registry(env), log, TOPIC, trackers[0], stores[0], now=lambda: NOW)
    assert one_batch.catch_up() == 6
    other_log = EmbeddedLog(tmp_path / "other-log.sqlite3")
    small = ChangeFeed(
        make_registry(env),
        other_log,
        TOPIC,
        trackers[1],
        stores[1],
        batch_size=1,
        now=lambda: NOW,
    )
    assert small.catch_up() == 6

    assert announced(other_log) == announced(log) != []
    by_entity = [(m["uscc"], m["event"], m["changed"]["public"]) for m in announced(log)]
    assert by_entity == [
        (USCC, "Registered", keys_of(writer.get_entity(USCC))["public"]),
        (other, "Registered", keys_of(writer.get_entity(other))["public"]),
        (USCC, "PenaltyImposed", ["penalties"]),
        (other, "PenaltyImposed", ["penalties"]),
        (USCC, "PenaltyAmended", ["penalties"]),
        (other, "PenaltyAmended", ["penalties"]),
    ]
    for closable in (one_batch, small, *trackers, *stores):
        closable.close()


def test_an_entity_past_its_snapshot_is_loaded_at_the_right_version(
    env: dict[str, str],
    writer: Registry,
    log: EmbeddedLog,
    tracking: SQLiteTrackingStore,
    store: SQLiteChangeStore,
) -> None:
    """Registry snapshots every 100 versions: a versioned read starts from the snapshot below."""
    writer.process([registered(publication_id="R-1"), *(performance(f"Y-{n}") for n in range(120))])
    assert writer.snapshots is not None and list(writer.snapshots.get(entity_id(USCC)))
    feed = ChangeFeed(make_registry(env), log, TOPIC, tracking, store, batch_size=7, now=lambda: NOW)

    assert feed.catch_up() == 121

    messages = announced(log)
    assert [m["entity_version"] for m in messages] == list(range(1, 122))
    assert {tuple(m["changed"]["public"]) for m in messages[1:]} == {("performance",)}
    feed.close()


class NarrowFeed(ChangeFeed):
    """A feed whose documents leave out performance records (and the last business date)."""

    def documents(self, entity: MarketEntity) -> dict[str, dict[str, Any]]:
        hidden = ("performance", "last_occurred_on")
        return {
            v: {k: x for k, x in d.items() if k not in hidden} for v, d in super().documents(entity).items()
        }


def test_an_event_that_changes_neither_document_is_not_announced_and_the_position_moves_on(
    env: dict[str, str],
    writer: Registry,
    log: EmbeddedLog,
    tracking: SQLiteTrackingStore,
    store: SQLiteChangeStore,
) -> None:
    writer.process([registered(publication_id="R-1"), performance("Y-1")])
    narrow = NarrowFeed(make_registry(env), log, TOPIC, tracking, store, now=lambda: NOW)

    assert narrow.catch_up() == 2

    assert [m["event"] for m in announced(log)] == ["Registered"]
    assert narrow.position() == positions(writer)[-1]
    narrow.close()


def test_a_change_only_agencies_see_is_announced_with_no_public_keys(
    writer: Registry, feed: ChangeFeed, log: EmbeddedLog
) -> None:
    writer.process([registered(publication_id="R-1")])
    entity = writer.get_entity(USCC)
    meta = {
        "department": "ENTERPRISE",
        "publication_id": "O-1",
        "occurred_on": date(2026, 1, 5),
        "basis": None,
    }
    entity.file_objection(meta, {"objection_no": "YY-2026-1", "target": "penalty", "reason": "事实有误"})
    writer.save(entity)

    feed.catch_up()

    objection = announced(log)[-1]
    assert objection["event"] == "ObjectionFiled"
    assert objection["changed"] == {"public": [], "sharing": ["objections", "last_occurred_on"]}


def test_parked_and_rejected_publications_are_not_announced(
    writer: Registry, feed: ChangeFeed, log: EmbeddedLog
) -> None:
    writer.process([penalty("P-EARLY")])  # parked: the entity is not registered yet
    writer.process([penalty("P-BAD", uscc="91120116MA0000000X")])  # rejected: bad check character
    writer.process([registered(publication_id="R-1")])  # releases the parked penalty

    feed.catch_up()

    assert [(m["event"], m["publication_id"]) for m in announced(log)] == [
        ("Registered", "R-1"),
        ("PenaltyImposed", "P-EARLY"),
    ]
    assert len(positions(writer)) > 2
    assert feed.position() == positions(writer)[-1]


def test_catching_up_again_announces_nothing_new(
    writer: Registry, feed: ChangeFeed, log: EmbeddedLog
) -> None:
    writer.process([registered(publication_id="R-1"), penalty("P-1")])
    feed.catch_up()
    before = log.end_offsets(TOPIC)

    assert feed.catch_up() == 0
    assert feed.run_once() == 0
    assert log.end_offsets(TOPIC) == before

    writer.process([amendment("A-1")])
    assert feed.catch_up() == 1
    assert [m["event"] for m in announced(log)] == ["Registered", "PenaltyImposed", "PenaltyAmended"]


class CrashOnce(SQLiteTrackingStore):
    """Fails the first time a position is recorded, as if the process died right after the flush."""

    crashed = False

    def insert_tracking(self, tracking: Tracking) -> None:
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("killed between flush and tracking")
        super().insert_tracking(tracking)


def test_a_crash_between_the_flush_and_the_position_announces_the_batch_again_with_the_same_positions(
    env: dict[str, str], writer: Registry, log: EmbeddedLog, tmp_path: Path
) -> None:
    writer.process([registered(publication_id="R-1"), penalty("P-1")])
    crashing = CrashOnce.open(tmp_path / "crash.sqlite3")
    assert isinstance(crashing, CrashOnce)
    store = SQLiteChangeStore(tmp_path / "crash-changes.sqlite3")
    feed = ChangeFeed(make_registry(env), log, TOPIC, crashing, store, now=lambda: NOW)

    with pytest.raises(RuntimeError):
        feed.run_once()
    assert feed.position() == 0
    assert feed.catch_up() == 2  # the restarted feed reads the batch again

    messages = announced(log)
    assert [m["event_position"] for m in messages] == positions(writer) * 2
    assert [m["position"] for m in messages] == [1, 2, 1, 2]  # the table kept them
    deduped = {m["position"]: m for m in messages}  # what a consumer keeps
    assert [m["event"] for m in deduped.values()] == ["Registered", "PenaltyImposed"]
    assert feed.position() == positions(writer)[-1]
    assert feed.catch_up() == 0
    feed.close()
    crashing.close()
    store.close()


def test_every_message_validates_against_the_asyncapi_schema(
    writer: Registry, feed: ChangeFeed, log: EmbeddedLog
) -> None:
    writer.process([registered(publication_id="R-1"), penalty("P-1"), amendment("A-1")])
    feed.catch_up()
    doc = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    message = doc["components"]["messages"]["Change"]
    schema_ref = message["payload"]["$ref"]
    validator = jsonschema_rs.validator_for({"$ref": schema_ref, "components": doc["components"]})

    values = [r.value for r in records(log)]
    assert len(values) == 3
    for value in values:
        body = json.loads(value.decode("utf-8"))
        validator.validate(body)
        assert ChangeMessage.model_validate_json(value).encode() == value
    broken = {k: v for k, v in json.loads(values[0]).items() if k != "position"}
    assert not validator.is_valid(broken)
    assert not validator.is_valid({**json.loads(values[0]), "event": "Renamed"})
    assert doc["channels"]["changes"]["address"] == TOPIC
    assert message["bindings"]["kafka"]["key"]["type"] == "string"


def test_the_feed_leaves_the_cached_aggregate_alone(
    writer: Registry, log: EmbeddedLog, tracking: SQLiteTrackingStore, store: SQLiteChangeStore
) -> None:
    """Versioned reads rebuild the entity from the store: the object in the cache is not moved."""
    writer.process([registered(publication_id="R-1"), penalty("P-1"), amendment("A-1")])
    cached = writer.repository.get(entity_id(USCC), deepcopy_from_cache=False)
    state = json.dumps(documents(cached), sort_keys=True, default=str)

    shared = ChangeFeed(writer, log, TOPIC, tracking, store, now=lambda: NOW)
    assert shared.catch_up() == 3

    assert writer.repository.get(entity_id(USCC), deepcopy_from_cache=False) is cached
    assert (cached.version, json.dumps(documents(cached), sort_keys=True, default=str)) == (3, state)


def test_the_composition_root_builds_the_feed_on_its_own_registry(tmp_path: Path) -> None:
    container = build(Settings(data_dir=tmp_path / "var", today=date(2026, 11, 22)))
    try:
        feed = container.change_feed
        assert (feed.topic, feed.partitions, feed.name) == ("gongshi.changes", 1, "changes")
        assert feed.registry is not container.registry and feed.registry is not container.reader
        assert (tmp_path / "var" / "tracking.sqlite3").exists()
        assert container.registry.apply_publication(registered(publication_id="R-1")).status == "applied"
        assert feed.catch_up() == 1
        (record,) = container.log.read("gongshi.changes", 0, 0, 10)
        assert (record.key, json.loads(record.value)["event"]) == (USCC, "Registered")
        assert container.tracking.max_tracking_id("changes") == feed.position() == 1
    finally:
        container.close()


def test_a_person_erased_between_batches_is_not_sealed_again_from_a_followed_entity(
    env: dict[str, str], log: EmbeddedLog, tracking: SQLiteTrackingStore, store: SQLiteChangeStore
) -> None:
    """The feed follows an entity with its legal representative opened; after the person is
    erased, the next change to the registration reads 已删除 (the entity is read again) and the
    erased number gets no new key."""
    vault = MemoryVault()
    clock, departments = FixedDateClock(TODAY), DepartmentRegistry.load_default()
    writer = Registry(clock=clock, departments=departments, env=env, vault=vault)
    reader = Registry(clock=clock, departments=departments, env=env, vault=vault)
    feed = ChangeFeed(reader, log, TOPIC, tracking, store, now=lambda: NOW)
    writer.process([registered(publication_id="R-1")])
    assert feed.catch_up() == 1
    number = person()["id_number"]
    vault.erase(number)
    renamed = change_payload("name", "天津滨海星海科技有限公司", "天津星海数智科技有限公司")
    writer.process([envelope("registration.changed", renamed, uscc=USCC, publication_id="C-1")])

    assert feed.catch_up() == 1

    last = open_change(announced(log)[-1], vault)
    assert "registration" in last["changed"]["sharing"]
    assert last["sharing"]["registration"]["legal_representative"]["id_number"] == ERASED
    assert all(fields["id_number"] != number for fields in vault.kept.values())
    feed.close()
    writer.close()
