"""The table of publication kinds: complete, consistent, and what everything else derives from."""

from __future__ import annotations

import inspect
import json
from dataclasses import replace
from pathlib import Path

import pytest
from eventsourcing.persistence import Tracking

from adapters.clock import FixedDateClock
from adapters.credentials.signing import Verifier
from adapters.publication_log.embedded import EmbeddedLog
from domain import kinds
from domain import publications as pub
from domain.departments import DepartmentRegistry, DepartmentType
from domain.entity import MarketEntity
from domain.kinds import CATEGORIES, KINDS, PAYLOADS, PUBLICATION_KINDS, SECTIONS, KindTable
from domain.registry import Registry
from domain.rejections import RejectionLog
from domain.signatures import PLATFORM
from ingestion.worker import IngestionWorker
from tests.builders import (
    POPO_ENV,
    TODAY,
    USCC,
    MemoryKeys,
    envelope,
    inspection_payload,
    make_registry,
    penalty_payload,
    registered,
)


def without_command(name: str) -> KindTable:
    """The shipped table, except that `name` has no command (known, not yet applicable)."""
    return KindTable(replace(k, command=None) if k.name == name else k for k in PUBLICATION_KINDS)


def registry_with(table: KindTable, env: dict[str, str] | None = None) -> Registry:
    return Registry(
        clock=FixedDateClock(TODAY),
        departments=DepartmentRegistry.load_default(),
        env=dict(env or POPO_ENV),
        kinds=table,
    )


# --- the table is complete and consistent -----------------------------------------------------------


def test_kinds_payloads_and_names_come_from_one_table() -> None:
    assert tuple(k.name for k in PUBLICATION_KINDS) == KINDS
    assert {k.name: k.payload for k in PUBLICATION_KINDS} == PAYLOADS
    assert len(set(KINDS)) == len(KINDS)


def test_a_kind_described_twice_is_refused() -> None:
    kind = next(iter(PUBLICATION_KINDS))
    with pytest.raises(ValueError, match=kind.name):
        KindTable([kind, kind])


def test_every_kind_is_applicable_and_only_the_registration_creates() -> None:
    assert all(k.applicable for k in PUBLICATION_KINDS)
    assert [k.name for k in PUBLICATION_KINDS if k.creates] == ["registration.registered"]
    assert [k.name for k in PUBLICATION_KINDS if k.command is None] == ["registration.registered"]


def test_every_command_is_a_market_entity_method_taking_meta_and_data() -> None:
    for kind in PUBLICATION_KINDS:
        if kind.command is None:
            continue
        assert getattr(MarketEntity, kind.command.__name__) is kind.command, kind.name
        assert list(inspect.signature(kind.command).parameters) == ["self", "meta", "data"], kind.name


def test_every_department_event_is_recorded_by_exactly_one_kind() -> None:
    published = {
        cls
        for cls in vars(MarketEntity).values()
        if isinstance(cls, type)
        and issubclass(cls, MarketEntity.Published)
        and cls is not MarketEntity.Published
    }
    recorded = [e for k in PUBLICATION_KINDS for e in k.events]
    assert len(recorded) == len(set(recorded))
    # every event comes from a publication (objections too: filed by the enterprise channel)
    assert published - set(recorded) == set()
    assert MarketEntity.Registered in recorded


def test_sections_categories_and_kinds_refer_to_each_other() -> None:
    sections = {s.key: s for s in SECTIONS}
    categories = {c.key for c in CATEGORIES}
    assert len(sections) == len(SECTIONS) and len(categories) == len(CATEGORIES)
    for category in CATEGORIES:
        assert category.section in sections, category.key
        if category.record_id:  # rows built from a plain section's items
            assert sections[category.section].plain, category.key
    for kind in PUBLICATION_KINDS:
        assert kind.section is None or kind.section in sections, kind.name
        assert kind.category is None or kind.category in categories, kind.name
        assert kind.label and kind.publishers, kind.name
    # every category is what some kind publishes
    assert categories == {k.category for k in PUBLICATION_KINDS if k.category}
    for section in SECTIONS:
        if section.plain:
            assert section.field and section.number and section.title, section.key


def test_every_departments_explicit_kinds_are_within_what_its_type_may_publish() -> None:
    """The department's own list is what is enforced; the table says what its type allows."""
    for department in DepartmentRegistry.load_default().all():
        outside = department.kinds - PUBLICATION_KINDS.allowed(department.type)
        assert not outside, f"{department.code} ({department.type}) lists {sorted(outside)}"


def test_every_department_type_publishes_something_and_only_the_enterprise_reports() -> None:
    for department_type in DepartmentType:
        assert PUBLICATION_KINDS.allowed(department_type), department_type
    assert PUBLICATION_KINDS.allowed(DepartmentType.ENTERPRISE) == {
        "annual_report.submitted",
        "annual_report.corrected",
        "disclosure.published",
        "application.filed",
        "objection.filed",
    }


