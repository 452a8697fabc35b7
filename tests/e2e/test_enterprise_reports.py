"""Annual reports through the enterprise API: private drafts, filing and correction under the
window rules, history with who acted, publish choices honoured in public, receipts."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from tests.builders import annual_report_payload, uscc_for
from tests.e2e.enterprise_platform import EnterprisePlatform, enterprise_platform
from tests.e2e.test_web_pages import pdf_text

USCC = uscc_for(311)
SOLE = uscc_for(312, category="92")
MAY = date(2026, 5, 20)


@pytest.fixture
def ep(tmp_path: Path) -> Iterator[EnterprisePlatform]:
    with enterprise_platform(tmp_path / "var", MAY) as platform:
        platform.register(USCC, established="2021-06-01")
        platform.account(USCC)
        yield platform


def report(**overrides: Any) -> dict[str, Any]:
    body = annual_report_payload(
        2025,
        postal_code="300457",
        total_liabilities="4000000.00",
        owners_equity="8000000.00",
        main_business_revenue="8000000.00",
        net_profit="500000.00",
        shareholders=[
            {
                "name": "张三",
                "subscribed_amount": "3000000.00",
                "subscribed_on": "2021-06-01",
                "subscribed_method": "货币",
                "paid_amount": "1000000.00",
                "paid_on": "2022-01-10",
                "paid_method": "货币",
            }
        ],
        online_stores=[{"kind": "shop", "name": "星海旗舰店", "url": "https://shop.example/xinghai"}],
        publicised=["employees", "revenue"],
    )
    body.pop("year")
    return {**body, **overrides}


def put(ep: EnterprisePlatform, body: dict[str, Any], year: int = 2025, user: str | None = None) -> Any:
    return ep.client.put(f"/api/v1/enterprise/annual-reports/{year}", json=body, headers=ep.auth(USCC, user))


def submit(ep: EnterprisePlatform, year: int = 2025, **body: Any) -> Any:
    return ep.client.post(
        f"/api/v1/enterprise/annual-reports/{year}/submit", json=body, headers=ep.auth(USCC)
    )


def public_reports(ep: EnterprisePlatform, uscc: str = USCC) -> list[dict[str, Any]]:
    response = ep.client.get(f"/api/v1/entities/{uscc}")
    assert response.status_code == 200, response.text
    return response.json()["annual_reports"]


def test_a_draft_is_kept_privately_and_its_problems_told(ep: EnterprisePlatform) -> None:
    log, topic = ep.container.log, ep.container.settings.publications_topic
    before = log.end_offsets(topic)
    partial = {
        "address": "天津市滨海新区第三大街51号",
        "total_assets": "100.00",
        "total_liabilities": "10.00",
        "owners_equity": "10.00",
    }
    saved = put(ep, partial)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["revision"] == 1 and body["saved_by"] == f"enterprise:{USCC}"
    assert [p["loc"] for p in body["problems"]] == [["body", "total_assets"]]
    assert "资产总额" in body["problems"][0]["message"]
    assert put(ep, report()).json()["revision"] == 2
    assert log.end_offsets(topic) == before  # never on the log
    ep.process()
    assert public_reports(ep) == []  # never public
    shown = ep.client.get("/api/v1/enterprise/annual-reports/2025", headers=ep.auth(USCC)).json()
    assert shown["draft"]["revision"] == 2 and shown["filed"] is None and shown["state"] == "due"


def test_a_wrong_field_in_a_draft_is_refused_in_chinese(ep: EnterprisePlatform) -> None:
    wrong = put(ep, {"employees": "很多", "postal_code": "3004"})
    assert wrong.status_code == 422, wrong.text
    body = wrong.json()
    assert body["code"] == "invalid_filing"
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert locs == {("body", "employees"), ("body", "postal_code")}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e["message"]) for e in body["errors"])
    assert put(ep, {"year": 2024}).json()["message"].startswith("报告年度")


def test_filing_the_draft_puts_it_on_the_log_and_the_record_shows_the_chosen_figures(
    ep: EnterprisePlatform,
) -> None:
    assert submit(ep).json()["code"] == "no_draft"
    put(ep, report())
    filed = submit(ep)
    assert filed.status_code == 202, filed.text
    body = filed.json()
    assert body["publication_id"] == f"ENT-{USCC}-AR2025-S1" and body["status"] == "pending"
    assert body["filed_on"] == "2026-05-20" and body["filed_by"] == f"enterprise:{USCC}"
    again = submit(ep)  # the same draft twice is filed once
    assert again.status_code == 202 and again.json()["publication_id"] == body["publication_id"]
    ep.process()
    status = ep.client.get(f"/api/v1/enterprise/filings/{body['publication_id']}", headers=ep.auth(USCC))
    assert status.json()["status"] == "applied"
    [public] = public_reports(ep)
    assert (public["year"], public["employees"], public["revenue"]) == (2025, 42, "8800000.00")
    for hidden in ("total_assets", "total_liabilities", "owners_equity", "net_profit", "profit", "tax_paid"):
        assert hidden not in public, hidden
    assert public["online_stores"][0]["name"] == "星海旗舰店" and public["shareholders"][0]["paid_amount"]
    assert public["phone"] == "022-25801234"
    shown = ep.client.get("/api/v1/enterprise/annual-reports/2025", headers=ep.auth(USCC)).json()
    assert shown["state"] == "filed" and shown["can_correct"] is True
    assert shown["filed"]["total_assets"] == "12000000.00"  # the enterprise sees everything it filed
    assert "total_assets" not in shown["public"]
    me = ep.client.get("/api/v1/enterprise/me", headers=ep.auth(USCC)).json()
    assert me["annual_reports"][0]["state"] == "filed" and me["annual_reports"][0]["filed_on"] == "2026-05-20"


def test_the_pages_and_the_pdf_extract_leave_the_unchosen_figures_out(
    ep: EnterprisePlatform, tmp_path: Path
) -> None:
    put(ep, report(total_assets="12345678.00", owners_equity="8345678.00"))
    submit(ep)
    ep.process()
    page = ep.client.get(f"/entity/{USCC}")
    assert "8,800,000.00" in page.text and "12,345,678.00" not in page.text
    pdf = ep.client.get(f"/entity/{USCC}/extract.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.content, tmp_path)
    assert text is not None and "8,800,000.00" in text and "12,345,678.00" not in text


def test_a_correction_needs_a_reason_and_keeps_every_version_with_who_filed_it(
    ep: EnterprisePlatform,
) -> None:
    store = ep.container.credentials
    code = store.invite_user(USCC, "wang", display_name="王丽", kind="staff", invited_by=None)
    store.activate(USCC, code, "wang-password-1", user="wang")
    put(ep, report())
    submit(ep)
    ep.process()
    ep.on(date(2026, 6, 10))
    ep.tokens[(USCC, "wang")] = store.login(USCC, "wang-password-1", "t", user="wang")
    assert put(ep, report(employees=45), user="wang").json()["saved_by"] == f"enterprise:{USCC}/user:wang"
    unexplained = submit(ep)
    assert unexplained.status_code == 422 and unexplained.json()["code"] == "reason_required"
    corrected = ep.client.post(
        "/api/v1/enterprise/annual-reports/2025/submit",
        json={"reason": "从业人数填报有误"},
        headers=ep.auth(USCC, "wang"),
    )
    assert corrected.status_code == 202, corrected.text
    assert corrected.json()["kind"] == "annual_report.corrected"
    ep.process()
    shown = ep.client.get("/api/v1/enterprise/annual-reports/2025", headers=ep.auth(USCC)).json()
    assert [(h["action"], h["on"], h["principal"]) for h in shown["history"]] == [
        ("submitted", "2026-05-20", f"enterprise:{USCC}"),
        ("corrected", "2026-06-10", f"enterprise:{USCC}/user:wang"),
    ]
    assert shown["history"][1]["reason"] == "从业人数填报有误"
    assert shown["filed"]["employees"] == 45
    [public] = public_reports(ep)
    assert public["employees"] == 45 and public["corrections"][0]["replaced"]["employees"] == 42


def test_the_window_rules_answer_409_in_chinese(ep: EnterprisePlatform) -> None:
    put(ep, report(), year=2026)
    early = submit(ep, year=2026)
    assert early.status_code == 409 and early.json()["code"] == "report_window_not_open"
    assert "2027-01-01" in early.json()["message"]
    put(ep, report(), year=2020)
    assert submit(ep, year=2020).json()["code"] == "report_year_invalid"
    put(ep, report())
    submit(ep)
    ep.process()
    ep.on(date(2026, 7, 1))
    put(ep, report(employees=45, reason="更正"))
    closed = submit(ep)
    assert closed.status_code == 409 and closed.json()["code"] == "report_window_closed"
    assert "2026-06-30" in closed.json()["message"]


def test_a_first_filing_after_june_is_accepted_and_marked_late(ep: EnterprisePlatform) -> None:
    ep.on(date(2026, 8, 3))
    put(ep, report(), year=2024)
    late = submit(ep, year=2024)
    assert late.status_code == 202, late.text
    ep.process()
    shown = ep.client.get("/api/v1/enterprise/annual-reports/2024", headers=ep.auth(USCC)).json()
    assert shown["state"] == "late" and shown["filed"]["late"] is True and shown["can_correct"] is False


def test_an_inconsistent_report_is_not_filed(ep: EnterprisePlatform) -> None:
    put(ep, report(owners_equity="1.00"))
    refused = submit(ep)
    assert refused.status_code == 422 and refused.json()["code"] == "annual_report_inconsistent"
    assert refused.json()["errors"][0]["loc"] == ["body", "total_assets"]
    incomplete = put(ep, {"address": "天津市"})
    assert incomplete.status_code == 200
    refused = submit(ep)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_filing"
    assert ["body", "operating_status"] in [e["loc"] for e in refused.json()["errors"]]


def test_a_receipt_carries_a_code_anyone_can_verify(ep: EnterprisePlatform, tmp_path: Path) -> None:
    put(ep, report())
    filed = submit(ep).json()
    ep.process()
    pdf = ep.client.get(
        f"/api/v1/enterprise/filings/{filed['publication_id']}/receipt.pdf", headers=ep.auth(USCC)
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content, tmp_path)
    assert text is not None and filed["receipt_code"] in text and "年度报告" in text
    with pikepdf.open(io.BytesIO(pdf.content)) as doc:  # tagged like the extract
        assert "/StructTreeRoot" in doc.Root and str(doc.Root.Lang) == "zh-CN"
        assert str(doc.docinfo["/Title"]) == f"报送回执 {filed['publication_id']}"
    code = filed["receipt_code"].replace("-", " ").lower()
    checked = ep.client.get(f"/api/v1/receipts/{code}")
    assert checked.status_code == 200, checked.text
    assert checked.json()["uscc"] == USCC and checked.json()["status"] == "applied"
    assert ep.client.get("/api/v1/receipts/R0000-0000-0000").status_code == 404


def test_another_enterprises_filing_is_not_found(ep: EnterprisePlatform) -> None:
    other = ep.register(uscc_for(313))
    ep.account(other)
    put(ep, report())
    filed = submit(ep).json()
    response = ep.client.get(f"/api/v1/enterprise/filings/{filed['publication_id']}", headers=ep.auth(other))
    assert response.status_code == 404


def test_a_sole_traders_mobile_is_masked_in_public(tmp_path: Path) -> None:
    with enterprise_platform(tmp_path / "var", MAY) as ep:
        ep.register(SOLE, established="2021-06-01", entity_type="个体工商户")
        ep.account(SOLE)
        ep.client.put(
            "/api/v1/enterprise/annual-reports/2025",
            json=report(phone="13912345678"),
            headers=ep.auth(SOLE),
        )
        ep.client.post("/api/v1/enterprise/annual-reports/2025/submit", headers=ep.auth(SOLE))
        ep.process()
        [public] = public_reports(ep, SOLE)
        assert public["phone"] == "139****5678"


def test_open_data_carries_only_the_figures_the_enterprise_chose(
    ep: EnterprisePlatform, tmp_path: Path
) -> None:
    import gzip

    from opendata.snapshot import ENTITIES, write_snapshot

    put(ep, report(total_assets="12345678.00", owners_equity="8345678.00"))
    submit(ep)
    ep.process()
    write_snapshot(ep.container.index, {}, MAY, tmp_path / "snapshot")
    lines = gzip.decompress((tmp_path / "snapshot" / ENTITIES).read_bytes()).decode().splitlines()
    [line] = [x for x in lines if USCC in x]
    assert "8800000" in line  # revenue, chosen
    assert "12345678" not in line and "8345678" not in line  # total assets and equity, not chosen
