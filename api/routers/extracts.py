"""Verification of issued credit extracts (信用信息报告): the seal's certificate, for checking a file
offline, and the ledger, by file SHA-256 or verification code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from adapters.extract_ledger import LedgerUnavailable
from api.deps import ClockDep, LedgerDep, SealDep
from api.errors import error_response
from api.schemas import ERROR_RESPONSES, ErrorPublic

router = APIRouter(prefix="/api/v1/extracts", tags=["public"], responses=ERROR_RESPONSES)


PEM = "application/x-pem-file"


class ExtractPublic(BaseModel):
    uscc: str = Field(description="the entity the extract is about")
    as_of: str = Field(description="the system date whose public record the extract shows (信息截至)")
    position: int = Field(description="the event position (notification id) the extract reflects")
    version: int = Field(description="the entity's record version the extract shows")
    generated_at: str = Field(description="when the extract was generated (ISO 8601, UTC)")
    code: str = Field(description="the verification code printed on the extract")
    sha256: str = Field(description="SHA-256 of the PDF file as issued (hex)")


@router.get(
    "/certificate",
    response_class=Response,
    responses={200: {"content": {PEM: {"schema": {"type": "string"}}}, "description": "X.509 证书（PEM）"}},
    summary="信用信息报告电子签章的证书",
    description="平台为每份信用信息报告（PDF）加盖 PAdES 电子签章。下载本证书并在 PDF 阅读器或 pyHanko "
    "等工具中将其设为受信任的证书，即可离线核验报告是否为本平台签发、签章后是否被改动。"
    "证书的 SHA-256 指纹见响应头 X-Certificate-SHA256。",
)
def get_certificate(seal: SealDep) -> Response:
    return Response(
        seal.certificate_pem,
        media_type=PEM,
        headers={
            "Content-Disposition": 'inline; filename="gongshi-extract-seal.pem"',
            "X-Certificate-SHA256": seal.fingerprint.replace(":", ""),
            "Cache-Control": "public, max-age=3600",
        },
    )


@router.get(
    "/{key}",
    response_model=ExtractPublic,
    responses={404: {"model": ErrorPublic}},
    summary="验证信用信息报告",
)
def get_extract(
    ledger: LedgerDep,
    clock: ClockDep,
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
        as_of=clock.date_of(issued.generated_at).isoformat(),
        position=issued.position,
        version=issued.version,
        generated_at=issued.generated_at.isoformat(),
        code=issued.code,
        sha256=issued.sha256,
    )
