"""The enterprise pages' door: log in (a session cookie, `api.web.session`), the enterprise's
own start page, log out. Annual reports and the rest arrive with the enterprise issue, behind
the same session.

A failed login shows why in Chinese on the form itself, with the wait when failures from this
address have started to slow it down (429 and `Retry-After`, the same as the API).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api import audit
from api.deps import ClientAddressDep, CredentialsDep, CsrfDep, PrincipalDep, SettingsDep
from api.errors import ApiError
from api.routers.enterprise import log_in
from api.web import session
from api.web.rendering import render
from domain.access import Role

router = APIRouter(include_in_schema=False)

HOME = "/enterprise/"


def _next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never `//host` or a URL)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def _form(request: Request, *, uscc: str = "", next_path: str = HOME, **extra: Any) -> dict[str, Any]:
    return {"title": "企业登录", "uscc": uscc, "next": next_path, **extra}


@router.get("/enterprise/login", response_class=HTMLResponse)
def login_page(request: Request, principal: PrincipalDep, next: str | None = None) -> Response:
    if principal.role == Role.ENTERPRISE:
        return RedirectResponse(_next(next), status_code=303)
    return render(request, "enterprise_login.html", _form(request, next_path=_next(next)))


@router.post("/enterprise/login", response_class=HTMLResponse, dependencies=[CsrfDep])
async def login_submit(
    request: Request,
    credentials: CredentialsDep,
    settings: SettingsDep,
    address: ClientAddressDep,
    uscc: Annotated[str, Form(max_length=40)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    user: Annotated[str, Form(max_length=40)] = "",
    next: Annotated[str, Form(max_length=500)] = HOME,
) -> Response:
    target = _next(next)
    if not uscc.strip() or not password:
        context = _form(request, uscc=uscc, next_path=target, problem="请填写统一社会信用代码和密码")
        return render(request, "enterprise_login.html", context, status=422)
    try:
        token = await run_in_threadpool(log_in, credentials, uscc, password, address, user or None)
    except ApiError as err:
        await run_in_threadpool(audit.refused_request, request, err)
        context = _form(request, uscc=uscc, next_path=target, problem=err.message)
        page = render(request, "enterprise_login.html", context, status=err.status)
        page.headers.update({k: v for k, v in err.headers.items() if k == "Retry-After"})
        return page
    response = RedirectResponse(target, status_code=303)
    session.set_session(response, token, secure=session.secure(request.scope, settings))
    return response


@router.post("/enterprise/logout", dependencies=[CsrfDep])
def logout(request: Request, credentials: CredentialsDep, settings: SettingsDep) -> Response:
    token = request.cookies.get(session.COOKIE)
    if token:
        credentials.logout(token)
    response = RedirectResponse("/", status_code=303)
    session.clear_session(response, secure=session.secure(request.scope, settings))
    return response
