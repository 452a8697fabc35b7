"""The MarketEntity aggregate: one per market entity, id derived from its USCC.

Every event is past tense and carries the publishing department, the department's own record
id (`publication_id`), the business date it happened (`occurred_on`), the legal basis where one
applies, and the validated facts (`data`, JSON-ready). Nothing is ever deleted: corrections and
revocations are new events; what the public sees is a view over this history.

Provenance: every event also keeps which signing key signed the publication (`signing_key_id`)
and who acted (`principal`: `department:TJ-AMR`, `department:TJ-AMR/key:…` through the gateway,
`job:load`, …; see `domain.signatures`). Events stored before they existed are upcast with both
None (`class_version` 2 of `Published` and `Registered`, 3 of `PenaltyImposed`); the state's
records carry the two keys only when known, so an entity rebuilt from old events and one loaded
from an old snapshot look the same.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.annual_report import (
    can_submit,
    correction_window_closed,
    first_report_year,
    report_problems,
    report_window,
)
from domain.errors import InvariantViolated
from domain.publicity import (
    LISTING_REPAIR,
    PenaltyFacts,
    PublicityPolicy,
    can_repair,
    default_publicised_on,
    publicity_period,
)
from domain.workdays import WorkingDays, working_days

NAMESPACE = uuid5(NAMESPACE_URL, "https://gongshi.example/market-entity")

STATUS_ACTIVE = "存续"
#: 企业信息公示暂行条例 Art. 10: an instant disclosure within 20 working days of the fact.
DISCLOSURE_WORKING_DAYS = 20
STATUS_DEREGISTERED = "注销"
STATUS_REVOKED = "吊销"


#: The keys of a command's `meta` that every Published event records.
EVENT_FIELDS = ("department", "publication_id", "occurred_on", "basis", "timestamp")
#: Which key signed the publication and who acted (None for the platform's in-process calls).
PROVENANCE_FIELDS = ("signing_key_id", "principal")
#: The keys of a command's `meta` that only inform the command (the registry passes them):
#: `applied_on` — the system date the platform applies the publication on; `publicity` — the
#: `PublicityPolicy` the rules are read under; `calendar` — the working days (`WorkingDays`).
CONTEXT_FIELDS = ("applied_on", "publicity", "calendar")


def entity_id(uscc: str) -> UUID:
    return uuid5(NAMESPACE, uscc)


def _old_penalty_publicised_on(data: dict[str, Any], occurred_on: Any) -> str:
    """The publicity date of a penalty stored before `publicised_on` existed: its publication's
    business date `occurred_on` (what the department stated), kept between the decision and the
    Order 45 Art. 9 deadline. Events and snapshots both carry `occurred_on`, so both give the
    same answer."""
    decided = date.fromisoformat(str(data["decided_on"]))
    stated = occurred_on if isinstance(occurred_on, date) else date.fromisoformat(str(occurred_on))
    return default_publicised_on(decided, stated).isoformat()


def _upcast_provenance(state: dict[str, Any]) -> None:
    """Events stored before provenance was kept: no key id, no principal."""
    for name in PROVENANCE_FIELDS:
        state.setdefault(name, None)


def _provenance(source: Any) -> dict[str, Any]:
    """The provenance keys a record in the state carries: only those that are known."""
    return {k: getattr(source, k) for k in PROVENANCE_FIELDS if getattr(source, k, None) is not None}


def _upcast_report_form(report: dict[str, Any]) -> None:
    """Annual reports stored before form 2 are form 1 (phone and e-mail public only when chosen)."""
    report.setdefault("form", 1)


def _decide_application(entity: MarketEntity, event: MarketEntity.Published, status: str) -> None:
    """The decision an event records on the application it names (`application_no`), if any."""
    number = event.data.get("application_no")
    application = entity.applications.get(number) if number else None
    if application is not None:
        application["status"] = status
        application["decision"] = {
            **event.meta(),
            "on": event.occurred_on.isoformat(),
            "reason": event.data.get("reason"),
        }


def _upcast_penalty_data(data: dict[str, Any], occurred_on: Any) -> None:
    data.setdefault("domain", "other")
    data.setdefault("procedure", "ordinary")
    if "publicised_on" not in data:
        data["publicised_on"] = _old_penalty_publicised_on(data, occurred_on)


class MarketEntity(Aggregate):
    """The credit record of one market entity.

    `class_version` 2: penalty records carry `domain`, `procedure` and `publicised_on`
    (`upcast_v1_v2` fills them in snapshots taken before).
    `class_version` 3: annual reports carry their `form` (`upcast_v2_v3`: 1 for those before);
    the enterprise's applications (credit repair, removal from the abnormal list) are kept in
    `applications` (`upcast_v2_v3`: none before).
    """

    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        for penalty in state.get("penalties", {}).values():
            _upcast_penalty_data(penalty, penalty.get("occurred_on", penalty["decided_on"]))

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        for report in state.get("annual_reports", {}).values():
            _upcast_report_form(report)
        state.setdefault("applications", {})

    class Published(Aggregate.Event):
        """v2: `signing_key_id` and `principal` (provenance); `upcast_v1_v2` sets both to None in
        events stored before."""

        class_version = 2

        department: str
        publication_id: str
        occurred_on: date
        basis: str | None
        data: dict[str, Any]
        signing_key_id: str | None
        principal: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            _upcast_provenance(state)

        def apply(self, aggregate: Any) -> None:
            entity: MarketEntity = aggregate
            entity.applied_publications[self.publication_id] = entity.version + 1
            entity.last_occurred_on = max(entity.last_occurred_on, self.occurred_on)
            self.evolve(entity)

        def evolve(self, entity: MarketEntity) -> None:
            """How this event changes the entity's state."""

        def meta(self) -> dict[str, Any]:
            return {
                "department": self.department,
                "publication_id": self.publication_id,
                "occurred_on": self.occurred_on.isoformat(),
                "basis": self.basis,
                **_provenance(self),
            }

    class Registered(Aggregate.Created):
        """v2: `signing_key_id` and `principal`, like `Published`."""

        class_version = 2

        uscc: str
        department: str
        publication_id: str
        occurred_on: date
        basis: str | None
        data: dict[str, Any]
        signing_key_id: str | None
        principal: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            _upcast_provenance(state)

    def __init__(
        self,
        uscc: str,
        department: str,
        publication_id: str,
        occurred_on: date,
        basis: str | None,
        data: dict[str, Any],
        signing_key_id: str | None = None,
        principal: str | None = None,
    ) -> None:
        self.uscc = uscc
        self.name: str = data["name"]
        self.registration: dict[str, Any] = dict(data)
        self.registration_number: str | None = data.get("registration_number")
        self.status = STATUS_ACTIVE
        self.registered_by: dict[str, Any] = {"department": department, "publication_id": publication_id}
        if signing_key_id is not None:
            self.registered_by |= {"signing_key_id": signing_key_id, "principal": principal}
        self.former_names: list[dict[str, Any]] = []
        self.changes: list[dict[str, Any]] = []
        self.filings: list[dict[str, Any]] = []
        self.licences: dict[str, dict[str, Any]] = {}
        self.penalties: dict[str, dict[str, Any]] = {}
        self.abnormal_listings: dict[str, dict[str, Any]] = {}
        self.serious_listings: dict[str, dict[str, Any]] = {}
        self.inspections: list[dict[str, Any]] = []
        self.annual_reports: dict[str, dict[str, Any]] = {}  # keyed by str(year): state stays JSON-safe
        self.disclosures: list[dict[str, Any]] = []
        self.performance: list[dict[str, Any]] = []
        self.other: list[dict[str, Any]] = []
        self.repairs: list[dict[str, Any]] = []
        self.objections: dict[str, dict[str, Any]] = {}
        self.applications: dict[str, dict[str, Any]] = {}
        self.status_history: list[dict[str, Any]] = [
            {"status": STATUS_ACTIVE, "on": occurred_on.isoformat(), "publication_id": publication_id}
        ]
        self.applied_publications: dict[str, int] = {publication_id: 1}
        self.last_occurred_on: date = occurred_on

    @classmethod
    def register(
        cls,
        *,
        uscc: str,
        department: str,
        publication_id: str,
        occurred_on: date,
        basis: str | None,
        data: dict[str, Any],
        timestamp: datetime | None = None,
        signing_key_id: str | None = None,
        principal: str | None = None,
    ) -> MarketEntity:
        return cls._create(
            cls.Registered,
            id=entity_id(uscc),
            uscc=uscc,
            department=department,
            publication_id=publication_id,
            occurred_on=occurred_on,
            basis=basis,
            data=data,
            timestamp=timestamp,
            signing_key_id=signing_key_id,
            principal=principal,
        )

    # --- invariants ---------------------------------------------------------------------------

    def has_applied(self, publication_id: str) -> bool:
        return publication_id in self.applied_publications

    def check_active(self, action: str) -> None:
        if self.status != STATUS_ACTIVE:
            raise InvariantViolated(
                f"市场主体状态为“{self.status}”，不能{action}", code="entity_not_active", status=self.status
            )

    def check_licence_exists(self, licence_no: str) -> None:
        if licence_no not in self.licences:
            raise InvariantViolated(f"未找到许可证编号为 {licence_no} 的行政许可", code="unknown_licence")

    def check_penalty_exists(self, decision_no: str) -> None:
        if decision_no not in self.penalties:
            raise InvariantViolated(f"未找到决定书文号为 {decision_no} 的行政处罚", code="unknown_penalty")

    def check_penalty_not_revoked(self, decision_no: str) -> None:
        self.check_penalty_exists(decision_no)
        if self.penalties[decision_no].get("revoked"):
            raise InvariantViolated(f"行政处罚 {decision_no} 已撤销", code="penalty_revoked")

    def check_new_penalty(self, decision_no: str) -> None:
        if decision_no in self.penalties:
            raise InvariantViolated(f"决定书文号 {decision_no} 已存在", code="duplicate_decision")

    def check_listing_active(self, listings: dict[str, dict[str, Any]], decision_no: str, what: str) -> None:
        listing = listings.get(decision_no)
        if listing is None or listing.get("removed") is not None:
            raise InvariantViolated(f"未找到文号为 {decision_no} 的有效{what}记录", code="unknown_listing")

    def check_report_year(self, year: int, on: date, *, correcting: bool) -> None:
        established = date.fromisoformat(self.registration["established_on"])
        if year < first_report_year(established):
            raise InvariantViolated(f"{year} 年度早于成立年度 {established.year}", code="report_year_invalid")
        if not can_submit(year, established, on):
            start = report_window(year)[0]
            raise InvariantViolated(f"{year} 年度报告自 {start} 起报送", code="report_window_not_open")
        if correcting and str(year) not in self.annual_reports:
            raise InvariantViolated(f"{year} 年度报告尚未报送，不能更正", code="unknown_annual_report")
        if not correcting and str(year) in self.annual_reports:
            raise InvariantViolated(f"{year} 年度报告已报送，请提交更正", code="duplicate_annual_report")
        if correcting and correction_window_closed(year, on):
            raise InvariantViolated(
                f"{year} 年度报告的更正应于 {report_window(year)[1]} 前完成，已过更正期限",
                code="report_window_closed",
            )

    @staticmethod
    def check_report_consistent(data: dict[str, Any], on: date) -> None:
        problems = report_problems(data, on)
        if problems:
            raise InvariantViolated("；".join(p.message for p in problems), code="annual_report_inconsistent")

    # --- commands -----------------------------------------------------------------------------

    def record(
        self, event_class: type[MarketEntity.Published], meta: dict[str, Any], data: dict[str, Any]
    ) -> None:
        self.trigger_event(
            event_class,
            data=data,
            **{k: meta[k] for k in EVENT_FIELDS if k in meta},
            **{k: meta.get(k) for k in PROVENANCE_FIELDS},
        )

    @staticmethod
    def publicity_policy(meta: dict[str, Any]) -> PublicityPolicy:
        policy = meta.get("publicity")
        if not isinstance(policy, PublicityPolicy):
            raise TypeError("the registry passes meta['publicity'] (a PublicityPolicy) to this command")
        return policy

    def change_registration(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.check_active("办理变更登记")
        self.record(self.RegistrationChanged, meta, data)

    def deregister(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        if self.status == STATUS_DEREGISTERED:  # an entity whose licence was revoked is still liquidated
            raise InvariantViolated("市场主体已注销", code="entity_not_active", status=self.status)
        self.record(self.Deregistered, meta, data)

    def revoke_business_licence(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.check_active("吊销营业执照")
        self.record(self.BusinessLicenceRevoked, meta, data)

    def record_filing(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.record(self.FilingRecorded, meta, data)

    def grant_licence(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        if data["licence_no"] in self.licences:
            raise InvariantViolated(
                f"许可证编号 {data['licence_no']} 已存在，请公示变更", code="duplicate_licence"
            )
        self.record(self.LicenceGranted, meta, data)

    def change_licence(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.check_licence_exists(data["licence_no"])
        self.record(self.LicenceChanged, meta, data)

    def revoke_licence(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.check_licence_exists(data["licence_no"])
        self.record(self.LicenceRevoked, meta, data)

    def impose_penalty(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.check_new_penalty(data["decision_no"])
        if data.get("publicised_on") is None:
            applied_on: date = meta.get("applied_on") or meta["occurred_on"]
            decided = date.fromisoformat(str(data["decided_on"]))
            data = {**data, "publicised_on": default_publicised_on(decided, applied_on).isoformat()}
        self.record(self.PenaltyImposed, meta, data)

    def amend_penalty(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.check_penalty_not_revoked(data["decision_no"])
        self.record(self.PenaltyAmended, meta, data)

    def revoke_penalty(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.check_penalty_not_revoked(data["decision_no"])
        self.record(self.PenaltyRevoked, meta, data)

    def record_performance(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.record(self.PerformanceRecorded, meta, data)

    def record_other(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.record(self.OtherInformationRecorded, meta, data)

    def list_abnormal(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        if data["decision_no"] in self.abnormal_listings:
            raise InvariantViolated(f"列入决定 {data['decision_no']} 已存在", code="duplicate_decision")
        self.record(self.AbnormalListed, meta, data)

    def remove_abnormal(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.check_listing_active(self.abnormal_listings, data["decision_no"], "经营异常名录")
        if data.get("application_no"):
            self.check_application_pending(data["application_no"], meta)
        self.record(self.AbnormalRemoved, meta, data)

    def list_serious(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        if data["decision_no"] in self.serious_listings:
            raise InvariantViolated(f"列入决定 {data['decision_no']} 已存在", code="duplicate_decision")
        self.record(self.SeriousListed, meta, data)

    def remove_serious(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.check_listing_active(self.serious_listings, data["decision_no"], "严重违法失信名单")
        self.record(self.SeriousRemoved, meta, data)

    def publish_inspection(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.record(self.InspectionPublished, meta, data)

    def check_repairable(self, target: str, decision_no: str, on: date, meta: dict[str, Any]) -> None:
        """A record whose publicity may end early (penalty) or that may leave its list early
        (serious) on `on`; an abnormal listing may be removed whenever it is active."""
        if target == "penalty":
            self.check_penalty_exists(decision_no)
            penalty = self.penalties[decision_no]
            if penalty.get("repaired") or penalty.get("revoked"):
                raise InvariantViolated(f"处罚 {decision_no} 已修复或已撤销", code="already_repaired")
            period = publicity_period(PenaltyFacts.of(penalty), self.publicity_policy(meta))
            if not period.publicised:
                raise InvariantViolated(
                    f"处罚 {decision_no} 依规不予公示，无需信用修复", code="not_publicised"
                )
            if period.earliest_repair_on is None:
                raise InvariantViolated(
                    f"处罚 {decision_no} 依{period.rule_set_name}不得提前停止公示，公示至 {period.ends_on}",
                    code="repair_not_allowed",
                )
            if not can_repair(period, on):
                raise InvariantViolated(
                    f"处罚 {decision_no} 最短公示期至 {period.earliest_repair_on} 届满，尚不能修复",
                    code="repair_too_early",
                )
        elif target == "abnormal":
            self.check_listing_active(self.abnormal_listings, decision_no, "经营异常名录")
        else:
            self.check_listing_active(self.serious_listings, decision_no, "严重违法失信名单")
            listed_on = date.fromisoformat(self.serious_listings[decision_no]["listed_on"])
            if on < LISTING_REPAIR.earliest_repair_on(listed_on):
                raise InvariantViolated(
                    f"列入严重违法失信名单未满{LISTING_REPAIR.min_months // 12}年，尚不能修复"
                    f"（{LISTING_REPAIR.name}）",
                    code="repair_too_early",
                )

    def check_application_pending(self, application_no: str, meta: dict[str, Any]) -> dict[str, Any]:
        """A pending application decided by the department that publishes this decision."""
        application = self.applications.get(application_no)
        if application is None:
            raise InvariantViolated(f"未找到编号为 {application_no} 的申请", code="unknown_application")
        if application["status"] != "pending":
            raise InvariantViolated(f"申请 {application_no} 已处理", code="application_decided")
        if meta.get("department") != application["department"]:
            raise InvariantViolated(
                f"申请 {application_no} 由“{application['department']}”决定", code="not_deciding_department"
            )
        return application

    def repair_credit(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        target, decision_no = data["target"], data["decision_no"]
        self.check_repairable(target, decision_no, meta["occurred_on"], meta)
        if data.get("application_no"):
            self.check_application_pending(data["application_no"], meta)
        self.record(self.CreditRepaired, meta, data)

    def warn_abnormal(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.check_listing_active(self.abnormal_listings, data["decision_no"], "经营异常名录")
        if self.abnormal_listings[data["decision_no"]].get("warning"):
            raise InvariantViolated(
                f"列入决定 {data['decision_no']} 已发布届满三年提醒公告", code="already_warned"
            )
        self.record(self.AbnormalWarned, meta, data)

    def file_application(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        number, target, decision_no = data["application_no"], data["target"], data["decision_no"]
        if number in self.applications:
            raise InvariantViolated(f"申请编号 {number} 已存在", code="duplicate_application")
        if (data["type"] == "abnormal_removal") != (target == "abnormal"):
            raise InvariantViolated(
                "移出经营异常名录请提交移出申请；行政处罚和严重违法失信名单请申请信用修复",
                code="wrong_application_type",
            )
        self.check_repairable(target, decision_no, meta["occurred_on"], meta)
        for other in self.applications.values():
            if (other["target"], other["decision_no"], other["status"]) == (target, decision_no, "pending"):
                raise InvariantViolated(
                    f"{decision_no} 已有待处理的申请（{other['application_no']}）",
                    code="duplicate_application",
                )
        self.record(self.ApplicationFiled, meta, data)

    def reject_application(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.check_application_pending(data["application_no"], meta)
        self.record(self.ApplicationRejected, meta, data)

    def submit_annual_report(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        if self.status == STATUS_DEREGISTERED:
            raise InvariantViolated(
                "市场主体已注销，无需报送年度报告", code="entity_not_active", status=self.status
            )
        on: date = meta["occurred_on"]
        self.check_report_year(int(data["year"]), on, correcting=False)
        self.check_report_consistent(data, on)
        late = on > report_window(int(data["year"]))[1]
        self.record(self.AnnualReportSubmitted, meta, {**data, "late": late})

    def correct_annual_report(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        on: date = meta["occurred_on"]
        self.check_report_year(int(data["year"]), on, correcting=True)
        self.check_report_consistent(data, on)
        self.record(self.AnnualReportCorrected, meta, data)

    def publish_disclosure(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        """Art. 10: within 20 working days of the fact; a later one is recorded late (the due
        date with it, and its warning when the holidays of its year are not known)."""
        if data.get("fact_on"):
            calendar = meta.get("calendar")
            if not isinstance(calendar, WorkingDays):
                calendar = working_days()
            fact_on = date.fromisoformat(str(data["fact_on"]))
            due = calendar.deadline(fact_on, DISCLOSURE_WORKING_DAYS)
            on: date = meta["occurred_on"]
            data = {**data, "due_on": due.on.isoformat(), "late": on > due.on}
            if due.warning:
                data["due_warning"] = due.warning
        self.record(self.DisclosurePublished, meta, data)

    def file_objection(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        if data["objection_no"] in self.objections:
            raise InvariantViolated("异议编号已存在", code="duplicate_objection")
        target, number = data.get("target"), data.get("record_no")
        if target is not None and number is not None:
            if self.record_of(target, number) is None:
                raise InvariantViolated(f"未找到编号为 {number} 的记录", code="unknown_record")
            for other in self.objections.values():
                open_same = other.get("resolution") is None and other.get("record_no") == number
                if open_same and other.get("target") == target:
                    raise InvariantViolated(f"记录 {number} 已有处理中的异议", code="duplicate_objection")
        self.record(self.ObjectionFiled, meta, data)

    def resolve_objection(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        objection = self.objections.get(data["objection_no"])
        if objection is None:
            raise InvariantViolated("未找到该异议", code="unknown_objection")
        if objection.get("resolution") is not None:
            raise InvariantViolated("该异议已答复", code="objection_resolved")
        if objection.get("department") and meta.get("department") != objection["department"]:
            raise InvariantViolated(
                f"该异议由“{objection['department']}”答复", code="not_deciding_department"
            )
        self.record(self.ObjectionResolved, meta, data)

    def record_of(self, target: str, number: str) -> dict[str, Any] | None:
        """The record an objection or application names: by decision, licence, filing or
        inspection number."""
        if target == "penalty":
            return self.penalties.get(number)
        if target == "abnormal":
            return self.abnormal_listings.get(number)
        if target == "serious":
            return self.serious_listings.get(number)
        if target == "licence":
            return self.licences.get(number)
        items = {"filing": (self.filings, "filing_no"), "inspection": (self.inspections, "inspection_no")}
        if target in items:
            found, key = items[target]
            return next((x for x in found if x.get(key) == number), None)
        return {"record_no": number}  # other: the department knows what it published

    # --- events -------------------------------------------------------------------------------

    class RegistrationChanged(Published):
        def evolve(self, entity: MarketEntity) -> None:
            for change in self.data["changes"]:
                field, after = change["field"], change.get("after")
                if field == "name" and after != entity.name:
                    entity.former_names.append({"name": entity.name, "until": self.occurred_on.isoformat()})
                    entity.name = after
                entity.registration[field] = after
            entity.changes.append({**self.meta(), **self.data})

    class Deregistered(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.status = STATUS_DEREGISTERED
            entity.status_history.append(
                {
                    "status": entity.status,
                    "on": self.occurred_on.isoformat(),
                    "publication_id": self.publication_id,
                    **self.data,
                }
            )

    class BusinessLicenceRevoked(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.status = STATUS_REVOKED
            entity.status_history.append(
                {
                    "status": entity.status,
                    "on": self.occurred_on.isoformat(),
                    "publication_id": self.publication_id,
                    **self.data,
                }
            )

    class FilingRecorded(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.filings.append({**self.meta(), **self.data})

    class LicenceGranted(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.licences[self.data["licence_no"]] = {
                **self.meta(),
                **self.data,
                "status": "有效",
                "history": [],
            }

    class LicenceChanged(Published):
        def evolve(self, entity: MarketEntity) -> None:
            licence = entity.licences[self.data["licence_no"]]
            licence["history"].append({**self.meta(), "change": "变更", **self.data})
            licence["content"] = self.data["content"]
            if self.data.get("valid_to"):
                licence["valid_to"] = self.data["valid_to"]

    class LicenceRevoked(Published):
        def evolve(self, entity: MarketEntity) -> None:
            licence = entity.licences[self.data["licence_no"]]
            licence["history"].append({**self.meta(), "change": "撤销", **self.data})
            licence["status"] = "已撤销"
            licence["revoked_on"] = self.occurred_on.isoformat()

    class PenaltyImposed(Published):
        """v2: `data` carries `domain`, `procedure` and `publicised_on` (and `measures` when the
        department gave them); `upcast_v1_v2` fills the first three for events stored before.
        v3: provenance, like every `Published` event (`upcast_v2_v3`)."""

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            data = dict(state["data"])
            _upcast_penalty_data(data, state["occurred_on"])
            state["data"] = data

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            _upcast_provenance(state)

        def evolve(self, entity: MarketEntity) -> None:
            entity.penalties[self.data["decision_no"]] = {
                **self.meta(),
                **self.data,
                "revoked": None,
                "repaired": None,
                "history": [],
            }

    class PenaltyAmended(Published):
        def evolve(self, entity: MarketEntity) -> None:
            penalty = entity.penalties[self.data["decision_no"]]
            penalty["history"].append({**self.meta(), "change": "变更", **self.data})
            for key in ("content", "fine_amount", "severity"):
                if self.data.get(key) is not None:
                    penalty[key] = self.data[key]

    class PenaltyRevoked(Published):
        def evolve(self, entity: MarketEntity) -> None:
            penalty = entity.penalties[self.data["decision_no"]]
            penalty["history"].append({**self.meta(), "change": "撤销", **self.data})
            penalty["revoked"] = {"on": self.occurred_on.isoformat(), "reason": self.data["reason"]}

    class PerformanceRecorded(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.performance.append({**self.meta(), **self.data})

    class OtherInformationRecorded(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.other.append({**self.meta(), **self.data})

    class AbnormalListed(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.abnormal_listings[self.data["decision_no"]] = {
                **self.meta(),
                **self.data,
                "listed_on": self.occurred_on.isoformat(),
                "removed": None,
            }

    class AbnormalRemoved(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.abnormal_listings[self.data["decision_no"]]["removed"] = {
                **self.meta(),
                "on": self.occurred_on.isoformat(),
                "reason": self.data["reason"],
            }
            _decide_application(entity, self, "approved")

    class AbnormalWarned(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.abnormal_listings[self.data["decision_no"]]["warning"] = {
                **self.meta(),
                "on": self.occurred_on.isoformat(),
                "escalation_on": str(self.data["escalation_on"]),
                "content": self.data["content"],
            }

    class ApplicationFiled(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.applications[self.data["application_no"]] = {
                **self.meta(),
                **self.data,
                "filed_on": self.occurred_on.isoformat(),
                "status": "pending",
                "decision": None,
            }

    class ApplicationRejected(Published):
        def evolve(self, entity: MarketEntity) -> None:
            _decide_application(entity, self, "rejected")

    class SeriousListed(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.serious_listings[self.data["decision_no"]] = {
                **self.meta(),
                **self.data,
                "listed_on": self.occurred_on.isoformat(),
                "removed": None,
            }

    class SeriousRemoved(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.serious_listings[self.data["decision_no"]]["removed"] = {
                **self.meta(),
                "on": self.occurred_on.isoformat(),
                "reason": self.data["reason"],
            }

    class InspectionPublished(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.inspections.append({**self.meta(), **self.data})

    class CreditRepaired(Published):
        def evolve(self, entity: MarketEntity) -> None:
            target, decision_no = self.data["target"], self.data["decision_no"]
            repair = {**self.meta(), "on": self.occurred_on.isoformat(), "reason": self.data["reason"]}
            entity.repairs.append({**self.meta(), **self.data})
            if target == "penalty":
                entity.penalties[decision_no]["repaired"] = repair
            elif target == "abnormal":
                entity.abnormal_listings[decision_no]["removed"] = {**repair, "by_repair": True}
            else:
                entity.serious_listings[decision_no]["removed"] = {**repair, "by_repair": True}
            _decide_application(entity, self, "approved")

    class AnnualReportSubmitted(Published):
        """v3: `data` carries the report's `form` (`upcast_v2_v3`: 1 for reports stored before
        form 2, whose phone and e-mail were public only when chosen)."""

        class_version = 3

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            data = dict(state["data"])
            _upcast_report_form(data)
            state["data"] = data

        def evolve(self, entity: MarketEntity) -> None:
            entity.annual_reports[str(self.data["year"])] = {
                **self.meta(),
                **self.data,
                "submitted_on": self.occurred_on.isoformat(),
                "corrections": [],
            }

    class AnnualReportCorrected(Published):
        """v3: like `AnnualReportSubmitted` (`form`); and each correction keeps, in the state, the
        version it replaced (`replaced`: Art. 12, both are shown). Corrections stored before v3
        did not (`upcast_v2_v3` marks them `replaced_kept: False`), so an entity rebuilt from old
        events and one loaded from an old snapshot still look the same."""

        class_version = 3

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            data = dict(state["data"])
            _upcast_report_form(data)
            data["replaced_kept"] = False
            state["data"] = data

        def evolve(self, entity: MarketEntity) -> None:
            year = str(self.data["year"])
            old = entity.annual_reports[year]
            correction = {**self.meta(), "reason": self.data.get("reason")}
            if self.data.get("replaced_kept", True):
                correction["replaced"] = {k: v for k, v in old.items() if k != "corrections"}
            corrections = [*old["corrections"], correction]
            # the corrected report replaces the old one whole: a figure it leaves out is withdrawn
            entity.annual_reports[year] = {
                **self.meta(),
                **{k: v for k, v in self.data.items() if k not in ("reason", "replaced_kept")},
                "submitted_on": old["submitted_on"],
                "late": old.get("late", False),
                "corrections": corrections,
            }

    class DisclosurePublished(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.disclosures.append({**self.meta(), **self.data})

    class ObjectionFiled(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.objections[self.data["objection_no"]] = {**self.meta(), **self.data, "resolution": None}

    class ObjectionResolved(Published):
        def evolve(self, entity: MarketEntity) -> None:
            entity.objections[self.data["objection_no"]]["resolution"] = {**self.meta(), **self.data}
