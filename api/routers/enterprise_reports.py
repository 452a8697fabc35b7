"""The enterprise's annual reports over the API: drafts, filing, history, receipts.

- `PUT /api/v1/enterprise/annual-reports/{year}` — save the draft (the `annual_report.submitted`
  payload; `reason` too for a correction): kept privately, never on the log, never public; 200
  with its revision and the cross-checks it fails now (`problems`), 422 for a wrong field;
- `POST …/{year}/submit` — file the saved draft: 202 with the publication id and receipt code;
  409 `report_window_not_open` / `report_window_closed` / `report_year_invalid`, 422 when
  incomplete or inconsistent, 404 `no_draft`;
- `GET …/{year}` — draft, filed version (and its public view), every version, filings;
- `GET /api/v1/enterprise/filings/{publication_id}` and `…/receipt.pdf` — where a filing stands,
  and its receipt (回执) with a verification code; `GET /api/v1/receipts/{code}` lets anyone check
  a receipt.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import DeskDep, EnterprisePrincipalDep, PublicUrlDep
from api.errors import ApiError
from api.schemas import ErrorPublic, ValidationErrorPublic
from api.web.receipt import kind_label, render_receipt

router = APIRouter(prefix="/api/v1/enterprise", tags=["enterprise"])
public_router = APIRouter(prefix="/api/v1/receipts", tags=["receipts"])

Year = Annotated[int, Path(ge=2000, le=2100, description="报告年度")]


class FilingPublic(BaseModel):
    publication_id: str
    kind: str
    key: str
    filed_at: str
    filed_on: str = Field(description="the system date the filing counts from")
    filed_by: str = Field(description="who acted: enterprise:USCC[/user:NAME]")
    receipt_code: str
    status: str = Field(description="pending | applied | rejected")
    code: str | None = None
    message: str | None = None


class DraftPublic(BaseModel):
    body: dict[str, Any]
    revision: int
    saved_at: str
    saved_by: str
    problems: list[dict[str, Any]] = Field(description="cross-checks the draft fails now (Chinese)")


class AnnualReportPublic(BaseModel):
    year: int
    opens_on: str
    due_on: str
    state: str = Field(description="not_open | due | filed | late | overdue")
    can_correct: bool
    draft: DraftPublic | None
    filed: dict[str, Any] | None = Field(description="the current version, every field")
    public: dict[str, Any] | None = Field(description="what the public sees of it")
    history: list[dict[str, Any]] = Field(description="every version filed, oldest first, with who and when")
    filings: list[FilingPublic]


class SubmitCreate(BaseModel):
    reason: str | None = Field(None, max_length=4000, description="更正原因（已报送后再次报送时必填）")
    uscc: str | None = Field(None, max_length=40, description="可不填；填写时须为本企业")


class ReceiptPublic(BaseModel):
    receipt_code: str
    uscc: str
    name: str
    kind: str
    kind_label: str
    key: str
    publication_id: str
    filed_at: str
    filed_on: str
    status: str


_WINDOW: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "尚无草稿（no_draft）或市场主体不存在"},
    409: {
        "model": ErrorPublic,
        "description": "报送期未开始（report_window_not_open）、更正期已过（report_window_closed）、"
        "年度早于成立年度（report_year_invalid）",
    },
    422: {"model": ValidationErrorPublic, "description": "未填写完整、填写有误或未通过校验，errors 列出各项"},
}


@router.put(
    "/annual-reports/{year}",
    response_model=DraftPublic,
    responses={422: _WINDOW[422]},
    summary="保存年度报告草稿",
)
def save_draft(
    year: Year,
    principal: EnterprisePrincipalDep,
    desk: DeskDep,
    body: Annotated[dict[str, Any], Body(description="annual_report.submitted 的内容；更正时可含 reason")],
) -> dict[str, Any]:
    return desk.save_report_draft(principal, year, body)


@router.get(
    "/annual-reports/{year}", response_model=AnnualReportPublic, summary="年度报告：草稿、已报送版本与历史"
)
def annual_report(year: Year, principal: EnterprisePrincipalDep, desk: DeskDep) -> dict[str, Any]:
    return desk.annual_report(principal, year)


@router.post(
    "/annual-reports/{year}/submit",
    status_code=202,
    response_model=FilingPublic,
    responses=_WINDOW,
    summary="报送年度报告（已报送的为更正）",
)
def submit(
    year: Year, principal: EnterprisePrincipalDep, desk: DeskDep, body: SubmitCreate | None = None
) -> dict[str, Any]:
    return desk.submit_report(principal, year, body.reason if body else None)


@router.get("/filings/{publication_id}", response_model=FilingPublic, summary="本企业报送事项的处理状态")
def filing(publication_id: str, principal: EnterprisePrincipalDep, desk: DeskDep) -> dict[str, Any]:
    return desk.filing(principal, publication_id).as_dict()


@router.get(
    "/filings/{publication_id}/receipt.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "回执 PDF"}},
    summary="报送回执（PDF，含验证码）",
)
async def receipt_pdf(
    publication_id: str, principal: EnterprisePrincipalDep, desk: DeskDep, public_url: PublicUrlDep
) -> Response:
    status = await run_in_threadpool(desk.filing, principal, publication_id)
    name = (await run_in_threadpool(desk.entity, status.filing.uscc)).name
    pdf = await run_in_threadpool(render_receipt, status, name, f"{public_url}/verify")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="receipt-{publication_id}.pdf"'},
    )


@public_router.get(
    "/{code}",
    response_model=ReceiptPublic,
    responses={404: {"model": ErrorPublic, "description": "没有该验证码的回执"}},
    summary="验证报送回执",
)
def verify_receipt(code: str, desk: DeskDep) -> dict[str, Any]:
    found = desk.receipt(code)
    if found is None:
        raise ApiError(404, "unknown_receipt", "没有该验证码的报送回执，请核对验证码")
    status, name = found
    f = status.filing
    return {
        "receipt_code": f.receipt_code,
        "uscc": f.uscc,
        "name": name,
        "kind": f.kind,
        "kind_label": kind_label(f.kind),
        "key": f.key,
        "publication_id": f.publication_id,
        "filed_at": f.filed_at.isoformat(),
        "filed_on": f.filed_on.isoformat(),
        "status": status.status,
    }
