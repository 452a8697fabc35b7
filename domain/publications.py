"""The publication envelope and one payload model per publication kind (`domain.kinds` maps
each kind's name to its model).

These are the integration schema that departments publish against (Kafka message value and
gateway request body). They are separate from the stored domain events: a payload is
validated here, then the aggregate records its own event from the validated values.
The JSON Schema generated from these models is committed under `docs/schemas/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.errors import InvalidIdentityNumber
from domain.identity import validate_resident_id
from domain.validation import describe_errors

SCHEMA_ID = "gongshi.publication/1"

Text = Annotated[str, Field(min_length=1, max_length=4000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Severity = Literal["minor", "general", "serious"]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Money(Payload):
    amount: Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=2)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"


class Person(Payload):
    """A natural person named in a record (legal representative, operator, investor)."""

    name: ShortText
    id_type: Literal["resident_id", "passport", "other"] = "resident_id"
    id_number: Annotated[str, Field(min_length=5, max_length=40)]
    phone: Annotated[str, Field(max_length=30)] | None = None
    address: Annotated[str, Field(max_length=400)] | None = None

    @field_validator("id_number")
    @classmethod
    def _resident_id_checksum(cls, value: str, info: Any) -> str:
        if info.data.get("id_type", "resident_id") == "resident_id":
            try:
                return validate_resident_id(value)
            except InvalidIdentityNumber as err:
                raise ValueError(err.message) from None
        return value


class RegisteredShareholder(Payload):
    """A shareholder (股东) or investor (出资人): a natural person, with an identity number, or an
    organisation, with its USCC where it has one."""

    name: ShortText
    kind: Literal["natural_person", "organisation"] = "natural_person"
    id_type: Literal["resident_id", "passport", "other"] = "resident_id"
    id_number: Annotated[str, Field(min_length=5, max_length=40)] | None = None
    uscc: Annotated[str, Field(min_length=18, max_length=18)] | None = None
    subscribed: Money | None = None

    @model_validator(mode="after")
    def _identified(self) -> RegisteredShareholder:
        if self.kind == "natural_person":
            if not self.id_number:
                raise ValueError("自然人股东须有证件号码 id_number")
            if self.id_type == "resident_id":
                try:
                    validate_resident_id(self.id_number)
                except InvalidIdentityNumber as err:
                    raise ValueError(err.message) from None
        return self


class KeyPerson(Person):
    """A member of the key staff (主要人员: 董事、监事、经理 …), with the position held."""

    position: ShortText


# --- registration ---------------------------------------------------------------------------


class RegistrationRegistered(Payload):
    name: ShortText
    entity_type: ShortText
    legal_representative: Person
    registered_capital: Money
    established_on: date
    address: Text
    business_scope: Text
    registration_authority: ShortText
    registration_number: Annotated[str, Field(pattern=r"^\d{15}$")] | None = None
    industry: ShortText | None = None
    operating_until: date | None = None
    phone: Annotated[str, Field(max_length=30)] | None = None
    shareholders: Annotated[
        list[RegisteredShareholder], Field(max_length=500, description="股东（发起人）、出资人 (optional)")
    ] = []
    key_staff: Annotated[
        list[KeyPerson], Field(max_length=200, description="主要人员: 董事、监事、经理 … (optional)")
    ] = []


ChangeableField = Literal[
    "name",
    "entity_type",
    "legal_representative",
    "registered_capital",
    "address",
    "business_scope",
    "registration_authority",
    "industry",
    "operating_until",
    "phone",
    "shareholders",
    "key_staff",
]


class FieldChange(Payload):
    field: ChangeableField
    before: str | dict[str, Any] | list[dict[str, Any]] | None = None
    after: str | dict[str, Any] | list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _after_shape(self) -> FieldChange:
        name, value = self.field, self.after
        if name == "legal_representative":
            if not isinstance(value, dict):
                raise ValueError("legal_representative 的 after 必须是人员对象 {name, id_number}")
            Person.model_validate(value)
        elif name in ("shareholders", "key_staff"):
            if not isinstance(value, list):
                raise ValueError(f"{name} 的 after 必须是变更后的完整名单（列表）")
            model = RegisteredShareholder if name == "shareholders" else KeyPerson
            for item in value:
                model.model_validate(item)
        elif name == "registered_capital":
            if not isinstance(value, dict):
                raise ValueError("registered_capital 的 after 必须是金额对象 {amount, currency}")
            Money.model_validate(value)
        elif name in ("name", "entity_type", "address", "business_scope", "registration_authority") and (
            not isinstance(value, str) or not value.strip()
        ):
            raise ValueError(f"{name} 的 after 必须是非空文本")
        return self


class RegistrationChanged(Payload):
    changes: Annotated[list[FieldChange], Field(min_length=1, max_length=50)]
    change_authority: ShortText | None = None


class RegistrationDeregistered(Payload):
    reason: Text


class RegistrationLicenceRevoked(Payload):
    decision_no: ShortText
    reason: Text
    basis: Text | None = None


# --- filings, licences ------------------------------------------------------------------------


class FilingRecorded(Payload):
    filing_no: ShortText
    filing_type: ShortText
    content: Text


class LicenceGranted(Payload):
    licence_no: ShortText
    licence_name: ShortText
    content: Text
    valid_from: date
    valid_to: date | None = None
    basis: Text | None = None


class LicenceChanged(Payload):
    licence_no: ShortText
    content: Text
    valid_to: date | None = None


class LicenceRevoked(Payload):
    licence_no: ShortText
    reason: Text


# --- penalties --------------------------------------------------------------------------------


#: The kinds of administrative penalty (行政处罚法 2021 Art. 9), as the publicity rules need them.
PenaltyMeasure = Literal[
    "warning",  # 警告
    "circulated_criticism",  # 通报批评
    "fine",  # 罚款
    "confiscation_of_gains",  # 没收违法所得
    "confiscation_of_property",  # 没收非法财物
    "licence_suspension",  # 暂扣许可证件
    "qualification_downgrade",  # 降低资质等级
    "licence_revocation",  # 吊销许可证件
    "business_licence_revocation",  # 吊销营业执照
    "production_restriction",  # 限制开展生产经营活动
    "suspension_of_business",  # 责令停产停业
    "closure",  # 责令关闭
    "employment_restriction",  # 限制从业
    "detention",  # 行政拘留
    "other",  # 法律、行政法规规定的其他行政处罚
]
#: The field of regulation a penalty belongs to, where a rule set treats it differently.
PenaltyDomain = Literal[
    "special_equipment",  # 特种设备
    "work_safety",  # 安全生产
    "fire_protection",  # 消防
    "food",  # 食品
    "drugs",  # 药品
    "medical_devices",  # 医疗器械
    "environment",  # 生态环境
    "construction_quality",  # 工程质量
    "product_certification",  # 强制性产品认证
    "other",
]
Procedure = Literal["ordinary", "simplified"]


class PenaltyImposed(Payload):
    decision_no: ShortText
    violation: Text
    basis: Text
    content: Text
    fine_amount: Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=2)]
    decided_on: date
    severity: Severity
    confiscated_amount: Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=2)] | None = None
    measures: Annotated[list[PenaltyMeasure], Field(min_length=1, max_length=15)] | None = Field(
        None,
        description="the kinds of penalty the decision imposes (行政处罚法 Art. 9); unknown when "
        "omitted, and the rules then go by `severity`",
    )
    domain: Annotated[
        PenaltyDomain,
        Field(description="the field of regulation (special equipment, work safety, food, drugs…)"),
    ] = "other"
    procedure: Annotated[
        Procedure, Field(description="ordinary (普通程序) or simplified (简易程序, on-the-spot) procedure")
    ] = "ordinary"
    publicised_on: Annotated[
        date | None,
        Field(
            description="when the penalty was first publicised (for a historical load: its original "
            "publicity date); default: the date the platform applies it, but no later than 20 working "
            "days after the decision (SAMR Order 45 Art. 9)"
        ),
    ] = None

    @model_validator(mode="after")
    def _publicised_after_decision(self) -> PenaltyImposed:
        if self.publicised_on is not None and self.publicised_on < self.decided_on:
            raise ValueError("publicised_on 不能早于决定日期 decided_on")
        return self


class PenaltyAmended(Payload):
    decision_no: ShortText
    reason: Text
    content: Text | None = None
    fine_amount: Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=2)] | None = None
    severity: Severity | None = None


class PenaltyRevoked(Payload):
    decision_no: ShortText
    reason: Text


# --- performance, other ------------------------------------------------------------------------


class PerformanceRecorded(Payload):
    record_no: ShortText
    category: ShortText
    title: ShortText
    content: Text


class OtherRecorded(Payload):
    record_no: ShortText
    category: ShortText
    content: Text
    amount: Money | None = None


# --- lists, inspections, repair ----------------------------------------------------------------


#: Why an entity is on the abnormal operations list (企业信息公示暂行条例 Art. 17; 暂行办法 Art. 4).
AbnormalCause = Literal["annual_report", "disclosure", "false_information", "unreachable", "other"]


class AbnormalListed(Payload):
    decision_no: ShortText
    reason: Text
    basis: Text | None = None
    cause: AbnormalCause | None = Field(None, description="why: annual_report for a report not filed…")
    year: Annotated[int, Field(ge=2000, le=2100)] | None = Field(
        None, description="the annual report not filed (cause annual_report)"
    )
    authority: ShortText | None = Field(None, description="the registration authority that decided")


class AbnormalRemoved(Payload):
    decision_no: Annotated[
        str, Field(min_length=1, max_length=200, description="the listing's decision number")
    ]
    reason: Text
    application_no: ShortText | None = Field(None, description="the enterprise's application it grants")


class AbnormalWarned(Payload):
    """The public warning notice (届满三年提醒公告) before three years on the abnormal list."""

    decision_no: Annotated[
        str, Field(min_length=1, max_length=200, description="the listing's decision number")
    ]
    escalation_on: date = Field(description="the day the entity may be put on the serious list")
    content: Text


class SeriousListed(Payload):
    decision_no: ShortText
    reason: Text
    basis: Text | None = None


class SeriousRemoved(Payload):
    decision_no: ShortText
    reason: Text


class InspectionPublished(Payload):
    inspection_no: ShortText
    inspection_type: ShortText
    inspected_on: date
    result: Text


RepairTarget = Literal["penalty", "abnormal", "serious"]


class RepairApproved(Payload):
    target: RepairTarget
    decision_no: Annotated[
        str, Field(min_length=1, max_length=200, description="the repaired record's decision number")
    ]
    reason: Text
    application_no: ShortText | None = Field(None, description="the enterprise's application it grants")


class EvidenceFile(Payload):
    """A file given with an application (kept privately by the platform, named here by hash)."""

    name: ShortText
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    size: Annotated[int, Field(ge=1)]
    content_type: Literal["application/pdf", "image/png", "image/jpeg"]


class ApplicationFiled(Payload):
    """An enterprise applies for credit repair (信用修复: a penalty's publicity ended early, a
    serious listing removed) or for removal from the abnormal list (移出经营异常名录)."""

    application_no: ShortText
    type: Literal["repair", "abnormal_removal"]
    target: RepairTarget
    decision_no: Annotated[
        str, Field(min_length=1, max_length=200, description="the record's decision number")
    ]
    department: ShortText = Field(description="the department that decides")
    reason: Text
    commitment: Text | None = Field(None, description="守信承诺书")
    evidence: Annotated[list[EvidenceFile], Field(max_length=10)] = []
    due_on: date | None = Field(None, description="when the department's decision is due")
    due_warning: Text | None = Field(None, description="set when the due date is an estimate")


class ApplicationRejected(Payload):
    application_no: ShortText
    reason: Text


#: What an objection may name: a record of one of these sections.
ObjectionTarget = Literal["penalty", "abnormal", "serious", "licence", "filing", "inspection", "other"]


class ObjectionFiled(Payload):
    """An enterprise objects to a record (异议): the publishing department answers."""

    objection_no: ShortText
    target: ObjectionTarget
    record_no: Annotated[str, Field(min_length=1, max_length=200, description="the record's number")]
    department: ShortText = Field(description="the department that published the record and answers")
    reason: Text
    evidence: Annotated[list[EvidenceFile], Field(max_length=10)] = []
    due_on: date | None = None
    due_warning: Text | None = None


class ObjectionResolved(Payload):
    objection_no: ShortText
    upheld: bool = Field(description="true: the record was wrong and is corrected by its department")
    reason: Text


# --- enterprise self-publication ------------------------------------------------------------------


Amount = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=2)]
SignedAmount = Annotated[Decimal, Field(max_digits=20, decimal_places=2)]
#: 出资方式 (how capital is contributed): currency, goods, IP, land-use rights, equity, debt, other.
ContributionMethod = Literal["货币", "实物", "知识产权", "土地使用权", "股权", "债权", "其他"]
#: The Art. 9(7) fields the enterprise chooses to publish or not (企业信息公示暂行条例 Art. 9).
OptionalReportField = Literal[
    "employees",
    "total_assets",
    "total_liabilities",
    "guarantees",
    "owners_equity",
    "revenue",
    "main_business_revenue",
    "profit",
    "net_profit",
    "tax_paid",
]


class Shareholder(Payload):
    """A shareholder's (or founder's) subscribed and paid capital (Art. 9(4))."""

    name: ShortText
    subscribed_amount: Amount
    subscribed_on: date | None = None
    subscribed_method: ContributionMethod | None = None
    paid_amount: Amount = Decimal("0")
    paid_on: date | None = None
    paid_method: ContributionMethod | None = None


class Investment(Payload):
    """An enterprise the reporting one set up or bought equity in (Art. 9(3))."""

    name: ShortText
    uscc: Annotated[str, Field(max_length=40)] | None = None
    amount: Amount | None = None


class OnlineStore(Payload):
    """A website, or an online shop it trades through (Art. 9(6))."""

    kind: Literal["website", "shop"] = "website"
    name: ShortText
    url: Annotated[str, Field(min_length=1, max_length=400)]


class EquityTransfer(Payload):
    """A change of a limited company's shareholding (Art. 9(5))."""

    shareholder: ShortText
    before_percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)]
    after_percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)]
    changed_on: date


