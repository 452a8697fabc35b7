"""An enterprise's applications and objections over the API.

- `POST /api/v1/enterprise/evidence` — upload one evidence file (PDF, PNG or JPEG, at most 5 MB;
  multipart `file`): kept privately, answered with its SHA-256 to name in an application;
- `POST /api/v1/enterprise/abnormal-removals` `{decision_no, reason?}` — apply to leave the
  abnormal list (listed for a missing report: once it is filed, else 409 `report_not_filed`);
- `POST /api/v1/enterprise/repairs` `{target, decision_no, reason, commitment, evidence}` — apply
  for credit repair (409 with the reason before the record's minimum window, or for a record that
  is never repaired early);
- `POST /api/v1/enterprise/objections` `{target, record_no, reason, evidence}` — object to a
  record: it shows 异议处理中 while open;
- `POST /api/v1/enterprise/disclosures` `{kind, fact_on, content}` — an instant disclosure (Art. 10),
  public once applied; more than 20 working days after the fact it is marked late;
- `GET /api/v1/enterprise/cases` — every application and objection with its state and deadline.

Each is 202 with its number, publication id, and the decision's deadline (working days; an
estimate says so).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import ApplicationsDep, CsrfDep, DeskDep, EnterprisePrincipalDep
from api.schemas import ErrorPublic, ValidationErrorPublic

router = APIRouter(prefix="/api/v1/enterprise", tags=["enterprise"])

Text = Annotated[str, Field(min_length=1, max_length=4000)]
Hashes = Annotated[list[Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]], Field(max_length=10)]


class RemovalCreate(BaseModel):
    decision_no: str = Field(min_length=1, max_length=200, description="列入经营异常名录决定书文号")
    reason: str | None = Field(None, max_length=4000, description="申请理由（可不填）")
    uscc: str | None = Field(None, max_length=40, description="可不填；填写时须为本企业")


class RepairCreate(BaseModel):
    target: Literal["penalty", "serious"] = Field(description="penalty 行政处罚；serious 严重违法失信名单")
    decision_no: str = Field(min_length=1, max_length=200, description="决定书文号")
    reason: Text = Field(description="已纠正失信行为、履行义务的情况")
    commitment: Text = Field(description="守信承诺书")
    evidence: Hashes = Field([], description="已上传的证明材料的 SHA-256")
    uscc: str | None = Field(None, max_length=40, description="可不填；填写时须为本企业")


class ObjectionCreate(BaseModel):
    target: Literal["penalty", "abnormal", "serious", "licence", "filing", "inspection"]
    record_no: str = Field(min_length=1, max_length=200, description="记录编号（决定书文号、许可证编号等）")
    reason: Text = Field(description="异议理由")
    evidence: Hashes = Field([], description="已上传的证明材料的 SHA-256")
    uscc: str | None = Field(None, max_length=40, description="可不填；填写时须为本企业")


class DisclosureCreate(BaseModel):
    kind: Literal["capital", "equity_transfer", "licence", "ip_pledge", "penalty", "other"] = Field(
        description="capital 出资；equity_transfer 股权变更；licence 行政许可；ip_pledge 知识产权出质；"
        "penalty 行政处罚；other 其他"
    )
    fact_on: date = Field(description="事项发生日期（不晚于今天）")
    content: Text = Field(description="公示内容")
    uscc: str | None = Field(None, max_length=40, description="可不填；填写时须为本企业")


class CaseFiled(BaseModel):
    number: str
    publication_id: str
    status: str = "pending"
    filed_on: str
    due: dict[str, Any] = Field(description="on: the decision's deadline; warning when an estimate")
    receipt_code: str
    late: bool | None = Field(None, description="a disclosure more than 20 working days after its fact")


class EvidencePublic(BaseModel):
    sha256: str
    name: str
    size: int
    content_type: str


_REFUSED: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "记录不存在"},
    409: {"model": ErrorPublic, "description": "尚不能申请（原因见 code 与 message）"},
    422: {"model": ValidationErrorPublic, "description": "填写有误"},
}


@router.post(
    "/evidence",
    status_code=201,
    response_model=EvidencePublic,
    responses=_REFUSED,
    summary="上传证明材料",
    dependencies=[CsrfDep],  # a multipart form: a bearer token passes, as for every API caller
)
async def upload_evidence(
    principal: EnterprisePrincipalDep,
    applications: ApplicationsDep,
    file: Annotated[UploadFile, File(description="PDF、PNG 或 JPEG，不超过 5 MB")],
) -> dict[str, Any]:
    data = await file.read()
    return await run_in_threadpool(applications.keep_evidence, principal, file.filename or "", data)


@router.post(
    "/abnormal-removals",
    status_code=202,
    response_model=CaseFiled,
    responses=_REFUSED,
    summary="申请移出经营异常名录",
)
def apply_for_removal(
    body: RemovalCreate, principal: EnterprisePrincipalDep, applications: ApplicationsDep
) -> dict[str, Any]:
    return applications.apply_for_removal(principal, body.decision_no, body.reason)


@router.post(
    "/repairs", status_code=202, response_model=CaseFiled, responses=_REFUSED, summary="申请信用修复"
)
def apply_for_repair(
    body: RepairCreate, principal: EnterprisePrincipalDep, applications: ApplicationsDep
) -> dict[str, Any]:
    return applications.apply_for_repair(
        principal, body.target, body.decision_no, body.reason, body.commitment, body.evidence
    )


@router.post("/objections", status_code=202, response_model=CaseFiled, responses=_REFUSED, summary="提出异议")
def object_to_a_record(
    body: ObjectionCreate, principal: EnterprisePrincipalDep, applications: ApplicationsDep
) -> dict[str, Any]:
    return applications.object(principal, body.target, body.record_no, body.reason, body.evidence)


@router.get("/cases", response_model=list[dict[str, Any]], summary="本企业的申请与异议")
def cases(
    principal: EnterprisePrincipalDep, desk: DeskDep, applications: ApplicationsDep
) -> list[dict[str, Any]]:
    return applications.cases(desk.entity(principal.subject or ""))


@router.post(
    "/disclosures", status_code=202, response_model=CaseFiled, responses=_REFUSED, summary="公示即时信息"
)
def disclose(
    body: DisclosureCreate, principal: EnterprisePrincipalDep, applications: ApplicationsDep
) -> dict[str, Any]:
    return applications.disclose(principal, body.kind, body.fact_on, body.content)
