"""Following changes (scope `feed`): the change feed after a position, as newline-delimited JSON
or a long-lived server-sent-events stream (heartbeats; resumes from `Last-Event-ID`), and
watchlists — by USCC list or by filter — with their own feed and an optional signed webhook.

A position older than the table keeps (`GONGSHI_CHANGE_FEED_RETENTION_DAYS`) answers 410
`position_expired` with `oldest_position` (Companies House answers a stale timepoint so)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from adapters.change_store import ChangeRow, ChangeStore, ChangeStoreUnavailable, Watchlist, WatchlistFilter
from adapters.webhooks import AllowList, WebhookRefused
from api.agency_log import AgencyCall, AgencyCallDep
from api.deps import ChangeStoreDep, ClockDep, SettingsDep, WebhookSecretDep
from api.errors import ApiError
from api.routers.entities import district_code
from api.schemas import ERROR_RESPONSES, ErrorPublic
from domain.errors import InvalidUSCC
from domain.uscc import USCC
from projections.changes import ChangeMessage
from projections.watchlists import watchlist_changes

router = APIRouter(prefix="/api/v1/agency", tags=["agency"], responses=ERROR_RESPONSES)

NDJSON = "application/x-ndjson"
SSE = "text/event-stream"
MAX_WATCHED = 100_000
POLL_S = 0.5
UNAVAILABLE = ApiError(503, "change_feed_unavailable", "变更订阅暂时不可用，请稍后再试")

_FEED_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "变更消息（gongshi.change/2），每行一条；`Accept: text/event-stream` 时为 SSE 长连接",
        "content": {
            NDJSON: {"schema": {"$ref": "#/components/schemas/ChangeMessage"}},
            SSE: {"example": 'id: 42\nevent: change\ndata: {"schema": "gongshi.change/2", ...}\n\n'},
        },
        "headers": {"X-Next-After": {"description": "下一次请求的 after", "schema": {"type": "integer"}}},
    },
    410: {
        "model": ErrorPublic,
        "description": "position_expired：该位置之后的变更已超出保留期，附 oldest_position",
    },
}


class ExpiredPublic(ErrorPublic):
    oldest_position: int


def _expired(store: ChangeStore, after: int) -> None:
    oldest, _newest, purged = store.bounds()
    if after < purged:
        raise ApiError(
            410,
            "position_expired",
            f"位置 {after} 之后的部分变更已超过保留期被删除，请从 oldest_position 之后重新读取",
            detail={"oldest_position": oldest if oldest is not None else purged + 1},
        )


def _note(call: AgencyCall, rows: list[ChangeRow]) -> None:
    call.read_all(r.uscc for r in rows)
    call.add("changes", len(rows))


Reader = Callable[[int, int], tuple[list[ChangeRow], int]]


Note = Callable[[list[ChangeRow]], None]


def _answer(
    request: Request,
    reader: Reader,
    store: ChangeStore,
    note: Note,
    after: int,
    limit: int,
    idle_timeout: float | None,
    last_event_id: str | None,
    heartbeat_s: float,
) -> Response:
    accept = request.headers.get("accept", "")
    if SSE in accept:
        start = int(last_event_id) if last_event_id and last_event_id.strip().isdigit() else after
        _expired(store, start)
        response: Response = EventSourceResponse(_events(reader, note, start, idle_timeout), ping=heartbeat_s)
        return response
    _expired(store, after)
    rows, cursor = reader(after, limit)
    note(rows)
    body = "".join(json.dumps(r.message, ensure_ascii=False) + "\n" for r in rows)
    return Response(body, media_type=NDJSON, headers={"X-Next-After": str(cursor)})


async def _events(
    reader: Reader, note: Note, after: int, idle_timeout: float | None
) -> AsyncIterator[dict[str, Any]]:
    cursor, idle = after, 0.0
    while idle_timeout is None or idle < idle_timeout:
        rows, cursor = await run_in_threadpool(reader, cursor, 200)
        if rows:
            idle = 0.0
            note(rows)
            for row in rows:
                yield {
                    "id": str(row.position),
                    "event": "change",
                    "data": json.dumps(row.message, ensure_ascii=False),
                }
        else:
            await anyio.sleep(POLL_S)
            idle += POLL_S


After = Annotated[int, Query(ge=0, description="只返回位置大于此值的变更（0：从最早保留的开始）")]
Limit = Annotated[int, Query(ge=1, le=10_000)]
IdleTimeout = Annotated[
    float | None,
    Query(gt=0, le=3600, description="SSE：无新变更持续这么多秒后结束连接（默认一直保持）"),
]
LastEventId = Annotated[
    str | None, Header(alias="Last-Event-ID", description="SSE 断线重连时自动带上的最后位置")
]


@router.get(
    "/changes", response_model=ChangeMessage, responses=_FEED_DOC, summary="变更订阅（NDJSON 或 SSE）"
)
def changes(
    request: Request,
    call: AgencyCallDep,
    store: ChangeStoreDep,
    settings: SettingsDep,
    after: After = 0,
    limit: Limit = 1000,
    idle_timeout: IdleTimeout = None,
    last_event_id: LastEventId = None,
) -> Response:
    def reader(position: int, count: int) -> tuple[list[ChangeRow], int]:
        rows = store.after(position, count)
        return rows, (rows[-1].position if rows else position)

    try:
        return _answer(
            request,
            reader,
            store,
            lambda rows: _note(call, rows),
            after,
            limit,
            idle_timeout,
            last_event_id,
            settings.sse_heartbeat_s,
        )
    except ChangeStoreUnavailable:
        raise UNAVAILABLE from None


# --- watchlists -----------------------------------------------------------------------------------


class WatchlistFilterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    districts: list[str] = Field(default_factory=list, description="区：行政区划代码或区名")
    entity_types: list[str] = Field(default_factory=list, description="主体类型")
    flags_entered: list[str] = Field(
        default_factory=list, description="新增的标记：abnormal / serious / penalty"
    )
    flags_left: list[str] = Field(default_factory=list, description="去除的标记")
    categories: list[str] = Field(default_factory=list, description="记录类别：penalty、abnormal、licence …")
    departments: list[str] = Field(default_factory=list, description="公示部门代码")


class WatchlistCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "重点监管企业", "usccs": ["91120116MA05JQ2X4L"]},
                {
                    "name": "滨海新区新列入严重失信",
                    "filter": {"districts": ["滨海新区"], "flags_entered": ["serious"]},
                    "webhook_url": "https://hooks.example.gov.cn/gongshi",
                },
            ]
        },
    )

    name: Annotated[str, Field(min_length=1, max_length=100)]
    usccs: Annotated[list[str] | None, Field(max_length=MAX_WATCHED)] = None
    filter: WatchlistFilterCreate | None = None
    webhook_url: Annotated[str | None, Field(max_length=500)] = None

    @model_validator(mode="after")
    def _one_kind(self) -> WatchlistCreate:
        if (self.usccs is None) == (self.filter is None):
            raise ValueError("须且只须给出 usccs（统一社会信用代码列表）或 filter（筛选条件）之一")
        return self


class WatchlistAgency(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f2c9a0d5b1e4c7a9e0f1a2b3c4d5e6f",
                    "name": "滨海新区新列入严重失信",
                    "kind": "filter",
                    "uscc_count": 0,
                    "filter": {"districts": ["120116"], "flags_entered": ["serious"]},
                    "webhook_url": "https://hooks.example.gov.cn/gongshi",
                    "created_at": "2026-11-22T01:00:00+00:00",
                    "webhook_secret": "9b1c…（64 位十六进制，仅显示一次）",
                }
            ]
        }
    )

    id: str
    name: str
    kind: str = Field(description="usccs | filter")
    uscc_count: int
    filter: dict[str, list[str]] | None
    webhook_url: str | None
    created_at: str
    webhook_secret: str | None = Field(
        None, description="HMAC-SHA256 key of the webhook's X-Gongshi-Signature: shown once, at creation"
    )


def _public(w: Watchlist, secret: str | None = None) -> WatchlistAgency:
    return WatchlistAgency(
        id=w.id,
        name=w.name,
        kind="filter" if w.filter is not None else "usccs",
        uscc_count=w.uscc_count,
        filter=w.filter.public() if w.filter else None,
        webhook_url=w.webhook_url,
        created_at=w.created_at.isoformat(),
        webhook_secret=secret,
    )


def _bad(loc: tuple[Any, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])


@router.post("/watchlists", response_model=WatchlistAgency, status_code=201, summary="新建关注名单")
def create_watchlist(
    body: WatchlistCreate,
    call: AgencyCallDep,
    store: ChangeStoreDep,
    clock: ClockDep,
    settings: SettingsDep,
    secret_of: WebhookSecretDep,
) -> WatchlistAgency:
    usccs: list[str] = []
    for i, raw in enumerate(body.usccs or []):
        try:
            usccs.append(USCC.parse(raw).value)
        except InvalidUSCC as err:
            raise _bad(("body", "usccs", i), err.message) from None
    found = None
    if body.filter is not None:
        f = body.filter
        found = WatchlistFilter(
            districts=tuple(district_code(d) or d for d in f.districts),
            entity_types=tuple(f.entity_types),
            flags_entered=tuple(f.flags_entered),
            flags_left=tuple(f.flags_left),
            categories=tuple(f.categories),
            departments=tuple(f.departments),
        )
    if body.webhook_url:
        try:
            AllowList.parse(settings.webhook_allowed_hosts).check_url(body.webhook_url)
        except WebhookRefused as err:
            raise _bad(("body", "webhook_url"), str(err)) from None
    watchlist = Watchlist(
        id=uuid.uuid4().hex,
        agency=call.agency,
        name=body.name.strip(),
        created_at=clock.now(),
        filter=found,
        uscc_count=len(set(usccs)),
        webhook_url=body.webhook_url,
    )
    try:
        store.create_watchlist(watchlist, list(dict.fromkeys(usccs)))
    except ChangeStoreUnavailable:
        raise UNAVAILABLE from None
    call.count(watchlist=watchlist.id, usccs=watchlist.uscc_count)
    return _public(watchlist, secret_of(watchlist.id) if body.webhook_url else None)


@router.get("/watchlists", response_model=list[WatchlistAgency], summary="本机构的关注名单")
def list_watchlists(call: AgencyCallDep, store: ChangeStoreDep) -> list[WatchlistAgency]:
    found = store.watchlists(call.agency)
    call.count(watchlists=len(found))
    return [_public(w) for w in found]


@router.delete(
    "/watchlists/{watchlist_id}",
    status_code=204,
    responses={404: {"model": ErrorPublic, "description": "not_found：本机构没有该关注名单"}},
    summary="删除关注名单（其变更订阅与回调随之停止）",
)
def delete_watchlist(
    watchlist_id: Annotated[str, Path(max_length=64, examples=["9f1c2d3e4b5a69788796a5b4c3d2e1f0"])],
    call: AgencyCallDep,
    store: ChangeStoreDep,
) -> Response:
    try:
        watchlist = store.watchlist(watchlist_id)
        if watchlist is None or watchlist.agency != call.agency:
            raise ApiError(404, "not_found", "未找到该关注名单")
        store.delete_watchlist(watchlist_id)
    except ChangeStoreUnavailable:
        raise UNAVAILABLE from None
    call.count(watchlist=watchlist_id, deleted=1)
    return Response(status_code=204)


@router.get(
    "/watchlists/{watchlist_id}/changes",
    response_model=ChangeMessage,
    responses={**_FEED_DOC, 404: {"model": ErrorPublic}},
    summary="关注名单的变更（NDJSON 或 SSE）",
)
def watchlist_feed(
    watchlist_id: str,
    request: Request,
    call: AgencyCallDep,
    store: ChangeStoreDep,
    settings: SettingsDep,
    after: After = 0,
    limit: Limit = 1000,
    idle_timeout: IdleTimeout = None,
    last_event_id: LastEventId = None,
) -> Response:
    try:
        watchlist = store.watchlist(watchlist_id)
        if watchlist is None or watchlist.agency != call.agency:
            raise ApiError(404, "not_found", "未找到该关注名单")

        def reader(position: int, count: int) -> tuple[list[ChangeRow], int]:
            return watchlist_changes(store, watchlist, position, count)

        return _answer(
            request,
            reader,
            store,
            lambda rows: _note(call, rows),
            after,
            limit,
            idle_timeout,
            last_event_id,
            settings.sse_heartbeat_s,
        )
    except ChangeStoreUnavailable:
        raise UNAVAILABLE from None