class AnnualReportSubmitted(Payload):
    """An annual report (企业信息公示暂行条例 Art. 9): items 1–6 public, item 7 (`OptionalReportField`)
    public only where named in `publicised`.

    `form` 2 (this form): contact phone and e-mail are public like the address (Art. 9(1)); a
    natural person's mobile number is masked in public view. Reports stored before it are form 1,
    whose phone and e-mail were public only when chosen (`MarketEntity.AnnualReportSubmitted`
    upcasts them)."""

    year: Annotated[int, Field(ge=2000, le=2100)]
    form: Annotated[int, Field(ge=1, le=2, description="the report form's version")] = 2
    address: Text
    postal_code: Annotated[str, Field(min_length=1, max_length=10)] | None = None
    phone: Annotated[str, Field(max_length=30)] | None = None
    email: Annotated[str, Field(max_length=200)] | None = None
    operating_status: ShortText
    investments: Annotated[list[Investment], Field(max_length=200)] = []
    websites: Annotated[list[ShortText], Field(max_length=50, description="form 1: URLs only")] = []
    online_stores: Annotated[list[OnlineStore], Field(max_length=50)] = []
    shareholders: Annotated[list[Shareholder], Field(max_length=500)] = []
    equity_transfers: Annotated[list[EquityTransfer], Field(max_length=500)] = []
    employees: Annotated[int, Field(ge=0)] | None = None
    total_assets: Amount | None = None
    total_liabilities: Amount | None = None
    guarantees: Amount | None = None
    owners_equity: SignedAmount | None = None
    revenue: Amount | None = None
    main_business_revenue: Amount | None = None
    profit: SignedAmount | None = None
    net_profit: SignedAmount | None = None
    tax_paid: Amount | None = None
    publicised: Annotated[
        list[OptionalReportField | Literal["phone", "email"]],
        Field(description="the optional fields (Art. 9(7)) the enterprise chose to make public"),
    ] = []

    @field_validator("postal_code")
    @classmethod
    def _postal_code(cls, value: str | None) -> str | None:
        if value is not None and not (len(value) == 6 and value.isascii() and value.isdigit()):
            raise ValueError("邮政编码应为 6 位数字")
        return value


