"""Operators: where each projection stands against the notification log, and the audit trail of
what operators did."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field

from adapters.audit_trail import AuditUnavailable
from api.deps import AuditDep, FollowersDep
from api.errors import error_response
from api.metrics import projection_state
from api.schemas import ErrorPublic

router = APIRouter(prefix="/api/v1/admin", tags=["operations"])


class ProjectionAdmin(BaseModel):
    name: str
    position: int | None = Field(description="last notification id written (null: index unreachable)")
    head: int = Field(description="last notification id in the event store")
    lag: int | None = Field(description="head − position")


@router.get("/projections", response_model=list[ProjectionAdmin], summary="投影进度")
def list_projections(followers: FollowersDep) -> list[ProjectionAdmin]:
    return [ProjectionAdmin(**projection_state(p)) for p in followers]


class AuditAdmin(BaseModel):
    number: int = Field(description="the act's number, in the order acts were recorded")
    at: datetime = Field(description="when (UTC)")
    actor: str = Field(description="who: `admin:NAME/key:ID` (an operator's key) or `cli:USER` (the OS user)")
    action: str = Field(description="what, as a stable code, e.g. `keys.created`, `dlq.replayed`")
    arguments: dict[str, Any] = Field(description="with which arguments (never a secret)")


@router.get(
    "/audit",
    response_model=list[AuditAdmin],
    responses={503: {"model": ErrorPublic}},
    summary="运维操作审计记录",
)
def list_audit(
    audit: AuditDep,
    since: Annotated[
        AwareDatetime | None, Query(description="acts at or after this instant (with its zone)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="the most recent N acts")] = 1000,
) -> list[AuditAdmin] | JSONResponse:
    try:
        entries = audit.entries(since=since, limit=limit)
    except AuditUnavailable:
        return error_response(503, "audit_unavailable", "审计记录暂时无法读取，请稍后再试")
    return [
        AuditAdmin(number=e.number, at=e.at, actor=e.actor, action=e.action, arguments=e.arguments)
        for e in entries
    ]
