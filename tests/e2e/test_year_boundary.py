"""One enterprise's year across the boundary of the annual-report window, and three years on —
the system date moved as `GONGSHI_TODAY` moves it, the jobs run by `gongshi jobs run` with it:

a draft in May, the filing in June, a correction; on 1 July the job lists a neighbour that did not
file; the neighbour files late in August, applies, and is removed when its department does not
decide in time; a third entity never files, is warned 60 days before three years on the list and
goes to the serious list on the day."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.builders import annual_report_payload, uscc_for
from tests.e2e.enterprise_platform import EnterprisePlatform, enterprise_platform

DILIGENT, LATE, SILENT = uscc_for(601), uscc_for(602), uscc_for(603)
runner = CliRunner()


def report(**overrides: Any) -> dict[str, Any]:
    body = {k: v for k, v in annual_report_payload(2025).items() if k != "year"}
    return {**body, **overrides}


def job(ep: EnterprisePlatform, name: str, day: date, monkeypatch: pytest.MonkeyPatch) -> int:
    """`GONGSHI_TODAY=day gongshi jobs run NAME` against the platform's data, then apply it."""
    ep.on(day)
    monkeypatch.setenv("GONGSHI_TODAY", day.isoformat())
    result = runner.invoke(app, ["jobs", "run", name])
    assert result.exit_code == 0, result.output
    ep.process()
    return int(json.loads(result.stdout.splitlines()[-1])["published"])


def me(ep: EnterprisePlatform, uscc: str) -> dict[str, Any]:
    return ep.client.get("/api/v1/enterprise/me", headers=ep.auth(uscc)).json()


def put(ep: EnterprisePlatform, uscc: str, body: dict[str, Any]) -> Any:
    return ep.client.put("/api/v1/enterprise/annual-reports/2025", json=body, headers=ep.auth(uscc))


def submit(ep: EnterprisePlatform, uscc: str, **body: Any) -> Any:
    return ep.client.post("/api/v1/enterprise/annual-reports/2025/submit", json=body, headers=ep.auth(uscc))


def state(ep: EnterprisePlatform, uscc: str, year: int = 2025) -> str:
    return str(next(r["state"] for r in me(ep, uscc)["annual_reports"] if r["year"] == year))


def test_a_year_across_the_window_and_three_years_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "var"
    monkeypatch.setenv("GONGSHI_DATA_DIR", str(data))
    with enterprise_platform(data, date(2026, 5, 15)) as ep:
        for uscc in (DILIGENT, LATE, SILENT):
            ep.register(uscc, established="2025-03-01")
            ep.account(uscc)
        # May: a draft, saved, not filed
        assert put(ep, DILIGENT, report(employees=10)).status_code == 200
        assert state(ep, DILIGENT) == "due"

        # June: filed, then corrected
        ep.on(date(2026, 6, 10))
        assert submit(ep, DILIGENT).status_code == 202
        ep.process()
        assert state(ep, DILIGENT) == "filed"
        ep.on(date(2026, 6, 20))
        put(ep, DILIGENT, report(employees=12))
        assert submit(ep, DILIGENT, reason="从业人数有误").json()["kind"] == "annual_report.corrected"
        ep.process()
        assert [
            h["action"]
            for h in ep.client.get(
                "/api/v1/enterprise/annual-reports/2025", headers=ep.auth(DILIGENT)
            ).json()["history"]
        ] == ["submitted", "corrected"]

        # 30 June: nothing yet; 1 July: the two that did not file are listed, the one that did is not
        assert job(ep, "annual-reports", date(2026, 6, 30), monkeypatch) == 0
        assert job(ep, "annual-reports", date(2026, 7, 1), monkeypatch) == 2
        assert job(ep, "annual-reports", date(2026, 7, 1), monkeypatch) == 0
        assert state(ep, LATE) == "overdue" and me(ep, DILIGENT)["listings"] == []
        [listing] = me(ep, LATE)["listings"]
        assert listing["cause"] == "annual_report" and listing["year"] == 2025
        put(ep, DILIGENT, report(employees=13))
        closed = submit(ep, DILIGENT, reason="再次更正")
        assert closed.status_code == 409 and closed.json()["code"] == "report_window_closed"

        # August: the late filing, the application, the removal when the department is silent
        ep.on(date(2026, 8, 3))
        put(ep, LATE, report())
        assert submit(ep, LATE).status_code == 202
        ep.process()
        assert state(ep, LATE) == "late"
        applied = ep.client.post(
            "/api/v1/enterprise/abnormal-removals",
            json={"decision_no": listing["decision_no"]},
            headers=ep.auth(LATE),
        )
        assert applied.status_code == 202 and applied.json()["due"]["on"] == "2026-08-10"
        ep.process()
        assert job(ep, "abnormal-removals", date(2026, 8, 7), monkeypatch) == 0
        assert job(ep, "abnormal-removals", date(2026, 8, 10), monkeypatch) == 1
        assert me(ep, LATE)["listings"] == [] and me(ep, LATE)["cases"][0]["status"] == "approved"

        # three years on: SILENT never filed; the warning 60 days before, the serious list on the day
        assert job(ep, "serious-escalation", date(2029, 5, 1), monkeypatch) == 0
        ep.container.casework_projection.catch_up()
        assert job(ep, "serious-escalation", date(2029, 5, 2), monkeypatch) >= 1
        [first] = [x for x in me(ep, SILENT)["listings"] if x["year"] == 2025]
        warned = ep.container.entity_reader.get_entity(SILENT).abnormal_listings[first["decision_no"]][
            "warning"
        ]
        assert warned["escalation_on"] == "2029-07-01"
        assert job(ep, "serious-escalation", date(2029, 6, 30), monkeypatch) == 0
        assert job(ep, "serious-escalation", date(2029, 7, 1), monkeypatch) == 1
        serious = [x for x in me(ep, SILENT)["listings"] if x["list"] == "serious"]
        assert len(serious) == 1 and "届满3年" in serious[0]["reason"]
        assert ep.client.get(f"/api/v1/entities/{SILENT}").json()["flags"] == ["abnormal", "serious"]
        # the years after 2026 have no holiday data: a deadline counted in them says it is an estimate
        objection = ep.client.post(
            "/api/v1/enterprise/objections",
            json={"target": "serious", "record_no": serious[0]["decision_no"], "reason": "请核实"},
            headers=ep.auth(SILENT),
        )
        assert objection.status_code == 202, objection.text
        assert "2029 年的节假日安排尚未录入" in objection.json()["due"]["warning"]
