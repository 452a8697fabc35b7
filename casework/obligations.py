"""Where an enterprise stands: what it owes, what it filed, what it asked for — from its record
(the `MarketEntity` aggregate), the filings still on their way to it, and the system date.

Every deadline counted in working days comes from the calendar (`domain.workdays`); one that
falls in a year whose holidays are not entered is an estimate and carries its warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from domain.annual_report import report_obligations, report_window
from domain.entity import MarketEntity

__all__ = ["annual_report_obligations", "filed_reports", "open_listings"]


def filed_reports(entity: MarketEntity) -> dict[int, tuple[date, int]]:
    """Year → (first filed on, corrections), from the record."""
    return {
        int(year): (date.fromisoformat(r["submitted_on"]), len(r.get("corrections", [])))
        for year, r in entity.annual_reports.items()
    }


def annual_report_obligations(
    entity: MarketEntity, today: date, pending: Mapping[int, Iterable[str]] | None = None
) -> list[dict[str, Any]]:
    """One entry per year owed, newest first, with its state (due / filed / late / overdue) and
    the publication ids of filings not yet applied."""
    established = date.fromisoformat(str(entity.registration["established_on"]))
    out = []
    for o in report_obligations(established, filed_reports(entity), today):
        out.append(
            {
                "year": o.year,
                "opens_on": o.opens_on.isoformat(),
                "due_on": o.due_on.isoformat(),
                "state": o.state,
                "label": o.label,
                "filed_on": o.filed_on.isoformat() if o.filed_on else None,
                "corrections": o.corrections,
                "can_correct": o.can_correct(today),
                "pending": sorted((pending or {}).get(o.year, ())),
            }
        )
    return out


def next_report(entity: MarketEntity, today: date) -> dict[str, Any] | None:
    """The next report whose window has not opened yet (the current year's), if the entity owes it."""
    year = today.year
    established = date.fromisoformat(str(entity.registration["established_on"]))
    if year < established.year:
        return None
    opens, due = report_window(year)
    return {"year": year, "opens_on": opens.isoformat(), "due_on": due.isoformat()}


def open_listings(entity: MarketEntity) -> list[dict[str, Any]]:
    """The entity's listings on the abnormal operations and serious lists not yet removed."""
    out = []
    for list_name, listings in (("abnormal", entity.abnormal_listings), ("serious", entity.serious_listings)):
        for item in listings.values():
            if item.get("removed") is None:
                out.append(
                    {
                        "list": list_name,
                        "decision_no": item["decision_no"],
                        "listed_on": item["listed_on"],
                        "reason": item["reason"],
                        "cause": item.get("cause"),
                        "year": item.get("year"),
                        "department": item.get("department"),
                    }
                )
    return out
