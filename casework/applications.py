"""An enterprise's applications and objections, and the departments' decisions on them.

The enterprise (through its account) applies to leave the abnormal list after a late report, for
credit repair of a penalty or a serious listing, or objects to a record; each is an envelope of
the enterprise channel on the log (`application.filed`, `objection.filed`), checked here first so
the enterprise hears at once why it cannot apply yet (the record's minimum window, a report still
missing), and again by the record itself when applied. The deciding department — the registration
authority for listings, the department that imposed a penalty or published the record — decides
(`repair.approved` / `abnormal.removed` / `application.rejected`, `objection.resolved`), each
naming the application; the public record changes when the decision is applied.

Deadlines are working days from the filing's system date (`domain.workdays`): a removal within
`GONGSHI_ABNORMAL_REMOVAL_WORKING_DAYS`, a repair within `GONGSHI_REPAIR_DECISION_WORKING_DAYS`
(15), an objection answered within `GONGSHI_OBJECTION_DECISION_WORKING_DAYS` (20); a deadline in a
year without holiday data is an estimate and says so, to both sides.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from adapters.casework_view import CaseworkView
from adapters.enterprise_store import EnterpriseStore, Evidence, Filing, receipt_code
from casework.publishing import Publisher, enterprise_envelope, envelope
from domain.access import Principal
from domain.clock import Clock
from domain.entity import MarketEntity
from domain.errors import InvalidFiling, InvariantViolated, NotFound
from domain.registry import Registry
from domain.workdays import Deadline, WorkingDays

__all__ = ["ApplicationDesk", "Deadlines", "DecisionDesk", "evidence_kind"]

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
#: The largest evidence file accepted (bytes); the upload route's body limit is a little more.
EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
#: What an instant disclosure is about, as the record labels it (Art. 10).
DISCLOSURE_KINDS = {
    "capital": "股东认缴和实缴出资信息",
    "equity_transfer": "股权转让等股权变更信息",
    "licence": "行政许可取得、变更、延续信息",
    "ip_pledge": "知识产权出质登记信息",
    "penalty": "受到行政处罚信息",
    "other": "其他依法应当公示的信息",
}
APPLICATION_KINDS = {
    "abnormal_removal": "移出经营异常名录申请",
    "repair": "信用修复申请",
    "objection": "异议申请",
}


def evidence_kind(data: bytes) -> str | None:
    """The content type of an evidence file by what it is (PDF, PNG, JPEG), not what it claims."""
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Working days each kind of case is decided within (settings)."""

    removal: int = 5
    repair: int = 15
    objection: int = 20


def _number(prefix: str, today: date) -> str:
    return f"{prefix}{today:%Y%m%d}-{secrets.token_hex(4).upper()}"


