"""The gate: every request passes it before any route runs.

For each request it finds the row of the matrix (`api.access`), learns who is calling, counts the
call, and either refuses — with a code from `api.errors.REFUSALS`, logged and counted
(`api.audit`) — or lets the request through with `request.state.principal`,
`request.state.client_address` and `request.state.access` (the row) set for the routes'
dependencies (`api.deps.PrincipalDep` …).

Who is calling (one way for every route):
- `Authorization: Bearer <key or token>` — a key of any role, recognised by its prefix
  (`gs_`, `gsa_`, `gsadm_`, `gsp_`) before it is looked up, an enterprise token (`gse_`), or the
  metrics scrape token; `X-Api-Key: gs_…` for department keys, as before. A credential that is
  malformed, unknown, revoked or expired is refused (401 `unauthorized`), never taken for the
  anonymous public;
- the session cookie (`api.web.session`), on page routes only, when no header is sent; a stale
  cookie is dropped (and cleared) rather than refused, so an expired session never locks anyone
  out of the public pages;
- nothing: the anonymous public.

Then, in this order: a refused credential is counted against the client address (so guessing
keys is slowed like anything else) and answered 401; the call is counted (`api.limits`; 429 with
`Retry-After`); a caller the row does not allow is answered 401 when anonymous (an enterprise
page sends the browser to the login page instead) and 403 otherwise, also for an agency key
without the row's scope.

Every API route also confirms, after the router has chosen it, that the gate applied that route's
own row (`confirm_route`), so the gate's matching and the router's can never silently differ.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.credentials import CredentialsUnavailable, key_id_of
from api import audit
from api.access import ANYONE, MATRIX, Access, Caller, caller_of, lookup
from api.errors import ApiError, Refusal
from api.limits import client_address, hit
from api.schemas import ERROR_RESPONSES, ErrorPublic
from api.web import session
from domain.access import ANONYMOUS, Principal, Role, role_of_key
from infra.bootstrap import Container

__all__ = ["Gate", "api_routes", "confirm_route", "document_refusals"]

log = logging.getLogger("gongshi.access")

METRICS_PRINCIPAL = Principal(Role.PUBLIC, subject="metrics-token")  # least privilege elsewhere


@dataclass
class Verdict:
    principal: Principal = ANONYMOUS
    address: str = "-"
    row: Access | None = None
    refusal: ApiError | None = None
    login_redirect: bool = False  # an enterprise page asked for without a session
    stale_cookie: bool = False  # a session cookie that is no longer valid: clear it


@dataclass(frozen=True)
class _Shown:
    """A credential the request carried."""

    value: str
    source: str  # "bearer" | "x-api-key" | "cookie"


def _headers(scope: Scope, name: bytes) -> list[str]:
    return [v.decode("latin-1") for k, v in scope.get("headers") or () if k.lower() == name]


def _shown(scope: Scope, path: str) -> _Shown | ApiError | None:
    """What credential the request shows: None for none, a refusal when it is malformed."""
    authorization = _headers(scope, b"authorization")
    if authorization:
        scheme, _, value = authorization[0].strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return Refusal("unauthorized", "凭据格式有误：请以 Authorization: Bearer <密钥或令牌> 提交")
        return _Shown(value.strip(), "bearer")
    api_key = _headers(scope, b"x-api-key")
    if api_key:
        return _Shown(api_key[0].strip(), "x-api-key")
    if not path.startswith("/api/"):
        cookie: SimpleCookie = SimpleCookie()
        for header in _headers(scope, b"cookie"):
            try:
                cookie.load(header)
            except Exception:  # a malformed Cookie header carries no session
                continue
        if session.COOKIE in cookie:
            return _Shown(cookie[session.COOKIE].value, "cookie")
    return None


def _unauthorized(why: str) -> Refusal:
    return Refusal("unauthorized", f"{why}：请以 Authorization: Bearer 提交有效的密钥或令牌")


def decide(container: Container, scope: Scope, matrix: tuple[Access, ...]) -> Verdict:
    """The gate's decision for one request (blocking: the credential store, the counters)."""
    settings = container.settings
    path, method = scope["path"], scope["method"]
    verdict = Verdict(
        address=client_address(scope, settings.trusted_networks), row=lookup(method, path, matrix)
    )
    row = verdict.row
    route = row.path if row is not None else path
    bucket = row.limit if row is not None else ("api" if path.startswith("/api/") else "pages")

    def refuse(refusal: ApiError, principal: Principal | None = None, key_id: str | None = None) -> Verdict:
        verdict.refusal = refusal
        audit.refused(
            container,
            status=refusal.status,
            code=refusal.code,
            route=route,
            principal=principal,
            address=verdict.address,
            key_id=key_id,
        )
        return verdict

    def over_limit(principal: Principal) -> Verdict | None:
        if bucket is None:
            return None
        decision = hit(container, bucket, principal, verdict.address)
        if decision.allowed:
            return None
        return refuse(Refusal("rate_limited", retry_after=decision.retry_after), principal)

    shown = _shown(scope, path)
    metrics = False
    if isinstance(shown, ApiError):
        return over_limit(ANONYMOUS) or refuse(shown)
    if shown is not None:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
        if shown.source == "bearer" and token and hmac.compare_digest(shown.value, token):
            verdict.principal, metrics = METRICS_PRINCIPAL, True
        else:
            role = role_of_key(shown.value)
            if role is None and shown.source != "cookie":
                return over_limit(ANONYMOUS) or refuse(_unauthorized("凭据格式有误"))
            if shown.source == "x-api-key" and role != Role.DEPARTMENT:
                message = "X-Api-Key 只接受部门密钥，其他密钥请以 Authorization: Bearer 提交"
                return over_limit(ANONYMOUS) or refuse(Refusal("unauthorized", message))
            try:
                principal = container.credentials.authenticate(shown.value) if role is not None else None
            except CredentialsUnavailable:
                verdict.refusal = ApiError(503, "credentials_unavailable", "认证服务暂时不可用，请稍后再试")
                return verdict
            if shown.source == "cookie" and (principal is None or principal.role != Role.ENTERPRISE):
                verdict.stale_cookie = True  # treated as no credential at all
            elif principal is None:
                why = "凭据无效、已吊销或已过期"
                return over_limit(ANONYMOUS) or refuse(_unauthorized(why), key_id=key_id_of(shown.value))
            else:
                verdict.principal = principal
    if row is None:  # no route: the router answers (404 / 405), counted like its neighbours
        return over_limit(verdict.principal) or verdict
    if refused := over_limit(verdict.principal):
        return refused
    caller = caller_of(verdict.principal, metrics_token=metrics)
    if caller not in row.allow:
        if caller is Caller.ANONYMOUS:
            if Caller.ENTERPRISE in row.allow and not path.startswith("/api/") and method in ("GET", "HEAD"):
                verdict.login_redirect = True
            return refuse(Refusal("unauthorized", _who_may(row)), verdict.principal)
        return refuse(Refusal("forbidden", f"您的凭据无权访问该地址（{_who_may(row)}）"), verdict.principal)
    if row.scope is not None and not verdict.principal.has_scope(row.scope):
        message = f"该机构密钥没有“{row.scope}”权限范围，不能访问该地址"
        return refuse(Refusal("forbidden", message), verdict.principal)
    return verdict


