"""Credit repair, removal and objections: the enterprise applies or objects through its account,
the deciding department lists and decides its own cases (API and CLI), the public record follows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from domain.access import Role
from tests.builders import envelope, listing_payload, penalty_payload, uscc_for
from tests.e2e.enterprise_platform import EnterprisePlatform, enterprise_platform

USCC = uscc_for(501)
DECISION = "津市监罚〔2025〕1号"
PDF = b"%PDF-1.4\n% evidence\n"


@pytest.fixture
def ep(tmp_path: Path) -> Iterator[EnterprisePlatform]:
    with enterprise_platform(tmp_path / "var", date(2025, 7, 10)) as platform:
        platform.register(USCC, established="2021-06-01")
        platform.publish(
            envelope(
                "penalty.imposed",
                penalty_payload(publicised_on="2025-01-15"),
                uscc=USCC,
                occurred_on="2025-01-15",
            ),
            envelope(
                "abnormal.listed",
                listing_payload("津滨市监异〔2024〕9号"),
                uscc=USCC,
                occurred_on="2024-07-03",
            ),
        )
        platform.account(USCC)
        yield platform


def key(ep: EnterprisePlatform, department: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ep.container.credentials.add(Role.DEPARTMENT, department)}"}


def repair(ep: EnterprisePlatform, **body: Any) -> Any:
    payload = {
        "target": "penalty",
        "decision_no": DECISION,
        "reason": "已缴纳罚款并完成整改",
        "commitment": "本企业承诺依法诚信经营",
    }
    return ep.client.post("/api/v1/enterprise/repairs", json={**payload, **body}, headers=ep.auth(USCC))


def public_penalties(ep: EnterprisePlatform) -> list[dict[str, Any]]:
    return ep.client.get(f"/api/v1/entities/{USCC}").json()["penalties"]


def test_evidence_is_accepted_only_as_pdf_or_image(ep: EnterprisePlatform) -> None:
    upload = ep.client.post(
        "/api/v1/enterprise/evidence",
        files={"file": ("缴款凭证.pdf", PDF, "application/pdf")},
        headers=ep.auth(USCC),
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["content_type"] == "application/pdf" and len(upload.json()["sha256"]) == 64
    fake = ep.client.post(
        "/api/v1/enterprise/evidence",
        files={"file": ("x.pdf", b"not a pdf", "application/pdf")},
        headers=ep.auth(USCC),
    )
    assert fake.status_code == 422 and fake.json()["code"] == "unsupported_evidence"
    unknown = repair(ep, evidence=["ab" * 32])
    assert unknown.status_code in (409, 422) and unknown.json()["code"] in (
        "unknown_evidence",
        "repair_too_early",
    )


def test_a_repair_is_refused_before_the_minimum_window_then_decided_by_the_department(
    ep: EnterprisePlatform,
) -> None:
    early = repair(ep)
    assert early.status_code == 409 and early.json()["code"] == "repair_too_early"
    assert "2025-07-15" in early.json()["message"]
    ep.on(date(2025, 7, 21))  # a Monday
    sha = ep.client.post(
        "/api/v1/enterprise/evidence",
        files={"file": ("凭证.pdf", PDF, "application/pdf")},
        headers=ep.auth(USCC),
    ).json()["sha256"]
    filed = repair(ep, evidence=[sha])
    assert filed.status_code == 202, filed.text
    number = filed.json()["number"]
    assert filed.json()["due"] == {"on": "2025-08-11"}  # 15 working days
    ep.process()
    amr, tax = key(ep, "TJ-AMR"), key(ep, "TJ-TAX")
    pending = ep.client.get("/api/v1/departments/TJ-AMR/repairs", headers=amr)
    assert pending.status_code == 200 and [c["number"] for c in pending.json()] == [number]
    assert pending.json()[0]["due_on"] == "2025-08-11"
    assert ep.client.get("/api/v1/departments/TJ-AMR/repairs", headers=tax).status_code == 403
    assert ep.client.get("/api/v1/departments/TJ-TAX/repairs", headers=tax).json() == []
    assert ep.client.get("/api/v1/departments/TJ-AMR/repairs", headers=ep.auth(USCC)).status_code == 403
    refused_other = ep.client.post(
        f"/api/v1/departments/TJ-TAX/repairs/{number}/decision",
        json={"approve": True, "reason": "x"},
        headers=tax,
    )
    assert refused_other.status_code == 404
    assert len(public_penalties(ep)) == 1
    decided = ep.client.post(
        f"/api/v1/departments/TJ-AMR/repairs/{number}/decision",
        json={"approve": True, "reason": "已履行处罚决定，同意修复"},
        headers=amr,
    )
    assert decided.status_code == 202, decided.text
    assert decided.json()["kind"] == "repair.approved"
    ep.process()
    assert public_penalties(ep) == []  # the public view changes once the decision is applied
    [case] = ep.client.get("/api/v1/enterprise/cases", headers=ep.auth(USCC)).json()
    assert (case["status"], case["decided_on"], case["decision_reason"]) == (
        "approved",
        "2025-07-21",
        "已履行处罚决定，同意修复",
    )
    again = ep.client.post(
        f"/api/v1/departments/TJ-AMR/repairs/{number}/decision",
        json={"approve": False, "reason": "x"},
        headers=amr,
    )
    assert again.status_code == 409 and again.json()["code"] == "application_decided"
    history = ep.container.entity_reader.get_entity(USCC).applications[number]["decision"]
    assert history["principal"].startswith("department:TJ-AMR/key:")


def test_a_refused_application_leaves_the_record_as_it_was(ep: EnterprisePlatform) -> None:
    listing = "津滨市监异〔2024〕9号"
    filed = ep.client.post(
        "/api/v1/enterprise/abnormal-removals", json={"decision_no": listing}, headers=ep.auth(USCC)
    )
    assert filed.status_code == 202, filed.text
    ep.process()
    amr = key(ep, "TJ-AMR")
    [case] = ep.client.get("/api/v1/departments/TJ-AMR/abnormal-removals", headers=amr).json()
    refused = ep.client.post(
        f"/api/v1/departments/TJ-AMR/abnormal-removals/{case['number']}/decision",
        json={"approve": False, "reason": "经核查住所仍无法联系"},
        headers=amr,
    )
    assert refused.status_code == 202 and refused.json()["kind"] == "application.rejected"
    ep.process()
    assert ep.client.get(f"/api/v1/entities/{USCC}").json()["flags"][0] == "abnormal"
    assert ep.client.get("/api/v1/departments/TJ-AMR/abnormal-removals", headers=amr).json() == []
    rejected = ep.client.get(
        "/api/v1/departments/TJ-AMR/abnormal-removals?status=rejected", headers=amr
    ).json()
    assert [c["number"] for c in rejected] == [case["number"]]


def test_an_objection_marks_the_record_until_the_department_answers(ep: EnterprisePlatform) -> None:
    filed = ep.client.post(
        "/api/v1/enterprise/objections",
        json={"target": "penalty", "record_no": DECISION, "reason": "罚款金额与决定书不一致"},
        headers=ep.auth(USCC),
    )
    assert filed.status_code == 202, filed.text
    assert filed.json()["due"] == {"on": "2025-08-07"}  # 20 working days from 2025-07-10
    ep.process()
    [penalty] = public_penalties(ep)
    assert penalty["objection"]["status"] == "异议处理中"
    page = ep.client.get(f"/entity/{USCC}")
    assert "异议处理中" in page.text
    twice = ep.client.post(
        "/api/v1/enterprise/objections",
        json={"target": "penalty", "record_no": DECISION, "reason": "再次提出"},
        headers=ep.auth(USCC),
    )
    assert twice.status_code == 409 and twice.json()["code"] == "duplicate_objection"
    unknown = ep.client.post(
        "/api/v1/enterprise/objections",
        json={"target": "penalty", "record_no": "X", "reason": "x"},
        headers=ep.auth(USCC),
    )
    assert unknown.status_code == 404
    amr = key(ep, "TJ-AMR")
    [case] = ep.client.get("/api/v1/departments/TJ-AMR/objections", headers=amr).json()
    answered = ep.client.post(
        f"/api/v1/departments/TJ-AMR/objections/{case['number']}/decision",
        json={"upheld": False, "reason": "经核查，公示信息与决定书一致"},
        headers=amr,
    )
    assert answered.status_code == 202 and answered.json()["kind"] == "objection.resolved"
    ep.process()
    assert "objection" not in public_penalties(ep)[0]
    me = ep.client.get("/api/v1/enterprise/me", headers=ep.auth(USCC)).json()
    assert [(c["kind"], c["status"]) for c in me["cases"]] == [("objection", "resolved")]


def test_the_department_desk_on_the_command_line(
    ep: EnterprisePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    ep.on(date(2025, 7, 21))
    number = repair(ep).json()["number"]
    objection = ep.client.post(
        "/api/v1/enterprise/objections",
        json={"target": "abnormal", "record_no": "津滨市监异〔2024〕9号", "reason": "住所可以联系"},
        headers=ep.auth(USCC),
    ).json()["number"]
    ep.process()
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(ep.container.settings.data_dir))
    monkeypatch.setenv("GONGSHI_TODAY", "2025-07-21")
    runner = CliRunner()
    listed = runner.invoke(app, ["repairs", "list", "-d", "TJ-AMR"])
    assert listed.exit_code == 0 and number in listed.stdout
    decided = runner.invoke(
        app, ["repairs", "decide", number, "-d", "TJ-AMR", "--approve", "--reason", "同意"]
    )
    assert decided.exit_code == 0, decided.output
    assert "repair.approved" in decided.output
    wrong = runner.invoke(app, ["repairs", "decide", number, "-d", "TJ-TAX", "--reject", "--reason", "x"])
    assert wrong.exit_code == 1 and "unknown_application" in wrong.output
    assert objection in runner.invoke(app, ["objections", "list", "-d", "TJ-AMR"]).stdout
    answered = runner.invoke(
        app, ["objections", "decide", objection, "-d", "TJ-AMR", "--upheld", "--reason", "记录有误，予以更正"]
    )
    assert answered.exit_code == 0, answered.output
    ep.process()
    entity = ep.container.entity_reader.get_entity(USCC)
    assert entity.applications[number]["status"] == "approved"
    assert entity.applications[number]["decision"]["principal"] == "department:TJ-AMR/cli"
    assert entity.objections[objection]["resolution"]["upheld"] is True
    # the operator's two decisions are in the audit trail (the refused one is not)
    decided_acts = [(e.action, e.arguments["number"]) for e in ep.container.audit.entries()]
    assert decided_acts == [("cases.decided", number), ("cases.decided", objection)]


def test_an_instant_disclosure_later_than_twenty_working_days_is_marked_late(ep: EnterprisePlatform) -> None:
    on_time = ep.client.post(
        "/api/v1/enterprise/disclosures",
        json={"kind": "licence", "fact_on": "2025-06-20", "content": "取得食品经营许可证 JY1120116000123"},
        headers=ep.auth(USCC),
    )
    assert on_time.status_code == 202, on_time.text
    assert on_time.json()["late"] is False and on_time.json()["due"] == {"on": "2025-07-18"}
    late = ep.client.post(
        "/api/v1/enterprise/disclosures",
        json={"kind": "capital", "fact_on": "2025-05-06", "content": "股东张三实缴出资 100 万元"},
        headers=ep.auth(USCC),
    )
    assert late.json()["late"] is True
    future = ep.client.post(
        "/api/v1/enterprise/disclosures",
        json={"kind": "other", "fact_on": "2025-07-11", "content": "x"},
        headers=ep.auth(USCC),
    )
    assert future.status_code == 422
    ep.process()
    shown = {d["category"]: d for d in ep.client.get(f"/api/v1/entities/{USCC}").json()["disclosures"]}
    assert (
        shown["股东认缴和实缴出资信息"]["late"] is True
        and shown["股东认缴和实缴出资信息"]["due_on"] == "2025-06-04"  # Dragon Boat: 2 June off
    )
    assert shown["行政许可取得、变更、延续信息"]["late"] is False
    assert "逾期公示" in ep.client.get(f"/entity/{USCC}").text
    me = ep.client.get("/api/v1/enterprise/me", headers=ep.auth(USCC)).json()
    assert {d["late"] for d in me["disclosures"]} == {True, False}
