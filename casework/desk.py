"""The enterprise desk: an enterprise's use cases, one method each.

Every method acts for one authenticated principal (`domain.access.Principal`, role enterprise):
its USCC is the only entity it reads or files for. What it files goes on the publication log as
an envelope of the enterprise channel, signed by the platform for `principal.id`
(`enterprise:USCC` or `enterprise:USCC/user:NAME`), dated with the system date — never a date
the client sends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from adapters.enterprise_store import EnterpriseStore, Filing, receipt_code
from adapters.status_view import StatusView
from casework import reports
from casework.obligations import annual_report_obligations, next_report, open_listings
from casework.publishing import Publisher, enterprise_envelope
from domain.access import Principal
from domain.annual_report import public_report, report_state, report_window
from domain.clock import Clock
from domain.entity import MarketEntity
from domain.errors import InvalidFiling, NotFound
from domain.registry import Registry
from domain.workdays import WorkingDays

__all__ = ["READS_HOOK", "EnterpriseDesk", "FilingStatus"]

#: "Who read my record" when no access log is plugged in (a desk built without one).
READS_HOOK = {"available": False, "message": "本平台未启用机构访问日志", "items": []}
#: The reads of an entity's record an enterprise may see on a date (the agency access log's view:
#: agency, when, stated purpose; confidential reads only after their delay), newest first, at
#: most `limit`; None when the log cannot be read just now.
ReadsOf = Callable[[str, date, int], "list[dict[str, Any]] | None"]
#: How many reads the dashboard shows (the API `/api/v1/enterprise/access-log` gives them all).
DASHBOARD_READS = 20


@dataclass(frozen=True, slots=True)
class FilingStatus:
    """A filing and where it stands on the log: pending, applied, or rejected (with why)."""

    filing: Filing
    status: str
    code: str | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        f = self.filing
        return {
            "publication_id": f.publication_id,
            "kind": f.kind,
            "key": f.key,
            "filed_at": f.filed_at.isoformat(),
            "filed_on": f.filed_on.isoformat(),
            "filed_by": f.filed_by,
            "receipt_code": f.receipt_code,
            "status": self.status,
            "code": self.code,
            "message": self.message,
        }


class EnterpriseDesk:
    def __init__(
        self,
        *,
        reader: Registry,
        store: EnterpriseStore,
        statuses: StatusView,
        publisher: Publisher,
        clock: Clock,
        calendar: WorkingDays,
        cases: Callable[[MarketEntity], list[dict[str, Any]]] | None = None,
        reads_of: ReadsOf | None = None,
        confidential_delay_days: int | None = None,
    ) -> None:
        self.reads_of = reads_of  # agencies' reads of the record (the access log)
        self.confidential_delay_days = confidential_delay_days
        self.cases = cases  # the applications and objections (casework.applications)
        self.reader = reader
        self.store = store
        self.statuses = statuses
        self.publisher = publisher
        self.clock = clock
        self.calendar = calendar

    # --- reads --------------------------------------------------------------------------------------

    def entity(self, uscc: str) -> MarketEntity:
        """The enterprise's record (raises `EntityNotFound`)."""
        return self.reader.get_entity(uscc)

    def statuses_of(self, filings: Iterable[Filing]) -> list[FilingStatus]:
        filings = list(filings)
        found = self.statuses.get_many(f.publication_id for f in filings)
        out = []
        for f in filings:
            row = found.get(f.publication_id)
            if row is None:
                out.append(FilingStatus(f, "pending"))
            else:
                out.append(FilingStatus(f, str(row["status"]), row.get("code"), row.get("message")))
        return out

    def me(self, principal: Principal) -> dict[str, Any]:
        """The enterprise, who is acting, and its obligations with due dates and states."""
        uscc = principal.subject or ""
        today = self.clock.today()
        entity = self.entity(uscc)
        filings = self.statuses_of(self.store.filings(uscc))
        pending: dict[int, list[str]] = defaultdict(list)
        for f in filings:
            if f.status == "pending" and f.filing.kind.startswith("annual_report."):
                pending[int(f.filing.key)].append(f.filing.publication_id)
        return {
            "uscc": uscc,
            "name": entity.name,
            "status": entity.status,
            "established_on": entity.registration.get("established_on"),
            "registration_authority": entity.registration.get("registration_authority"),
            "today": today.isoformat(),
            "acting": {"principal": principal.id, "user": principal.user, "liaison": principal.is_liaison},
            "annual_reports": annual_report_obligations(entity, today, pending),
            "next_report": next_report(entity, today),
            "listings": open_listings(entity),
            "disclosures": [
                {
                    k: d.get(k)
                    for k in (
                        "disclosure_no",
                        "category",
                        "fact_on",
                        "occurred_on",
                        "due_on",
                        "late",
                        "due_warning",
                    )
                }
                for d in reversed(entity.disclosures[-20:])
            ],
            "cases": self.cases(entity) if self.cases is not None else [],
            "filings": [f.as_dict() for f in reversed(filings[-20:])],
            "reads": self.reads(uscc),
        }

    def reads(self, uscc: str, limit: int = DASHBOARD_READS) -> dict[str, Any]:
        """Agencies' reads of the record (agency, date, stated purpose), newest first, from the
        access log; a confidential read (an open investigation) only after its delay."""
        if self.reads_of is None:
            return dict(READS_HOOK)
        items = self.reads_of(uscc, self.clock.today(), limit)
        if items is None:
            return {"available": False, "message": "机构查阅记录暂时无法读取，请稍后再试", "items": []}
        return {
            "available": True,
            "items": items,
            "more": len(items) >= limit,
            "confidential_delay_days": self.confidential_delay_days,
        }

    # --- annual reports -----------------------------------------------------------------------------

    def save_report_draft(self, principal: Principal, year: int, body: dict[str, Any]) -> dict[str, Any]:
        """Keep a draft (never on the log); the cross-checks it fails now are told, not refused."""
        uscc = principal.subject or ""
        self.entity(uscc)  # an entity the register holds
        kept, problems = reports.check_draft(year, body, self.clock.today())
        draft = self.store.save_draft(
            uscc, reports.DRAFT_KIND, str(year), kept, principal.id, self.clock.now()
        )
        return {**self._draft(draft), "problems": problems}

    @staticmethod
    def _draft(draft: Any) -> dict[str, Any]:
        return {
            "body": draft.body,
            "revision": draft.revision,
            "saved_at": draft.saved_at.isoformat(),
            "saved_by": draft.saved_by,
        }

    def _report_filings(self, uscc: str, year: int) -> list[FilingStatus]:
        return self.statuses_of(
            f for f in self.store.filings(uscc, key=str(year)) if f.kind.startswith("annual_report.")
        )

    def annual_report(self, principal: Principal, year: int) -> dict[str, Any]:
        """The draft, the filed version (and what the public sees of it), every version filed,
        and the filings with where each stands."""
        uscc = principal.subject or ""
        today = self.clock.today()
        entity = self.entity(uscc)
        filed = entity.annual_reports.get(str(year))
        draft = self.store.draft(uscc, reports.DRAFT_KIND, str(year))
        opens, due = report_window(year)
        filed_on = date.fromisoformat(filed["submitted_on"]) if filed else None
        natural = "个体" in str(entity.registration.get("entity_type") or "")
        return {
            "year": year,
            "opens_on": opens.isoformat(),
            "due_on": due.isoformat(),
            "state": report_state(year, filed_on, today) if today >= opens else "not_open",
            "can_correct": filed is not None and today <= due,
            "draft": (
                {**self._draft(draft), "problems": reports.problem_list(draft.body, today)} if draft else None
            ),
            "filed": filed,
            "public": public_report(filed, natural_person=natural) if filed else None,
            "history": reports.history(self.reader, entity, year),
            "filings": [f.as_dict() for f in self._report_filings(uscc, year)],
        }

    def submit_report(self, principal: Principal, year: int, reason: str | None = None) -> dict[str, Any]:
        """File the saved draft: onto the log, signed for `principal.id`, dated today."""
        uscc = principal.subject or ""
        today, now = self.clock.today(), self.clock.now()
        draft = self.store.draft(uscc, reports.DRAFT_KIND, str(year))
        if draft is None:
            raise NotFound(f"尚未保存 {year} 年度报告草稿，请先填写并保存", code="no_draft")
        entity = self.entity(uscc)
        filings = self._report_filings(uscc, year)
        for earlier in filings:  # this very draft revision was filed already: once is enough
            own = earlier.filing.publication_id in reports.publication_ids(uscc, year, draft.revision)
            if own and earlier.status != "rejected":
                return self._accepted(earlier)
        submitted = [
            f
            for f in filings
            if f.filing.kind == "annual_report.submitted" and f.status in ("pending", "applied")
        ]
        plan = reports.plan_filing(entity, year, draft.revision, today, filed_elsewhere=bool(submitted))
        data, draft_reason = reports.check_filing(year, draft.body, today)
        if plan.correcting:
            why = (reason or draft_reason or "").strip()
            if not why:
                raise InvalidFiling(
                    f"{year} 年度报告已报送，更正须说明原因",
                    code="reason_required",
                    errors=[{"loc": ["body", "reason"], "type": "missing", "message": "请填写更正原因"}],
                )
            data = {**data, "reason": why}
        envelope = enterprise_envelope(plan.kind, uscc, data, today, plan.publication_id)
        self.publisher.publish([envelope], principal.id)
        filing = self.store.record_filing(
            Filing(
                plan.publication_id,
                uscc,
                plan.kind,
                str(year),
                data,
                now,
                today,
                principal.id,
                receipt_code(),
            )
        )
        [status] = self.statuses_of([filing])
        return self._accepted(status)

    @staticmethod
    def _accepted(status: FilingStatus) -> dict[str, Any]:
        return status.as_dict()

    def filing(self, principal: Principal, publication_id: str) -> FilingStatus:
        """One of the enterprise's own filings (another's is not found)."""
        filing = self.store.filing(publication_id)
        if filing is None or filing.uscc != principal.subject:
            raise NotFound(f"未找到本企业报送编号为 {publication_id} 的事项", code="unknown_filing")
        [status] = self.statuses_of([filing])
        return status

    def receipt(self, code: str) -> tuple[FilingStatus, str] | None:
        """A receipt by its verification code: the filing, where it stands, and the entity's name."""
        filing = self.store.filing_by_receipt(code.strip().upper())
        if filing is None:
            return None
        [status] = self.statuses_of([filing])
        try:
            name = self.entity(filing.uscc).name
        except Exception:  # the receipt stands even if the record cannot be read now
            name = ""
        return status, name
