"""A department's desk: the applications and objections it decides, own code only.

- `GET /api/v1/departments/{code}/repairs?status=pending` (and `abnormal-removals`, `objections`)
  — its cases, oldest number first, with each one's deadline;
- `POST …/repairs/{id}/decision` `{"approve", "reason"}` — approval is `repair.approved` on the log
  (the public record changes when it is applied), refusal `application.rejected`;
  `…/abnormal-removals/{id}/decision` likewise (`abnormal.removed`);
- `POST …/objections/{id}/decision` `{"upheld", "reason"}` — `objection.resolved`.

The calling key's department must be `{code}` (403 otherwise); what it decides is signed by the
platform for the key (`department:CODE/key:…`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.deps import DecisionsDep, OwnDepartmentDep
from api.schemas import ErrorPublic

router = APIRouter(prefix="/api/v1/departments", tags=["departments"])

Code = Annotated[str, Path(min_length=1, max_length=40, description="部门代码（本部门）")]
Number = Annotated[str, Path(min_length=1, max_length=80, description="申请或异议编号")]
Status = Annotated[
    Literal["pending", "approved", "rejected", "resolved"] | None, Query(description="状态（默认 pending）")
]


class DecisionCreate(BaseModel):
    approve: bool = Field(description="true 批准；false 不予批准")
    reason: str = Field(min_length=1, max_length=4000, description="理由")


class ObjectionDecisionCreate(BaseModel):
    upheld: bool = Field(description="true 异议成立（记录有误，由本部门更正）；false 不成立")
    reason: str = Field(min_length=1, max_length=4000, description="答复")


class DecisionAccepted(BaseModel):
    publication_id: str
    kind: str
    status: str = "pending"
    uscc: str


_DECIDE: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "本部门没有该申请或异议"},
    409: {"model": ErrorPublic, "description": "已处理，或尚不能批准（原因见 code）"},
}


def _list(kind: str):  # type: ignore[no-untyped-def]
    def handler(
        code: Code, principal: OwnDepartmentDep, decisions: DecisionsDep, status: Status = "pending"
    ) -> list[dict[str, Any]]:
        return decisions.cases(code, kind, status)

    return handler


for _kind, _summary in (
    ("repairs", "本部门待决定的信用修复申请"),
    ("abnormal-removals", "本部门待决定的移出经营异常名录申请"),
    ("objections", "本部门待答复的异议"),
):
    router.add_api_route(
        f"/{{code}}/{_kind}",
        _list(_kind),
        methods=["GET"],
        response_model=list[dict[str, Any]],
        summary=_summary,
    )


@router.post(
    "/{code}/repairs/{number}/decision",
    status_code=202,
    response_model=DecisionAccepted,
    responses=_DECIDE,
    summary="决定信用修复申请",
)
def decide_repair(
    code: Code, number: Number, body: DecisionCreate, principal: OwnDepartmentDep, decisions: DecisionsDep
) -> dict[str, Any]:
    return decisions.decide_application(code, number, "repair", body.approve, body.reason, principal.id)


@router.post(
    "/{code}/abnormal-removals/{number}/decision",
    status_code=202,
    response_model=DecisionAccepted,
    responses=_DECIDE,
    summary="决定移出经营异常名录申请",
)
def decide_removal(
    code: Code, number: Number, body: DecisionCreate, principal: OwnDepartmentDep, decisions: DecisionsDep
) -> dict[str, Any]:
    return decisions.decide_application(
        code, number, "abnormal_removal", body.approve, body.reason, principal.id
    )


@router.post(
    "/{code}/objections/{number}/decision",
    status_code=202,
    response_model=DecisionAccepted,
    responses=_DECIDE,
    summary="答复异议",
)
def decide_objection(
    code: Code,
    number: Number,
    body: ObjectionDecisionCreate,
    principal: OwnDepartmentDep,
    decisions: DecisionsDep,
) -> dict[str, Any]:
    return decisions.decide_objection(code, number, body.upheld, body.reason, principal.id)
