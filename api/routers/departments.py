"""The connected departments and what each may publish."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter

from adapters.department_store import DepartmentsUnavailable
from api.deps import DepartmentsDep
from api.schemas import ERROR_RESPONSES, DepartmentPublic

router = APIRouter(prefix="/api/v1/departments", tags=["public"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[DepartmentPublic], summary="已接入部门")
def list_departments(departments: DepartmentsDep) -> list[DepartmentPublic]:
    """The departments and their mandates in force on the system date."""
    with contextlib.suppress(DepartmentsUnavailable):  # else: what this process read last
        departments.refresh()  # a change made by `gongshi departments …` in another process
    return [
        DepartmentPublic(code=d.code, name=d.name, short_name=d.short_name, kinds=sorted(d.kinds))
        for d in departments.all()
    ]
