"""Liveness and readiness: degraded when a projection falls behind or search is unreachable.

Open to anyone (load balancers), so it says nothing internal: `ok` or `degraded` and the system
date. Where each projection stands is for operators: `/api/v1/admin/projections`, `/metrics`.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from adapters.search_index.base import PROJECTIONS, SearchUnavailable
from api.deps import ClockDep, FollowersDep, IndexDep
from api.responses import OrjsonResponse
from api.schemas import HealthPublic

router = APIRouter(tags=["operations"])

MAX_LAG = 1000


@router.get(
    "/healthz",
    response_model=HealthPublic,
    summary="健康检查",
    responses={503: {"model": HealthPublic, "description": "degraded"}},
)
def healthz(index: IndexDep, clock: ClockDep, followers: FollowersDep) -> JSONResponse:
    try:
        search_up = index.ping()
    except Exception:
        search_up = False
    states = {}
    for follower in followers:
        head = follower.head()
        try:
            position = follower.position() if search_up or follower.name not in PROJECTIONS else 0
        except SearchUnavailable:
            position = 0
        states[follower.name] = {"position": position, "head": head, "lag": max(0, head - position)}
    ok = search_up and max(state["lag"] for state in states.values()) <= MAX_LAG
    body = HealthPublic(status="ok" if ok else "degraded", today=clock.today().isoformat())
    return OrjsonResponse(body.model_dump(), status_code=200 if ok else 503)
