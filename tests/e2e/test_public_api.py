"""The public API over a generated register loaded through the ingestion path."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from adapters.search_index.base import SearchUnavailable
from adapters.search_index.sqlite import SQLiteSearchIndex
from api.app import create_app
from domain.masking import contains_unmasked_resident_id
from infra.bootstrap import build
from infra.settings import Settings
from tests.e2e.conftest import TODAY, Platform, registered

RECORD_KEYS = {
    "uscc",
    "name",
    "status",
    "registration",
    "changes",
    "filings",
    "licences",
    "penalties",
    "abnormal_listings",
    "serious_listings",
    "inspections",
    "annual_reports",
    "disclosures",
    "performance",
    "other",
}


def first_of(platform: Platform, kind: str) -> dict:
    return next(e for e in platform.envelopes if e["kind"] == kind)


def test_healthz_reports_ok_when_the_projection_has_caught_up(platform: Platform) -> None:
    body = platform.client.get("/healthz").json()
    assert body == {"status": "ok", "today": TODAY.isoformat()}  # nothing internal: it is open
    admin = platform.client.get("/api/v1/admin/projections", headers=platform.admin).json()
    assert next(p for p in admin if p["name"] == "entities")["lag"] == 0


def test_every_generated_publication_was_applied_or_parked(platform: Platform) -> None:
    counts = platform.container.worker.counts
    assert counts["rejected"] == 0, counts
    assert counts["applied"] + counts["parked"] == len(platform.envelopes)
    assert platform.container.registry.all_parked() == []


def test_search_by_a_fragment_of_a_name_finds_the_entity(platform: Platform) -> None:
    reg = registered(platform)[3]
    entity = platform.client.get(f"/api/v1/entities/{reg['uscc']}").json()
    fragment = entity["name"][2:5]
    body = platform.client.get("/api/v1/entities", params={"q": fragment, "size": 100}).json()
    assert reg["uscc"] in [item["uscc"] for item in body["items"]]
    assert body["total"] >= 1
    item = next(i for i in body["items"] if i["uscc"] == reg["uscc"])
    assert set(item) >= {"uscc", "name", "status", "legal_representative", "established_on", "flags"}


def test_search_by_a_two_character_fragment_finds_the_entity(platform: Platform) -> None:
    regs = registered(platform)
    reg = regs[5]
    name = platform.client.get(f"/api/v1/entities/{reg['uscc']}").json()["name"]
    # the two characters of its name that the fewest other names share (its trade name, not the
    # 有限公司 or 天津 nearly every name has)
    names = [r["payload"]["name"] for r in regs]
    fragment = min(
        (name[i : i + 2] for i in range(len(name) - 1)),
        key=lambda two: sum(two in other for other in names),
    )
    assert sum(fragment in other for other in names) < len(names) // 4, (name, fragment)
    body = platform.client.get("/api/v1/entities", params={"q": fragment, "size": 100}).json()
    assert reg["uscc"] in [item["uscc"] for item in body["items"]], (fragment, body["total"])


def test_search_by_exact_name_ranks_it_first(platform: Platform) -> None:
    reg = registered(platform)[7]
    name = platform.client.get(f"/api/v1/entities/{reg['uscc']}").json()["name"]
    body = platform.client.get("/api/v1/entities", params={"q": name}).json()
    assert body["items"][0]["uscc"] == reg["uscc"]


def test_search_by_uscc_typed_in_lower_case_with_spaces(platform: Platform) -> None:
    uscc = registered(platform)[0]["uscc"]
    typed = " ".join([uscc[:6].lower(), uscc[6:12].lower(), uscc[12:]])
    body = platform.client.get("/api/v1/entities", params={"q": typed}).json()
    assert [i["uscc"] for i in body["items"]] == [uscc]


def test_search_by_registration_number(platform: Platform) -> None:
    reg = next(e for e in registered(platform) if e["payload"].get("registration_number"))
    body = platform.client.get("/api/v1/entities", params={"q": reg["payload"]["registration_number"]}).json()
    assert [i["uscc"] for i in body["items"]] == [reg["uscc"]]


def test_search_by_former_name_after_a_name_change(platform: Platform) -> None:
    change = next(
        e
        for e in platform.envelopes
        if e["kind"] == "registration.changed" and any(c["field"] == "name" for c in e["payload"]["changes"])
    )
    former = next(c["before"] for c in change["payload"]["changes"] if c["field"] == "name")
    body = platform.client.get("/api/v1/entities", params={"q": former}).json()
    assert change["uscc"] in [i["uscc"] for i in body["items"]]


def test_search_pages_through_results(platform: Platform) -> None:
    first = platform.client.get("/api/v1/entities", params={"q": "天津", "size": 5, "page": 1}).json()
    second = platform.client.get("/api/v1/entities", params={"q": "天津", "size": 5, "page": 2}).json()
    assert first["total"] == second["total"] > 10
    assert {i["uscc"] for i in first["items"]}.isdisjoint({i["uscc"] for i in second["items"]})


def test_search_without_a_query_is_a_422_with_a_chinese_message(platform: Platform) -> None:
    response = platform.client.get("/api/v1/entities")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert "请求参数" in response.json()["message"]


def test_entity_record_has_every_category(platform: Platform) -> None:
    uscc = registered(platform)[0]["uscc"]
    response = platform.client.get(f"/api/v1/entities/{uscc}")
    assert response.status_code == 200
    assert set(response.json()) >= RECORD_KEYS


def test_each_category_is_filled_for_some_entity(platform: Platform) -> None:
    seen: set[str] = set()
    for reg in registered(platform):
        record = platform.client.get(f"/api/v1/entities/{reg['uscc']}").json()
        seen.update(k for k in RECORD_KEYS if isinstance(record[k], list) and record[k])
    assert seen == {k for k in RECORD_KEYS if k not in ("uscc", "name", "status", "registration")}


def test_unknown_entity_is_a_404_with_a_code(platform: Platform) -> None:
    from domain.uscc import make_uscc

    response = platform.client.get(f"/api/v1/entities/{make_uscc('120101', 'MA999999').value}")
    assert response.status_code == 404
    assert response.json()["code"] == "entity_not_found"


def test_malformed_uscc_is_a_422_with_the_candidates_one_typo_away(platform: Platform) -> None:
    uscc = registered(platform)[0]["uscc"]
    wrong = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    response = platform.client.get(f"/api/v1/entities/{wrong}")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_uscc" and body["reason"] == "check_failed"
    assert "校验未通过" in body["message"] and "第18位" not in body["message"]
    assert {"uscc": uscc, "name": registered(platform)[0]["payload"]["name"], "typed": uscc} in body[
        "candidates"
    ]
    letter = platform.client.get(f"/api/v1/entities/{uscc[:5]}I{uscc[6:]}").json()
    assert "第6位" in letter["message"] and "candidates" not in letter


def test_entity_can_be_read_by_registration_number(platform: Platform) -> None:
    reg = next(e for e in registered(platform) if e["payload"].get("registration_number"))
    body = platform.client.get(f"/api/v1/entities/{reg['payload']['registration_number']}").json()
    assert body["uscc"] == reg["uscc"]


def test_no_identity_number_of_a_natural_person_appears_unmasked(platform: Platform) -> None:
    texts = []
    for reg in registered(platform):
        texts.append(platform.client.get(f"/api/v1/entities/{reg['uscc']}").text)
    texts.append(platform.client.get("/api/v1/entities", params={"q": "天津", "size": 100}).text)
    for page in range(1, 4):
        texts.append(platform.client.get("/api/v1/records", params={"size": 100, "page": page}).text)
    ids = {e["payload"]["legal_representative"]["id_number"] for e in registered(platform)}
    for text in texts:
        assert not contains_unmasked_resident_id(text)
        assert not any(i in text for i in ids)


def test_records_filter_by_category_department_and_dates(platform: Platform) -> None:
    body = platform.client.get("/api/v1/records", params={"category": "penalty", "size": 100}).json()
    assert body["total"] > 0
    assert {i["category"] for i in body["items"]} == {"penalty"}
    department = body["items"][0]["department"]
    by_dept = platform.client.get(
        "/api/v1/records", params={"category": "penalty", "department": department, "size": 100}
    ).json()
    assert by_dept["total"] > 0 and {i["department"] for i in by_dept["items"]} == {department}
    window = platform.client.get(
        "/api/v1/records", params={"from": "2025-01-01", "to": "2025-12-31", "size": 100}
    ).json()
    assert all("2025-01-01" <= i["occurred_on"] <= "2025-12-31" for i in window["items"])


def test_records_leave_out_penalties_whose_window_has_ended(platform: Platform) -> None:
    body = platform.client.get("/api/v1/records", params={"category": "penalty", "size": 100}).json()
    assert all(i["public_until"] > TODAY.isoformat() for i in body["items"])
    old = [
        e
        for e in platform.envelopes
        if e["kind"] == "penalty.imposed" and e["payload"]["decided_on"] < "2023-06-01"
    ]
    assert old, "the generated register has penalties from before mid-2023"
    # every rule set ends a penalty's publicity within three years of its decision
    expired = platform.client.get(
        "/api/v1/records", params={"category": "penalty", "to": "2023-06-01", "size": 100}
    ).json()
    assert expired["total"] == 0


def test_records_reject_an_unknown_category(platform: Platform) -> None:
    response = platform.client.get("/api/v1/records", params={"category": "bogus"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


def test_departments_lists_codes_names_and_kinds(platform: Platform) -> None:
    body = platform.client.get("/api/v1/departments").json()
    amr = next(d for d in body if d["code"] == "TJ-AMR")
    assert "registration.registered" in amr["kinds"]
    assert amr["name"]
    assert len(body) >= 10


def test_openapi_document_is_served(platform: Platform) -> None:
    spec = platform.client.get("/openapi.json").json()
    assert {
        "/api/v1/entities",
        "/api/v1/entities/{uscc}",
        "/api/v1/records",
        "/api/v1/departments",
        "/healthz",
    } <= set(spec["paths"])


def test_unknown_path_is_a_chinese_404(platform: Platform) -> None:
    response = platform.client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "您访问的地址不存在"}


class BrokenIndex(SQLiteSearchIndex):
    """Fake for the one thing this test exercises: the index failing."""

    def search(self, q: str, today: date, page: int = 1, size: int = 20):  # type: ignore[no-untyped-def]
        raise SearchUnavailable("connection refused")

    def ping(self) -> bool:
        return False


def test_search_outage_is_a_503_with_a_chinese_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    container = build(Settings(data_dir=tmp_path, today=TODAY))
    container.__dict__["index"] = BrokenIndex(tmp_path / "search.sqlite3")
    with TestClient(create_app(container)) as client:
        response = client.get("/api/v1/entities", params={"q": "天津"})
        assert response.status_code == 503
        assert response.json()["code"] == "search_unavailable"
        assert "暂时不可用" in response.json()["message"]
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "degraded"


@pytest.mark.parametrize("size", [0, 101])
def test_page_size_out_of_range_is_rejected(platform: Platform, size: int) -> None:
    response = platform.client.get("/api/v1/entities", params={"q": "天津", "size": size})
    assert response.status_code == 422
