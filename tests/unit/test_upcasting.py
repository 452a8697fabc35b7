"""Events and snapshots stored before a change keep loading: the records in
`data/market_entity_v1.json` were written by the code of commit e044ac7, before `penalty.imposed`
carried `domain`, `procedure` and `publicised_on`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from domain.entity import MarketEntity, entity_id
from domain.registry import Registry
from domain.signatures import Signed
from projections.documents import public_document, public_view, sharing_document
from tests.builders import USCC, make_registry

RECORDS = json.loads((Path(__file__).parent / "data" / "market_entity_v1.json").read_text(encoding="utf-8"))
DECISION = "津市监罚〔2025〕1号"


def stored(rows: list[dict[str, Any]]) -> list[StoredEvent]:
    return [
        StoredEvent(
            originator_id=UUID(r["originator_id"]),
            originator_version=r["originator_version"],
            topic=r["topic"],
            state=r["state"].encode(),
        )
        for r in rows
    ]


@pytest.fixture
def old_store(tmp_path: Path) -> Registry:
    return make_registry(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "es.db")}
    )


def check_upcast(entity: MarketEntity) -> None:
    penalty = entity.penalties[DECISION]
    # the old publication's business date (2025-01-12), within 20 working days of the decision
    assert (penalty["domain"], penalty["procedure"], penalty["publicised_on"]) == (
        "other",
        "ordinary",
        "2025-01-12",
    )
    assert penalty["fine_amount"] == "20000.00" and penalty["severity"] == "general"
    shown = sharing_document(entity)["penalties"][0]["publicity"]
    assert (shown["rule_set"], shown["starts_on"], shown["ends_on"]) == (
        "SAMR-45-2021",
        "2025-01-12",
        "2028-01-12",
    )
    public = public_document(sharing_document(entity))
    assert [p["decision_no"] for p in public_view(public, date(2026, 1, 1))["penalties"]] == [DECISION]


def test_the_stored_records_are_the_old_form() -> None:
    penalty_event = json.loads(RECORDS["events"][1]["state"])
    assert RECORDS["events"][1]["topic"] == "domain.entity:MarketEntity.PenaltyImposed"
    assert "class_version" not in penalty_event and "publicised_on" not in penalty_event["data"]
    assert "class_version" not in json.loads(RECORDS["snapshots"][0]["state"])["state"]


def test_a_penalty_event_stored_before_publicised_on_existed_still_loads(old_store: Registry) -> None:
    old_store.recorder.insert_events(stored(RECORDS["events"]))
    entity = old_store.get_entity(USCC)
    assert entity.version == 2
    check_upcast(entity)
    # and the entity goes on: a repair after six months from that publicity date is accepted
    repair = {"target": "penalty", "decision_no": DECISION, "reason": "已整改"}
    outcome = old_store.apply_publication(
        {
            "schema": "gongshi.publication/1",
            "publication_id": "REPAIR-1",
            "department": "TJ-DRC",
            "kind": "repair.approved",
            "uscc": USCC,
            "occurred_on": "2025-07-12",
            "payload": repair,
        }
    )
    assert outcome.status == "applied", outcome


def test_a_snapshot_taken_before_the_change_still_loads(old_store: Registry) -> None:
    # the snapshot alone (no events): the entity can only come from it
    assert old_store.snapshots is not None
    old_store.snapshots.recorder.insert_events(stored(RECORDS["snapshots"]))
    entity = old_store.repository.get(entity_id(USCC))
    assert entity.version == 2
    check_upcast(entity)


def test_new_snapshots_and_events_carry_their_class_version(old_store: Registry) -> None:
    old_store.recorder.insert_events(stored(RECORDS["events"]))
    old_store.take_snapshot(entity_id(USCC))
    assert old_store.snapshots is not None
    [snapshot] = old_store.snapshots.recorder.select_events(entity_id(USCC), desc=True, limit=1)
    assert json.loads(snapshot.state)["state"]["class_version"] == MarketEntity.class_version == 3
    assert MarketEntity.PenaltyImposed.class_version == 3
    assert MarketEntity.Published.class_version == 2 and MarketEntity.Registered.class_version == 2
    [penalty] = old_store.recorder.select_events(entity_id(USCC), gt=1)
    assert penalty.topic == "domain.entity:MarketEntity.PenaltyImposed"


# --- provenance: events stored before they kept the signing key and the principal --------------


def domain_events(store: Registry) -> list[Any]:
    return [store.mapper.to_domain_event(e) for e in store.recorder.select_events(entity_id(USCC))]


def test_events_stored_before_provenance_load_with_none_and_the_record_shows_nothing(
    old_store: Registry,
) -> None:
    old_store.recorder.insert_events(stored(RECORDS["events"]))
    registered_event, penalty_event = domain_events(old_store)
    for event in (registered_event, penalty_event):
        assert (event.signing_key_id, event.principal) == (None, None)
    entity = old_store.get_entity(USCC)
    assert "signing_key_id" not in entity.penalties[DECISION] and "principal" not in entity.registered_by
    assert "signing_key_id" not in sharing_document(entity)["penalties"][0]


def old_form(topic: str, version: int, state: dict[str, Any]) -> dict[str, Any]:
    """A stored record as the code before provenance wrote it (no signing_key_id, no principal)."""
    row = next(r for r in RECORDS["events"] if r["topic"] == "domain.entity:MarketEntity.PenaltyImposed")
    return {
        **row,
        "topic": topic,
        "originator_version": version,
        "state": json.dumps(state, ensure_ascii=False),
    }


def test_a_v2_penalty_and_a_v1_filing_stored_before_provenance_still_load(old_store: Registry) -> None:
    """PenaltyImposed v2 (with `publicised_on`, before provenance) → v3; another Published
    event without a class version (v1) → v2."""
    base = json.loads(RECORDS["events"][1]["state"])
    penalty_v2 = {
        **base,
        "class_version": 2,
        "publication_id": "TJ-AMR-000003",
        "data": {
            **base["data"],
            "decision_no": "津市监罚〔2025〕2号",
            "domain": "food",
            "procedure": "ordinary",
            "publicised_on": "2025-01-12",
        },
    }
    filing_v1 = {
        **{k: v for k, v in base.items() if k != "data"},
        "publication_id": "TJ-AMR-000004",
        "basis": None,
        "data": {"filing_no": "BA-2025-1", "filing_type": "章程备案", "content": "修改章程"},
    }
    rows = [
        *RECORDS["events"],
        old_form("domain.entity:MarketEntity.PenaltyImposed", 3, penalty_v2),
        old_form("domain.entity:MarketEntity.FilingRecorded", 4, filing_v1),
    ]
    old_store.recorder.insert_events(stored(rows))
    events = domain_events(old_store)
    assert [type(e).__name__ for e in events] == [
        "Registered",
        "PenaltyImposed",
        "PenaltyImposed",
        "FilingRecorded",
    ]
    assert all((e.signing_key_id, e.principal) == (None, None) for e in events)
    entity = old_store.get_entity(USCC)
    assert entity.penalties["津市监罚〔2025〕2号"]["domain"] == "food"
    assert entity.filings[0]["filing_no"] == "BA-2025-1" and "principal" not in entity.filings[0]


def test_a_signed_publication_after_the_old_ones_keeps_its_provenance_in_the_record(
    old_store: Registry,
) -> None:
    old_store.recorder.insert_events(stored(RECORDS["events"]))
    signed = Signed("TJ-AMR", "sk_00112233aabbccdd", "department:TJ-AMR/user:li")
    outcome = old_store.process(
        [
            {
                "schema": "gongshi.publication/1",
                "publication_id": "TJ-AMR-000009",
                "department": "TJ-AMR",
                "kind": "penalty.amended",
                "uscc": USCC,
                "occurred_on": "2025-02-01",
                "payload": {"decision_no": DECISION, "content": "罚款人民币壹万元", "reason": "复议变更"},
            }
        ],
        signatures=[signed],
    )[0]
    assert outcome.status == "applied", outcome
    amendment = old_store.get_entity(USCC).penalties[DECISION]["history"][0]
    assert (amendment["signing_key_id"], amendment["principal"]) == (
        "sk_00112233aabbccdd",
        "department:TJ-AMR/user:li",
    )
    stored_state = json.loads(old_store.recorder.select_events(entity_id(USCC), gt=2)[0].state)
    assert stored_state["class_version"] == 2 and stored_state["signing_key_id"] == "sk_00112233aabbccdd"
    # and a snapshot taken now round-trips it
    old_store.take_snapshot(entity_id(USCC))
    again = make_registry(dict(old_store.env))
    assert (
        again.get_entity(USCC).penalties[DECISION]["history"][0]["principal"] == "department:TJ-AMR/user:li"
    )


# --- annual reports stored before form 2 (data/market_entity_v2_reports.json, commit 96379df) -------

REPORTS = json.loads(
    (Path(__file__).parent / "data" / "market_entity_v2_reports.json").read_text(encoding="utf-8")
)


def check_old_report(entity: MarketEntity) -> None:
    report = entity.annual_reports["2024"]
    assert report["form"] == 1 and report["employees"] == 45
    assert [c["reason"] for c in report["corrections"]] == ["从业人数填报有误"]
    assert "replaced" not in report["corrections"][0]  # not kept before v3, on either path
    public = public_document(sharing_document(entity))["annual_reports"][0]
    # form 1: phone and e-mail stay as private as the enterprise chose then
    assert "phone" not in public and "email" not in public and public["employees"] == 45
    assert "revenue" not in public


def test_the_stored_report_records_are_the_old_form() -> None:
    submitted = json.loads(REPORTS["events"][1]["state"])
    assert REPORTS["events"][1]["topic"] == "domain.entity:MarketEntity.AnnualReportSubmitted"
    assert submitted["class_version"] == 2 and "form" not in submitted["data"]
    assert json.loads(REPORTS["snapshots"][0]["state"])["state"]["class_version"] == 2


def test_annual_report_events_stored_before_form_2_still_load(old_store: Registry) -> None:
    old_store.recorder.insert_events(stored(REPORTS["events"]))
    events = domain_events(old_store)
    assert [type(e).__name__ for e in events][1:] == ["AnnualReportSubmitted", "AnnualReportCorrected"]
    assert events[1].data["form"] == 1 and events[2].data["replaced_kept"] is False
    check_old_report(old_store.get_entity(USCC))


def test_a_snapshot_with_reports_taken_before_form_2_still_loads(old_store: Registry) -> None:
    assert old_store.snapshots is not None
    old_store.snapshots.recorder.insert_events(stored(REPORTS["snapshots"]))
    entity = old_store.repository.get(entity_id(USCC))
    assert entity.version == 3
    check_old_report(entity)


def test_a_correction_after_the_change_keeps_the_version_it_replaced(old_store: Registry) -> None:
    old_store.recorder.insert_events(stored(REPORTS["events"]))
    report = json.loads(REPORTS["events"][2]["state"])["data"]
    corrected = {**report, "employees": 50, "reason": "再次更正", "form": 2}
    corrected.pop("replaced_kept", None)
    outcome = old_store.apply_publication(
        {
            "schema": "gongshi.publication/1",
            "publication_id": "ENTERPRISE-000009",
            "department": "ENTERPRISE",
            "kind": "annual_report.corrected",
            "uscc": USCC,
            "occurred_on": "2025-05-01",
            "payload": corrected,
        }
    )
    assert outcome.status == "applied", outcome
    report_now = old_store.get_entity(USCC).annual_reports["2024"]
    assert report_now["form"] == 2 and report_now["employees"] == 50
    assert report_now["corrections"][-1]["replaced"]["employees"] == 45
    assert report_now["corrections"][-1]["replaced"]["form"] == 1
