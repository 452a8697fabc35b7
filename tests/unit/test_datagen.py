"""The realistic data generator: valid, deterministic, and true to the aggregate's invariants."""

from __future__ import annotations

import collections
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from adapters.clock import FixedDateClock
from domain.annual_report import overdue_years
from domain.departments import DepartmentRegistry
from domain.identity import birth_date_of
from domain.kinds import KINDS, PAYLOADS
from domain.publications import Envelope, future_date_message
from domain.publicity import PenaltyFacts, default_policy, publicity_period
from domain.registry import Registry
from domain.uscc import TIANJIN_DISTRICTS, USCC, validate_registration_number
from infra.datagen import generate, write_jsonl
from infra.datagen import names as kb

TODAY = date(2025, 6, 15)
SEED = 2025
EARLY_KINDS = {"licence.granted", "filing.recorded"}
TERMINAL_KINDS = {"registration.deregistered", "registration.licence_revoked"}


@pytest.fixture(scope="module")
def envelopes() -> list[dict[str, Any]]:
    return list(generate(500, SEED, TODAY))


@pytest.fixture(scope="module")
def by_entity(envelopes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    entities: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for envelope in envelopes:
        entities[envelope["uscc"]].append(envelope)
    return entities


# --- determinism, file format --------------------------------------------------------------------


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"]
    write_jsonl(paths[0], 150, 7, TODAY)
    write_jsonl(paths[1], 150, 7, TODAY)
    write_jsonl(paths[2], 150, 8, TODAY)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_file_holds_compact_utf8_json_lines_and_the_count_matches(tmp_path: Path) -> None:
    path = tmp_path / "out" / "feed.jsonl"
    progress: list[int] = []
    count = write_jsonl(path, 2100, 3, TODAY, on_progress=progress.append)
    raw = path.read_bytes()
    lines = raw.decode("utf-8").splitlines()
    assert count == len(lines) > 2100
    assert progress == [1000, 2000, 2100]
    assert "\\u" not in raw.decode("utf-8") and "天津" in lines[0]
    assert ": " not in lines[0] and ", " not in lines[0].split('"payload"')[0]
    assert [json.loads(line) for line in lines[:50]] == list(generate(2100, 3, TODAY))[:50]
    assert not list(tmp_path.glob("out/.gongshi-datagen-*")) and not list(tmp_path.glob("out/*.part"))


def test_generate_matches_the_file_and_handles_zero_entities(tmp_path: Path) -> None:
    assert list(generate(0, 1, TODAY)) == []
    path = tmp_path / "x.jsonl"
    write_jsonl(path, 40, 11, TODAY)
    from_file = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert from_file == list(generate(40, 11, TODAY))


# --- the contract -----------------------------------------------------------------------------------


def test_every_envelope_and_payload_validates(envelopes: list[dict[str, Any]]) -> None:
    for envelope in envelopes:
        parsed = Envelope.model_validate(envelope)
        PAYLOADS[parsed.kind].model_validate(parsed.payload)
        assert parsed.schema_ == envelope["schema"] == "gongshi.publication/1"


def test_every_kind_appears(envelopes: list[dict[str, Any]]) -> None:
    assert set(KINDS) <= {e["kind"] for e in envelopes}


def test_every_publication_is_within_its_departments_mandate(envelopes: list[dict[str, Any]]) -> None:
    registry = DepartmentRegistry.load_default()
    for envelope in envelopes:
        assert registry.may_publish(envelope["department"], envelope["kind"]), envelope
        if envelope["kind"] == "licence.granted":
            department = registry.get(envelope["department"])
            assert department is not None
            assert envelope["payload"]["licence_name"] in department.licence_names


def test_licence_catalogue_matches_the_department_registry() -> None:
    registry = DepartmentRegistry.load_default()
    for name, licence in kb.LICENCES.items():
        department = registry.get(licence.department)
        assert department is not None and name in department.licence_names, name
    for trade in kb.TRADES:
        assert all(name in kb.LICENCES for name, _ in trade.licences), trade.term
    for shop in kb.SHOPS:
        assert all(name in kb.LICENCES for name, _ in shop.licences), shop.shop


def test_publication_ids_are_unique_and_name_department_and_year(envelopes: list[dict[str, Any]]) -> None:
    ids = [e["publication_id"] for e in envelopes]
    assert len(ids) == len(set(ids))
    for envelope in envelopes:
        assert re.fullmatch(
            rf"{envelope['department']}-{envelope['occurred_on'][:4]}-\d{{6,}}", envelope["publication_id"]
        )


def test_stream_is_sorted_by_occurred_on_and_nothing_is_after_today(envelopes: list[dict[str, Any]]) -> None:
    days = [e["occurred_on"] for e in envelopes]
    assert days == sorted(days)
    assert max(days) <= TODAY.isoformat()


def test_about_eight_to_fifteen_publications_per_entity(by_entity: dict[str, list[dict[str, Any]]]) -> None:
    assert len(by_entity) == 500
    assert 8 <= sum(len(v) for v in by_entity.values()) / 500 <= 15


# --- identities, names, people ----------------------------------------------------------------------------


def _registrations(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in envelopes if e["kind"] == "registration.registered"]


def test_usccs_are_valid_unique_and_registered_in_tianjin_districts(envelopes: list[dict[str, Any]]) -> None:
    registrations = _registrations(envelopes)
    usccs = [e["uscc"] for e in registrations]
    assert len(usccs) == len(set(usccs)) == 500
    for envelope in registrations:
        uscc = USCC.parse(envelope["uscc"])
        assert uscc.value == envelope["uscc"]
        assert uscc.region_code in TIANJIN_DISTRICTS
        assert envelope["payload"]["registration_authority"].startswith("天津市")
    assert {u[2:8] for u in usccs} == set(TIANJIN_DISTRICTS)


def test_category_matches_entity_type_and_old_entities_have_registration_numbers(
    envelopes: list[dict[str, Any]],
) -> None:
    categories: collections.Counter[str] = collections.Counter()
    for envelope in _registrations(envelopes):
        payload, category = envelope["payload"], envelope["uscc"][:2]
        categories[category] += 1
        expected = {"个体工商户": "92", "农民专业合作社": "93"}.get(payload["entity_type"], "91")
        assert category == expected, payload["name"]
        number = payload.get("registration_number")
        if payload["established_on"] < "2016-01-01":
            assert number and validate_registration_number(number) == number
            assert number[:6] == envelope["uscc"][2:8]
        else:
            assert number is None
    assert categories["91"] > categories["92"] > categories["93"] > 0


def test_names_are_unique_and_shaped_by_entity_type(envelopes: list[dict[str, Any]]) -> None:
    names = [e["payload"]["name"] for e in _registrations(envelopes)]
    names += [
        c["after"]
        for e in envelopes
        if e["kind"] == "registration.changed"
        for c in e["payload"]["changes"]
        if c["field"] == "name"
    ]
    assert len(names) == len(set(names))
    suffixes = {
        "有限责任公司": ("有限公司", "有限责任公司"),
        "股份有限公司": ("股份有限公司",),
        "分公司": ("分公司",),
        "合伙企业": ("（有限合伙）",),
        "农民专业合作社": ("农民专业合作社",),
    }
    types = set()
    for envelope in _registrations(envelopes):
        payload = envelope["payload"]
        types.add(payload["entity_type"])
        if payload["entity_type"] == "个体工商户":
            assert payload["name"].startswith(TIANJIN_DISTRICTS[envelope["uscc"][2:8]][0])
        else:
            assert payload["name"].endswith(suffixes[payload["entity_type"]]), payload["name"]
            assert "天津" in payload["name"]
        assert payload["industry"]
    assert types == {"有限责任公司", "股份有限公司", "分公司", "合伙企业", "个体工商户", "农民专业合作社"}


def test_people_have_plausible_identities(envelopes: list[dict[str, Any]]) -> None:
    people = [e["payload"]["legal_representative"] for e in _registrations(envelopes)]
    people += [
        c["after"]
        for e in envelopes
        if e["kind"] == "registration.changed"
        for c in e["payload"]["changes"]
        if c["field"] == "legal_representative"
    ]
    regions = set(TIANJIN_DISTRICTS) | set(kb.OTHER_REGIONS)
    resident = [p for p in people if p["id_type"] == "resident_id"]
    assert len(resident) > 0.9 * len(people)
    for person in resident:
        assert person["id_number"][:6] in regions
        assert date(1955, 1, 1) <= birth_date_of(person["id_number"]) <= date(2000, 12, 31)
        assert re.fullmatch(r"1\d{10}", person["phone"])
        assert person["address"] and 2 <= len(person["name"]) <= 4


def test_currencies_are_mostly_cny_with_some_usd(envelopes: list[dict[str, Any]]) -> None:
    currencies = collections.Counter(
        e["payload"]["registered_capital"]["currency"] for e in _registrations(envelopes)
    )
    assert set(currencies) <= {"CNY", "USD"} and currencies["CNY"] > 0.9 * 500


# --- each entity's own sequence ---------------------------------------------------------------------------


def _check_entity(events: list[dict[str, Any]]) -> bool:
    """Assert the aggregate's invariants over one entity's publications; True if one came early."""
    kinds = [e["kind"] for e in events]
    assert kinds.count("registration.registered") == 1
    at = kinds.index("registration.registered")
    assert at <= 1 and all(k in EARLY_KINDS for k in kinds[:at])
    early = at == 1
    registered = events[at]
    established = registered["payload"]["established_on"]
    assert registered["occurred_on"] == established
    name = registered["payload"]["name"]
    licences: set[str] = set()
    penalties: dict[str, dict[str, Any]] = {}
    penalty_departments: dict[str, str] = {}
    abnormal: dict[str, str | None] = {}
    serious: dict[str, str | None] = {}
    reports: set[int] = set()
    ended: str | None = None
    for event in events:
        kind, payload, on = event["kind"], event["payload"], event["occurred_on"]
        assert on >= established
        if ended is not None:
            assert kind == "penalty.imposed", f"{kind} after {ended}"
        if kind == "registration.changed":
            for change in payload["changes"]:
                if change["field"] == "name":
                    assert change["before"] == name
                    name = change["after"]
        elif kind in TERMINAL_KINDS:
            ended = kind
        elif kind == "licence.granted":
            assert payload["licence_no"] not in licences
            licences.add(payload["licence_no"])
        elif kind in ("licence.changed", "licence.revoked"):
            assert payload["licence_no"] in licences
        elif kind == "penalty.imposed":
            assert payload["decision_no"] not in penalties and payload["decided_on"] == on
            penalties[payload["decision_no"]] = dict(payload, revoked=False)
            penalty_departments[payload["decision_no"]] = event["department"]
        elif kind in ("penalty.amended", "penalty.revoked"):
            penalty = penalties[payload["decision_no"]]
            assert event["department"] == next(
                e["department"] for e in events if e["payload"].get("decision_no") == payload["decision_no"]
            )
            assert on > penalty["decided_on"] and not penalty["revoked"]
            penalty["severity"] = payload.get("severity") or penalty["severity"]
            penalty["fine_amount"] = payload.get("fine_amount") or penalty["fine_amount"]
            penalty["revoked"] = kind == "penalty.revoked"
        elif kind == "repair.approved":
            assert event["department"] == "TJ-DRC" and payload["target"] == "penalty"
            penalty = penalties[payload["decision_no"]]
            assert not penalty["revoked"]
            facts = PenaltyFacts.of({**penalty, "department": penalty_departments[payload["decision_no"]]})
            period = publicity_period(facts, default_policy())
            assert period.earliest_repair_on is not None and on >= period.earliest_repair_on.isoformat()
        elif kind in ("abnormal.listed", "serious.listed"):
            listings = abnormal if kind == "abnormal.listed" else serious
            assert payload["decision_no"] not in listings
            listings[payload["decision_no"]] = None
        elif kind in ("abnormal.removed", "serious.removed"):
            listings = abnormal if kind == "abnormal.removed" else serious
            assert listings[payload["decision_no"]] is None  # listed and still active
            listings[payload["decision_no"]] = on
        elif kind == "annual_report.submitted":
            year = payload["year"]
            assert year not in reports and year >= int(established[:4]) and on >= f"{year + 1}-01-01"
            reports.add(year)
        elif kind == "annual_report.corrected":
            assert payload["year"] in reports
    return early


def test_each_entity_sequence_respects_the_aggregates_invariants(
    by_entity: dict[str, list[dict[str, Any]]],
) -> None:
    early = sum(_check_entity(events) for events in by_entity.values())
    assert 1 <= early <= 0.04 * len(by_entity)


def test_early_publications_come_just_before_the_registration_line(envelopes: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for i, envelope in enumerate(envelopes):
        if envelope["kind"] == "registration.registered":
            seen.add(envelope["uscc"])
        elif envelope["uscc"] not in seen:
            following = envelopes[i + 1]
            assert envelope["kind"] in EARLY_KINDS
            assert following["kind"] == "registration.registered" and following["uscc"] == envelope["uscc"]


def test_abnormal_removals_follow_listings_and_late_reports(
    by_entity: dict[str, list[dict[str, Any]]],
) -> None:
    removed_for_reports = 0
    for events in by_entity.values():
        for i, event in enumerate(events):
            if (
                event["kind"] == "abnormal.removed"
                and event["payload"]["reason"] == kb.ABNORMAL_REMOVED_FILED
            ):
                listed = next(
                    e
                    for e in events
                    if e["kind"] == "abnormal.listed"
                    and e["payload"]["decision_no"] == event["payload"]["decision_no"]
                )
                late = [
                    e
                    for e in events[:i]
                    if e["kind"] == "annual_report.submitted" and e["occurred_on"] > listed["occurred_on"]
                ]
                assert late, "a late report precedes the removal"
                removed_for_reports += 1
    assert removed_for_reports > 0


def test_active_entities_never_miss_a_report_unless_listed(
    by_entity: dict[str, list[dict[str, Any]]],
) -> None:
    for events in by_entity.values():
        kinds = {e["kind"] for e in events}
        not_filed = any(
            e["kind"] == "abnormal.listed" and e["payload"]["reason"] == kb.ABNORMAL_NOT_FILED for e in events
        )
        if not_filed or kinds & TERMINAL_KINDS:
            continue
        established = date.fromisoformat(
            events[0 if events[0]["kind"] == "registration.registered" else 1]["payload"]["established_on"]
        )
        submitted = {e["payload"]["year"] for e in events if e["kind"] == "annual_report.submitted"}
        assert [y for y in overdue_years(established, submitted, TODAY) if y >= 2000] == []


def test_penalties_span_severities_departments_and_years(envelopes: list[dict[str, Any]]) -> None:
    penalties = [e for e in envelopes if e["kind"] == "penalty.imposed"]
    assert {p["payload"]["severity"] for p in penalties} == {"minor", "general", "serious"}
    assert len({p["department"] for p in penalties}) >= 6
    assert min(p["occurred_on"] for p in penalties) >= "2019-01-01"
    assert len({p["occurred_on"][:4] for p in penalties}) >= 5
    for penalty in penalties:
        assert re.fullmatch(r"\S+〔\d{4}〕\d+号", penalty["payload"]["decision_no"])
        assert penalty["payload"]["basis"].startswith("《")


@pytest.mark.parametrize("today", [date(2024, 2, 29), date(2019, 1, 1), date(2026, 12, 31)])
def test_a_different_today_never_yields_the_future(today: date) -> None:
    envelopes = list(generate(1000, 5, today))
    assert max(e["occurred_on"] for e in envelopes) <= today.isoformat()
    for envelope in envelopes:
        payload = PAYLOADS[envelope["kind"]].model_validate(envelope["payload"])
        occurred_on = date.fromisoformat(envelope["occurred_on"])
        assert future_date_message(occurred_on, payload, today) is None, envelope


# --- end to end through the application service -----------------------------------------------------------


def test_the_registry_applies_every_publication_without_rejection() -> None:
    app = Registry(clock=FixedDateClock(TODAY), departments=DepartmentRegistry.load_default())
    envelopes = list(generate(150, 99, TODAY))
    registered: set[str] = set()
    early = 0
    for envelope in envelopes:
        registered.add(envelope["uscc"]) if envelope["kind"] == "registration.registered" else None
        early += envelope["uscc"] not in registered
    statuses: collections.Counter[str] = collections.Counter()
    problems = []
    for start in range(0, len(envelopes), 400):
        for outcome in app.process(envelopes[start : start + 400]):
            for o in (outcome, *outcome.released):
                statuses[o.status] += 1
                if o.status == "rejected":
                    problems.append(o.as_dict())
    assert problems == []
    assert statuses["applied"] == len(envelopes)
    assert statuses["parked"] == early  # parked, then released and applied on registration


def test_two_early_items_of_one_kind_on_one_day_keep_their_planned_order() -> None:
    from infra.datagen.events import in_plan_order

    first = (100, -1, "AMR", "licence.granted", {"licence_no": "A"})
    second = (100, -1, "AMR", "licence.granted", {"licence_no": "B"})
    later = (99, 5, "AMR", "registration.registered", {})
    # a plain sort compares the payloads of such a pair and raises TypeError (dicts do not order)
    assert in_plan_order([first, second, later]) == [later, first, second]
    assert in_plan_order([second, first]) == [second, first]
