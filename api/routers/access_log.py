"""The access log read back: administrators see every agency call; an enterprise sees which
agencies read its record, when and why (a confidential read only after its delay)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from adapters.access_log import AccessLogQuery, AccessLogUnavailable
from api.access import what_route
from api.deps import AccessLogDep, ClockDep, EnterpriseDep
from api.errors import ApiError
from api.schemas import ERROR_RESPONSES
from domain.uscc import USCC

admin_router = APIRouter(prefix="/api/v1/admin", tags=["operations"], responses=ERROR_RESPONSES)
enterprise_router = APIRouter(prefix="/api/v1/enterprise", tags=["enterprise"], responses=ERROR_RESPONSES)
UNAVAILABLE = ApiError(503, "access_log_unavailable", "访问日志暂时无法读取，请稍后再试")


class AccessEntryAdmin(BaseModel):
    """One agency call as written down."""

    id: int
    at: datetime = Field(description="when the answer began (UTC)")
    read_on: date = Field(description="the system date of the call")
    agency: str = Field(description="the agency's office code (the key's subject)")
    agency_name: str | None
    key_id: str | None
    officer: str | None = Field(description="X-Officer, decoded")
    method: str
    route: str = Field(description="the route as declared")
    path: str
    query: str | None
    purpose: str | None = Field(description="the stated purpose, decoded")
    confidential: bool
    status: int
    usccs: list[str] = Field(description="entities read or matched (the first 50; see uscc_count)")
    uscc_count: int
    counts: dict[str, Any]
    completed: bool | None = Field(description="a streamed answer: whether it ended (null: sent whole)")
    ended_at: datetime | None


class AccessLogPageAdmin(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": 42,
                            "at": "2026-11-22T02:30:00+00:00",
                            "read_on": "2026-11-22",
                            "agency": "TJ-TAX-JC1",
                            "agency_name": "天津市税务局第一稽查局",
                            "key_id": "ab12cd34",
                            "officer": "张三",
                            "method": "GET",
                            "route": "/api/v1/agency/entities/{uscc}",
                            "path": "/api/v1/agency/entities/91120116MA05JQ2X4L",
                            "query": "as_of=2025-06-30",
                            "purpose": "税务稽查 2026-17 号案",
                            "confidential": True,
                            "status": 200,
                            "usccs": ["91120116MA05JQ2X4L"],
                            "uscc_count": 1,
                            "counts": {"events": 7},
                            "completed": None,
                            "ended_at": None,
                        }
                    ],
                    "next_before": None,
                }
            ]
        }
    )

    items: list[AccessEntryAdmin]
    next_before: int | None = Field(description="pass as `before` for the next (older) page")


class AccessReadEnterprise(BaseModel):
    """A read of the enterprise's record by an agency."""

    id: int
    at: datetime
    read_on: date
    agency: str
    agency_name: str | None
    route: str
    what: str | None = Field(description="what the route is (its line in the authorisation matrix)")
    purpose: str | None
    confidential: bool = Field(description="the agency marked it confidential; shown after the delay")
    visible_from: date


class AccessReadsEnterprise(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "uscc": "91120116MA05JQ2X4L",
                    "as_of": "2026-11-22",
                    "confidential_delay_days": 180,
                    "items": [
                        {
                            "id": 41,
                            "at": "2026-11-21T08:00:00+00:00",
                            "read_on": "2026-11-21",
                            "agency": "TJ-FIN-1",
                            "agency_name": "天津市财政局政府采购处",
                            "route": "/api/v1/agency/screen",
                            "what": "联合惩戒筛查（一处失信、处处受限）",
                            "purpose": "政府采购资格审查",
                            "confidential": False,
                            "visible_from": "2026-11-21",
                        }
                    ],
                }
            ]
        }
    )

    uscc: str
    as_of: date
    confidential_delay_days: int
    items: list[AccessReadEnterprise]


@admin_router.get("/access-log", response_model=AccessLogPageAdmin, summary="机构访问日志")
def admin_access_log(
    log: AccessLogDep,
    agency: Annotated[str | None, Query(max_length=60, description="机构代码")] = None,
    uscc: Annotated[str | None, Query(max_length=40, description="被查询主体的统一社会信用代码")] = None,
    date_from: Annotated[date | None, Query(alias="from", description="自（系统日期，含）")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="至（系统日期，含）")] = None,
    before: Annotated[int | None, Query(ge=1, description="只看编号小于它的记录（翻页）")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AccessLogPageAdmin:
    code = USCC.parse(uscc).value if uscc else None
    try:
        found = log.entries(AccessLogQuery(agency, code, date_from, date_to, before, limit))
    except AccessLogUnavailable:
        raise UNAVAILABLE from None
    items = [AccessEntryAdmin(**_fields(e)) for e in found]
    return AccessLogPageAdmin(items=items, next_before=items[-1].id if len(items) == limit else None)


def _fields(entry: Any) -> dict[str, Any]:
    return {
        name: (list(value) if name == "usccs" else value)
        for name, value in vars(entry).items()
        if name in AccessEntryAdmin.model_fields
    }


@enterprise_router.get(
    "/access-log", response_model=AccessReadsEnterprise, summary="本企业信息被机构查询的记录"
)
def enterprise_access_log(uscc: EnterpriseDep, log: AccessLogDep, clock: ClockDep) -> AccessReadsEnterprise:
    today = clock.today()
    try:
        reads = log.reads_of(uscc, today)
    except AccessLogUnavailable:
        raise UNAVAILABLE from None
    delay = log.confidential_delay_days
    return AccessReadsEnterprise(
        uscc=uscc,
        as_of=today,
        confidential_delay_days=delay,
        items=[AccessReadEnterprise(**r.for_enterprise(delay), what=what_route(r.route)) for r in reads],
    )
