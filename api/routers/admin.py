"""Operators: where each projection stands against the notification log."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import FollowersDep
from api.metrics import projection_state

router = APIRouter(prefix="/api/v1/admin", tags=["operations"])


class ProjectionAdmin(BaseModel):
    name: str
    position: int | None = Field(description="last notification id written (null: index unreachable)")
    head: int = Field(description="last notification id in the event store")
    lag: int | None = Field(description="head − position")


@router.get("/projections", response_model=list[ProjectionAdmin], summary="投影进度")
def list_projections(followers: FollowersDep) -> list[ProjectionAdmin]:
    return [ProjectionAdmin(**projection_state(p)) for p in followers]
