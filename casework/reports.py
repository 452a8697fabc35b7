"""Annual reports through the enterprise desk: drafts, filing, history.

- A draft (`PUT …/annual-reports/{year}`) is the `annual_report.submitted` payload, checked field
  by field (a field left out is fine in a draft, a wrong one is not), kept in the private store
  with a revision number; the cross-checks it fails are told, not refused, until it is filed.
- Filing (`POST …/submit`) sends the saved draft: the first filing of a year as
  `annual_report.submitted`, any later one as `annual_report.corrected` (with a reason). The
  date is the system's. Before 1 January of the next year: `report_window_not_open`; a first
  filing after 30 June is accepted and marked late by the record; a correction after 30 June:
  `report_window_closed` (Art. 12). One publication id per draft revision, so sending the same
  draft twice files it once.
- The history is read from the events themselves: every version, when, and who acted.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from domain.annual_report import (
    correction_window_closed,
    first_report_year,
    public_report,
    report_problems,
    report_window,
)
from domain.entity import MarketEntity, entity_id
from domain.errors import InvalidFiling, InvariantViolated
from domain.publications import AnnualReportSubmitted
from domain.validation import chinese_message

__all__ = [
    "DRAFT_KIND",
    "FilingPlan",
    "check_draft",
    "check_filing",
    "history",
    "plan_filing",
    "publication_id",
    "publication_ids",
]

DRAFT_KIND = "annual_report"
_REPORT_TOPICS = (
    "domain.entity:MarketEntity.AnnualReportSubmitted",
    "domain.entity:MarketEntity.AnnualReportCorrected",
)


def _errors(err: ValidationError, *, missing_ok: bool) -> list[dict[str, Any]]:
    return [
        {
            "loc": ["body", *(p if isinstance(p, int) else str(p) for p in e["loc"])],
            "type": e["type"],
            "message": chinese_message(e),
        }
        for e in err.errors()
        if not (missing_ok and e["type"] == "missing")
    ]


def _body(year: int, body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The payload part of a draft body (its year set from the path) and the correction reason."""
    if "year" in body and body["year"] not in (year, str(year)):
        raise InvalidFiling(
            f"报告年度（{body['year']}）与地址中的年度（{year}）不一致",
            errors=[{"loc": ["body", "year"], "type": "value_error", "message": "报告年度与地址不一致"}],
        )
    payload = {k: v for k, v in body.items() if k not in ("reason", "uscc")}
    payload["year"] = year
    reason = body.get("reason")
    return payload, (str(reason).strip() or None) if reason is not None else None


def problem_list(payload: dict[str, Any], today: date) -> list[dict[str, Any]]:
    return [
        {"loc": ["body", *p.loc], "type": "cross_check", "message": p.message}
        for p in report_problems(payload, today)
    ]


def check_draft(year: int, body: dict[str, Any], today: date) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(what to keep, the cross-checks it fails now); `InvalidFiling` for a wrong field."""
    payload, reason = _body(year, body)
    try:
        AnnualReportSubmitted.model_validate(payload)
    except ValidationError as err:
        errors = _errors(err, missing_ok=True)
        if errors:
            raise InvalidFiling(
                "草稿中有填写错误的项目：" + "；".join(e["message"] for e in errors), errors=errors
            ) from None
    kept = {**payload, **({"reason": reason} if reason else {})}
    return kept, problem_list(payload, today)


def check_filing(year: int, body: dict[str, Any], today: date) -> tuple[dict[str, Any], str | None]:
    """The complete, consistent payload to file (JSON-ready) and the reason; else `InvalidFiling`."""
    payload, reason = _body(year, body)
    try:
        model = AnnualReportSubmitted.model_validate(payload)
    except ValidationError as err:
        errors = _errors(err, missing_ok=False)
        raise InvalidFiling(
            "年度报告尚未填写完整或有误：" + "；".join(e["message"] for e in errors), errors=errors
        ) from None
    data = model.model_dump(mode="json", exclude_none=True)
    problems = problem_list(data, today)
    if problems:
        raise InvalidFiling(
            "年度报告未通过校验：" + "；".join(p["message"] for p in problems),
            code="annual_report_inconsistent",
            errors=problems,
        )
    return data, reason


def publication_id(uscc: str, year: int, revision: int, correcting: bool) -> str:
    """One publication id per draft revision: filing the same draft twice files it once."""
    return f"ENT-{uscc}-AR{year}-{'C' if correcting else 'S'}{revision}"


def publication_ids(uscc: str, year: int, revision: int) -> tuple[str, str]:
    return publication_id(uscc, year, revision, False), publication_id(uscc, year, revision, True)


class FilingPlan:
    """What filing a draft will be: the kind, and the publication id of this draft revision."""

    def __init__(self, uscc: str, year: int, revision: int, correcting: bool) -> None:
        self.correcting = correcting
        self.kind = "annual_report.corrected" if correcting else "annual_report.submitted"
        self.publication_id = publication_id(uscc, year, revision, correcting)


def plan_filing(
    entity: MarketEntity, year: int, revision: int, today: date, *, filed_elsewhere: bool
) -> FilingPlan:
    """Which filing a draft makes on `today`, or the 409 that refuses it (the window rules)."""
    established = date.fromisoformat(str(entity.registration["established_on"]))
    if year < first_report_year(established):
        raise InvariantViolated(f"{year} 年度早于成立年度 {established.year}", code="report_year_invalid")
    start, end = report_window(year)
    if today < start:
        raise InvariantViolated(f"{year} 年度报告自 {start} 起报送", code="report_window_not_open")
    correcting = str(year) in entity.annual_reports or filed_elsewhere
    if correcting and correction_window_closed(year, today):
        raise InvariantViolated(
            f"{year} 年度报告的更正应于 {end} 前完成，已过更正期限；如需更正请联系登记机关",
            code="report_window_closed",
        )
    return FilingPlan(entity.uscc, year, revision, correcting)


def history(reader: Any, entity: MarketEntity, year: int) -> list[dict[str, Any]]:
    """Every version of the report for `year`, oldest first: submitted or corrected, the system
    date it counts from, who acted (principal), the reason, the whole version and what of it the
    public sees."""
    natural = "个体" in str(entity.registration.get("entity_type") or "")
    out = []
    for stored in reader.recorder.select_events(entity_id(entity.uscc)):
        if stored.topic not in _REPORT_TOPICS:
            continue
        event = reader.mapper.to_domain_event(stored)
        if int(event.data.get("year", 0)) != year:
            continue
        version = {k: v for k, v in event.data.items() if k not in ("reason", "replaced_kept")}
        out.append(
            {
                "action": "corrected" if stored.topic.endswith("Corrected") else "submitted",
                "on": event.occurred_on.isoformat(),
                "recorded_at": event.timestamp.isoformat(),
                "publication_id": event.publication_id,
                "principal": event.principal,
                "reason": event.data.get("reason"),
                "version": version,
                "public": public_report(version, natural_person=natural),
            }
        )
    return out