class AnnualReportCorrected(AnnualReportSubmitted):
    reason: Text


#: What an instant disclosure is about (企业信息公示暂行条例 Art. 10).
DisclosureKind = Literal[
    "capital",  # 股东认缴和实缴的出资额、出资时间、出资方式
    "equity_transfer",  # 股权转让等股权变更
    "licence",  # 行政许可取得、变更、延续
    "ip_pledge",  # 知识产权出质登记
    "penalty",  # 受到行政处罚
    "other",  # 其他依法应当公示的信息
]


class DisclosurePublished(Payload):
    """An instant disclosure: within 20 working days of the fact (Art. 10). `kind` and `fact_on`
    are given by enterprises filing through their account; the platform marks a late one."""

    disclosure_no: ShortText
    category: ShortText
    content: Text
    kind: DisclosureKind | None = None
    fact_on: date | None = Field(None, description="the date the disclosed fact arose")


class Envelope(BaseModel):
    """What a department publishes: the Kafka message value and the gateway's request body."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    schema_: Annotated[Literal["gongshi.publication/1"], Field(alias="schema")] = "gongshi.publication/1"
    publication_id: Annotated[
        str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-/]*$")
    ]
    department: Annotated[str, Field(min_length=1, max_length=40)]
    kind: str
    uscc: Annotated[str, Field(min_length=1, max_length=40)]
    occurred_on: date
    payload: dict[str, Any]

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


REASON_MALFORMED = "malformed"
REASON_INVALID_ENVELOPE = "invalid_envelope"
REASON_UNKNOWN_KIND = "unknown_kind"
REASON_UNSUPPORTED_KIND = "unsupported_kind"
REASON_INVALID_PAYLOAD = "invalid_payload"
REASON_INVALID_USCC = "invalid_uscc"
REASON_UNKNOWN_DEPARTMENT = "unknown_department"
REASON_OUTSIDE_MANDATE = "outside_mandate"
REASON_ALREADY_REGISTERED = "already_registered"
REASON_FUTURE_DATE = "future_date"
REASON_BAD_SIGNATURE = "bad_signature"
REASON_PARKED_EXPIRED = "parked_expired"
REASON_DEPARTMENT_DISABLED = "department_disabled"

# the dates of a payload that say when something was decided, done or reported; none may lie
# after the system date (validity dates such as a licence's `valid_from` may)
BUSINESS_DATE_FIELDS: tuple[str, ...] = (
    "decided_on",
    "publicised_on",
    "inspected_on",
    "established_on",
    "fact_on",
)
_DATE_LABELS = {
    "occurred_on": "发生日期",
    "decided_on": "决定日期",
    "publicised_on": "公示日期",
    "inspected_on": "检查日期",
    "established_on": "成立日期",
    "fact_on": "事项发生日期",
}


def future_date_message(occurred_on: date, payload: BaseModel, today: date) -> str | None:
    """A Chinese message naming the first business date after `today`, else None."""
    dates = [("occurred_on", occurred_on)]
    dates += [
        (f, getattr(payload, f)) for f in BUSINESS_DATE_FIELDS if isinstance(getattr(payload, f, None), date)
    ]
    for field, value in dates:
        if value > today:
            label = _DATE_LABELS[field]
            return f"{label}（{field}）{value} 晚于系统日期 {today}，不能公示未来的事项"
    return None


def describe_validation_error(err: ValidationError) -> str:
    """One line naming each field that failed and why, in Chinese (used in rejection messages)."""
    return describe_errors(err.errors())


def envelope_json_schema(payloads: Mapping[str, type[Payload]]) -> dict[str, Any]:
    """JSON Schema of the envelope, with one `payload` variant per kind (`domain.kinds.PAYLOADS`)."""
    base = Envelope.model_json_schema(by_alias=True)
    defs: dict[str, Any] = dict(base.pop("$defs", {}))
    variants = []
    for kind, model in payloads.items():
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
        variants.append(
            {
                "if": {"properties": {"kind": {"const": kind}}},
                "then": {"properties": {"payload": {"$ref": f"#/$defs/{model.__name__}"}}},
            }
        )
    base["properties"]["kind"] = {"enum": list(payloads), "title": "Kind", "type": "string"}
    base["allOf"] = variants
    base["$defs"] = defs
    base["$id"] = "https://gongshi.example/schemas/publication-1.json"
    return base
