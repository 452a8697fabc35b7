"""The HTTP gateway for departments: publish an envelope, then follow its status.

`POST /api/v1/publications` checks the department's credential and the envelope's shape, then
puts the envelope on the same log the departments' Kafka producers write to (key = the USCC),
signed with the platform's key in the name of the calling department key
(`gongshi-principal: department:TJ-AMR/key:<key id>`), and answers 202: applying it is the
ingestion worker's job, exactly as for Kafka. Its outcome
is read back from the publication status view with `GET /api/v1/publications/{publication_id}`.
A department sees only its own publications.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from adapters.publication_log.base import LogUnavailable
from adapters.status_view import StatusUnavailable
from api.deps import DepartmentDep, DepartmentKeyDep, FollowersDep, PublicationTopicDep, StatusViewDep
from api.errors import error_response
from api.schemas import ERROR_RESPONSES, ErrorPublic, PublicationAccepted, PublicationStatusPublic
from domain.publications import Envelope, describe_validation_error

router = APIRouter(prefix="/api/v1/publications", tags=["gateway"])
progress_router = APIRouter(prefix="/api/v1/gateway", tags=["gateway"])

_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "缺少或无效的部门密钥"},
    503: {"model": ErrorPublic, "description": "服务暂时不可用"},
}
_ENVELOPE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "公示信封（与 Kafka 消息相同，见 docs/schemas/publication.schema.json）",
        "content": {"application/json": {"schema": Envelope.model_json_schema(by_alias=True)}},
    }
}


@router.post(
    "",
    status_code=202,
    response_model=PublicationAccepted,
    responses={
        **_AUTH_RESPONSES,
        403: {"model": ErrorPublic, "description": "信封中的部门与密钥所属部门不符"},
        413: {"model": ErrorPublic, "description": "请求体过大（body_too_large，上限见 api/limits.py）"},
        422: {"model": ErrorPublic, "description": "信封格式错误（invalid_envelope）"},
    },
    openapi_extra=_ENVELOPE_BODY,
    summary="部门发布公示信息",
)
async def publish(request: Request, caller: DepartmentKeyDep, topic: PublicationTopicDep) -> Any:
    department = str(caller.subject)
    body = await request.body()  # at most the route's limit (api/request_limits.py), else a 413
    try:
        envelope = Envelope.model_validate_json(body)
    except ValidationError as err:
        return error_response(422, "invalid_envelope", f"信封格式错误：{describe_validation_error(err)}")
    if envelope.department != department:
        return error_response(
            403,
            "department_mismatch",
            f"该密钥属于部门“{department}”，不能以部门“{envelope.department}”的名义发布",
        )
    value = json.dumps(envelope.to_json_dict(), ensure_ascii=False).encode()
    try:
        await run_in_threadpool(topic.publish, value, envelope.uscc, caller.id)
    except LogUnavailable:
        return error_response(503, "log_unavailable", "公示队列暂时不可用，请稍后重试")
    return PublicationAccepted(publication_id=envelope.publication_id)


@router.get(
    "/{publication_id:path}",
    response_model=PublicationStatusPublic,
    response_model_exclude_none=True,
    responses={
        **_AUTH_RESPONSES,
        404: {"model": ErrorPublic, "description": "不是本部门的公示"},
        422: ERROR_RESPONSES[422],
    },
    summary="公示处理状态",
)
def publication_status(publication_id: str, department: DepartmentDep, status_view: StatusViewDep) -> Any:
    try:
        row = status_view.get(publication_id)
    except StatusUnavailable:
        return error_response(503, "status_unavailable", "处理状态暂时无法查询，请稍后再试")
    if row is None:
        return PublicationStatusPublic(publication_id=publication_id, status="pending", message="尚未处理")
    if row["department"] != department:
        return error_response(404, "not_found", "未找到本部门的该条公示")
    return PublicationStatusPublic(
        publication_id=publication_id,
        status=row["status"],
        code=row["code"],
        message=row["message"],
        uscc=row["uscc"],
        kind=row["kind"],
    )


class ProgressPublic(BaseModel):
    """How far the publication statuses have come: `gongshi publish --wait` tells a stalled
    platform from a busy one with it."""

    position: int = Field(description="last notification id the status view has read")
    head: int = Field(description="last notification id in the event store")
    lag: int = Field(description="head − position")


@progress_router.get(
    "/progress",
    response_model=ProgressPublic,
    responses=_AUTH_RESPONSES,
    summary="处理状态的进度",
)
def progress(department: DepartmentDep, followers: FollowersDep) -> ProgressPublic:
    status = next(f for f in followers if f.name == "publication_status")
    head, position = status.head(), status.position()
    return ProgressPublic(position=position, head=head, lag=max(0, head - position))