_WHO = {
    Caller.ENTERPRISE: "企业账户登录",
    Caller.DEPARTMENT: "部门密钥",
    Caller.AGENCY: "机构密钥",
    Caller.ADMIN: "管理员密钥",
    Caller.METRICS: "监控令牌",
}


def _who_may(row: Access) -> str:
    needed = [text for caller, text in _WHO.items() if caller in row.allow]
    return "需要" + "或".join(needed) if needed else "需要有效凭据"


class Gate:
    """The ASGI middleware that applies the matrix (`app.state.matrix`, default `MATRIX`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        application: Any = scope["app"]
        container: Container = application.state.container
        matrix = getattr(application.state, "matrix", MATRIX)
        verdict = await run_in_threadpool(decide, container, scope, matrix)
        if verdict.refusal is not None:
            await self._refuse(verdict, scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state.update(principal=verdict.principal, client_address=verdict.address, access=verdict.row)
        if verdict.stale_cookie:
            header = session.clearing_header(secure=session.secure(scope, container.settings))

            async def send_clearing(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message.get("headers", []), header]}
                await send(message)

            await self.app(scope, receive, send_clearing)
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(verdict: Verdict, scope: Scope, receive: Receive, send: Send) -> None:
        from api.web.errors import refusal_response  # (the pages import the gate's neighbours)

        assert verdict.refusal is not None
        scope.setdefault("state", {}).update(principal=verdict.principal, client_address=verdict.address)
        request = Request(scope, receive)
        response: Response
        if verdict.login_redirect:
            query = scope.get("query_string", b"").decode("latin-1")
            target = quote(scope["path"] + (f"?{query}" if query else ""), safe="")
            response = RedirectResponse(f"/enterprise/login?next={target}", status_code=303)
        else:
            response = refusal_response(request, verdict.refusal)
        await response(scope, receive, send)


async def confirm_route(request: Request) -> None:
    """An app-wide dependency: the row the gate applied is this route's own (fails closed)."""
    row: Access | None = getattr(request.state, "access", None)
    route: Any = request.scope.get("route")
    path = getattr(route, "path", None)
    if row is None or path is None or row.path != path:
        log.error("gate applied row %s to route %s", row.path if row else None, path)
        raise ApiError(500, "internal_error", "服务器内部错误，请稍后再试")


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route of an app, also those inside included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        yield from api_routes(getattr(included, "routes", None) or getattr(route, "routes", None) or [])


def document_refusals(app: FastAPI, matrix: tuple[Access, ...] = MATRIX) -> None:
    """Add the refusals the gate may answer to each API route's documented responses (OpenAPI):
    401 everywhere (a credential may be shown and be wrong), 403 where not everyone may call,
    429 where calls are counted."""
    for route in api_routes(app.routes):
        for method in route.methods or ():
            row = lookup(method, route.path, matrix)
            if row is None or row.path != route.path:
                continue
            extra: dict[int | str, dict[str, Any]] = {401: {"description": "缺少、无效或已吊销的凭据"}}
            if row.allow != ANYONE:
                extra[403] = {"description": f"凭据无权访问（{_who_may(row)}）"}
            if row.limit is not None:
                extra[429] = {"description": "访问过于频繁（见 Retry-After）"}
            for status, doc in extra.items():
                route.responses.setdefault(status, {"model": ErrorPublic, **doc})
            if route.dependant.query_params or route.dependant.path_params or route.body_field:
                # the Chinese 422 (`invalid_request`), not FastAPI's default HTTPValidationError
                route.responses.setdefault(422, ERROR_RESPONSES[422])