def test_a_department_of_an_unknown_type_is_refused() -> None:
    raw = {"code": "X", "name": "某部门", "short_name": "某", "type": "ministry_of_magic", "kinds": []}
    with pytest.raises(ValueError):
        DepartmentRegistry.from_json(json.dumps({"departments": [raw]}))


def test_the_envelope_schema_has_one_payload_variant_per_kind() -> None:
    schema = pub.envelope_json_schema(PAYLOADS)
    assert schema["properties"]["kind"]["enum"] == list(KINDS)
    assert len(schema["allOf"]) == len(kinds.PUBLICATION_KINDS)


# --- a kind without a command is a rejection, never a failed batch -----------------------------------


def test_a_kind_without_a_command_is_rejected_with_a_reason_and_the_batch_goes_on() -> None:
    registry = registry_with(without_command("inspection.published"))
    try:
        decided: list[list[str]] = []
        outcomes = registry.process(
            [
                registered(),
                envelope("inspection.published", inspection_payload("SSJ-1"), publication_id="INS-1"),
                envelope("penalty.imposed", penalty_payload()),
            ],
            tracking=Tracking("log:pubs:0", 7),
            on_decided=lambda outs: decided.append([o.status for o in outs]),
            positions=[5, 6, 7],
        )
        assert decided == [["applied", "rejected", "applied"]]
        rejected = outcomes[1]
        assert (rejected.code, rejected.publication_id, rejected.kind) == (
            "unsupported_kind",
            "INS-1",
            "inspection.published",
        )
        assert (
            rejected.message
            == "公示类型“抽查检查结果”（inspection.published）暂不受理：平台尚未配置其处理方式"
        )
        assert registry.get_entity(USCC).inspections == []
        assert list(registry.get_entity(USCC).penalties) == ["津市监罚〔2025〕1号"]
        assert registry.position("log:pubs:0") == 7
        log: RejectionLog = registry.repository.get(RejectionLog.id_for("log:pubs:0"))
        [event] = [e for e in registry.events.get(log.id) if isinstance(e, RejectionLog.PublicationRejected)]
        assert (event.code, event.publication_id, event.position) == ("unsupported_kind", "INS-1", 6)
    finally:
        registry.close()


def test_a_kind_without_a_command_is_rejected_not_parked_for_an_unregistered_entity() -> None:
    registry = registry_with(without_command("penalty.imposed"))
    try:
        outcome = registry.apply_publication(envelope("penalty.imposed", penalty_payload()))
        assert (outcome.status, outcome.code) == ("rejected", "unsupported_kind")
        assert registry.all_parked() == []
    finally:
        registry.close()


def test_a_parked_publication_whose_kind_lost_its_command_is_rejected_on_release(tmp_path: Path) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite3")}
    before = make_registry(env)
    parked = before.apply_publication(envelope("penalty.imposed", penalty_payload(), publication_id="EARLY"))
    assert parked.status == "parked"
    before.close()

    after = registry_with(without_command("penalty.imposed"), env)
    try:
        outcome = after.apply_publication(registered())
        assert outcome.status == "applied"
        [released] = outcome.released
        assert (released.status, released.code, released.publication_id) == (
            "rejected",
            "unsupported_kind",
            "EARLY",
        )
        assert after.all_parked() == [] and after.get_entity(USCC).penalties == {}
    finally:
        after.close()


def test_the_worker_sends_a_kind_without_a_command_to_the_dlq_and_moves_on(tmp_path: Path) -> None:
    log = EmbeddedLog(tmp_path / "log.sqlite3")
    log.ensure_topic("pubs", 1)
    log.ensure_topic("pubs.dlq", 1)
    messages = [
        registered(),
        envelope("inspection.published", inspection_payload("SSJ-1"), publication_id="INS-1"),
        envelope("penalty.imposed", penalty_payload()),
    ]
    keys = MemoryKeys()
    platform = keys.add(PLATFORM)
    log.produce_many(
        "pubs",
        ((USCC, json.dumps(m, ensure_ascii=False).encode()) for m in messages),
        headers_for=platform.headers,
    )
    registry = registry_with(without_command("inspection.published"))
    worker = IngestionWorker(registry, log, "pubs", "pubs.dlq", group="g", verifier=Verifier(keys))
    try:
        assert worker.run_once(timeout_s=1.0) == 3
        assert dict(worker.counts) == {"applied": 2, "rejected": 1}
        assert registry.position("log:pubs:0") == 2
        [dead] = log.read("pubs.dlq", 0, 0, 10)
        headers = dict(dead.headers)
        assert headers["reason"] == b"unsupported_kind"
        assert headers["source_offset"] == b"1"
        assert json.loads(dead.value)["publication_id"] == "INS-1"
        assert worker.run_once(timeout_s=0.2) == 0  # nothing left to retry: the partition moved on
    finally:
        worker.close()
        registry.close()
        log.close()
