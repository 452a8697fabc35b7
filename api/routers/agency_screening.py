"""Joint restrictions (一处失信、处处受限): the measures as versioned data with their sources,
screening a list of entities for a measure on a date, a natural person's roles and the
restrictions on them, and the feedback loop (联合奖惩反馈). Scope `screen`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.feedback import Feedback, FeedbackUnavailable
from api.agency_log import AgencyCallDep
from api.deps import ClockDep, FeedbackDep, IndexDep
from api.errors import ApiError
from api.schemas import ERROR_RESPONSES
from domain.errors import InvalidIdentityNumber, InvalidUSCC
from domain.identity import validate_resident_id
from domain.persons import restrictions_for, roles
from domain.screening import MEASURES, Measure, measure, screen
from domain.uscc import USCC

router = APIRouter(prefix="/api/v1/agency", tags=["agency"], responses=ERROR_RESPONSES)

MAX_SCREENED = 10_000
MEASURE_CODES = tuple(m.code for m in MEASURES)


def _source(source: Any) -> dict[str, Any]:
    return {"document": source.document, "articles": source.articles, "url": source.url}


def measure_public(m: Measure) -> dict[str, Any]:
    return {
        "code": m.code,
        "name": m.name,
        "versions": [
            {
                "version": v.version,
                "in_force_from": v.in_force_from.isoformat(),
                "note": v.note or None,
                "rules": [
                    {
                        "kind": r.kind,
                        "label": r.label,
                        "within_years": r.within_years,
                        "measures": sorted(r.measures) or None,
                        "min_fine": str(r.min_fine) if r.min_fine is not None else None,
                        "in_window": r.in_window,
                        "basis": _source(r.basis),
                        "basis_confirmed": r.confirmed,
                    }
                    for r in v.rules
                ],
            }
            for v in m.versions
        ],
    }


class SourceAgency(BaseModel):
    document: str
    articles: str
    url: str | None


class RuleAgency(BaseModel):
    kind: Literal["serious_listing", "abnormal_listing", "penalty"]
    label: str
    within_years: int | None
    measures: list[str] | None
    min_fine: str | None
    in_window: bool
    basis: SourceAgency
    basis_confirmed: bool = Field(description="false: the article was not read in a primary text")


class MeasureVersionAgency(BaseModel):
    version: str
    in_force_from: str
    note: str | None
    rules: list[RuleAgency]


class MeasureAgency(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "bidding",
                    "name": "工程招投标",
                    "versions": [
                        {
                            "version": "2014-10-01",
                            "in_force_from": "2014-10-01",
                            "note": None,
                            "rules": [
                                {
                                    "kind": "serious_listing",
                                    "label": "列入严重违法失信名单",
                                    "within_years": None,
                                    "measures": None,
                                    "min_fine": None,
                                    "in_window": False,
                                    "basis": {
                                        "document": "《企业信息公示暂行条例》（国务院令第654号）",
                                        "articles": "第十八条",
                                        "url": None,
                                    },
                                    "basis_confirmed": True,
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )

    code: str
    name: str
    versions: list[MeasureVersionAgency]


@router.get("/measures", response_model=list[MeasureAgency], summary="联合惩戒措施（版本化，附依据）")
def list_measures(call: AgencyCallDep) -> list[dict[str, Any]]:
    call.count(measures=len(MEASURES))
    return [measure_public(m) for m in MEASURES]


# --- screening ------------------------------------------------------------------------------------


class ScreenCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "measure": "government_procurement",
                    "entities": ["91120116MA05JQ2X4L"],
                    "as_of": "2026-11-20",
                }
            ]
        }
    )

    measure: Literal[MEASURE_CODES] = Field(description="措施代码（GET /api/v1/agency/measures）")  # type: ignore[valid-type]
    entities: Annotated[
        list[str], Field(min_length=1, max_length=MAX_SCREENED, description="统一社会信用代码")
    ]
    as_of: date | None = Field(None, description="筛查日期（默认系统日期）")


class ReasonAgency(BaseModel):
    rule: str
    label: str
    record: dict[str, Any]
    basis: SourceAgency
    basis_confirmed: bool


class ScreenedAgency(BaseModel):
    uscc: str
    found: bool
    name: str | None = None
    status: str | None = None
    restricted: bool
    reasons: list[ReasonAgency] = []
    note: str | None = None


class ScreenAgency(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "measure": "government_procurement",
                    "measure_name": "政府采购",
                    "version": "2015-03-01",
                    "as_of": "2026-11-20",
                    "restricted": 1,
                    "results": [
                        {
                            "uscc": "91120116MA05JQ2X4L",
                            "found": True,
                            "name": "天津德明建筑工程有限公司",
                            "status": "存续",
                            "restricted": True,
                            "reasons": [
                                {
                                    "rule": "serious_listing",
                                    "label": "列入严重违法失信名单",
                                    "record": {
                                        "decision_no": "津市监严〔2025〕2号",
                                        "listed_on": "2025-02-01",
                                    },
                                    "basis": {
                                        "document": "《企业信息公示暂行条例》",
                                        "articles": "第十八条",
                                        "url": None,
                                    },
                                    "basis_confirmed": True,
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )

    measure: str
    measure_name: str
    version: str | None
    as_of: str
    restricted: int
    results: list[ScreenedAgency]


def _usccs(raw: list[str], field: str = "entities") -> list[str]:
    out, problems = [], []
    for i, value in enumerate(raw):
        try:
            out.append(USCC.parse(value).value)
        except InvalidUSCC as err:
            problems.append({"loc": ("body", field, i), "msg": err.message, "type": "value_error"})
    if problems:
        raise RequestValidationError(problems[:20])
    return out


def _day(value: date | None, today: date, field: str = "as_of") -> date:
    if value is None:
        return today
    if value > today:
        raise RequestValidationError(
            [{"loc": ("body", field), "msg": f"日期不能晚于系统日期 {today}", "type": "value_error"}]
        )
    return value


@router.post("/screen", response_model=ScreenAgency, summary="联合惩戒筛查")
def screen_entities(
    body: ScreenCreate, call: AgencyCallDep, index: IndexDep, clock: ClockDep
) -> ScreenAgency:
    day = _day(body.as_of, clock.today())
    chosen = measure(body.measure)
    assert chosen is not None
    usccs = _usccs(body.entities)
    docs = index.get_sharing_many(usccs)
    call.read_all(u for u in usccs if u in docs)
    results = []
    for uscc in usccs:
        doc = docs.get(uscc)
        if doc is None:
            results.append(ScreenedAgency(uscc=uscc, found=False, restricted=False, note="本平台无该主体"))
            continue
        established = (doc.get("registration") or {}).get("established_on")
        if established and date.fromisoformat(established) > day:
            note = f"该主体于 {established} 成立，所查日期尚未登记"
            results.append(
                ScreenedAgency(uscc=uscc, found=True, name=doc["name"], restricted=False, note=note)
            )
            continue
        outcome = screen(doc, chosen, day)
        results.append(
            ScreenedAgency(
                uscc=uscc,
                found=True,
                name=doc["name"],
                status=doc.get("status"),
                restricted=outcome.restricted,
                reasons=[ReasonAgency(**r.public()) for r in outcome.reasons],
                note=outcome.note or None,
            )
        )
    restricted = sum(r.restricted for r in results)
    call.count(entities=len(usccs), found=len(docs), restricted=restricted)
    return ScreenAgency(
        measure=chosen.code,
        measure_name=chosen.name,
        version=chosen.version_on(day).version if chosen.version_on(day) else None,  # type: ignore[union-attr]
        as_of=day.isoformat(),
        restricted=restricted,
        results=results,
    )


# --- persons --------------------------------------------------------------------------------------


class PersonCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "赵德明", "id_number": "120101197505050774", "as_of": "2026-11-20"}]
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=50, description="姓名")]
    id_number: Annotated[str, Field(min_length=18, max_length=18, description="居民身份证号码")]
    as_of: date | None = Field(None, description="判断限制是否有效的日期（默认系统日期）")

    @field_validator("id_number")
    @classmethod
    def _valid(cls, value: str) -> str:
        try:
            return validate_resident_id(value.strip().upper())
        except InvalidIdentityNumber as err:
            raise ValueError(err.message) from None


class PersonRoleAgency(BaseModel):
    uscc: str
    entity_name: str
    role: str = Field(description="法定代表人 / 经营者 / 股东 / 主要人员（职务）")
    kind: str = Field(description="legal_representative | shareholder | key_staff")
    name: str = Field(description="the name the entity's record gives the person")
    since: str
    until: str | None
    current: bool
    publication_id: str | None
    entity_status: str | None = None
    name_differs: bool = Field(False, description="the record names the person otherwise than asked")


class PersonRestrictionAgency(BaseModel):
    code: str
    name: str
    uscc: str
    entity_name: str
    trigger: str
    record: dict[str, Any]
    from_: str = Field(alias="from")
    until: str
    in_force: bool
    requires_check: bool = Field(
        description="a condition the register cannot establish (e.g. personal responsibility)"
    )
    basis: SourceAgency


class PersonAgency(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "赵德明",
                    "id_number": "120101197505050774",
                    "as_of": "2026-11-20",
                    "roles": [
                        {
                            "uscc": "91120116MA05JQ2X4L",
                            "entity_name": "天津德明建筑工程有限公司",
                            "role": "法定代表人",
                            "name": "赵德明",
                            "since": "2019-05-20",
                            "until": None,
                            "current": True,
                            "publication_id": "TJ-AMR-2019-000123",
                            "entity_status": "存续",
                            "name_differs": False,
                        }
                    ],
                    "restrictions": [
                        {
                            "code": "serious_list_representative",
                            "name": "严重违法企业名单企业的法定代表人，3年内不得担任其他企业的法定代表人",
                            "uscc": "91120116MA05JQ2X4L",
                            "entity_name": "天津德明建筑工程有限公司",
                            "trigger": "serious_listed",
                            "record": {"decision_no": "津市监严〔2025〕2号", "on": "2025-02-01"},
                            "from": "2025-02-01",
                            "until": "2028-02-01",
                            "in_force": True,
                            "requires_check": False,
                            "basis": {
                                "document": "《企业信息公示暂行条例》",
                                "articles": "第十七条第二款",
                                "url": None,
                            },
                        }
                    ],
                    "note": "登记信息中载有身份证件号码的自然人仅为法定代表人（负责人、经营者）",
                }
            ]
        }
    )

    name: str
    id_number: str
    as_of: str
    roles: list[PersonRoleAgency]
    restrictions: list[PersonRestrictionAgency]
    note: str


PERSONS_NOTE = (
    "按身份证件号码查找：法定代表人（负责人、经营者）、自然人股东和主要人员，以登记及变更登记中载明的为准；"
    "登记机关未报送股东或主要人员的主体，只能查到其法定代表人。任职限制仅依法适用于法定代表人（负责人）"
)


@router.post("/persons", response_model=PersonAgency, summary="自然人任职情况与任职限制")
def person_roles(body: PersonCreate, call: AgencyCallDep, index: IndexDep, clock: ClockDep) -> dict[str, Any]:
    day = _day(body.as_of, clock.today())
    usccs = index.entities_of_person(body.id_number)
    docs = index.get_sharing_many(usccs)
    found_roles, found_restrictions = [], []
    for uscc in usccs:
        doc = docs.get(uscc)
        if doc is None:
            continue
        held = roles(doc, body.id_number)
        if not held:
            continue
        call.read(uscc)
        found_roles += [
            {**r.public(), "entity_status": doc.get("status"), "name_differs": r.name != body.name.strip()}
            for r in held
        ]
        found_restrictions += restrictions_for(doc, held, day)
    call.count(entities=len(call.usccs), restrictions=len(found_restrictions))
    return {
        "name": body.name.strip(),
        "id_number": body.id_number,
        "as_of": day.isoformat(),
        "roles": sorted(found_roles, key=lambda r: (r["since"], r["uscc"])),
        "restrictions": found_restrictions,
        "note": PERSONS_NOTE,
    }


# --- feedback -------------------------------------------------------------------------------------


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "uscc": "91120116MA05JQ2X4L",
                    "measure": "government_procurement",
                    "action": "拒绝其参加本次政府采购活动",
                    "applied_on": "2026-11-20",
                    "basis": "《企业信息公示暂行条例》第十八条",
                    "reference": "津财采〔2026〕88号",
                }
            ]
        }
    )

    uscc: str
    measure: Literal[MEASURE_CODES] = Field(description="措施代码")  # type: ignore[valid-type]
    action: Annotated[str, Field(min_length=2, max_length=200, description="采取的措施（做了什么）")]
    applied_on: date = Field(description="采取措施的日期")
    basis: Annotated[str | None, Field(max_length=500, description="依据")] = None
    reference: Annotated[str | None, Field(max_length=200, description="文书编号")] = None
    note: Annotated[str | None, Field(max_length=1000)] = None


class FeedbackAgency(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "uscc": "91120116MA05JQ2X4L",
                    "measure": "government_procurement",
                    "action": "拒绝其参加本次政府采购活动",
                    "applied_on": "2026-11-20",
                    "basis": "《企业信息公示暂行条例》第十八条",
                    "reference": "津财采〔2026〕88号",
                    "note": None,
                    "agency": "TJ-FIN-1",
                    "agency_name": "天津市财政局政府采购处",
                    "officer": "孙七",
                    "recorded_at": "2026-11-21T01:02:03+00:00",
                }
            ]
        }
    )

    id: int
    uscc: str
    measure: str
    action: str
    applied_on: str
    basis: str | None
    reference: str | None
    note: str | None
    agency: str
    agency_name: str | None
    officer: str | None
    recorded_at: str


@router.post("/feedback", response_model=FeedbackAgency, status_code=201, summary="联合奖惩措施反馈")
def record_feedback(
    body: FeedbackCreate, call: AgencyCallDep, index: IndexDep, store: FeedbackDep, clock: ClockDep
) -> dict[str, Any]:
    [uscc] = _usccs([body.uscc], "uscc")
    day = _day(body.applied_on, clock.today(), "applied_on")
    if index.get_sharing(uscc) is None:
        raise ApiError(404, "entity_not_found", f"未找到统一社会信用代码为 {uscc} 的市场主体")
    call.read(uscc)
    entry = Feedback(
        uscc=uscc,
        measure=body.measure,
        action=body.action.strip(),
        applied_on=day,
        basis=body.basis,
        reference=body.reference,
        note=body.note,
        agency=call.agency,
        agency_name=call.agency_name,
        officer=call.officer,
        key_id=call.principal.key_id,
        recorded_at=clock.now(),
    )
    try:
        entry_id = store.record(entry)
    except FeedbackUnavailable:
        raise ApiError(503, "feedback_unavailable", "措施反馈暂时无法记录，请稍后再试") from None
    call.count(feedback=entry_id)
    return {**entry.public(), "id": entry_id}
