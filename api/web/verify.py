"""The credit extract download and the page that tells a genuine extract from anything else."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from adapters.extract_ledger import ExtractLedger, IssuedExtract, LedgerUnavailable, is_sha256
from adapters.extract_seal import ExtractSeal, SealUnavailable
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
from domain.clock import Clock

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


#: What the seal of an uploaded file says, for the public (adapters/extract_seal.py: SealCheck).
SEAL_TEXT = {
    "sealed": "电子签章有效：由本平台签发，签章后未被改动",
    "altered": "文件在加盖电子签章之后被改动过",
    "bad_signature": "电子签章无效：签章所覆盖的内容已被改动",
    "other_signer": "电子签章不是本平台的签章",
    "unsigned": "文件没有电子签章",
    "unreadable": "文件不是可读取的 PDF",
}


def _outcome(
    index: SearchIndex, clock: Clock, issued: IssuedExtract | None, how: str, key: str
) -> dict[str, Any]:
    """The ledger's word on a file or code: genuine when the platform issued it; `changed_since`
    when the entity's record moved on (the extract stays genuine as of its date)."""
    if issued is None:
        return {"genuine": False, "how": how, "key": key}
    current = index.get_public(issued.uscc) or {}
    return {
        "genuine": True,
        "how": how,
        "key": key,
        "extract": issued,
        "as_of": clock.date_of(issued.generated_at).isoformat(),
        "generated_at": generated_at_text(issued.generated_at),
        "name": current.get("name"),
        "changed_since": bool(current) and int(current.get("version") or 0) > issued.version,
    }


def _file_outcome(
    index: SearchIndex, clock: Clock, ledger: ExtractLedger, seal: ExtractSeal, data: bytes, filename: str
) -> dict[str, Any]:
    """A file is genuine when the ledger holds its exact bytes and its seal, if it has one, is the
    platform's and whole (an extract issued before seals has none). The seal's state is shown
    either way: it is what anyone can check offline with the published certificate."""
    digest = hashlib.sha256(data).hexdigest()
    check = seal.check(data)
    outcome = _outcome(index, clock, ledger.by_sha256(digest), "file", digest)
    if outcome["genuine"] and check.state not in ("sealed", "unsigned"):
        outcome = {"genuine": False, "how": "file", "key": digest}
    outcome["filename"] = filename
    outcome["seal"] = check.state
    outcome["seal_text"] = SEAL_TEXT[check.state]
    return outcome


@router.get("/verify", response_class=HTMLResponse, name="verify_page")
def verify_page(
    request: Request, index: IndexDep, clock: ClockDep, ledger: LedgerDep, code: str = ""
) -> HTMLResponse:
    outcome = None
    code = code.strip()[:100]
    if code:
        outcome = _outcome(index, clock, ledger.find(code), "code", code)
    context = {"nav_active": "verify", "title": "信用信息报告验证", "code": code, "outcome": outcome}
    return render(request, "verify.html", context)


@router.post("/verify", response_class=HTMLResponse, dependencies=[CsrfDep])
def verify_submit(
    request: Request,
    index: IndexDep,
    clock: ClockDep,
    ledger: LedgerDep,
    seal: SealDep,
    file: Annotated[UploadFile | None, File()] = None,
    code: Annotated[str, Form()] = "",
) -> HTMLResponse:
    code = code.strip()[:100]
    problem = None
    outcome = None
    # the body's size is bounded before this runs (api/limits.py: 413 body_too_large)
    data = file.file.read() if file is not None and file.filename else b""
    if data:
        outcome = _file_outcome(index, clock, ledger, seal, data, (file.filename or "") if file else "")
    elif code:
        how = "sha256" if is_sha256(code) else "code"
        outcome = _outcome(index, clock, ledger.find(code), how, code)
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
