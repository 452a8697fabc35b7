"""Screening for joint restrictions, measures as versioned data, persons and their restrictions
on serving again, and the feedback loop visible in the agency view."""

from __future__ import annotations

from typing import Any

from adapters.access_log import AccessLogQuery
from tests.builders import uscc_for
from tests.e2e.agency.conftest import (
    BOSS,
    CLEAN,
    HISTORY,
    HOLDING,
    SERIOUS,
    SHARED_B,
    SHARED_C,
    SUCCESSOR,
    AgencyPlatform,
)


def post(platform: AgencyPlatform, path: str, body: dict[str, Any], key: str = "all") -> Any:
    response = platform.client.post(
        path, json=body, headers=platform.headers(key, purpose="政府采购资格审查")
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_measures_are_versioned_data_with_their_sources(agency_platform: AgencyPlatform) -> None:
    response = agency_platform.client.get(
        "/api/v1/agency/measures", headers=agency_platform.headers("screen")
    )
    assert response.status_code == 200
    measures = {m["code"]: m for m in response.json()}
    assert {"government_procurement", "bidding", "land_transfer", "honours", "fiscal_support"} <= set(
        measures
    )
    procurement = measures["government_procurement"]
    assert [v["version"] for v in procurement["versions"]] == ["2014-10-01", "2015-03-01"]
    rules = procurement["versions"][1]["rules"]
    assert {r["kind"] for r in rules} == {"serious_listing", "abnormal_listing", "penalty"}
    assert all(r["basis"]["document"] for r in rules)
    assert "第十九条" in next(r for r in rules if r["kind"] == "penalty")["basis"]["articles"]
    unconfirmed = measures["fiscal_support"]["versions"][0]["rules"][0]
    assert unconfirmed["basis_confirmed"] is False


def test_screening_names_each_restricted_entity_with_the_record_its_dates_and_basis(
    agency_platform: AgencyPlatform,
) -> None:
    unknown = uscc_for(998)
    body = {
        "measure": "government_procurement",
        "entities": [SERIOUS, CLEAN, HISTORY, unknown],
        "as_of": "2026-11-20",
    }
    found = post(agency_platform, "/api/v1/agency/screen", body)
    assert found["version"] == "2015-03-01" and found["restricted"] == 1
    by = {r["uscc"]: r for r in found["results"]}
    assert [r["uscc"] for r in found["results"]] == [SERIOUS, CLEAN, HISTORY, unknown]  # input order
    serious = by[SERIOUS]
    assert serious["restricted"] and serious["name"] == "天津德明建筑工程有限公司"
    [reason] = serious["reasons"]
    assert reason["rule"] == "serious_listing" and reason["record"]["listed_on"] == "2025-02-01"
    assert reason["record"]["decision_no"] == "津市监严〔2025〕2号"
    assert "第十八条" in reason["basis"]["articles"]
    assert by[CLEAN]["restricted"] is False and by[CLEAN]["reasons"] == []
    assert by[HISTORY]["restricted"] is False  # removed from the abnormal list on 2025-01-10
    assert by[unknown]["found"] is False


def test_screening_as_of_a_past_date_reads_the_listings_in_force_then(
    agency_platform: AgencyPlatform,
) -> None:
    body = {"measure": "bidding", "entities": [HISTORY, SERIOUS, CLEAN], "as_of": "2024-06-30"}
    by = {r["uscc"]: r for r in post(agency_platform, "/api/v1/agency/screen", body)["results"]}
    assert by[HISTORY]["restricted"] and by[HISTORY]["reasons"][0]["rule"] == "abnormal_listing"
    assert by[SERIOUS]["restricted"] is False  # listed on 2025-02-01
    assert by[CLEAN]["restricted"] is False and "尚未登记" in by[CLEAN]["note"]


def test_a_measure_before_its_first_version_restricts_nothing(agency_platform: AgencyPlatform) -> None:
    body = {"measure": "fiscal_support", "entities": [SERIOUS], "as_of": "2021-08-31"}
    found = post(agency_platform, "/api/v1/agency/screen", body)
    assert found["version"] is None and found["results"][0]["restricted"] is False


def test_screening_logs_every_entity_and_the_counts(agency_platform: AgencyPlatform) -> None:
    post(agency_platform, "/api/v1/agency/screen", {"measure": "honours", "entities": [SERIOUS, SHARED_B]})
    entry = agency_platform.container.access_log.entries(AccessLogQuery(limit=1))[0]
    assert set(entry.usccs) == {SERIOUS, SHARED_B}
    assert entry.counts == {"entities": 2, "found": 2, "restricted": 1}


def test_a_bad_uscc_or_unknown_measure_is_422_in_chinese(agency_platform: AgencyPlatform) -> None:
    client, headers = agency_platform.client, agency_platform.headers()
    bad = client.post(
        "/api/v1/agency/screen",
        json={"measure": "bidding", "entities": [SERIOUS[:-1] + "0"]},
        headers=headers,
    )
    assert bad.status_code == 422 and "校验未通过" in bad.json()["message"]
    unknown = client.post(
        "/api/v1/agency/screen", json={"measure": "lottery", "entities": [SERIOUS]}, headers=headers
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "invalid_request"


def test_the_screen_scope_is_needed(agency_platform: AgencyPlatform) -> None:
    body = {"measure": "bidding", "entities": [SERIOUS]}
    for scope in ("read", "match", "feed"):
        response = agency_platform.client.post(
            "/api/v1/agency/screen", json=body, headers=agency_platform.headers(scope)
        )
        assert response.status_code == 403


# --- persons --------------------------------------------------------------------------------------


def test_a_person_is_found_at_every_entity_with_dates_and_the_restrictions_that_follow(
    agency_platform: AgencyPlatform,
) -> None:
    found = post(
        agency_platform, "/api/v1/agency/persons", {"name": BOSS["name"], "id_number": BOSS["id_number"]}
    )
    roles = {(r["uscc"], r["since"], r["until"]) for r in found["roles"]}
    assert roles == {
        (SERIOUS, "2019-05-20", None),
        (SHARED_B, "2020-08-08", None),
        (SHARED_C, "2018-01-05", "2025-06-01"),
        (HOLDING, "2017-04-01", "2024-08-01"),  # a shareholder until the change of shareholders
        (HOLDING, "2017-04-01", None),  # and still its supervisor
    }
    by_kind = {(r["uscc"], r["kind"]): r["role"] for r in found["roles"]}
    assert (
        by_kind[(HOLDING, "shareholder")] == "股东" and by_kind[(HOLDING, "key_staff")] == "主要人员（监事）"
    )
    assert all(not r["name_differs"] for r in found["roles"])
    assert {r["role"] for r in found["roles"] if r["uscc"] != HOLDING} == {"法定代表人"}
    [restriction] = found["restrictions"]
    assert restriction["code"] == "serious_list_representative" and restriction["uscc"] == SERIOUS
    assert (restriction["from"], restriction["until"], restriction["in_force"]) == (
        "2025-02-01",
        "2028-02-01",
        True,
    )
    assert restriction["basis"]["articles"] == "第十七条第二款"
    assert "股东" in found["note"]  # what the register does not hold is said
    successor = post(
        agency_platform, "/api/v1/agency/persons", {"name": "钱立新", "id_number": SUCCESSOR["id_number"]}
    )
    assert [(r["uscc"], r["since"]) for r in successor["roles"]] == [(SHARED_C, "2025-06-01")]
    assert successor["restrictions"] == []


def test_a_restriction_is_not_in_force_on_a_date_before_the_listing(agency_platform: AgencyPlatform) -> None:
    found = post(
        agency_platform,
        "/api/v1/agency/persons",
        {"name": "赵德明", "id_number": BOSS["id_number"], "as_of": "2025-01-31"},
    )
    assert found["restrictions"][0]["in_force"] is False  # not yet listed then


def test_an_invalid_identity_number_is_422(agency_platform: AgencyPlatform) -> None:
    response = agency_platform.client.post(
        "/api/v1/agency/persons",
        json={"name": "赵德明", "id_number": BOSS["id_number"][:-1] + "0"},
        headers=agency_platform.headers(),
    )
    assert response.status_code == 422 and "校验码" in response.json()["message"]


# --- feedback -------------------------------------------------------------------------------------


def test_feedback_is_recorded_and_shown_in_the_agency_view(agency_platform: AgencyPlatform) -> None:
    body = {
        "uscc": SERIOUS,
        "measure": "government_procurement",
        "action": "拒绝其参加本次政府采购活动",
        "applied_on": "2026-11-20",
        "basis": "《企业信息公示暂行条例》第十八条",
        "reference": "津财采〔2026〕88号",
    }
    created = post(agency_platform, "/api/v1/agency/feedback", body)
    assert created["agency"] == "TJ-TAX-JC1" and created["officer"] == "张三" and created["id"] >= 1
    record = agency_platform.client.get(
        f"/api/v1/agency/entities/{SERIOUS}", headers=agency_platform.headers("read")
    )
    shown = record.json()["feedback"]
    assert shown[0]["reference"] == "津财采〔2026〕88号" and shown[0]["measure"] == "government_procurement"
    earlier = agency_platform.client.get(
        f"/api/v1/agency/entities/{SERIOUS}",
        params={"as_of": "2026-11-19"},
        headers=agency_platform.headers("read"),
    )
    assert earlier.json()["feedback"] == []  # not yet applied on that date
    public = agency_platform.client.get(f"/api/v1/entities/{SERIOUS}").json()
    assert "feedback" not in public


def test_feedback_for_an_unknown_entity_is_404(agency_platform: AgencyPlatform) -> None:
    body = {"uscc": uscc_for(997), "measure": "bidding", "action": "不予受理投标", "applied_on": "2026-11-20"}
    response = agency_platform.client.post(
        "/api/v1/agency/feedback", json=body, headers=agency_platform.headers()
    )
    assert response.status_code == 404 and response.json()["code"] == "entity_not_found"


def test_shareholders_and_key_staff_are_masked_in_public_and_whole_for_agencies(
    agency_platform: AgencyPlatform,
) -> None:
    public = agency_platform.client.get(f"/api/v1/entities/{HOLDING}").json()
    [staff] = public["registration"]["key_staff"]
    assert staff["position"] == "监事" and "*" in staff["id_number"]
    [organisation] = public["registration"]["shareholders"]  # after the change: only the company
    assert organisation["uscc"] == SERIOUS
    change = public["changes"][0]["changes"][0]
    assert change["field"] == "shareholders" and "*" in change["before"][0]["id_number"]
    agency = agency_platform.client.get(
        f"/api/v1/agency/entities/{HOLDING}", headers=agency_platform.headers("read")
    )
    assert agency.json()["registration"]["key_staff"][0]["id_number"] == BOSS["id_number"]
