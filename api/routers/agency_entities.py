"""Agencies read the full record: as of a business date (and as known at an instant), its
history with provenance, and an internal (内部) extract of it. Scope `read`; every call states
its purpose and is written to the access log (api/agency_log.py)."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from adapters.department_store import DepartmentsUnavailable
from adapters.extract_ledger import LedgerUnavailable
from adapters.extract_seal import SealUnavailable
from adapters.feedback import FeedbackUnavailable
from adapters.search_index.base import SearchIndex
from api.agency_log import AgencyCall, AgencyCallDep
from api.deps import (
    ClockDep,
    DepartmentsDep,
    FeedbackDep,
    HistoryDep,
    IndexDep,
    LedgerDep,
    PublicUrlDep,
    SealDep,
)
from api.errors import ApiError
from api.lookup import find_entity
from api.schemas import ERROR_RESPONSES, ErrorPublic
from api.web.extract import ExtractFontMissing, issue_internal
from domain.clock import Clock
from domain.departments import DepartmentRegistry
from domain.errors import EntityNotFound
from domain.uscc import USCC, looks_like_registration_number
from projections.history import AsOfRecord, EntityHistory, NotYetRegistered

router = APIRouter(prefix="/api/v1/agency/entities", tags=["agency"], responses=ERROR_RESPONSES)

AsOf = Annotated[
    date | None,
    Query(
        description="业务日期：该日日终的记录（occurred_on 不晚于该日的事件）；默认系统日期",
        examples=["2025-06-30"],
    ),
]
KnownAt = Annotated[
    AwareDatetime | None,
    Query(
        description="时点（ISO-8601，须带时区）：只计平台在该时点前已记录的事件，用于还原作出决定时的记录",
        examples=["2025-07-01T09:00:00+08:00"],
    ),
]

_PROVENANCE_EXAMPLE: dict[str, Any] = {
    "department": "TJ-AMR",
    "publication_id": "TJ-AMR-2025-000123",
    "basis": "《中华人民共和国广告法》第五十五条",
    "signing_key_id": "sk_AbC123xy",
    "principal": "department:TJ-AMR",
    "event": "PenaltyImposed",
    "entity_version": 4,
    "position": 1842,
    "occurred_on": "2025-05-06",
    "recorded_at": "2025-05-06T02:11:09.120000+00:00",
    "mandate": {
        "department": "TJ-AMR",
        "department_name": "天津市市场监督管理委员会",
        "arrived_on": "2025-05-06",
        "kinds": ["penalty.imposed", "penalty.amended", "penalty.revoked", "registration.registered"],
        "in_force_from": "2025-03-01",
        "change": 14,
        "allows_kind": True,
    },
}


class MandateAgency(BaseModel):
    """The mandate a fact was accepted under: what its department might publish on the system
    date the publication arrived — the answer the ingestion checked it against."""

    department: str = Field(description="the publishing department's code")
    department_name: str | None = Field(description="its name then (null: not in force then)")
    arrived_on: str = Field(description="the system date the publication arrived (and was checked)")
    kinds: list[str] = Field(description="the kinds its mandate allowed that day")
    in_force_from: str | None = Field(
        description="the date that version of the mandate took effect (null: since the shipped list)"
    )
    change: int | None = Field(description="the department registry's change that set it (`history`)")
    allows_kind: bool | None = Field(description="whether the fact's own kind was among them")


class EntityAgency(BaseModel):
    """The full record as it stood at the end of `as_of` (and as known at `known_at`): natural
    persons unmasked, every record — those out of their public window, revoked and repaired
    ones marked (`state`, `public_on_as_of`) — each fact with its `provenance`, which names the
    `mandate` the fact was accepted under (`MandateAgency`)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "uscc": "91120116MA05JQ2X4L",
                    "name": "天津滨海恒通科技有限公司",
                    "version": 7,
                    "position": 1901,
                    "as_of": "2025-06-30",
                    "known_at": None,
                    "status": "存续",
                    "flags": ["penalty"],
                    "registration": {
                        "legal_representative": {"name": "王建国", "id_number": "120101198001010012"},
                        "address": "天津市滨海新区第三大街 1 号",
                    },
                    "registered_by": {"department": "TJ-AMR", "provenance": _PROVENANCE_EXAMPLE},
                    "penalties": [
                        {
                            "decision_no": "津市监罚〔2025〕12号",
                            "state": "public",
                            "public_on_as_of": True,
                            "provenance": _PROVENANCE_EXAMPLE,
                        }
                    ],
                    "skipped": [],
                    "feedback": [],
                }
            ]
        },
    )

    uscc: str
    name: str
    version: int = Field(description="the entity's version the record reflects")
    position: int = Field(description="the last event position (notification id) it reflects")
    as_of: str
    known_at: str | None
    status: str
    flags: list[str] = Field(description="abnormal | serious | penalty (in its window) as of that date")
    registration: dict[str, Any]
    registered_by: dict[str, Any]
    skipped: list[dict[str, Any]] = Field(
        description="events dated on or before as_of that build on a record dated after it (left out)"
    )
    feedback: list[dict[str, Any]] = Field(
        default_factory=list, description="measures agencies reported applying to this entity (联合奖惩反馈)"
    )