class ApplicationDesk:
    """The enterprise's side."""

    def __init__(
        self,
        *,
        reader: Registry,
        store: EnterpriseStore,
        publisher: Publisher,
        clock: Clock,
        calendar: WorkingDays,
        deadlines: Deadlines,
    ) -> None:
        self.reader = reader
        self.store = store
        self.publisher = publisher
        self.clock = clock
        self.calendar = calendar
        self.deadlines = deadlines

    # --- evidence --------------------------------------------------------------------------------

    def keep_evidence(self, principal: Principal, name: str, data: bytes) -> dict[str, Any]:
        """Keep an evidence file (PDF or image, at most 5 MB) for the enterprise's applications."""
        import hashlib

        kind = evidence_kind(data)
        if kind is None:
            raise InvalidFiling("证明材料只接受 PDF、PNG 或 JPEG 文件", code="unsupported_evidence")
        if len(data) > EVIDENCE_MAX_BYTES:
            raise InvalidFiling("证明材料单个文件不得超过 5 MB", code="evidence_too_large")
        sha = hashlib.sha256(data).hexdigest()
        clean = (name or "证明材料").replace("/", "_").replace("\\", "_")[:200]
        self.store.keep_evidence(
            Evidence(sha, principal.subject or "", clean, kind, len(data), data),
            principal.id,
            self.clock.now(),
        )
        return {"sha256": sha, "name": clean, "size": len(data), "content_type": kind}

    def _evidence(self, uscc: str, hashes: list[str]) -> list[dict[str, Any]]:
        out = []
        for sha in hashes:
            found = self.store.evidence(uscc, sha.strip().lower())
            if found is None:
                raise InvalidFiling(
                    f"未找到证明材料 {sha}，请先上传",
                    code="unknown_evidence",
                    errors=[
                        {
                            "loc": ["body", "evidence"],
                            "type": "value_error",
                            "message": f"未找到证明材料 {sha}",
                        }
                    ],
                )
            out.append(
                {
                    "name": found.name,
                    "sha256": found.sha256,
                    "size": found.size,
                    "content_type": found.content_type,
                }
            )
        return out

    # --- filing ------------------------------------------------------------------------------------

    def _file(
        self, principal: Principal, kind: str, number: str, payload: dict[str, Any], deadline: Deadline
    ) -> dict[str, Any]:
        uscc, today, now = principal.subject or "", self.clock.today(), self.clock.now()
        if kind != "disclosure.published":  # a disclosure's due date is the record's to set
            payload = {**payload, "due_on": deadline.on.isoformat()}
            if deadline.warning:
                payload["due_warning"] = deadline.warning
        publication_id = f"ENT-{uscc}-{number}"
        self.publisher.publish(
            [enterprise_envelope(kind, uscc, payload, today, publication_id)], principal.id
        )
        filing = self.store.record_filing(
            Filing(publication_id, uscc, kind, number, payload, now, today, principal.id, receipt_code())
        )
        return {
            "number": number,
            "publication_id": publication_id,
            "status": "pending",
            "filed_on": today.isoformat(),
            "due": deadline.as_dict(),
            "receipt_code": filing.receipt_code,
        }

    def apply_for_removal(self, principal: Principal, decision_no: str, reason: str | None) -> dict[str, Any]:
        """Apply to leave the abnormal list; listed for a missing report, only once it is filed."""
        uscc, today = principal.subject or "", self.clock.today()
        entity = self.reader.get_entity(uscc)
        listing = entity.abnormal_listings.get(decision_no)
        if listing is None or listing.get("removed") is not None:
            raise NotFound(f"未找到文号为 {decision_no} 的有效经营异常名录记录", code="unknown_listing")
        year = listing.get("year")
        if (
            listing.get("cause") == "annual_report"
            and year is not None
            and not self._filed(entity, int(year))
        ):
            raise InvariantViolated(
                f"因未报送 {year} 年度报告被列入：请先补报 {year} 年度报告，再申请移出",
                code="report_not_filed",
            )
        why = reason or (
            f"已补报 {year} 年度报告并公示，申请移出经营异常名录"
            if year
            else "已履行相关义务，申请移出经营异常名录"
        )
        payload = {
            "application_no": (number := _number("YC", today)),
            "type": "abnormal_removal",
            "target": "abnormal",
            "decision_no": decision_no,
            "department": listing.get("department") or "TJ-AMR",
            "reason": why,
        }
        return self._file(
            principal,
            "application.filed",
            number,
            payload,
            self.calendar.deadline(today, self.deadlines.removal),
        )

    def _filed(self, entity: MarketEntity, year: int) -> bool:
        if str(year) in entity.annual_reports:
            return True
        return any(
            f.kind == "annual_report.submitted" for f in self.store.filings(entity.uscc, key=str(year))
        )

    def apply_for_repair(
        self,
        principal: Principal,
        target: str,
        decision_no: str,
        reason: str,
        commitment: str,
        evidence: list[str],
    ) -> dict[str, Any]:
        """Apply for credit repair of a penalty or a serious listing: refused now, with the reason,
        before the record's minimum window or for a record that can never be repaired early."""
        uscc, today = principal.subject or "", self.clock.today()
        entity = self.reader.get_entity(uscc)
        if target == "abnormal":
            raise InvariantViolated(
                "移出经营异常名录请提交移出申请（abnormal-removals）", code="wrong_application_type"
            )
        entity.check_repairable(target, decision_no, today, {"publicity": self.reader.publicity})
        record = entity.record_of(target, decision_no) or {}
        payload = {
            "application_no": (number := _number("XF", today)),
            "type": "repair",
            "target": target,
            "decision_no": decision_no,
            "department": record.get("department") or "TJ-AMR",
            "reason": reason,
            "commitment": commitment,
            "evidence": self._evidence(uscc, evidence),
        }
        return self._file(
            principal,
            "application.filed",
            number,
            payload,
            self.calendar.deadline(today, self.deadlines.repair),
        )

    def object(
        self, principal: Principal, target: str, record_no: str, reason: str, evidence: list[str]
    ) -> dict[str, Any]:
        """Object to a record: its publishing department answers within 20 working days."""
        uscc, today = principal.subject or "", self.clock.today()
        entity = self.reader.get_entity(uscc)
        record = entity.record_of(target, record_no)
        if record is None or (target == "other" and not record_no):
            raise NotFound(f"未找到编号为 {record_no} 的记录", code="unknown_record")
        department = record.get("department")
        if not department:
            raise InvariantViolated("请在异议中写明作出该记录的部门", code="unknown_department")
        for other in entity.objections.values():
            if other.get("resolution") is None and (other.get("target"), other.get("record_no")) == (
                target,
                record_no,
            ):
                raise InvariantViolated(f"记录 {record_no} 已有处理中的异议", code="duplicate_objection")
        payload = {
            "objection_no": (number := _number("YY", today)),
            "target": target,
            "record_no": record_no,
            "department": department,
            "reason": reason,
            "evidence": self._evidence(uscc, evidence),
        }
        return self._file(
            principal,
            "objection.filed",
            number,
            payload,
            self.calendar.deadline(today, self.deadlines.objection),
        )

    def disclose(self, principal: Principal, kind: str, fact_on: date, content: str) -> dict[str, Any]:
        """An instant disclosure (Art. 10): published once applied; more than 20 working days
        after the fact, the record marks it late."""
        today = self.clock.today()
        if fact_on > today:
            raise InvalidFiling(
                f"事项发生日期 {fact_on} 晚于系统日期 {today}",
                errors=[
                    {"loc": ["body", "fact_on"], "type": "value_error", "message": "事项发生日期不能晚于今天"}
                ],
            )
        self.reader.get_entity(principal.subject or "")
        payload = {
            "disclosure_no": (number := _number("JS", today)),
            "category": DISCLOSURE_KINDS[kind],
            "kind": kind,
            "fact_on": fact_on.isoformat(),
            "content": content,
        }
        due = self.calendar.deadline(fact_on, 20)
        filed = self._file(principal, "disclosure.published", number, payload, due)
        return {**filed, "late": today > due.on}

    # --- reading ------------------------------------------------------------------------------------

    def cases(self, entity: MarketEntity) -> list[dict[str, Any]]:
        """The enterprise's applications and objections as its dashboard shows them, newest first."""
        out = []
        for a in entity.applications.values():
            decision = a.get("decision") or {}
            out.append(
                {
                    "number": a["application_no"],
                    "kind": a["type"],
                    "label": APPLICATION_KINDS[a["type"]],
                    "target": a["target"],
                    "record_no": a["decision_no"],
                    "department": a["department"],
                    "filed_on": a["filed_on"],
                    "due_on": a.get("due_on"),
                    "due_warning": a.get("due_warning"),
                    "status": a["status"],
                    "decided_on": decision.get("on"),
                    "decision_reason": decision.get("reason"),
                }
            )
        for o in entity.objections.values():
            resolution = o.get("resolution") or {}
            out.append(
                {
                    "number": o["objection_no"],
                    "kind": "objection",
                    "label": APPLICATION_KINDS["objection"],
                    "target": o.get("target"),
                    "record_no": o.get("record_no"),
                    "department": o.get("department"),
                    "filed_on": o.get("occurred_on"),
                    "due_on": o.get("due_on"),
                    "due_warning": o.get("due_warning"),
                    "status": ("upheld" if resolution.get("upheld") else "resolved")
                    if resolution
                    else "pending",
                    "decided_on": resolution.get("occurred_on"),
                    "decision_reason": resolution.get("reason"),
                }
            )
        return sorted(out, key=lambda c: (str(c["filed_on"]), c["number"]), reverse=True)


