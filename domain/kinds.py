"""The publication kinds, described once.

Each kind a department may publish is one `Kind` row: its name, payload model, the
`MarketEntity` command that applies it, the event(s) that command records, the section of the
record it changes and the record category its rows are listed under, a Chinese label, and the
department types that may publish it. The record's sections (`SECTIONS`, the entity page's tabs)
and the categories of publicised records (`CATEGORIES`, the department-publicity and
announcement lists) are rows too. Everything that used to repeat this knowledge derives from
here: `PAYLOADS` and `KINDS`, the registry's dispatch, the status view's `EVENT_KINDS`, the
documents' sections and record rows, the API's record categories, the pages' labels and tabs,
the timeline, the JSON Schema and the event catalogue.

A new kind: see "A new publication kind" in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate

from domain import publications as pub
from domain.departments import DepartmentType
from domain.entity import MarketEntity

__all__ = [
    "CATEGORIES",
    "KINDS",
    "PAYLOADS",
    "PUBLICATION_KINDS",
    "SECTIONS",
    "Category",
    "Command",
    "Kind",
    "KindTable",
    "Section",
]

#: A MarketEntity command: `entity.impose_penalty(meta, data)` as `MarketEntity.impose_penalty`.
Command = Callable[[MarketEntity, dict[str, Any], dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Section:
    """A part of an entity's record, in the order the record shows them (the page's tabs).

    `field` is the key of the documents (and the `MarketEntity` attribute) holding its items;
    `None` for the registration itself. A `plain` section keeps its items as a list of
    `{**meta, **data}` on the entity, copied unchanged into both documents and shown as a table
    of date, `number`, `title`, content and department wherever nothing more specific is drawn.
    """

    key: str
    label: str
    field: str | None
    plain: bool = False
    number: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class Category:
    """A category of publicised records: one row per record, listed by department and date.

    `section` is the `Section.key` its records belong to. `department_publicity`: listed on the
    department-publicity page (部门公示); `announcement`: listed among the announcements (公告);
    `headline`: among the latest announcements on the front page. For a category of a plain
    section, `record_id` and `title` are `str.format` patterns over one item.
    """

    key: str
    label: str
    section: str
    department_publicity: bool = False
    announcement: bool = False
    headline: bool = False
    record_id: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class Kind:
    """One publication kind.

    `command` applies a valid publication to a registered entity and records `events`; `None`
    with `creates` for the registration, which creates the entity (`MarketEntity.register`).
    A kind with neither is known but not yet applicable: the registry rejects it
    (`unsupported_kind`). `section` is the part of the record it changes (None: whichever part
    a credit repair names), `category` the record category its rows are listed under (None:
    not listed), `publishers` the department types that may publish it (each department's own
    list of kinds is what is enforced).
    """

    name: str
    label: str
    payload: type[pub.Payload]
    command: Command | None
    events: tuple[type[Aggregate.Event], ...]
    section: str | None
    category: str | None
    publishers: frozenset[DepartmentType]
    creates: bool = False

    @property
    def applicable(self) -> bool:
        return self.creates or self.command is not None


class KindTable:
    """The kinds by name, in the order given (the order of schemas and catalogues)."""

    def __init__(self, kinds: Iterable[Kind]) -> None:
        self._by_name: dict[str, Kind] = {}
        for kind in kinds:
            if kind.name in self._by_name:
                raise ValueError(f"publication kind {kind.name} is described twice")
            self._by_name[kind.name] = kind

    def get(self, name: str) -> Kind | None:
        return self._by_name.get(name)

    def __iter__(self) -> Iterator[Kind]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def payloads(self) -> dict[str, type[pub.Payload]]:
        return {k.name: k.payload for k in self}

    def event_kinds(self) -> dict[type[Any], str]:
        """The kind each event class records."""
        return {event: k.name for k in self for event in k.events}

    def allowed(self, department_type: DepartmentType) -> frozenset[str]:
        """The kinds a department of this type may be given."""
        return frozenset(k.name for k in self if department_type in k.publishers)


_MS = DepartmentType.MARKET_SUPERVISION
_REGULATORS = frozenset({_MS, DepartmentType.TAX, DepartmentType.CUSTOMS, DepartmentType.SECTOR_REGULATOR})
_GOVERNMENT = _REGULATORS | {DepartmentType.CREDIT}
_LICENSING = frozenset({_MS, DepartmentType.SECTOR_REGULATOR})
_FILING = frozenset({_MS, DepartmentType.CUSTOMS, DepartmentType.SECTOR_REGULATOR})
_ONLY_MS = frozenset({_MS})
_ENTERPRISE = frozenset({DepartmentType.ENTERPRISE})
E = MarketEntity

SECTIONS: tuple[Section, ...] = (
    Section("basic", "基础信息", None),
    Section("changes", "变更记录", "changes"),
    Section("filings", "备案信息", "filings", plain=True, number="filing_no", title="filing_type"),
    Section("licences", "行政许可", "licences"),
    Section("penalties", "行政处罚", "penalties"),
    Section("abnormal", "经营异常名录", "abnormal_listings"),
    Section("serious", "严重违法失信名单", "serious_listings"),
    Section(
        "inspections",
        "抽查检查结果",
        "inspections",
        plain=True,
        number="inspection_no",
        title="inspection_type",
    ),
    Section("reports", "年度报告", "annual_reports"),
    Section("disclosures", "即时信息", "disclosures", plain=True, number="disclosure_no", title="category"),
    Section("performance", "业绩", "performance", plain=True, number="record_no", title="title"),
    Section("other", "其他信息", "other", plain=True, number="record_no", title="category"),
)

CATEGORIES: tuple[Category, ...] = (
    Category("penalty", "行政处罚", "penalties", department_publicity=True),
    Category("licence", "行政许可", "licences", department_publicity=True),
    Category("abnormal", "列入经营异常名录", "abnormal", announcement=True, headline=True),
    Category("abnormal_removed", "移出经营异常名录", "abnormal", announcement=True, headline=True),
    Category("abnormal_warning", "经营异常名录届满三年提醒", "abnormal", announcement=True),
    Category("serious", "列入严重违法失信名单", "serious", announcement=True, headline=True),
    Category("serious_removed", "移出严重违法失信名单", "serious", announcement=True),
    Category(
        "inspection",
        "抽查检查结果",
        "inspections",
        department_publicity=True,
        announcement=True,
        headline=True,
        record_id="{inspection_no}",
        title="{inspection_type}：{result}",
    ),
    Category(
        "filing",
        "备案信息",
        "filings",
        department_publicity=True,
        record_id="{filing_no}",
        title="{filing_type}",
    ),
    Category(
        "performance",
        "业绩",
        "performance",
        department_publicity=True,
        record_id="{record_no}",
        title="{title}",
    ),
    Category(
        "other", "其他信息", "other", department_publicity=True, record_id="{record_no}", title="{category}"
    ),
)

# fmt: off
PUBLICATION_KINDS = KindTable(
    (
        Kind("registration.registered", "设立登记", pub.RegistrationRegistered, None,
             (E.Registered,), "basic", None, _ONLY_MS, creates=True),
        Kind("registration.changed", "变更登记", pub.RegistrationChanged, E.change_registration,
             (E.RegistrationChanged,), "changes", None, _ONLY_MS),
        Kind("registration.deregistered", "注销登记", pub.RegistrationDeregistered, E.deregister,
             (E.Deregistered,), "basic", None, _ONLY_MS),
        Kind("registration.licence_revoked", "吊销营业执照", pub.RegistrationLicenceRevoked,
             E.revoke_business_licence, (E.BusinessLicenceRevoked,), "basic", None, _ONLY_MS),
        Kind("filing.recorded", "备案", pub.FilingRecorded, E.record_filing,
             (E.FilingRecorded,), "filings", "filing", _FILING),
        Kind("licence.granted", "行政许可", pub.LicenceGranted, E.grant_licence,
             (E.LicenceGranted,), "licences", "licence", _LICENSING),
        Kind("licence.changed", "行政许可变更", pub.LicenceChanged, E.change_licence,
             (E.LicenceChanged,), "licences", "licence", _LICENSING),
        Kind("licence.revoked", "行政许可撤销", pub.LicenceRevoked, E.revoke_licence,
             (E.LicenceRevoked,), "licences", "licence", _LICENSING),
        Kind("penalty.imposed", "行政处罚", pub.PenaltyImposed, E.impose_penalty,
             (E.PenaltyImposed,), "penalties", "penalty", _REGULATORS),
        Kind("penalty.amended", "行政处罚变更", pub.PenaltyAmended, E.amend_penalty,
             (E.PenaltyAmended,), "penalties", "penalty", _REGULATORS),
        Kind("penalty.revoked", "行政处罚撤销", pub.PenaltyRevoked, E.revoke_penalty,
             (E.PenaltyRevoked,), "penalties", "penalty", _REGULATORS),
        Kind("performance.recorded", "业绩", pub.PerformanceRecorded, E.record_performance,
             (E.PerformanceRecorded,), "performance", "performance", _GOVERNMENT),
        Kind("other.recorded", "其他信息", pub.OtherRecorded, E.record_other,
             (E.OtherInformationRecorded,), "other", "other", _GOVERNMENT),
        Kind("abnormal.listed", "列入经营异常名录", pub.AbnormalListed, E.list_abnormal,
             (E.AbnormalListed,), "abnormal", "abnormal", _ONLY_MS),
        Kind("abnormal.removed", "移出经营异常名录", pub.AbnormalRemoved, E.remove_abnormal,
             (E.AbnormalRemoved,), "abnormal", "abnormal_removed", _ONLY_MS),
        Kind("abnormal.warned", "经营异常名录届满三年提醒", pub.AbnormalWarned, E.warn_abnormal,
             (E.AbnormalWarned,), "abnormal", "abnormal_warning", _ONLY_MS),
        Kind("serious.listed", "列入严重违法失信名单", pub.SeriousListed, E.list_serious,
             (E.SeriousListed,), "serious", "serious", _ONLY_MS),
        Kind("serious.removed", "移出严重违法失信名单", pub.SeriousRemoved, E.remove_serious,
             (E.SeriousRemoved,), "serious", "serious_removed", _ONLY_MS),
        Kind("inspection.published", "抽查检查结果", pub.InspectionPublished, E.publish_inspection,
             (E.InspectionPublished,), "inspections", "inspection", _REGULATORS),
        Kind("repair.approved", "信用修复", pub.RepairApproved, E.repair_credit,
             (E.CreditRepaired,), None, None, _GOVERNMENT),
        Kind("application.filed", "信用修复或移出申请", pub.ApplicationFiled, E.file_application,
             (E.ApplicationFiled,), None, None, _ENTERPRISE),
        Kind("application.rejected", "申请不予批准", pub.ApplicationRejected, E.reject_application,
             (E.ApplicationRejected,), None, None, _GOVERNMENT),
        Kind("objection.filed", "异议申请", pub.ObjectionFiled, E.file_objection,
             (E.ObjectionFiled,), None, None, _ENTERPRISE),
        Kind("objection.resolved", "异议答复", pub.ObjectionResolved, E.resolve_objection,
             (E.ObjectionResolved,), None, None, _GOVERNMENT),
        Kind("annual_report.submitted", "年度报告", pub.AnnualReportSubmitted, E.submit_annual_report,
             (E.AnnualReportSubmitted,), "reports", None, _ENTERPRISE),
        Kind("annual_report.corrected", "年度报告更正", pub.AnnualReportCorrected, E.correct_annual_report,
             (E.AnnualReportCorrected,), "reports", None, _ENTERPRISE),
        Kind("disclosure.published", "即时信息", pub.DisclosurePublished, E.publish_disclosure,
             (E.DisclosurePublished,), "disclosures", None, _ENTERPRISE),
    )
)
# fmt: on

PAYLOADS: dict[str, type[pub.Payload]] = PUBLICATION_KINDS.payloads()
KINDS: tuple[str, ...] = PUBLICATION_KINDS.names
