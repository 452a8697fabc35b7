"""Verification of issued credit extracts (信用信息报告), by file SHA-256 or verification code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from adapters.extract_ledger import LedgerUnavailable
from api.deps import LedgerDep
from api.errors import error_response
from api.schemas import ERROR_RESPONSES, ErrorPublic

router = APIRouter(prefix="/api/v1/extracts", tags=["public"], responses=ERROR_RESPONSES)


class ExtractPublic(BaseModel):
    uscc: str = Field(description="the entity the extract is about")
    position: int = Field(description="the event position (notification id) the extract reflects")
    generated_at: str = Field(description="when the extract was generated (ISO 8601, UTC)")
    code: str = Field(description="the verification code printed on the extract")
    sha256: str = Field(description="SHA-256 of the PDF file as issued (hex)")


@router.get(
    "/{key}",
    response_model=ExtractPublic,
    responses={404: {"model": ErrorPublic}},
    summary="验证信用信息报告",
)
def get_extract(
    ledger: LedgerDep,
    key: Annotated[str, Path(max_length=100, description="报告文件的 SHA-256（64位十六进制）或验证码")],
) -> ExtractPublic | JSONResponse:
    try:
        issued = ledger.find(key)
    except LedgerUnavailable:
        return error_response(503, "ledger_unavailable", "报告验证服务暂时不可用，请稍后再试")
    if issued is None:
        return error_response(404, "not_found", "未找到与该 SHA-256 或验证码对应的信用信息报告")
    return ExtractPublic(
        uscc=issued.uscc,
        position=issued.position,
        generated_at=issued.generated_at.isoformat(),
        code=issued.code,
        sha256=issued.sha256,
    )
