"""Liveness and readiness: degraded when a projection falls behind or search is unreachable."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ContainerDep
from api.schemas import HealthPublic

router = APIRouter(tags=["operations"])

MAX_LAG = 1000


@router.get(
    "/healthz",
    response_model=HealthPublic,
    summary="健康检查",
    responses={503: {"model": HealthPublic, "description": "degraded"}},
)
def healthz(container: ContainerDep) -> JSONResponse:
    projection = container.projection
    try:
        search_up = container.index.ping()
    except Exception:
        search_up = False
    head = projection.head()
    position = projection.position() if search_up else 0
    status = container.status_projection
    status_position = status.position()
    lags = {projection.name: max(0, head - position), status.name: max(0, head - status_position)}
    ok = search_up and max(lags.values()) <= MAX_LAG
    body = HealthPublic(
        status="ok" if ok else "degraded",
        today=container.clock.today().isoformat(),
        search="up" if search_up else "down",
        projections={
            projection.name: {"position": position, "head": head, "lag": lags[projection.name]},
            status.name: {"position": status_position, "head": head, "lag": lags[status.name]},
        },
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
