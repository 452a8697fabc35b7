"""Documents built from an entity: masking, publicity windows, record rows, search text, flags."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.entity import MarketEntity
from domain.identity import make_resident_id
from domain.masking import contains_unmasked_resident_id
from domain.publications import RegistrationRegistered
from domain.registry import Registry
from domain.uscc import make_registration_number
from projections.documents import (
    public_document,
    public_view,
    record_rows,
    row_is_public,
    search_fields,
    sharing_document,
)
from tests.builders import (
    TODAY,
    USCC,
    annual_report_payload,
    change_payload,
    envelope,
    listing_payload,
    make_registry,
    penalty_payload,
    person,
    registered,
    registration_payload,
    resident_id,
    uscc_for,
)

DECISION = "津市监罚〔2025〕1号"


def publish(registry: Registry, kind: str, payload: dict[str, Any], **kw: Any) -> None:
    kw.setdefault("uscc", USCC)
    outcome = registry.apply_publication(envelope(kind, payload, **kw))
    assert outcome.status == "applied", outcome


def view(registry: Registry, uscc: str = USCC, today: date = TODAY) -> dict[str, Any]:
    return public_view(public_document(sharing_document(registry.get_entity(uscc))), today)


def public_penalties(registry: Registry, today: date) -> list[str]:
    return [p["decision_no"] for p in view(registry, today=today)["penalties"]]


# --- masking --------------------------------------------------------------------------------------


def test_public_view_masks_the_legal_representatives_id_number_phone_and_address(
    registry: Registry, uscc: str
) -> None:
    sharing = sharing_document(registry.get_entity(uscc))
    assert contains_unmasked_resident_id(json.dumps(sharing, ensure_ascii=False))  # agencies see it

    public = public_view(public_document(sharing), TODAY)

    assert not contains_unmasked_resident_id(json.dumps(public, ensure_ascii=False))
    rep = public["registration"]["legal_representative"]
    assert rep["name"] == "张三"
    assert rep["id_number"] == resident_id(1)[:4] + "*" * 10 + resident_id(1)[-4:]
    assert rep["phone"] == "138****5678"
    assert rep["address"] == "天津市和平区****"
    assert "南京路100号" not in json.dumps(public, ensure_ascii=False)
    assert "13812345678" not in json.dumps(public, ensure_ascii=False)
    assert sharing["registration"]["legal_representative"]["id_number"] == resident_id(1)  # not mutated


def test_public_view_masks_the_legal_representative_before_and_after_a_change(
    registry: Registry, uscc: str
) -> None:
    after = person("李四", n=2, phone="022-23456789", address="天津市南开区卫津路92号")
    publish(registry, "registration.changed", change_payload("legal_representative", person(), after))
    sharing = sharing_document(registry.get_entity(uscc))
    assert sharing["changes"][0]["changes"][0]["after"]["id_number"] == resident_id(2)

    public = public_view(public_document(sharing), TODAY)

    text = json.dumps(public, ensure_ascii=False)
    assert not contains_unmasked_resident_id(text)
    [change] = public["changes"][0]["changes"]
    assert change["before"]["id_number"].startswith("1201**")
    assert (change["after"]["name"], change["after"]["phone"]) == ("李四", "022-****6789")
    assert change["after"]["address"] == "天津市南开区****"
    assert public["registration"]["legal_representative"]["name"] == "李四"
    assert "卫津路" not in text


@settings(max_examples=60, deadline=None)
@given(
    region=st.sampled_from(["120101", "120116", "110105", "310115", "440305", "650102"]),
    birth=st.dates(min_value=date(1940, 1, 1), max_value=date(2006, 12, 31)),
    seq=st.integers(min_value=0, max_value=498),
    sex=st.sampled_from(["M", "F"]),
)
def test_no_valid_resident_id_survives_into_the_public_view(
    region: str, birth: date, seq: int, sex: Any
) -> None:
    id_number = make_resident_id(region, birth, seq, sex)
    data = RegistrationRegistered.model_validate(
        registration_payload(legal_representative=person(id_number=id_number))
    ).model_dump(mode="json", exclude_none=True)
    entity = MarketEntity.register(
        uscc=USCC,
        department="TJ-AMR",
        publication_id="R-1",
        occurred_on=date(2020, 3, 15),
        basis=None,
        data=data,
    )
    public = public_view(public_document(sharing_document(entity)), TODAY)
    assert not contains_unmasked_resident_id(json.dumps(public))


# --- annual reports -------------------------------------------------------------------------------


def test_annual_report_fields_the_enterprise_did_not_publicise_are_absent(
    registry: Registry, uscc: str
) -> None:
    publish(
        registry,
        "annual_report.submitted",
        annual_report_payload(2023, publicised=["revenue"], total_liabilities="1000.00", net_profit="5.00"),
    )
    [report] = view(registry)["annual_reports"]
    assert report["revenue"] == "8800000.00"
    for hidden in ("employees", "total_assets", "total_liabilities", "profit", "net_profit", "tax_paid"):
        assert hidden not in report, hidden
    # Art. 9(1)–(6) are public: the address, and (form 2) the contact phone and e-mail
    assert report["address"] == "天津市滨海新区第三大街51号"
    assert (report["phone"], report["email"]) == ("022-25801234", "info@xinghai.example")
    assert report["websites"] == ["https://xinghai.example"]


def test_a_form_1_report_keeps_phone_and_email_private_unless_chosen(registry: Registry, uscc: str) -> None:
    publish(registry, "annual_report.submitted", annual_report_payload(2023, form=1, publicised=["email"]))
    [report] = view(registry)["annual_reports"]
    assert report["email"] == "info@xinghai.example" and "phone" not in report


def test_annual_report_with_nothing_publicised_shows_no_optional_field(registry: Registry, uscc: str) -> None:
    publish(registry, "annual_report.submitted", annual_report_payload(2023, publicised=[]))
    [report] = view(registry)["annual_reports"]
    assert not {"employees", "total_assets", "revenue", "profit", "tax_paid"} & report.keys()
    assert sharing_document(registry.get_entity(uscc))["annual_reports"][0]["tax_paid"] == "310000.00"


def test_a_sole_traders_mobile_in_its_report_is_masked(registry: Registry) -> None:
    sole = uscc_for(77, category="92")
    registry.process([registered(uscc=sole, entity_type="个体工商户")])
    publish(registry, "annual_report.submitted", annual_report_payload(2023, phone="13812345678"), uscc=sole)
    [report] = view(registry, sole)["annual_reports"]
    assert report["phone"] == "138****5678"
    assert sharing_document(registry.get_entity(sole))["annual_reports"][0]["phone"] == "13812345678"


def test_a_corrected_report_shows_the_version_it_replaced_under_the_same_rules(
    registry: Registry, uscc: str
) -> None:
    first = annual_report_payload(2023, publicised=["employees"])
    publish(registry, "annual_report.submitted", first, occurred_on="2024-03-01")
    publish(
        registry,
        "annual_report.corrected",
        {**first, "employees": 50, "reason": "从业人数有误"},
        occurred_on="2024-04-01",
    )
    [report] = view(registry)["annual_reports"]
    assert report["employees"] == 50
    [correction] = report["corrections"]
    assert correction["reason"] == "从业人数有误" and correction["replaced"]["employees"] == 42
    assert "revenue" not in correction["replaced"] and "tax_paid" not in correction["replaced"]


# --- penalty publicity windows --------------------------------------------------------------------


def test_another_departments_penalty_is_public_for_three_years_under_order_58(
    registry: Registry, uscc: str
) -> None:
    publish(
        registry,
        "penalty.imposed",
        penalty_payload(DECISION, decided_on="2025-01-10", severity="general"),
        department="TJ-TAX",
    )
    assert public_penalties(registry, date(2025, 1, 9)) == []
    assert public_penalties(registry, date(2025, 1, 10)) == [DECISION]
    assert public_penalties(registry, date(2028, 1, 9)) == [DECISION]
    assert public_penalties(registry, date(2028, 1, 10)) == []
    publicity = public_document(sharing_document(registry.get_entity(uscc)))["penalties"][0]["publicity"]
    assert (publicity["rule_set"], publicity["counts_from"], publicity["ends_on"]) == (
        "NDRC-58-2023",
        "decision",
        "2028-01-10",
    )
    assert publicity["rule_set_name"].startswith("《失信行为纠正后的信用信息修复管理办法（试行）》")


def test_market_supervisions_penalty_counts_three_years_from_its_publicity_date(
    registry: Registry, uscc: str
) -> None:
    payload = penalty_payload(
        DECISION,
        decided_on="2025-01-10",
        publicised_on="2025-01-20",
        fine_amount="80000.00",
        measures=["fine"],
    )
    publish(registry, "penalty.imposed", payload)
    assert public_penalties(registry, date(2025, 1, 19)) == []
    assert public_penalties(registry, date(2025, 1, 20)) == [DECISION]
    assert public_penalties(registry, date(2028, 1, 19)) == [DECISION]
    assert public_penalties(registry, date(2028, 1, 20)) == []
    sharing = sharing_document(registry.get_entity(uscc))
    publicity = sharing["penalties"][0]["publicity"]  # agencies see which rule gave the window too
    assert (publicity["rule_set"], publicity["counts_from"], publicity["earliest_repair_on"]) == (
        "SAMR-45-2021",
        "publicity",
        "2025-07-20",
    )


def test_market_supervisions_small_fine_is_public_for_three_months(registry: Registry, uscc: str) -> None:
    payload = penalty_payload(
        DECISION,
        decided_on="2025-01-10",
        publicised_on="2025-01-20",
        fine_amount="2000.00",
        measures=["fine"],
    )
    publish(registry, "penalty.imposed", payload)
    assert public_penalties(registry, date(2025, 4, 19)) == [DECISION]
    assert public_penalties(registry, date(2025, 4, 20)) == []


def test_minor_penalty_under_order_36_is_never_public(registry: Registry, uscc: str) -> None:
    publish(
        registry,
        "penalty.imposed",
        penalty_payload(DECISION, decided_on="2026-05-01", severity="minor"),
        department="TJ-TAX",
    )
    for today in (date(2026, 5, 1), date(2026, 6, 1), TODAY, date(2027, 5, 1)):
        assert public_penalties(registry, today) == [], today
        assert "penalty" not in view(registry, today=today)["flags"]
    doc = public_document(sharing_document(registry.get_entity(uscc)))
    assert doc["penalties"][0]["publicity"]["publicised"] is False
    assert [r for r in record_rows(doc) if r["category"] == "penalty"] == []
    assert DECISION in registry.get_entity(uscc).penalties  # still on the agencies' record


def test_repaired_penalty_leaves_the_public_view_from_the_repair_date(registry: Registry, uscc: str) -> None:
    publish(
        registry, "penalty.imposed", penalty_payload(DECISION, decided_on="2025-01-10"), department="TJ-TAX"
    )
    repair = {"target": "penalty", "decision_no": DECISION, "reason": "已纠正失信行为"}
    publish(registry, "repair.approved", repair, department="TJ-DRC", occurred_on="2025-05-20")
    assert public_penalties(registry, date(2025, 5, 19)) == [DECISION]
    assert public_penalties(registry, date(2025, 5, 20)) == []
    assert public_penalties(registry, date(2025, 9, 1)) == []


def test_revoked_penalty_is_absent_from_the_public_document(registry: Registry, uscc: str) -> None:
    publish(registry, "penalty.imposed", penalty_payload(DECISION, decided_on="2025-01-10"))
    publish(
        registry, "penalty.revoked", {"decision_no": DECISION, "reason": "复议撤销"}, occurred_on="2025-02-01"
    )
    doc = public_document(sharing_document(registry.get_entity(uscc)))
    assert doc["penalties"] == []
    assert DECISION not in json.dumps(public_view(doc, date(2025, 1, 20)), ensure_ascii=False)
    assert sharing_document(registry.get_entity(uscc))["penalties"][0]["revoked"]["reason"] == "复议撤销"


# --- record rows ----------------------------------------------------------------------------------


def test_record_rows_give_public_until_for_penalties(registry: Registry, uscc: str) -> None:
    tax = "TJ-TAX"  # the credit platform's rules: counted from the decision date
    publish(
        registry,
        "penalty.imposed",
        penalty_payload("P-GENERAL", decided_on="2022-01-10", severity="general"),
        department=tax,
    )  # NDRC 527: general, one year
    publish(
        registry,
        "penalty.imposed",
        penalty_payload("P-SERIOUS", decided_on="2025-01-10", severity="serious"),
        department=tax,
    )
    publish(
        registry, "penalty.imposed", penalty_payload("P-REPAIRED", decided_on="2025-01-10"), department=tax
    )
    repair = {"target": "penalty", "decision_no": "P-REPAIRED", "reason": "已整改"}
    publish(registry, "repair.approved", repair, department=tax, occurred_on="2025-06-01")
    publish(registry, "abnormal.listed", listing_payload("A-1"), occurred_on="2024-07-01")

    rows = {
        r["record_id"]: r for r in record_rows(public_document(sharing_document(registry.get_entity(uscc))))
    }

    assert rows["P-GENERAL"]["public_until"] == "2023-01-10"
    assert rows["P-SERIOUS"]["public_until"] == "2028-01-10"
    assert rows["P-REPAIRED"]["public_until"] == "2025-06-01"
    assert rows["A-1"]["public_until"] is None
    assert rows["P-GENERAL"]["category"] == "penalty"
    assert rows["P-GENERAL"]["entity_name"] == "天津滨海星海科技有限公司"
    assert rows["P-GENERAL"]["occurred_on"] == "2022-01-10"
    assert not row_is_public(rows["P-GENERAL"], TODAY)
    assert row_is_public(rows["P-SERIOUS"], TODAY)
    assert row_is_public(rows["A-1"], TODAY)


# --- search text ----------------------------------------------------------------------------------


def test_search_fields_hold_pinyin_initials_full_pinyin_and_former_names(registry: Registry) -> None:
    registration_number = make_registration_number("120116", 1)
    registry.apply_publication(registered(registration_number=registration_number))
    publish(
        registry,
        "registration.changed",
        change_payload("name", "天津滨海星海科技有限公司", "星海数智有限公司"),
    )

    fields = search_fields(view(registry))

    assert fields["name"] == "星海数智有限公司"
    assert fields["former_names"] == "天津滨海星海科技有限公司"
    assert "tjbh" in fields["pinyin"]
    assert "tjbhxhkjyxgs" in fields["pinyin"].split()
    assert "tianjinbinhaixinghaikejiyouxiangongsi" in fields["pinyin"].split()
    assert "xinghaishuzhiyouxiangongsi" in fields["pinyin"].split()
    assert "tian jin bin hai" in fields["pinyin"]
    assert fields["codes"].split() == [USCC, registration_number]
    assert fields["person"] == "张三"


# --- flags ----------------------------------------------------------------------------------------


def test_flags_show_abnormal_serious_and_penalty(registry: Registry, uscc: str) -> None:
    assert view(registry)["flags"] == []
    publish(registry, "abnormal.listed", listing_payload("A-1"), occurred_on="2024-07-01")
    publish(registry, "serious.listed", listing_payload("S-1"), occurred_on="2024-07-01")
    publish(
        registry, "penalty.imposed", penalty_payload(DECISION, decided_on="2026-06-01"), department="TJ-TAX"
    )
    assert view(registry)["flags"] == ["abnormal", "serious", "penalty"]
    assert view(registry, today=date(2027, 6, 1))["flags"] == ["abnormal", "serious"]  # penalty window over

    publish(registry, "abnormal.removed", {"decision_no": "A-1", "reason": "已补报"})
    publish(registry, "serious.removed", {"decision_no": "S-1", "reason": "届满"})
    assert view(registry)["flags"] == ["penalty"]
    assert view(registry)["as_of"] == TODAY.isoformat()


# --- the index projections' shared documents ------------------------------------------------------


def test_each_version_s_documents_are_built_once_for_the_three_projections_and_equal_a_fresh_build(
    registry: Registry, monkeypatch: Any
) -> None:
    import projections.runner as runner

    assert registry.apply_publication(registered()).status == "applied"
    built: list[str] = []
    for name, real in (("sharing", runner.sharing_document), ("public", runner.public_document)):
        monkeypatch.setattr(
            runner, f"{name}_document", lambda x, *a, _n=name, _f=real: built.append(_n) or _f(x, *a)
        )
    memo = runner.BuiltDocuments(10)
    entity = registry.get_entity(USCC)
    docs = [runner.index_entity(entity, TODAY, name, registry.publicity, memo) for name in runner.PROJECTIONS]
    assert sorted(built) == ["public", "sharing"]  # once each, not 3 + 2 times
    alone = [runner.index_entity(entity, TODAY, name, registry.publicity) for name in runner.PROJECTIONS]
    assert docs == alone
    built.clear()

    publish(registry, "penalty.imposed", penalty_payload(decision_no=DECISION))
    newer = registry.get_entity(USCC)
    assert newer.version > entity.version
    doc = runner.index_entity(newer, TODAY, "entities", registry.publicity, memo)
    assert DECISION in [p["decision_no"] for p in doc.public["penalties"]]  # a new version: built anew
    assert built == ["sharing", "public"]


def test_documents_built_before_an_erasure_are_not_reused_after_it(registry: Registry) -> None:
    import projections.runner as runner

    assert registry.apply_publication(registered()).status == "applied"
    entity = registry.get_entity(USCC)
    memo = runner.BuiltDocuments(10)
    memo.forget_at(0)
    first = memo.sharing(entity, registry.publicity)
    assert memo.sharing(entity, registry.publicity) is first
    memo.forget_at(0)  # the same epoch: kept
    assert memo.sharing(entity, registry.publicity) is first
    memo.forget_at(1)  # a person erased since: built again from the aggregate read again
    assert memo.sharing(entity, registry.publicity) is not first


def test_the_shared_documents_are_bounded() -> None:
    import projections.runner as runner

    memo = runner.BuiltDocuments(2)
    registry = make_registry()
    usccs = [uscc_for(n) for n in (1, 2, 3)]
    for uscc in usccs:
        assert registry.apply_publication(registered(uscc=uscc)).status == "applied"
    entities = [registry.get_entity(u) for u in usccs]
    first = memo.sharing(entities[0], None)
    memo.sharing(entities[1], None)
    memo.sharing(entities[2], None)  # the least recently used (the first) goes
    assert len(memo._built) == 2 and memo.sharing(entities[0], None) is not first
