"""Public lookup: search (with filters and highlights) and an entity's public credit record."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from adapters.search_index.base import SearchFilters
from api.conditional import CACHE_CONTROL, entity_etag, none_match
from api.deps import ClockDep, EntityVersionsDep, IndexDep
from api.lookup import find_entity
from api.paging import depth, page_out_of_range, probe_page
from api.responses import entity_json, entity_page_json
from api.schemas import (
    ERROR_RESPONSES,
    PAGED_RESPONSES,
    EntityPagePublic,
    EntityPublic,
    ErrorPublic,
)
from domain.errors import InvalidUSCC
from domain.uscc import TIANJIN_DISTRICTS, USCC

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
) -> Response:
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
    # built from the stored documents and encoded by orjson: the model is the documentation
    body = entity_page_json(found.total, page, size, found.items, marks, today)
    return Response(body, media_type="application/json")


@router.get(
    "/{uscc}",
    response_model=EntityPublic,
    responses={
        304: {"description": "未变化：If-None-Match 与当前 ETag（主体版本与系统日期）相同"},
        404: {"model": ErrorPublic},
        422: {"model": ErrorPublic},
    },
    summary="市场主体公示信息",
)
def get_entity(
    uscc: str,
    request: Request,
    index: IndexDep,
    clock: ClockDep,
    versions: EntityVersionsDep,
) -> Response:
    """A USCC asked again with `If-None-Match` is answered 304 from the event store's version
    without reading the index (api.conditional); a registration number is always looked up."""
    today = clock.today()
    asked = request.headers.get("if-none-match")
    if asked:
        try:
            code: str | None = USCC.parse(uscc).value
        except InvalidUSCC:
            code = None
        version = versions.current_version(code) if code else None
        if code and version is not None:
            etag = entity_etag(code, version, today)
            if none_match(asked, etag):
                return Response(status_code=304, headers={"ETag": etag, "Cache-Control": CACHE_CONTROL})
    doc = find_entity(index, uscc, today)
    # the stored document encoded by orjson, not validated again by `EntityPublic` (the docs' model)
    headers = {"ETag": entity_etag(doc["uscc"], doc["version"], today), "Cache-Control": CACHE_CONTROL}
    return Response(entity_json(doc, today), media_type="application/json", headers=headers)
