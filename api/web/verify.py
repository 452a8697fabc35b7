"""The credit extract download and the page that tells a genuine extract from anything else."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from adapters.extract_ledger import IssuedExtract, LedgerUnavailable, is_sha256
from adapters.extract_seal import SealUnavailable
from adapters.search_index.base import SearchIndex
from api.deps import (
    ClockDep,
    CsrfDep,
    DepartmentsDep,
    IndexDep,
    LedgerDep,
    PublicProjectionDep,
    PublicUrlDep,
    SealDep,
)
from api.limits import limited
from api.lookup import find_entity
from api.web.extract import ExtractFontMissing, generated_at_text, issue
from api.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/entity/{uscc}/extract.pdf", dependencies=[Depends(limited("extracts"))])
def extract_pdf(
    request: Request,
    uscc: str,
    index: IndexDep,
    clock: ClockDep,
    departments: DepartmentsDep,
    ledger: LedgerDep,
    projection: PublicProjectionDep,
    public_url: PublicUrlDep,
    seal: SealDep,
) -> Response:
    doc = find_entity(index, uscc, clock.today())
    verify_url = f"{public_url}/verify"
    try:
        pdf, issued = issue(
            doc,
            verify_url,
            clock=clock,
            position=projection.position(),
            departments=departments,
            ledger=ledger,
            seal=seal,
        )
    except (ExtractFontMissing, LedgerUnavailable, SealUnavailable) as err:
        context = {
            "title": "信用信息报告暂时无法生成",
            "message": "信用信息报告暂时无法生成，请稍后再试；您仍可在网页上查看该主体的全部公示信息。",
            "detail": str(err),
            "status": 503,
        }
        return render(request, "error.html", context, status=503)
    filename = f"credit-extract-{issued.uscc}.pdf"
    chinese = quote(f"信用信息报告-{doc['name']}-{issued.uscc}.pdf")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{chinese}",
            "Cache-Control": "no-store",
            "X-Verification-Code": issued.code,
            "X-Content-SHA256": issued.sha256,
        },
    )


def _outcome(index: SearchIndex, issued: IssuedExtract | None, how: str, key: str) -> dict[str, Any]:
    if issued is None:
        return {"genuine": False, "how": how, "key": key}
    current = index.get_public(issued.uscc) or {}
    return {
        "genuine": True,
        "how": how,
        "key": key,
        "extract": issued,
        "generated_at": generated_at_text(issued.generated_at),
        "name": current.get("name"),
        "current_version": current.get("version"),
        "changed_since": bool(current) and int(current.get("version") or 0) > issued.version,
    }


@router.get("/verify", response_class=HTMLResponse, name="verify_page")
def verify_page(request: Request, index: IndexDep, ledger: LedgerDep, code: str = "") -> HTMLResponse:
    outcome = None
    code = code.strip()[:100]
    if code:
        outcome = _outcome(index, ledger.find(code), "code", code)
    context = {"nav_active": "verify", "title": "信用信息报告验证", "code": code, "outcome": outcome}
    return render(request, "verify.html", context)


@router.post("/verify", response_class=HTMLResponse, dependencies=[CsrfDep])
def verify_submit(
    request: Request,
    index: IndexDep,
    ledger: LedgerDep,
    file: Annotated[UploadFile | None, File()] = None,
    code: Annotated[str, Form()] = "",
) -> HTMLResponse:
    code = code.strip()[:100]
    problem = None
    outcome = None
    # the body's size is bounded before this runs (api/limits.py: 413 body_too_large)
    data = file.file.read() if file is not None and file.filename else b""
    if data:
        digest = hashlib.sha256(data).hexdigest()
        outcome = _outcome(index, ledger.by_sha256(digest), "file", digest)
        outcome["filename"] = file.filename if file else ""
    elif code:
        how = "sha256" if is_sha256(code) else "code"
        outcome = _outcome(index, ledger.find(code), how, code)
    else:
        problem = "请选择要验证的报告文件，或输入报告上的验证码"
    context = {
        "nav_active": "verify",
        "title": "信用信息报告验证",
        "code": code,
        "outcome": outcome,
        "problem": problem,
    }
    return render(request, "verify.html", context, status=200)
