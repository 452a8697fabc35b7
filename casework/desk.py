"""The enterprise desk: an enterprise's use cases, one method each.

Every method acts for one authenticated principal (`domain.access.Principal`, role enterprise):
its USCC is the only entity it reads or files for. What it files goes on the publication log as
an envelope of the enterprise channel, signed by the platform for `principal.id`
(`enterprise:USCC` or `enterprise:USCC/user:NAME`), dated with the system date — never a date
the client sends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from adapters.enterprise_store import EnterpriseStore, Filing
from adapters.status_view import StatusView
from casework.obligations import annual_report_obligations, next_report, open_listings
from casework.publishing import Publisher
from domain.access import Principal
from domain.clock import Clock
from domain.entity import MarketEntity
from domain.registry import Registry
from domain.workdays import WorkingDays

__all__ = ["READS_HOOK", "EnterpriseDesk", "FilingStatus"]

#: "Who read my record": agencies' reads come from the agency issue's access log (issue 13).
#: Until it exists, the dashboard says so; `EnterpriseDesk.reads` is where it plugs in.
READS_HOOK = {"available": False, "message": "机构查阅记录将在机构访问日志上线后显示", "items": []}


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
    ) -> None:
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
            "filings": [f.as_dict() for f in reversed(filings[-20:])],
            "reads": self.reads(uscc),
        }

    def reads(self, uscc: str) -> dict[str, Any]:
        """Agencies' reads of the record (agency, date, stated purpose): the hook for the agency
        issue's access log, which does not exist yet."""
        return dict(READS_HOOK)
