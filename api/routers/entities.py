"""Public lookup: search and an entity's public credit record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ContainerDep
from api.schemas import ERROR_RESPONSES, EntityPagePublic, EntityPublic, EntitySummaryPublic, ErrorPublic
from domain.errors import EntityNotFound
from domain.uscc import USCC, looks_like_registration_number, validate_registration_number
from projections.documents import public_view, summary

router = APIRouter(prefix="/api/v1/entities", tags=["public"], responses=ERROR_RESPONSES)


@router.get("", response_model=EntityPagePublic, summary="查询市场主体")
def search_entities(
    container: ContainerDep,
    q: Annotated[
        str, Query(min_length=1, max_length=100, description="名称、曾用名、拼音、统一社会信用代码或注册号")
    ],
    page: Annotated[int, Query(ge=1, le=500)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> EntityPagePublic:
    today = container.clock.today()
    q = "".join(ch if ch.isprintable() else " " for ch in q)  # control characters never match
    found = container.index.search(q, today, page=page, size=size)
    return EntityPagePublic(
        total=found.total,
        page=page,
        size=size,
        items=[EntitySummaryPublic(**summary(doc, today)) for doc in found.items],
    )


@router.get(
    "/{uscc}",
    response_model=EntityPublic,
    responses={404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}},
    summary="市场主体公示信息",
)
def get_entity(uscc: str, container: ContainerDep) -> EntityPublic:
    today = container.clock.today()
    compact = "".join(uscc.split())
    if looks_like_registration_number(compact):
        number = validate_registration_number(compact)
        found = container.index.search(number, today, size=1)
        if not found.items:
            raise EntityNotFound(number)
        doc = found.items[0]
    else:
        code = USCC.parse(uscc).value
        stored = container.index.get_public(code)
        if stored is None:
            raise EntityNotFound(code)
        doc = stored
    return EntityPublic(**public_view(doc, today))