class HistoryEventAgency(BaseModel):
    position: int = Field(description="the event's notification id in the event store")
    entity_version: int
    event: str
    kind: str | None = Field(description="the publication kind (null for events without one)")
    occurred_on: str
    recorded_at: str
    department: str
    publication_id: str
    basis: str | None
    signing_key_id: str | None
    principal: str | None
    mandate: MandateAgency | None = Field(
        default=None, description="the mandate the publication was accepted under (null: not known)"
    )
    data: dict[str, Any] = Field(description="the published facts, unmasked")


class HistoryAgency(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "uscc": "91120116MA05JQ2X4L",
                    "as_of": None,
                    "known_at": None,
                    "events": [
                        {**_PROVENANCE_EXAMPLE, "kind": "penalty.imposed", "data": {"fine_amount": "5000"}}
                    ],
                }
            ]
        }
    )

    uscc: str
    as_of: str | None
    known_at: str | None
    events: list[HistoryEventAgency]


def resolve_uscc(index: SearchIndex, raw: str, today: date) -> str:
    """A USCC (checked: 422 names the wrong character), or a registration number looked up."""
    compact = "".join(raw.split())
    if looks_like_registration_number(compact):
        return str(find_entity(index, compact, today)["uscc"])
    return USCC.parse(raw).value


def _refresh(departments: DepartmentRegistry) -> None:
    """See a mandate changed by `gongshi departments …` in another process (else: what this
    process read last, which holds every change up to then)."""
    with contextlib.suppress(DepartmentsUnavailable):
        departments.refresh()


def _check_as_of(as_of: date | None, clock: Clock) -> date:
    today = clock.today()
    if as_of is None:
        return today
    if as_of > today:
        problem = {
            "loc": ("query", "as_of"),
            "msg": f"业务日期不能晚于系统日期 {today}",
            "type": "value_error",
        }
        raise RequestValidationError([problem])
    return as_of


def _record(history: EntityHistory, uscc: str, as_of: date, known_at: Any) -> AsOfRecord:
    try:
        record = history.as_of(uscc, as_of, known_at)
    except NotYetRegistered as err:
        when = f"于 {as_of.isoformat()} 日终" + (f"（平台截至 {known_at.isoformat()}）" if known_at else "")
        raise ApiError(
            404,
            "not_yet_registered",
            f"统一社会信用代码为 {uscc} 的市场主体{when}尚未登记"
            f"（成立登记日期 {err.registered_on.isoformat()}）",
            detail={
                "registered_on": err.registered_on.isoformat(),
                "recorded_at": err.recorded_at.isoformat(),
            },
        ) from None
    if record is None:
        raise EntityNotFound(uscc)
    return record


