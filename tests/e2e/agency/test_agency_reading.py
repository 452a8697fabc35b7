"""Agencies read the full record as of a business date (and as known at an instant), its history
and an internal extract; every call states its purpose and is on the access log before its
answer is sent."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any
from unittest import mock

import pikepdf
import pytest

from adapters.access_log import AccessLogQuery, AccessLogUnavailable
from adapters.clock import FixedDateClock
from domain.access import Role
from tests.builders import uscc_for
from tests.e2e.agency.conftest import CLEAN, HISTORY, PENALTY, SHARED_B, SHARED_C, AgencyPlatform, text
from tests.e2e.conftest import TODAY

ENTITY = f"/api/v1/agency/entities/{HISTORY}"


def last_entry(platform: AgencyPlatform) -> Any:
    return platform.container.access_log.entries(AccessLogQuery(limit=1))[0]


# --- purpose, officer, the access log -----------------------------------------------------------


def test_an_agency_call_without_a_stated_purpose_is_refused_in_chinese(
    agency_platform: AgencyPlatform,
) -> None:
    response = agency_platform.client.get(ENTITY, headers=agency_platform.headers(purpose=None))
    assert response.status_code == 400
    assert response.json()["code"] == "purpose_required"
    assert "查询目的" in response.json()["message"]
    refused = last_entry(agency_platform)
    assert refused.status == 400 and refused.purpose is None and refused.usccs == ()


@pytest.mark.parametrize("purpose", ["审查", "abc", "   "])
def test_a_purpose_shorter_than_four_characters_is_refused(
    agency_platform: AgencyPlatform, purpose: str
) -> None:
    response = agency_platform.client.get(ENTITY, headers=agency_platform.headers(purpose=purpose))
    assert response.status_code == 400 and response.json()["code"] == "purpose_required"


def test_a_purpose_that_is_not_utf8_is_refused(agency_platform: AgencyPlatform) -> None:
    headers = agency_platform.headers(purpose=None) | {"X-Purpose": "%FF%FE%FD%FC"}
    response = agency_platform.client.get(ENTITY, headers=headers)
    assert response.status_code == 400 and "UTF-8" in response.json()["message"]


def test_the_purpose_and_officer_are_logged_decoded_with_the_usccs_read(
    agency_platform: AgencyPlatform,
) -> None:
    headers = agency_platform.headers(purpose="税务稽查 2026-17 号案", officer="李 四")
    response = agency_platform.client.get(ENTITY, headers=headers)
    assert response.status_code == 200
    entry = last_entry(agency_platform)
    assert entry.purpose == "税务稽查 2026-17 号案" and entry.officer == "李 四"
    assert entry.agency == "TJ-TAX-JC1" and entry.agency_name == "天津市税务局第一稽查局"
    assert entry.route == "/api/v1/agency/entities/{uscc}" and entry.status == 200
    assert entry.usccs == (HISTORY,) and entry.counts["events"] == 7
    assert entry.key_id and entry.key_id in agency_platform.keys["all"]


def test_the_purpose_may_come_as_a_query_parameter(agency_platform: AgencyPlatform) -> None:
    headers = agency_platform.headers(purpose=None)
    response = agency_platform.client.get(ENTITY, params={"purpose": "政府采购资格审查"}, headers=headers)
    assert response.status_code == 200
    assert last_entry(agency_platform).purpose == "政府采购资格审查"


def test_raw_utf8_in_a_header_is_understood(agency_platform: AgencyPlatform) -> None:
    headers: dict[str, Any] = agency_platform.headers(purpose=None)
    headers["X-Purpose"] = "行政许可审查".encode()  # raw bytes: what a client that forgot to encode sends
    response = agency_platform.client.get(ENTITY, headers=headers)
    assert response.status_code == 200
    assert last_entry(agency_platform).purpose == "行政许可审查"


def test_when_the_log_cannot_be_written_nothing_is_read(agency_platform: AgencyPlatform) -> None:
    log = agency_platform.container.access_log
    with mock.patch.object(log, "append", side_effect=AccessLogUnavailable("disk full")):
        response = agency_platform.client.get(ENTITY, headers=agency_platform.headers())
    assert response.status_code == 503
    assert response.json()["code"] == "access_log_unavailable"
    assert HISTORY not in response.text and "星海" not in response.text


def test_administrators_list_the_log_by_agency_entity_and_date(agency_platform: AgencyPlatform) -> None:
    client = agency_platform.client
    client.get(ENTITY, headers=agency_platform.headers("read", purpose="社保稽核 2026 年度"))
    found = client.get(
        "/api/v1/admin/access-log",
        params={"agency": "TJ-HRSS-2", "uscc": HISTORY, "from": TODAY.isoformat(), "to": TODAY.isoformat()},
        headers=agency_platform.admin,
    )
    assert found.status_code == 200
    items = found.json()["items"]
    assert items and all(i["agency"] == "TJ-HRSS-2" and HISTORY in i["usccs"] for i in items)
    assert items[0]["purpose"] == "社保稽核 2026 年度" and items[0]["officer"] == "张三"
    assert client.get("/api/v1/admin/access-log", headers=agency_platform.headers()).status_code == 403


def enterprise_token(platform: AgencyPlatform, uscc: str) -> dict[str, str]:
    store = platform.container.credentials
    if store.account(uscc) is None or store.account(uscc).activated_at is None:  # type: ignore[union-attr]
        store.activate(uscc, store.invite(uscc), "enterprise-password-1")
    return {"Authorization": f"Bearer {store.login(uscc, 'enterprise-password-1', 'test')}"}


def test_an_enterprise_sees_who_read_its_record_and_a_confidential_read_only_after_the_delay(
    agency_platform: AgencyPlatform,
) -> None:
    client, container = agency_platform.client, agency_platform.container
    client.get(ENTITY, headers=agency_platform.headers(purpose="立案调查 2026-3 号", confidential=True))
    secret = last_entry(agency_platform)
    assert secret.confidential
    client.get(ENTITY, headers=agency_platform.headers(purpose="行政许可审查（公开）"))
    token = enterprise_token(agency_platform, HISTORY)
    reads = client.get("/api/v1/enterprise/access-log", headers=token).json()
    purposes = [r["purpose"] for r in reads["items"]]
    assert "行政许可审查（公开）" in purposes and "立案调查 2026-3 号" not in purposes
    assert all("officer" not in r for r in reads["items"])
    assert reads["confidential_delay_days"] == 180
    # 180 days later the confidential read is shown, with the day it became visible
    later = FixedDateClock(TODAY + timedelta(days=180))
    with mock.patch.dict(container.__dict__, {"clock": later}):
        token = enterprise_token(agency_platform, HISTORY)
        shown = client.get("/api/v1/enterprise/access-log", headers=token).json()["items"]
    secret_shown = [r for r in shown if r["id"] == secret.id]
    assert secret_shown and secret_shown[0]["visible_from"] == (TODAY + timedelta(days=180)).isoformat()
    # administrators see it at once
    admin = client.get("/api/v1/admin/access-log", params={"uscc": HISTORY}, headers=agency_platform.admin)
    assert secret.id in [i["id"] for i in admin.json()["items"]]


def test_an_enterprise_sees_only_the_reads_of_its_own_record(agency_platform: AgencyPlatform) -> None:
    client = agency_platform.client
    client.get(
        f"/api/v1/agency/entities/{SHARED_C}", headers=agency_platform.headers(purpose="招标投标资格审查")
    )
    client.get(
        f"/api/v1/agency/entities/{CLEAN}", headers=agency_platform.headers(purpose="财政资金支持审核")
    )
    reads = client.get("/api/v1/enterprise/access-log", headers=enterprise_token(agency_platform, CLEAN))
    assert reads.status_code == 200 and reads.json()["uscc"] == CLEAN
    [read] = [r for r in reads.json()["items"] if r["purpose"] == "财政资金支持审核"]
    assert "招标投标资格审查" not in [r["purpose"] for r in reads.json()["items"]]
    assert read["agency_name"] == "天津市税务局第一稽查局"
    assert read["what"] == "机构查询完整记录（截至某一业务日期）"
    # neither an agency key nor an anonymous caller reads it; the token names its own USCC only
    assert client.get("/api/v1/enterprise/access-log", headers=agency_platform.headers()).status_code == 403
    assert client.get("/api/v1/enterprise/access-log").status_code == 401
    # a call the gate refused (no purpose) read nothing, so the enterprise is not told of it
    client.get(f"/api/v1/agency/entities/{CLEAN}", headers=agency_platform.headers(purpose=None))
    again = client.get("/api/v1/enterprise/access-log", headers=enterprise_token(agency_platform, CLEAN))
    assert len(again.json()["items"]) == len(reads.json()["items"])


def test_the_enterprise_dashboard_lists_who_read_the_record(agency_platform: AgencyPlatform) -> None:
    client = agency_platform.client
    client.get(
        f"/api/v1/agency/entities/{SHARED_B}", headers=agency_platform.headers(purpose="政府采购供应商审查")
    )
    client.get(
        f"/api/v1/agency/entities/{SHARED_B}",
        headers=agency_platform.headers(purpose="立案调查 2026-9 号", confidential=True),
    )
    token = enterprise_token(agency_platform, SHARED_B)
    page = client.get("/enterprise/", headers=token)
    assert page.status_code == 200, page.text
    section = page.text.split('id="reads-title"', 1)[1].split("</section>", 1)[0]
    assert "天津市税务局第一稽查局" in section and "政府采购供应商审查" in section
    assert "机构查询完整记录" in section and "立案调查 2026-9 号" not in section
    me = client.get("/api/v1/enterprise/me", headers=token).json()["reads"]
    assert me["available"] is True and me["confidential_delay_days"] == 180
    assert me["items"][0]["purpose"] == "政府采购供应商审查"


def test_the_dashboard_says_so_when_the_access_log_cannot_be_read(agency_platform: AgencyPlatform) -> None:
    container, client = agency_platform.container, agency_platform.client
    token = enterprise_token(agency_platform, SHARED_B)
    with mock.patch.object(container.access_log, "_reads_of", side_effect=AccessLogUnavailable("down")):
        page = client.get("/enterprise/", headers=token)
        api = client.get("/api/v1/enterprise/access-log", headers=token)
    assert page.status_code == 200 and "机构查阅记录暂时无法读取" in page.text
    assert api.status_code == 503 and api.json()["code"] == "access_log_unavailable"


# --- the record as of a date ----------------------------------------------------------------------


def get(platform: AgencyPlatform, path: str = ENTITY, **params: str) -> Any:
    response = platform.client.get(path, params=params, headers=platform.headers())
    assert response.status_code == 200, response.text
    return response.json()


def test_the_record_as_of_a_date_holds_what_had_happened_by_its_end(agency_platform: AgencyPlatform) -> None:
    before_penalty = get(agency_platform, as_of="2023-01-31")
    assert before_penalty["penalties"] == [] and before_penalty["name"] == "天津滨海星海科技有限公司"
    imposed = get(agency_platform, as_of="2023-02-01")
    [penalty] = imposed["penalties"]
    assert penalty["decision_no"] == PENALTY and penalty["state"] == "public" and penalty["public_on_as_of"]
    assert imposed["flags"] == ["penalty"]
    renamed = get(agency_platform, as_of="2024-05-01")
    assert renamed["name"] == "天津星海云智科技有限公司"
    assert [f["name"] for f in renamed["former_names"]] == ["天津滨海星海科技有限公司"]
    assert sorted(renamed["flags"]) == ["abnormal", "penalty"]
    assert renamed["penalties"][0]["content"] == "罚款人民币壹万元"  # the amendment of 2023-06-01


def test_revoked_records_stay_on_the_agency_record_marked_as_such(agency_platform: AgencyPlatform) -> None:
    now = get(agency_platform)
    [penalty] = now["penalties"]
    assert penalty["state"] == "revoked" and penalty["public_on_as_of"] is False
    assert penalty["revoked"]["reason"] == "行政诉讼撤销"
    assert now["flags"] == []  # removed from the abnormal list on 2025-01-10
    public = agency_platform.client.get(f"/api/v1/entities/{HISTORY}").json()
    assert public["penalties"] == []
    # natural persons unmasked for agencies, masked for the public
    rep = now["registration"]["legal_representative"]["id_number"]
    assert "*" not in rep and "*" in public["registration"]["legal_representative"]["id_number"]


def test_every_fact_carries_its_provenance_with_the_event_position(agency_platform: AgencyPlatform) -> None:
    now = get(agency_platform)
    events = {e["publication_id"]: e for e in get(agency_platform, f"{ENTITY}/history")["events"]}
    penalty = now["penalties"][0]
    for fact in (
        now["registered_by"],
        penalty,
        penalty["history"][0],
        penalty["history"][1],
        now["abnormal_listings"][0],
    ):
        provenance = fact["provenance"]
        event = events[provenance["publication_id"]]
        assert (
            provenance["position"] == event["position"]
            and provenance["entity_version"] == event["entity_version"]
        )
        assert provenance["department"] == "TJ-AMR" and provenance["signing_key_id"].startswith("sk_")
        assert provenance["principal"] == "job:test"
        mandate = provenance["mandate"]  # the kinds TJ-AMR might publish when it arrived
        assert mandate["department"] == "TJ-AMR" and mandate["department_name"] == "天津市市场监督管理委员会"
        assert mandate["allows_kind"] is True and mandate["in_force_from"] is None
        assert event["kind"] in mandate["kinds"] and mandate == event["mandate"]
    assert penalty["provenance"]["basis"] == "《中华人民共和国食品安全法》第一百二十四条"
    assert now["position"] == max(e["position"] for e in events.values())


def test_the_history_lists_every_event_in_order_with_its_position(agency_platform: AgencyPlatform) -> None:
    history = get(agency_platform, f"{ENTITY}/history")
    events = history["events"]
    assert [e["event"] for e in events] == [
        "Registered",
        "PenaltyImposed",
        "PenaltyAmended",
        "RegistrationChanged",
        "AbnormalListed",
        "PenaltyRevoked",
        "AbnormalRemoved",
    ]
    assert [e["entity_version"] for e in events] == list(range(1, 8))
    positions = [e["position"] for e in events]
    assert positions == sorted(positions) and len(set(positions)) == 7
    assert events[0]["kind"] == "registration.registered" and "*" not in str(events[0]["data"])
    assert [e["event"] for e in get(agency_platform, f"{ENTITY}/history", as_of="2023-12-31")["events"]] == [
        "Registered",
        "PenaltyImposed",
        "PenaltyAmended",
    ]


def test_an_as_of_before_the_entity_existed_is_404_in_chinese(agency_platform: AgencyPlatform) -> None:
    response = agency_platform.client.get(
        ENTITY, params={"as_of": "2021-03-14"}, headers=agency_platform.headers()
    )
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_yet_registered" and "尚未登记" in body["message"]
    assert body["registered_on"] == "2021-03-15"


def test_known_at_leaves_out_what_the_platform_had_not_recorded(agency_platform: AgencyPlatform) -> None:
    history = get(agency_platform, f"{ENTITY}/history")["events"]
    recorded = history[0]["recorded_at"]
    assert get(agency_platform, known_at=recorded)["version"] >= 1
    response = agency_platform.client.get(
        ENTITY, params={"known_at": "2020-01-01T00:00:00+08:00"}, headers=agency_platform.headers()
    )
    assert response.status_code == 404 and response.json()["code"] == "not_yet_registered"


@pytest.mark.parametrize(
    "params",
    [
        {"as_of": "2024-13-01"},
        {"as_of": "yesterday"},
        {"known_at": "2024-01-01T00:00:00"},
        {"as_of": "2099-01-01"},
    ],
    ids=["month-13", "word", "naive-instant", "future"],
)
def test_a_malformed_as_of_or_known_at_is_422_in_chinese(
    agency_platform: AgencyPlatform, params: dict[str, str]
) -> None:
    response = agency_platform.client.get(ENTITY, params=params, headers=agency_platform.headers())
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert all(ord(c) < 128 for c in response.json()["message"]) is False  # Chinese


def test_an_unknown_or_invalid_uscc(agency_platform: AgencyPlatform) -> None:
    client = agency_platform.client
    missing = client.get(f"/api/v1/agency/entities/{uscc_for(999)}", headers=agency_platform.headers())
    invalid = client.get(f"/api/v1/agency/entities/{uscc_for(999)[:-1]}0", headers=agency_platform.headers())
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_uscc"
    assert missing.status_code == 404 and missing.json()["code"] == "entity_not_found"


def test_the_read_scope_is_needed(agency_platform: AgencyPlatform) -> None:
    for scope in ("match", "screen", "feed"):
        response = agency_platform.client.get(ENTITY, headers=agency_platform.headers(scope))
        assert response.status_code == 403
    assert agency_platform.client.get(ENTITY, headers=agency_platform.headers("read")).status_code == 200


# --- the internal extract ------------------------------------------------------------------------


def test_the_internal_extract_is_marked_internal_and_verifiable(agency_platform: AgencyPlatform) -> None:
    client = agency_platform.client
    response = client.get(
        f"{ENTITY}/extract.pdf", params={"as_of": "2024-06-30"}, headers=agency_platform.headers()
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["x-classification"] == "internal"
    code, sha = response.headers["x-verification-code"], response.headers["x-content-sha256"]
    verified = client.get(f"/api/v1/extracts/{sha}").json()
    assert verified["uscc"] == HISTORY and verified["code"] == code
    assert client.get(f"/api/v1/extracts/{code}").json()["sha256"] == sha
    with pikepdf.open(io.BytesIO(response.content)) as pdf:  # the PDF's own metadata
        assert "classification:internal" in str(pdf.docinfo["/Keywords"])
    assert agency_platform.container.extract_seal.check(response.content).sealed  # as the public one is
    entry = last_entry(agency_platform)
    assert entry.route.endswith("/extract.pdf") and entry.counts["extract"] == code


def test_extracts_are_not_served_to_keys_of_other_roles(agency_platform: AgencyPlatform) -> None:
    key = agency_platform.container.credentials.add(Role.PUBLIC, "curious")
    response = agency_platform.client.get(f"{ENTITY}/extract.pdf", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403
    assert date.today()  # (the public extract stays at /entity/{uscc}/extract.pdf)


def test_a_percent_encoded_officer_longer_than_allowed_is_cut_to_100_characters(
    agency_platform: AgencyPlatform,
) -> None:
    headers = agency_platform.headers() | {"X-Officer": text("王" * 150)}
    assert agency_platform.client.get(ENTITY, headers=headers).status_code == 200
    assert last_entry(agency_platform).officer == "王" * 100
