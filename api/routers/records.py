"""What departments publicised: penalties, licences, inspections, list entries and removals."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query

from adapters.search_index.base import RecordQuery
from api.deps import ClockDep, DepartmentsDep, IndexDep
from api.paging import depth, page_out_of_range, probe_page
from api.schemas import ERROR_RESPONSES, PAGED_RESPONSES, RecordPagePublic, RecordPublic
from domain.kinds import CATEGORIES

router = APIRouter(prefix="/api/v1/records", tags=["public"], responses=ERROR_RESPONSES)

if TYPE_CHECKING:
    Category = str
else:  # the record categories of the table of kinds, as a Literal: an enum in OpenAPI
    Category = Literal[tuple(c.key for c in CATEGORIES)]


@router.get("", response_model=RecordPagePublic, responses=PAGED_RESPONSES, summary="部门公示信息")
def list_records(
    index: IndexDep,
    clock: ClockDep,
    departments: DepartmentsDep,
    category: Category | None = None,
    department: Annotated[str | None, Query(max_length=40)] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    page: Annotated[int, Query(ge=1, description="页码；超过最后一页时答 404 page_out_of_range")] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> RecordPagePublic:
    today = clock.today()
    query = RecordQuery(category=category, department=department, date_from=date_from, date_to=date_to)
    found = index.records(query, today, page=probe_page(page, size), size=size)
    at = depth(page, found.total, size)
    if at.beyond:
        raise page_out_of_range(at)
    names = {d.code: d.name for d in departments.all()}
    items = [
        RecordPublic(**row, department_name=names.get(row.get("department") or "")) for row in found.items
    ]
    return RecordPagePublic(total=found.total, page=page, size=size, items=items)