@router.get(
    "/{uscc}",
    response_model=EntityAgency,
    responses={
        404: {
            "model": ErrorPublic,
            "description": "无此主体（entity_not_found），或所查日期尚未登记（not_yet_registered）",
        }
    },
    summary="完整记录（截至某一业务日期）",
)
def get_entity(
    uscc: str,
    call: AgencyCallDep,
    history: HistoryDep,
    index: IndexDep,
    clock: ClockDep,
    store: FeedbackDep,
    departments: DepartmentsDep,
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> dict[str, Any]:
    day = _check_as_of(as_of, clock)
    code = resolve_uscc(index, uscc, clock.today())
    call.read(code)
    _refresh(departments)
    record = _record(history, code, day, known_at)
    try:
        feedback = [f.public() for f in store.for_entity(code) if f.applied_on <= day]
    except FeedbackUnavailable:
        raise ApiError(503, "feedback_unavailable", "措施反馈暂时无法读取，请稍后再试") from None
    call.count(events=len(record.events))
    return {**record.document, "skipped": record.skipped, "feedback": feedback}


@router.get("/{uscc}/history", response_model=HistoryAgency, summary="事件历史（含来源）")
def get_history(
    uscc: str,
    call: AgencyCallDep,
    history: HistoryDep,
    index: IndexDep,
    clock: ClockDep,
    departments: DepartmentsDep,
    as_of: Annotated[date | None, Query(description="只列 occurred_on 不晚于该日的事件")] = None,
    known_at: KnownAt = None,
) -> HistoryAgency:
    code = resolve_uscc(index, uscc, clock.today())
    call.read(code)
    _refresh(departments)
    events = history.events(code)
    if not events:
        raise EntityNotFound(code)
    if as_of is not None or known_at is not None:
        events = history.kept(events, as_of or date.max, known_at)
    call.count(events=len(events))
    return HistoryAgency(
        uscc=code,
        as_of=as_of.isoformat() if as_of else None,
        known_at=known_at.isoformat() if known_at else None,
        events=[HistoryEventAgency(**e.public()) for e in events],
    )


@router.get(
    "/{uscc}/extract.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "内部信用信息报告（PDF，可在 /verify 验证）"}
    },
    summary="内部信用信息报告 PDF（截至某一业务日期）",
)
def get_internal_extract(
    uscc: str,
    call: AgencyCallDep,
    history: HistoryDep,
    index: IndexDep,
    clock: ClockDep,
    departments: DepartmentsDep,
    ledger: LedgerDep,
    seal: SealDep,
    public_url: PublicUrlDep,
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> Response:
    day = _check_as_of(as_of, clock)
    code = resolve_uscc(index, uscc, clock.today())
    call.read(code)
    record = _record(history, code, day, known_at)
    try:
        pdf, issued = issue_internal(
            record.document,
            f"{public_url}/verify",
            clock=clock,
            position=record.position,
            version=record.version,
            departments=departments,
            ledger=ledger,
            seal=seal,
            agency=_agency_text(call),
            officer=call.officer,
            purpose=call.purpose,
        )
    except (ExtractFontMissing, LedgerUnavailable, SealUnavailable) as err:
        raise ApiError(503, "extract_unavailable", f"内部信用信息报告暂时无法生成：{err}") from None
    call.count(extract=issued.code)
    chinese = quote(f"内部信用信息报告-{record.document['name']}-{code}-{day.isoformat()}.pdf")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="internal-extract-{code}-{day.isoformat()}.pdf"; '
            f"filename*=UTF-8''{chinese}",
            "Cache-Control": "no-store",
            "X-Verification-Code": issued.code,
            "X-Content-SHA256": issued.sha256,
            "X-Classification": "internal",
        },
    )


def _agency_text(call: AgencyCall) -> str:
    return f"{call.agency_name}（{call.agency}）" if call.agency_name else call.agency
