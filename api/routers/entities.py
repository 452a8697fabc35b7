"""Public lookup: search (with filters and highlights) and an entity's public credit record."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from adapters.search_index.base import SearchFilters
from api.deps import ClockDep, IndexDep
from api.lookup import find_entity
from api.paging import depth, page_out_of_range, probe_page
from api.schemas import (
    ERROR_RESPONSES,
    PAGED_RESPONSES,
    EntityPagePublic,
    EntityPublic,
    EntitySummaryPublic,
    ErrorPublic,
)
from domain.uscc import TIANJIN_DISTRICTS
from projections.documents import summary
from projections.public_record import entity_public

router = APIRouter(prefix="/api/v1/entities", tags=["public"], responses=ERROR_RESPONSES)

Flag = Literal["abnormal", "serious", "penalty"]
DISTRICT_CODES = {name: code for code, (name, _) in TIANJIN_DISTRICTS.items()}


def district_code(raw: str | None) -> str | None:
    """A 6-digit division code, or a Tianjin district's name (和平区) turned into its code."""
    if not raw:
        return None
    raw = raw.strip()
    return DISTRICT_CODES.get(raw, raw)


@router.get("", response_model=EntityPagePublic, responses=PAGED_RESPONSES, summary="查询市场主体")
def search_entities(
    index: IndexDep,
    clock: ClockDep,
    q: Annotated[
        str | None,
        Query(max_length=100, description="名称、曾用名、拼音、统一社会信用代码、注册号或法定代表人"),
    ] = None,
    status: Annotated[str | None, Query(max_length=20, description="登记状态，如 存续、注销、吊销")] = None,
    district: Annotated[
        str | None, Query(max_length=20, description="所在区：行政区划代码（信用代码第3–8位）或区名")
    ] = None,
    entity_type: Annotated[str | None, Query(max_length=40, description="主体类型，如 有限责任公司")] = None,
    industry: Annotated[str | None, Query(max_length=40, description="行业门类")] = None,
    flags: Annotated[
        list[Flag] | None,
        Query(description="须同时具有的标记：abnormal 经营异常、serious 严重失信、penalty 行政处罚"),
    ] = None,
    established_from: Annotated[date | None, Query(description="成立日期不早于")] = None,
    established_to: Annotated[date | None, Query(description="成立日期不晚于")] = None,
    page: Annotated[int, Query(ge=1, description="页码；超过最后一页时答 404 page_out_of_range")] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> EntityPagePublic:
    today = clock.today()
    q = "".join(ch if ch.isprintable() else " " for ch in q or "")  # control characters never match
    filters = SearchFilters(
        status=status or None,
        district=district_code(district),
        entity_type=entity_type or None,
        industry=industry or None,
        flags=tuple(flags or ()),
        established_from=established_from,
        established_to=established_to,
    )
    if not q.strip() and not filters:
        missing = {"loc": ("query", "q"), "msg": "请输入查询内容或至少一个筛选条件", "type": "missing"}
        raise RequestValidationError([missing])
    narrowed = {"filters": filters} if filters else {}
    found = index.search(q, today, page=probe_page(page, size), size=size, **narrowed)
    at = depth(page, found.total, size)
    if at.beyond:
        raise page_out_of_range(at)
    marks = found.highlights or [None] * len(found.items)
    return EntityPagePublic(
        total=found.total,
        page=page,
        size=size,
        items=[
            EntitySummaryPublic(**summary(doc, today), highlight=mark)
            for doc, mark in zip(found.items, marks, strict=False)
        ],
    )


@router.get(
    "/{uscc}",
    response_model=EntityPublic,
    responses={404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}},
    summary="市场主体公示信息",
)
def get_entity(uscc: str, index: IndexDep, clock: ClockDep) -> EntityPublic:
    today = clock.today()
    return entity_public(find_entity(index, uscc, today), today)
