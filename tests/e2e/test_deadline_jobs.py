"""The deadline jobs on the embedded platform: non-filers listed from 1 July (idempotent, batched,
resumable), removal after a late report (by the department or, undecided in time, automatically),
the three-year warning and the escalation to the serious list."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from casework.jobs import AnnualReportsJob
from domain.entity import entity_id
from tests.builders import annual_report_payload, envelope, listing_payload, registration_payload, uscc_for
from tests.e2e.enterprise_platform import EnterprisePlatform, enterprise_platform

FILER, LATE, YOUNG, GONE, PORTAL = (uscc_for(n) for n in (401, 402, 403, 404, 405))


@pytest.fixture
def ep(tmp_path: Path) -> Iterator[EnterprisePlatform]:
    with enterprise_platform(tmp_path / "var", date(2026, 5, 20), jobs_batch_size=2) as platform:
        for uscc in (FILER, LATE, GONE, PORTAL):
            platform.register(uscc, established="2023-04-01")
        platform.register(YOUNG, established="2026-02-01")
        platform.publish(
            envelope(
                "annual_report.submitted", annual_report_payload(2025), uscc=FILER, occurred_on="2026-05-20"
            ),
            *(
                envelope(
                    "annual_report.submitted", annual_report_payload(y), uscc=u, occurred_on="2026-05-20"
                )
                for u in (LATE, GONE, PORTAL)
                for y in (2023, 2024)
            ),
            envelope(
                "annual_report.submitted", annual_report_payload(2023), uscc=FILER, occurred_on="2026-05-20"
            ),
            envelope(
                "annual_report.submitted", annual_report_payload(2024), uscc=FILER, occurred_on="2026-05-20"
            ),
            envelope(
                "registration.deregistered", {"reason": "决议解散"}, uscc=GONE, occurred_on="2026-05-20"
            ),
        )
        yield platform


def run(ep: EnterprisePlatform, name: str, day: date, **kw: Any) -> Any:
    ep.on(day)
    ep.container.casework_projection.catch_up()
    result = ep.container.job(name, **kw).run(day)
    ep.process()
    return result


def listings(ep: EnterprisePlatform, uscc: str) -> dict[str, dict[str, Any]]:
    return ep.container.entity_reader.get_entity(uscc).abnormal_listings


def test_non_filers_are_listed_from_the_first_of_july_once(ep: EnterprisePlatform) -> None:
    # PORTAL files through the portal on 30 June; its filing is still on its way when the job runs
    ep.on(date(2026, 6, 30))
    ep.account(PORTAL)
    headers = ep.auth(PORTAL)
    body = {k: v for k, v in annual_report_payload(2025).items() if k != "year"}
    assert (
        ep.client.put("/api/v1/enterprise/annual-reports/2025", json=body, headers=headers).status_code == 200
    )
    assert ep.client.post("/api/v1/enterprise/annual-reports/2025/submit", headers=headers).status_code == 202
    assert run(ep, "annual-reports", date(2026, 6, 30)).published == 0  # the window is still open
    first = run(ep, "annual-reports", date(2026, 7, 1))
    assert first.published == 1 and listings(ep, LATE) and not listings(ep, FILER)
    assert not listings(ep, YOUNG) and not listings(ep, GONE) and not listings(ep, PORTAL)
    [listing] = listings(ep, LATE).values()
    assert (listing["cause"], listing["year"], listing["reason"]) == (
        "annual_report",
        2025,
        "未按规定报送年度报告",
    )
    assert listing["department"] == "TJ-AMR" and listing["listed_on"] == "2026-07-01"
    assert listing["authority"] == registration_payload()["registration_authority"]
    [event] = [
        e
        for e in ep.container.entity_reader.events.get(entity_id(LATE))
        if type(e).__name__ == "AbnormalListed"
    ]
    assert event.principal == "job:annual-reports"
    # a second run changes nothing, that day or the next
    assert run(ep, "annual-reports", date(2026, 7, 1)).published == 0
    again = run(ep, "annual-reports", date(2026, 7, 2))
    assert again.published == 0 and len(listings(ep, LATE)) == 1
    assert ep.client.get(f"/api/v1/entities/{LATE}").json()["flags"] == ["abnormal"]


def test_a_run_past_ten_working_days_still_lists_and_says_it_is_late(ep: EnterprisePlatform) -> None:
    result = run(ep, "annual-reports", date(2026, 7, 20))
    assert result.published >= 1
    assert any("2026-07-14" in note and "晚于期限" in note for note in result.notes)


def test_a_crashed_run_resumes_where_it_stopped(ep: EnterprisePlatform) -> None:
    for n in range(6):  # more non-filers than one batch
        ep.register(uscc_for(410 + n), established="2024-03-01")
    ep.on(date(2026, 7, 1))
    ep.container.casework_projection.catch_up()
    calls = {"n": 0}

    def crash_after_the_first_batch(_: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the process died")

    with pytest.raises(RuntimeError):
        ep.container.job("annual-reports", on_batch=crash_after_the_first_batch).run(date(2026, 7, 1))
    view = ep.container.casework_view
    after, published, done = view.job_progress("annual-reports", "2025@2026-07-01")
    assert after and published == 2 and not done
    resumed = ep.container.job("annual-reports").run(date(2026, 7, 1))
    ep.process()
    everyone = (LATE, *(uscc_for(410 + n) for n in range(6)))
    assert all(len(listings(ep, u)) == 1 for u in everyone)  # each listed, once
    # the batch published just before the crash was published again on resuming (at least once):
    # the same publication ids, applied once
    assert resumed.published == 2 + 2 + 4
    assert isinstance(ep.container.job("annual-reports"), AnnualReportsJob)


def _late_report_and_application(ep: EnterprisePlatform, day: date) -> str:
    run(ep, "annual-reports", date(2026, 7, 1))
    ep.on(day)
    ep.account(LATE)
    body = {k: v for k, v in annual_report_payload(2025).items() if k != "year"}
    ep.client.put("/api/v1/enterprise/annual-reports/2025", json=body, headers=ep.auth(LATE))
    [listing] = listings(ep, LATE)
    early = ep.client.post(
        "/api/v1/enterprise/abnormal-removals", json={"decision_no": listing}, headers=ep.auth(LATE)
    )
    assert early.status_code == 409 and early.json()["code"] == "report_not_filed"
    assert "2025" in early.json()["message"]
    assert (
        ep.client.post("/api/v1/enterprise/annual-reports/2025/submit", headers=ep.auth(LATE)).status_code
        == 202
    )
    applied = ep.client.post(
        "/api/v1/enterprise/abnormal-removals", json={"decision_no": listing}, headers=ep.auth(LATE)
    )
    assert applied.status_code == 202, applied.text
    ep.process()
    return str(applied.json()["number"])


def test_a_removal_undecided_in_time_is_granted_by_the_platform(ep: EnterprisePlatform) -> None:
    number = _late_report_and_application(ep, date(2026, 8, 3))  # a Monday
    [case] = ep.client.get("/api/v1/enterprise/cases", headers=ep.auth(LATE)).json()
    assert case["number"] == number and case["status"] == "pending" and case["due_on"] == "2026-08-10"
    assert run(ep, "abnormal-removals", date(2026, 8, 7)).published == 0  # not due yet
    assert run(ep, "abnormal-removals", date(2026, 8, 10)).published == 1
    [listing] = listings(ep, LATE).values()
    assert listing["removed"]["on"] == "2026-08-10" and "已补报 2025 年度报告" in listing["removed"]["reason"]
    assert ep.container.entity_reader.get_entity(LATE).applications[number]["status"] == "approved"
    assert run(ep, "abnormal-removals", date(2026, 8, 11)).published == 0
    assert ep.client.get(f"/api/v1/entities/{LATE}").json()["flags"] == []


def test_removal_waits_for_the_department_when_automatic_removal_is_off(tmp_path: Path) -> None:
    with enterprise_platform(tmp_path / "var", date(2026, 5, 20), abnormal_removal_automatic=False) as ep:
        ep.register(LATE, established="2023-04-01")
        names = [r.name for r in ep.container.deadline_jobs.jobs]
        assert names == ["annual-reports", "serious-escalation"]


def test_three_years_on_the_list_means_a_warning_then_the_serious_list(ep: EnterprisePlatform) -> None:
    ep.publish(
        envelope(
            "abnormal.listed", listing_payload("津滨市监异〔2023〕7号"), uscc=FILER, occurred_on="2023-07-03"
        )
    )
    assert run(ep, "serious-escalation", date(2026, 5, 3)).published == 0  # 61 days before
    warned = run(ep, "serious-escalation", date(2026, 5, 4))  # 60 days before 2026-07-03
    assert warned.published == 1
    listing = listings(ep, FILER)["津滨市监异〔2023〕7号"]
    assert listing["warning"]["escalation_on"] == "2026-07-03" and "届满3年" in listing["warning"]["content"]
    assert run(ep, "serious-escalation", date(2026, 7, 2)).published == 0
    assert run(ep, "serious-escalation", date(2026, 7, 3)).published == 1
    serious = ep.container.entity_reader.get_entity(FILER).serious_listings
    [entry] = serious.values()
    assert (
        "被列入经营异常名录届满3年仍未履行相关义务" in entry["reason"] and entry["listed_on"] == "2026-07-03"
    )
    assert run(ep, "serious-escalation", date(2026, 7, 4)).published == 0
    assert ep.client.get(f"/api/v1/entities/{FILER}").json()["flags"] == ["abnormal", "serious"]
    announcements = ep.client.get("/api/v1/records", params={"category": "abnormal_warning"}).json()
    assert [r["uscc"] for r in announcements["items"]] == [FILER]


def test_a_warning_missed_by_downtime_delays_the_escalation_by_sixty_days(ep: EnterprisePlatform) -> None:
    ep.publish(
        envelope(
            "abnormal.listed", listing_payload("津滨市监异〔2023〕8号"), uscc=FILER, occurred_on="2023-07-03"
        )
    )
    assert run(ep, "serious-escalation", date(2026, 7, 10)).published == 1  # the warning, late
    listing = listings(ep, FILER)["津滨市监异〔2023〕8号"]
    assert listing["warning"]["escalation_on"] == "2026-09-08"
    assert run(ep, "serious-escalation", date(2026, 9, 7)).published == 0
    assert run(ep, "serious-escalation", date(2026, 9, 8)).published == 1
