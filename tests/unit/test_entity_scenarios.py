"""One scenario per publication kind: publish through the Registry, look at the entity and the public view.

Each scenario is registered under the kind it covers (`@scenario("kind")`);
`test_every_publication_kind_has_a_scenario` fails when a kind is added without one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import pytest

from domain.entity import STATUS_ACTIVE, STATUS_DEREGISTERED, STATUS_REVOKED, MarketEntity, entity_id
from domain.kinds import KINDS, PUBLICATION_KINDS
from domain.registry import Outcome, Registry
from projections.documents import public_document, public_view, record_rows, search_fields, sharing_document
from tests.builders import (
    TODAY,
    annual_report_payload,
    change_payload,
    envelope,
    inspection_payload,
    licence_payload,
    listing_payload,
    penalty_payload,
    person,
)

F = TypeVar("F", bound=Callable[..., Any])
COVERED: set[str] = set()


def scenario(kind: str) -> Callable[[F], F]:
    """Mark a test as the scenario of `kind`."""
    assert kind in KINDS, kind

    def mark(fn: F) -> F:
        COVERED.add(kind)
        return fn

    return mark


def publish(registry: Registry, uscc: str, kind: str, payload: dict[str, Any], **kw: Any) -> Outcome:
    outcome = registry.apply_publication(envelope(kind, payload, uscc=uscc, **kw))
    if outcome.status == "applied":  # the event recorded is the one the table of kinds names
        *_, last = registry.events.get(entity_id(uscc))
        described = PUBLICATION_KINDS.get(kind)
        assert described is not None and type(last) in described.events, (kind, type(last))
    return outcome


def applied(outcome: Outcome) -> Outcome:
    assert outcome.status == "applied", outcome
    return outcome


def rejected(outcome: Outcome, code: str) -> Outcome:
    assert (outcome.status, outcome.code) == ("rejected", code), outcome
    assert outcome.message, outcome
    return outcome


def view_of(entity: MarketEntity, today: date = TODAY) -> dict[str, Any]:
    return public_view(public_document(sharing_document(entity)), today)


# --- registration ---------------------------------------------------------------------------------


@scenario("registration.registered")
def test_registration_creates_an_active_entity_on_the_public_register(registry: Registry, uscc: str) -> None:
    entity = registry.get_entity(uscc)
    assert entity.uscc == uscc
    assert entity.name == "天津滨海星海科技有限公司"
    assert entity.status == STATUS_ACTIVE
    assert entity.version == 1
    assert entity.former_names == []
    assert entity.registration["established_on"] == "2020-03-15"
    assert entity.status_history[0]["status"] == STATUS_ACTIVE
    view = view_of(entity)
    assert view["name"] == "天津滨海星海科技有限公司"
    assert view["district_name"] == "滨海新区"
    assert view["flags"] == []
    assert view["registration"]["legal_representative"]["name"] == "张三"


@scenario("registration.changed")
def test_registration_change_of_name_makes_the_old_name_a_former_name(registry: Registry, uscc: str) -> None:
    applied(
        publish(
            registry,
            uscc,
            "registration.changed",
            change_payload("name", "天津滨海星海科技有限公司", "天津星海数智科技有限公司"),
            occurred_on="2024-05-01",
        )
    )
    entity = registry.get_entity(uscc)
    assert entity.name == "天津星海数智科技有限公司"
    assert entity.registration["name"] == "天津星海数智科技有限公司"
    assert entity.former_names == [{"name": "天津滨海星海科技有限公司", "until": "2024-05-01"}]
    assert entity.changes[0]["changes"][0]["before"] == "天津滨海星海科技有限公司"
    view = view_of(entity)
    assert [f["name"] for f in view["former_names"]] == ["天津滨海星海科技有限公司"]
    assert "天津滨海星海科技有限公司" in search_fields(view)["former_names"]


def test_registration_change_of_legal_representative_replaces_the_representative(
    registry: Registry, uscc: str
) -> None:
    new = person("李四", n=2)
    applied(
        publish(registry, uscc, "registration.changed", change_payload("legal_representative", person(), new))
    )
    assert registry.get_entity(uscc).registration["legal_representative"]["name"] == "李四"


def test_registration_change_clearing_an_optional_field_is_applied(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "registration.changed", change_payload("industry", "软件业", None)))
    assert registry.get_entity(uscc).registration.get("industry") is None


def test_registration_change_of_name_without_a_new_name_is_rejected(registry: Registry, uscc: str) -> None:
    outcome = registry.apply_publication(
        envelope("registration.changed", {"changes": [{"field": "name"}]}, uscc=uscc)
    )
    rejected(outcome, "invalid_payload")


@scenario("registration.deregistered")
def test_deregistration_ends_the_entity_and_refuses_later_registration_changes(
    registry: Registry, uscc: str
) -> None:
    applied(
        publish(registry, uscc, "registration.deregistered", {"reason": "决议解散"}, occurred_on="2025-06-30")
    )
    entity = registry.get_entity(uscc)
    assert entity.status == STATUS_DEREGISTERED
    assert entity.status_history[-1]["status"] == STATUS_DEREGISTERED
    assert entity.status_history[-1]["on"] == "2025-06-30"
    assert view_of(entity)["status"] == STATUS_DEREGISTERED
    rejected(
        publish(registry, uscc, "registration.changed", change_payload("address", "旧址", "新址")),
        "entity_not_active",
    )
    rejected(publish(registry, uscc, "registration.deregistered", {"reason": "重复"}), "entity_not_active")


@scenario("registration.licence_revoked")
def test_business_licence_revocation_marks_the_entity_revoked(registry: Registry, uscc: str) -> None:
    applied(
        publish(
            registry,
            uscc,
            "registration.licence_revoked",
            {"decision_no": "津滨市监吊〔2025〕3号", "reason": "成立后无正当理由超过6个月未开业"},
            occurred_on="2025-03-01",
        )
    )
    entity = registry.get_entity(uscc)
    assert entity.status == STATUS_REVOKED
    assert entity.status_history[-1]["decision_no"] == "津滨市监吊〔2025〕3号"
    rejected(
        publish(registry, uscc, "registration.licence_revoked", {"decision_no": "X", "reason": "再次"}),
        "entity_not_active",
    )


def test_entity_with_revoked_business_licence_can_still_be_deregistered(
    registry: Registry, uscc: str
) -> None:
    applied(
        publish(registry, uscc, "registration.licence_revoked", {"decision_no": "D1", "reason": "未开业"})
    )
    applied(publish(registry, uscc, "registration.deregistered", {"reason": "清算完毕"}))
    assert registry.get_entity(uscc).status == STATUS_DEREGISTERED


# --- filings and licences -------------------------------------------------------------------------


@scenario("filing.recorded")
def test_filing_is_recorded_and_listed_among_the_public_records(registry: Registry, uscc: str) -> None:
    payload = {"filing_no": "BA-2024-001", "filing_type": "章程备案", "content": "修改公司章程第十条"}
    applied(publish(registry, uscc, "filing.recorded", payload))
    entity = registry.get_entity(uscc)
    assert entity.filings[0]["filing_no"] == "BA-2024-001"
    assert entity.filings[0]["department"] == "TJ-AMR"
    rows = record_rows(view_of(entity))
    assert [(r["category"], r["record_id"]) for r in rows] == [("filing", "BA-2024-001")]


@scenario("licence.granted")
def test_licence_granted_is_valid_and_public(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "licence.granted", licence_payload(), department="TJ-AMR"))
    licence = registry.get_entity(uscc).licences["JY11201160000001"]
    assert licence["status"] == "有效"
    assert licence["valid_to"] == "2028-12-31"
    assert licence["history"] == []
    view = view_of(registry.get_entity(uscc))
    assert [lic["licence_no"] for lic in view["licences"]] == ["JY11201160000001"]


@scenario("licence.changed")
def test_licence_changed_updates_the_licence_and_keeps_its_history(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "licence.granted", licence_payload()))
    change = {
        "licence_no": "JY11201160000001",
        "content": "预包装食品销售；热食类食品制售",
        "valid_to": "2029-12-31",
    }
    applied(publish(registry, uscc, "licence.changed", change, occurred_on="2024-09-01"))
    licence = registry.get_entity(uscc).licences["JY11201160000001"]
    assert licence["content"] == "预包装食品销售；热食类食品制售"
    assert licence["valid_to"] == "2029-12-31"
    assert [(h["change"], h["occurred_on"]) for h in licence["history"]] == [("变更", "2024-09-01")]


def test_licence_changed_for_unknown_licence_is_rejected(registry: Registry, uscc: str) -> None:
    version = registry.get_entity(uscc).version
    outcome = publish(registry, uscc, "licence.changed", {"licence_no": "NOPE-1", "content": "x"})
    rejected(outcome, "unknown_licence")
    assert "NOPE-1" in (outcome.message or "")
    assert registry.get_entity(uscc).version == version


def test_granting_an_existing_licence_number_is_rejected(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "licence.granted", licence_payload("L-1")))
    applied(publish(registry, uscc, "licence.revoked", {"licence_no": "L-1", "reason": "以欺骗手段取得许可"}))
    outcome = publish(registry, uscc, "licence.granted", licence_payload("L-1"))
    assert outcome.status == "rejected", outcome
    assert registry.get_entity(uscc).licences["L-1"]["status"] == "已撤销"


@scenario("licence.revoked")
def test_licence_revoked_is_marked_revoked_and_stays_on_the_record(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "licence.granted", licence_payload(), department="TJ-HEALTH"))
    applied(
        publish(
            registry,
            uscc,
            "licence.revoked",
            {"licence_no": "JY11201160000001", "reason": "以欺骗手段取得许可"},
            department="TJ-HEALTH",
            occurred_on="2025-02-02",
        )
    )
    licence = registry.get_entity(uscc).licences["JY11201160000001"]
    assert licence["status"] == "已撤销"
    assert licence["revoked_on"] == "2025-02-02"
    assert licence["history"][-1]["change"] == "撤销"
    rejected(
        publish(registry, uscc, "licence.revoked", {"licence_no": "OTHER", "reason": "x"}), "unknown_licence"
    )


# --- penalties ------------------------------------------------------------------------------------


@scenario("penalty.imposed")
def test_penalty_imposed_is_public_within_its_window(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "penalty.imposed", penalty_payload(), occurred_on="2025-01-10"))
    entity = registry.get_entity(uscc)
    penalty = entity.penalties["津市监罚〔2025〕1号"]
    assert penalty["severity"] == "general"
    assert penalty["fine_amount"] == "20000.00"
    assert (penalty["domain"], penalty["procedure"]) == ("other", "ordinary")
    # no publicity date given, applied long after the decision: the Order 45 Art. 9 deadline
    assert penalty["publicised_on"] == "2025-02-13"
    assert penalty["revoked"] is None and penalty["repaired"] is None
    assert view_of(entity, date(2025, 2, 12))["penalties"] == []
    assert [p["decision_no"] for p in view_of(entity, date(2025, 6, 1))["penalties"]] == [
        "津市监罚〔2025〕1号"
    ]
    assert "penalty" in view_of(entity, date(2025, 6, 1))["flags"]
    [shown] = view_of(entity, TODAY)["penalties"]  # SAMR Order 45: 3 years from the publicity date
    assert (shown["publicity"]["rule_set"], shown["publicity"]["ends_on"]) == ("SAMR-45-2021", "2028-02-13")
    rejected(publish(registry, uscc, "penalty.imposed", penalty_payload()), "duplicate_decision")


@scenario("penalty.amended")
def test_penalty_amended_to_serious_extends_its_publicity_window(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "penalty.imposed", penalty_payload(), department="TJ-TAX"))
    amendment = {
        "decision_no": "津市监罚〔2025〕1号",
        "reason": "复议变更",
        "severity": "serious",
        "fine_amount": "50000.00",
    }
    applied(
        publish(registry, uscc, "penalty.amended", amendment, department="TJ-TAX", occurred_on="2025-03-01")
    )
    penalty = registry.get_entity(uscc).penalties["津市监罚〔2025〕1号"]
    assert (penalty["severity"], penalty["fine_amount"]) == ("serious", "50000.00")
    assert penalty["content"] == "警告，罚款人民币贰万元"  # not amended: kept
    view = view_of(registry.get_entity(uscc), TODAY)
    [shown] = view["penalties"]
    assert shown["publicity"]["ends_on"] == "2028-01-10"
    assert [a["reason"] for a in shown["amendments"]] == ["复议变更"]
    rejected(
        publish(
            registry, uscc, "penalty.amended", {"decision_no": "NOPE", "reason": "x"}, department="TJ-TAX"
        ),
        "unknown_penalty",
    )


@scenario("penalty.revoked")
def test_penalty_revoked_leaves_public_view_at_once(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "penalty.imposed", penalty_payload()))
    revocation = {"decision_no": "津市监罚〔2025〕1号", "reason": "行政复议撤销原处罚决定"}
    applied(publish(registry, uscc, "penalty.revoked", revocation, occurred_on="2025-02-01"))
    entity = registry.get_entity(uscc)
    assert entity.penalties["津市监罚〔2025〕1号"]["revoked"] == {
        "on": "2025-02-01",
        "reason": "行政复议撤销原处罚决定",
    }
    assert sharing_document(entity)["penalties"][0]["revoked"] is not None  # agencies still see it
    public = view_of(entity, date(2025, 2, 2))
    assert public["penalties"] == []
    assert "penalty" not in public["flags"]
    assert [r for r in record_rows(public) if r["category"] == "penalty"] == []


# --- performance, other ---------------------------------------------------------------------------


@scenario("performance.recorded")
def test_performance_record_is_kept_and_published(registry: Registry, uscc: str) -> None:
    payload = {
        "record_no": "NSXY-2024-A",
        "category": "纳税信用",
        "title": "2023年度纳税信用A级",
        "content": "评定为A级纳税人",
    }
    applied(publish(registry, uscc, "performance.recorded", payload, department="TJ-TAX"))
    entity = registry.get_entity(uscc)
    assert entity.performance[0]["title"] == "2023年度纳税信用A级"
    assert entity.performance[0]["department"] == "TJ-TAX"
    rows = record_rows(view_of(entity))
    assert [(r["category"], r["title"]) for r in rows] == [("performance", "2023年度纳税信用A级")]


@scenario("other.recorded")
def test_other_information_such_as_an_equity_freeze_is_recorded(registry: Registry, uscc: str) -> None:
    payload = {
        "record_no": "DJ-2024-9",
        "category": "股权冻结",
        "content": "冻结股东王五所持股权",
        "amount": {"amount": "1000000.00"},
    }
    applied(publish(registry, uscc, "other.recorded", payload, department="TJ-CUSTOMS"))
    other = registry.get_entity(uscc).other[0]
    assert other["category"] == "股权冻结"
    assert other["amount"] == {"amount": "1000000.00", "currency": "CNY"}
    assert [r["category"] for r in record_rows(view_of(registry.get_entity(uscc)))] == ["other"]


# --- lists, inspections, repair -------------------------------------------------------------------


@scenario("abnormal.listed")
def test_abnormal_listing_flags_the_entity(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "abnormal.listed", listing_payload(), occurred_on="2024-07-01"))
    listing = registry.get_entity(uscc).abnormal_listings["津滨市监异〔2024〕1号"]
    assert listing["listed_on"] == "2024-07-01"
    assert listing["removed"] is None
    assert view_of(registry.get_entity(uscc))["flags"] == ["abnormal"]
    rejected(publish(registry, uscc, "abnormal.listed", listing_payload()), "duplicate_decision")


@scenario("abnormal.removed")
def test_abnormal_removed_closes_the_listing(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "abnormal.listed", listing_payload(), occurred_on="2024-07-01"))
    removal = {"decision_no": "津滨市监异〔2024〕1号", "reason": "已补报年度报告"}
    applied(publish(registry, uscc, "abnormal.removed", removal, occurred_on="2024-09-01"))
    listing = registry.get_entity(uscc).abnormal_listings["津滨市监异〔2024〕1号"]
    assert listing["removed"]["on"] == "2024-09-01"
    assert listing["removed"]["reason"] == "已补报年度报告"
    view = view_of(registry.get_entity(uscc))
    assert view["flags"] == []
    assert [r["category"] for r in record_rows(view)] == ["abnormal", "abnormal_removed"]
    rejected(publish(registry, uscc, "abnormal.removed", removal), "unknown_listing")


@scenario("serious.listed")
def test_serious_listing_flags_the_entity(registry: Registry, uscc: str) -> None:
    payload = listing_payload("津市监严〔2024〕2号", "列入经营异常名录届满3年仍未移出")
    applied(publish(registry, uscc, "serious.listed", payload, occurred_on="2024-07-01"))
    assert registry.get_entity(uscc).serious_listings["津市监严〔2024〕2号"]["removed"] is None
    assert view_of(registry.get_entity(uscc))["flags"] == ["serious"]


@scenario("serious.removed")
def test_serious_removed_closes_the_listing(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "serious.listed", listing_payload("S-1"), occurred_on="2021-07-01"))
    applied(
        publish(
            registry,
            uscc,
            "serious.removed",
            {"decision_no": "S-1", "reason": "届满3年"},
            occurred_on="2024-07-01",
        )
    )
    assert registry.get_entity(uscc).serious_listings["S-1"]["removed"]["on"] == "2024-07-01"
    assert view_of(registry.get_entity(uscc))["flags"] == []
    rejected(
        publish(registry, uscc, "serious.removed", {"decision_no": "S-1", "reason": "x"}), "unknown_listing"
    )


@scenario("inspection.published")
def test_inspection_result_is_published(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "inspection.published", inspection_payload(), department="TJ-EE"))
    inspection = registry.get_entity(uscc).inspections[0]
    assert inspection["result"] == "未发现问题"
    assert inspection["department"] == "TJ-EE"
    [row] = record_rows(view_of(registry.get_entity(uscc)))
    assert (row["category"], row["record_id"], row["title"]) == (
        "inspection",
        "SSJ-2024-0001",
        "双随机抽查：未发现问题",
    )


@scenario("repair.approved")
def test_repair_approved_takes_the_penalty_out_of_public_view_from_the_repair_date(
    registry: Registry, uscc: str
) -> None:
    applied(publish(registry, uscc, "penalty.imposed", penalty_payload(publicised_on="2025-01-15")))
    repair = {"target": "penalty", "decision_no": "津市监罚〔2025〕1号", "reason": "已履行处罚并整改"}
    applied(publish(registry, uscc, "repair.approved", repair, department="TJ-DRC", occurred_on="2025-08-01"))
    entity = registry.get_entity(uscc)
    assert entity.penalties["津市监罚〔2025〕1号"]["repaired"]["on"] == "2025-08-01"
    assert entity.repairs[0]["target"] == "penalty"
    assert len(view_of(entity, date(2025, 7, 31))["penalties"]) == 1
    assert view_of(entity, date(2025, 8, 1))["penalties"] == []
    assert sharing_document(entity)["penalties"][0]["repaired"] is not None


def test_repair_approved_before_minimum_window_is_rejected(registry: Registry, uscc: str) -> None:
    # market supervision, publicised 2025-01-15: repair after 6 months (SAMR repair measures Art. 6)
    applied(publish(registry, uscc, "penalty.imposed", penalty_payload(publicised_on="2025-01-15")))
    repair = {"target": "penalty", "decision_no": "津市监罚〔2025〕1号", "reason": "已整改"}
    outcome = rejected(
        publish(registry, uscc, "repair.approved", repair, occurred_on="2025-07-14"), "repair_too_early"
    )
    assert "2025-07-15" in (outcome.message or "")
    applied(publish(registry, uscc, "repair.approved", repair, occurred_on="2025-07-15"))


def test_repair_before_the_minimum_under_the_credit_platform_rules_is_rejected(
    registry: Registry, uscc: str
) -> None:
    # another department, decided 2025-01-10 under NDRC Order 58: repair after 3 months
    applied(publish(registry, uscc, "penalty.imposed", penalty_payload(), department="TJ-TAX"))
    repair = {"target": "penalty", "decision_no": "津市监罚〔2025〕1号", "reason": "已整改"}
    rejected(
        publish(registry, uscc, "repair.approved", repair, department="TJ-TAX", occurred_on="2025-04-09"),
        "repair_too_early",
    )
    applied(publish(registry, uscc, "repair.approved", repair, department="TJ-TAX", occurred_on="2025-04-10"))


def test_a_penalty_market_supervision_may_not_stop_early_cannot_be_repaired(
    registry: Registry, uscc: str
) -> None:
    payload = penalty_payload(publicised_on="2025-01-15", measures=["fine", "licence_revocation"])
    applied(publish(registry, uscc, "penalty.imposed", payload))
    repair = {"target": "penalty", "decision_no": "津市监罚〔2025〕1号", "reason": "已整改"}
    outcome = rejected(
        publish(registry, uscc, "repair.approved", repair, occurred_on="2026-06-01"), "repair_not_allowed"
    )
    assert "2028-01-15" in (outcome.message or "")


def test_second_repair_of_an_already_repaired_penalty_is_rejected(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "penalty.imposed", penalty_payload(publicised_on="2025-01-15")))
    repair = {"target": "penalty", "decision_no": "津市监罚〔2025〕1号", "reason": "已整改"}
    applied(publish(registry, uscc, "repair.approved", repair, occurred_on="2025-08-01"))
    assert publish(registry, uscc, "repair.approved", repair, occurred_on="2025-09-01").status == "rejected"
    assert registry.get_entity(uscc).penalties["津市监罚〔2025〕1号"]["repaired"]["on"] == "2025-08-01"


def test_repair_of_a_penalty_that_was_never_public_is_rejected_with_a_meaningful_message(
    registry: Registry, uscc: str
) -> None:
    applied(
        publish(
            registry,
            uscc,
            "penalty.imposed",
            penalty_payload("M-1", decided_on="2026-05-01", severity="minor"),
        )
    )
    repair = {"target": "penalty", "decision_no": "M-1", "reason": "已整改"}
    outcome = publish(registry, uscc, "repair.approved", repair, occurred_on="2026-10-01")
    assert outcome.status == "rejected"
    assert outcome.code != "repair_too_early"
    assert "None" not in (outcome.message or "")


def test_repair_approved_removes_an_abnormal_listing(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "abnormal.listed", listing_payload("A-1"), occurred_on="2024-07-01"))
    repair = {"target": "abnormal", "decision_no": "A-1", "reason": "已补报"}
    applied(publish(registry, uscc, "repair.approved", repair, occurred_on="2024-08-01"))
    removed = registry.get_entity(uscc).abnormal_listings["A-1"]["removed"]
    assert removed["by_repair"] is True and removed["on"] == "2024-08-01"
    assert view_of(registry.get_entity(uscc))["flags"] == []


def test_repair_of_a_serious_listing_within_its_first_year_is_rejected(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "serious.listed", listing_payload("S-2"), occurred_on="2024-07-01"))
    repair = {"target": "serious", "decision_no": "S-2", "reason": "已纠正"}
    rejected(publish(registry, uscc, "repair.approved", repair, occurred_on="2025-06-30"), "repair_too_early")
    applied(publish(registry, uscc, "repair.approved", repair, occurred_on="2025-07-01"))
    assert view_of(registry.get_entity(uscc))["flags"] == []


# --- the enterprise's own publications ------------------------------------------------------------


@scenario("annual_report.submitted")
def test_annual_report_submitted_is_public_without_the_figures_kept_private(
    registry: Registry, uscc: str
) -> None:
    applied(
        publish(
            registry, uscc, "annual_report.submitted", annual_report_payload(2023), occurred_on="2024-05-20"
        )
    )
    report = registry.get_entity(uscc).annual_reports["2023"]
    assert report["submitted_on"] == "2024-05-20"
    assert report["revenue"] == "8800000.00"  # agencies see everything
    [public] = view_of(registry.get_entity(uscc))["annual_reports"]
    assert public["employees"] == 42  # publicised
    assert not {"revenue", "total_assets", "profit", "tax_paid"} & public.keys()
    assert public["phone"] == "022-25801234"  # form 2: contact details are public (Art. 9(1))
    assert report["late"] is False
    rejected(
        publish(registry, uscc, "annual_report.submitted", annual_report_payload(2023)),
        "duplicate_annual_report",
    )
    rejected(
        publish(registry, uscc, "annual_report.submitted", annual_report_payload(2019)), "report_year_invalid"
    )  # established 2020


def test_a_first_report_after_the_thirtieth_of_june_is_accepted_and_marked_late(
    registry: Registry, uscc: str
) -> None:
    applied(
        publish(
            registry, uscc, "annual_report.submitted", annual_report_payload(2023), occurred_on="2024-07-01"
        )
    )
    assert registry.get_entity(uscc).annual_reports["2023"]["late"] is True


def test_a_correction_after_the_thirtieth_of_june_is_refused(registry: Registry, uscc: str) -> None:
    applied(
        publish(
            registry, uscc, "annual_report.submitted", annual_report_payload(2023), occurred_on="2024-06-01"
        )
    )
    correction = {**annual_report_payload(2023, employees=45), "reason": "从业人数填报有误"}
    outcome = publish(registry, uscc, "annual_report.corrected", correction, occurred_on="2024-07-01")
    rejected(outcome, "report_window_closed")
    assert "2024-06-30" in (outcome.message or "")


def test_a_report_that_does_not_balance_is_refused_with_a_chinese_message(
    registry: Registry, uscc: str
) -> None:
    report = annual_report_payload(
        2023,
        total_assets="1000000.00",
        total_liabilities="400000.00",
        owners_equity="500000.00",
        shareholders=[{"name": "张三", "subscribed_amount": "100000.00", "paid_amount": "200000.00"}],
    )
    outcome = publish(registry, uscc, "annual_report.submitted", report, occurred_on="2024-05-20")
    rejected(outcome, "annual_report_inconsistent")
    assert "资产总额" in (outcome.message or "") and "实缴出资额" in (outcome.message or "")
    balanced = {**report, "owners_equity": "595000.00", "shareholders": []}  # within 1 %
    applied(publish(registry, uscc, "annual_report.submitted", balanced, occurred_on="2024-05-20"))


def test_annual_report_for_a_year_not_yet_over_is_rejected(registry: Registry, uscc: str) -> None:
    outcome = publish(
        registry, uscc, "annual_report.submitted", annual_report_payload(2026), occurred_on="2026-11-22"
    )
    assert outcome.status == "rejected", outcome


@scenario("annual_report.corrected")
def test_annual_report_corrected_replaces_the_figures_and_records_the_correction(
    registry: Registry, uscc: str
) -> None:
    applied(
        publish(
            registry, uscc, "annual_report.submitted", annual_report_payload(2023), occurred_on="2024-05-20"
        )
    )
    correction = {
        **annual_report_payload(2023, employees=45, publicised=["employees", "revenue"]),
        "reason": "从业人数填报有误",
    }
    applied(publish(registry, uscc, "annual_report.corrected", correction, occurred_on="2024-06-10"))
    report = registry.get_entity(uscc).annual_reports["2023"]
    assert report["employees"] == 45
    assert report["submitted_on"] == "2024-05-20"
    assert [c["reason"] for c in report["corrections"]] == ["从业人数填报有误"]
    assert "reason" not in report
    [public] = view_of(registry.get_entity(uscc))["annual_reports"]
    assert (public["employees"], public["revenue"]) == (45, "8800000.00")
    rejected(
        publish(registry, uscc, "annual_report.corrected", {**annual_report_payload(2022), "reason": "x"}),
        "unknown_annual_report",
    )


def test_annual_report_correction_can_withdraw_a_figure(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "annual_report.submitted", annual_report_payload(2023)))
    correction = {**annual_report_payload(2023), "reason": "利润数据不应填报"}
    del correction["profit"]
    applied(publish(registry, uscc, "annual_report.corrected", correction))
    assert "profit" not in registry.get_entity(uscc).annual_reports["2023"]


@scenario("disclosure.published")
def test_disclosure_published_by_the_enterprise_is_public(registry: Registry, uscc: str) -> None:
    payload = {"disclosure_no": "JS-2024-1", "category": "股东股权转让", "content": "股东王五转让30%股权"}
    outcome = applied(publish(registry, uscc, "disclosure.published", payload, occurred_on="2024-08-08"))
    assert outcome.department == "ENTERPRISE"
    disclosure = registry.get_entity(uscc).disclosures[0]
    assert (disclosure["disclosure_no"], disclosure["occurred_on"]) == ("JS-2024-1", "2024-08-08")
    assert view_of(registry.get_entity(uscc))["disclosures"][0]["content"] == "股东王五转让30%股权"
    rejected(publish(registry, uscc, "disclosure.published", payload, department="TJ-AMR"), "outside_mandate")


# --- coverage -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_publication_kind_has_a_scenario(kind: str) -> None:
    assert kind in COVERED, f"no scenario test for {kind}: add one marked @scenario({kind!r})"


# --- casework: warnings, applications, objections -------------------------------------------------------


@scenario("abnormal.warned")
def test_the_three_year_warning_is_announced_on_the_listing(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "abnormal.listed", listing_payload(), occurred_on="2023-07-03"))
    warning = {
        "decision_no": "津滨市监异〔2024〕1号",
        "escalation_on": "2026-07-03",
        "content": "被列入经营异常名录将届满3年，请尽快履行公示义务",
    }
    applied(publish(registry, uscc, "abnormal.warned", warning, occurred_on="2026-05-20"))
    listing = registry.get_entity(uscc).abnormal_listings["津滨市监异〔2024〕1号"]
    assert (listing["warning"]["on"], listing["warning"]["escalation_on"]) == ("2026-05-20", "2026-07-03")
    rows = record_rows(view_of(registry.get_entity(uscc)))
    assert [r["category"] for r in rows] == ["abnormal", "abnormal_warning"]
    rejected(publish(registry, uscc, "abnormal.warned", warning), "already_warned")
    rejected(publish(registry, uscc, "abnormal.warned", {**warning, "decision_no": "X"}), "unknown_listing")


def application(number: str = "SQ-1", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "application_no": number,
        "type": "abnormal_removal",
        "target": "abnormal",
        "decision_no": "津滨市监异〔2024〕1号",
        "department": "TJ-AMR",
        "reason": "已补报年度报告",
    }
    payload.update(overrides)
    return payload


@scenario("application.filed")
def test_an_application_waits_for_its_department_and_its_approval_removes_the_listing(
    registry: Registry, uscc: str
) -> None:
    applied(publish(registry, uscc, "abnormal.listed", listing_payload(), occurred_on="2024-07-03"))
    applied(publish(registry, uscc, "application.filed", application(), occurred_on="2024-09-01"))
    entity = registry.get_entity(uscc)
    assert entity.applications["SQ-1"]["status"] == "pending"
    assert "applications" not in view_of(entity)  # never public
    rejected(publish(registry, uscc, "application.filed", application("SQ-2")), "duplicate_application")
    rejected(
        publish(registry, uscc, "application.filed", application("SQ-3", type="repair")),
        "wrong_application_type",
    )
    removal = {"decision_no": "津滨市监异〔2024〕1号", "reason": "已补报年度报告", "application_no": "SQ-1"}
    rejected(publish(registry, uscc, "abnormal.removed", removal, department="TJ-TAX"), "outside_mandate")
    applied(publish(registry, uscc, "abnormal.removed", removal, occurred_on="2024-09-05"))
    entity = registry.get_entity(uscc)
    assert entity.applications["SQ-1"]["status"] == "approved"
    assert entity.applications["SQ-1"]["decision"]["on"] == "2024-09-05"
    assert entity.abnormal_listings["津滨市监异〔2024〕1号"]["removed"]["on"] == "2024-09-05"


def test_a_repair_application_is_refused_before_the_minimum_window(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "penalty.imposed", penalty_payload(publicised_on="2025-01-15")))
    early = application(type="repair", target="penalty", decision_no="津市监罚〔2025〕1号")
    outcome = rejected(
        publish(registry, uscc, "application.filed", early, occurred_on="2025-07-14"), "repair_too_early"
    )
    assert "2025-07-15" in (outcome.message or "")
    applied(publish(registry, uscc, "application.filed", early, occurred_on="2025-07-15"))
    repair = {
        "target": "penalty",
        "decision_no": "津市监罚〔2025〕1号",
        "reason": "已整改",
        "application_no": "SQ-1",
    }
    rejected(
        publish(registry, uscc, "repair.approved", repair, department="TJ-DRC", occurred_on="2025-07-20"),
        "not_deciding_department",
    )
    applied(publish(registry, uscc, "repair.approved", repair, occurred_on="2025-07-20"))
    assert registry.get_entity(uscc).applications["SQ-1"]["status"] == "approved"


@scenario("application.rejected")
def test_a_rejected_application_leaves_the_record_as_it_was(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "abnormal.listed", listing_payload(), occurred_on="2024-07-03"))
    applied(publish(registry, uscc, "application.filed", application(), occurred_on="2024-09-01"))
    refusal = {"application_no": "SQ-1", "reason": "尚未补报 2023 年度报告"}
    rejected(
        publish(registry, uscc, "application.rejected", refusal, department="TJ-DRC"),
        "not_deciding_department",
    )
    applied(publish(registry, uscc, "application.rejected", refusal, occurred_on="2024-09-03"))
    entity = registry.get_entity(uscc)
    assert entity.applications["SQ-1"]["status"] == "rejected"
    assert entity.applications["SQ-1"]["decision"]["reason"] == "尚未补报 2023 年度报告"
    assert entity.abnormal_listings["津滨市监异〔2024〕1号"]["removed"] is None
    rejected(publish(registry, uscc, "application.rejected", refusal), "application_decided")
    applied(publish(registry, uscc, "application.filed", application("SQ-2"), occurred_on="2024-09-10"))


def objection(number: str = "YY-1", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "objection_no": number,
        "target": "penalty",
        "record_no": "津市监罚〔2025〕1号",
        "department": "TJ-AMR",
        "reason": "公示的罚款金额与决定书不一致",
    }
    payload.update(overrides)
    return payload


@scenario("objection.filed")
def test_an_open_objection_shows_the_record_as_under_objection(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "penalty.imposed", penalty_payload(publicised_on="2025-01-15")))
    rejected(publish(registry, uscc, "objection.filed", objection(record_no="X-1")), "unknown_record")
    applied(publish(registry, uscc, "objection.filed", objection(), occurred_on="2025-02-01"))
    [penalty] = view_of(registry.get_entity(uscc), date(2025, 3, 1))["penalties"]
    assert penalty["objection"] == {"status": "异议处理中", "filed_on": "2025-02-01"}
    assert "公示的罚款金额" not in str(view_of(registry.get_entity(uscc), date(2025, 3, 1)))
    rejected(publish(registry, uscc, "objection.filed", objection("YY-2")), "duplicate_objection")


@scenario("objection.resolved")
def test_an_answered_objection_no_longer_marks_the_record(registry: Registry, uscc: str) -> None:
    applied(publish(registry, uscc, "penalty.imposed", penalty_payload(publicised_on="2025-01-15")))
    applied(publish(registry, uscc, "objection.filed", objection(), occurred_on="2025-02-01"))
    answer = {"objection_no": "YY-1", "upheld": False, "reason": "经核查，公示信息与决定书一致"}
    rejected(
        publish(registry, uscc, "objection.resolved", answer, department="TJ-TAX"), "not_deciding_department"
    )
    applied(publish(registry, uscc, "objection.resolved", answer, occurred_on="2025-02-20"))
    [penalty] = view_of(registry.get_entity(uscc), date(2025, 3, 1))["penalties"]
    assert "objection" not in penalty
    assert registry.get_entity(uscc).objections["YY-1"]["resolution"]["upheld"] is False
    rejected(publish(registry, uscc, "objection.resolved", answer), "objection_resolved")