class DecisionDesk:
    """The department's side: its pending cases, and its decisions (own code only)."""

    def __init__(self, *, reader: Registry, view: CaseworkView, publisher: Publisher, clock: Clock) -> None:
        self.reader = reader
        self.view = view
        self.publisher = publisher
        self.clock = clock

    def cases(
        self, department: str, kind: str, status: str | None = "pending", after: str = "", limit: int = 100
    ) -> list[dict[str, Any]]:
        kinds = {
            "repairs": ["repair"],
            "abnormal-removals": ["abnormal_removal"],
            "objections": ["objection"],
        }[kind]
        return self.view.applications(
            department=department, kinds=kinds, status=status, after=after, limit=limit
        )

    def _case(self, department: str, number: str, kind: str) -> MarketEntity:
        """The entity of one of this department's cases (another department's is not found)."""
        row = self.view.application(number)
        if row is None or row["kind"] != kind or row["department"] != department:
            raise NotFound(
                f"本部门没有编号为 {number} 的{APPLICATION_KINDS[kind]}", code="unknown_application"
            )
        return self.reader.get_entity(row["uscc"])

    def decide_application(
        self, department: str, number: str, kind: str, approve: bool, reason: str, principal: str
    ) -> dict[str, Any]:
        """Approve (`repair.approved` / `abnormal.removed`, naming the application) or refuse
        (`application.rejected`); checked against the record first, again when applied."""
        entity = self._case(department, number, kind)
        application = entity.applications.get(number)
        if application is None:
            raise NotFound(f"编号为 {number} 的申请尚未记入信用记录，请稍后再试", code="unknown_application")
        if application["status"] != "pending":
            raise InvariantViolated(f"申请 {number} 已处理", code="application_decided")
        today = self.clock.today()
        if not approve:
            kind_name, payload = "application.rejected", {"application_no": number, "reason": reason}
        elif application["type"] == "abnormal_removal":
            kind_name = "abnormal.removed"
            payload = {"decision_no": application["decision_no"], "reason": reason, "application_no": number}
        else:
            entity.check_repairable(
                application["target"], application["decision_no"], today, {"publicity": self.reader.publicity}
            )
            kind_name = "repair.approved"
            payload = {
                "target": application["target"],
                "decision_no": application["decision_no"],
                "reason": reason,
                "application_no": number,
            }
        return self._publish(entity.uscc, department, kind_name, payload, f"DEC-{number}", principal, today)

    def decide_objection(
        self, department: str, number: str, upheld: bool, reason: str, principal: str
    ) -> dict[str, Any]:
        entity = self._case(department, number, "objection")
        objection = entity.objections.get(number)
        if objection is None:
            raise NotFound(f"编号为 {number} 的异议尚未记入信用记录，请稍后再试", code="unknown_objection")
        if objection.get("resolution") is not None:
            raise InvariantViolated("该异议已答复", code="objection_resolved")
        payload = {"objection_no": number, "upheld": upheld, "reason": reason}
        return self._publish(
            entity.uscc,
            department,
            "objection.resolved",
            payload,
            f"DEC-{number}",
            principal,
            self.clock.today(),
        )

    def _publish(
        self,
        uscc: str,
        department: str,
        kind: str,
        payload: dict[str, Any],
        publication_id: str,
        principal: str,
        today: date,
    ) -> dict[str, Any]:
        self.publisher.publish(
            [
                envelope(
                    kind=kind,
                    uscc=uscc,
                    department=department,
                    payload=payload,
                    occurred_on=today,
                    publication_id=publication_id,
                )
            ],
            principal,
        )
        return {"publication_id": publication_id, "kind": kind, "status": "pending", "uscc": uscc}
