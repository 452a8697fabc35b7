"""HTML error pages for the website; the JSON API keeps its JSON errors (`api.errors`).

`install` wraps the JSON handlers already registered on the app: a request for a page (any path
outside `/api/` and the machine endpoints) gets a Chinese HTML page with the same status, every
other request is answered by the original JSON handler.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from adapters.extract_ledger import LedgerUnavailable
from adapters.search_index.base import SearchUnavailable
from api.errors import STATUS_BY_ERROR, ApiError, api_error_response
from api.web.rendering import render
from domain.errors import DomainError, EntityNotFound, InvalidRegistrationNumber, InvalidUSCC

log = logging.getLogger(__name__)

MACHINE_PATHS = ("/api/", "/openapi.json", "/docs", "/redoc", "/healthz", "/metrics", "/static/")
#: Files fetched by programs below a page's path (the open-data files under `/open-data/`, while
#: the page `/open-data` itself is a page): JSON errors under the prefix only.
MACHINE_PREFIXES = ("/open-data/",)

Handler = Callable[[Request, Any], Awaitable[Response]]
JSONHandler = Callable[[Request, Any], Response | Awaitable[Response]]


def wants_html(request: Request) -> bool:
    path = request.url.path
    return not any(
        path == p.rstrip("/") or path.startswith(p) for p in MACHINE_PATHS
    ) and not path.startswith(MACHINE_PREFIXES)


def _page(request: Request, status: int, title: str, message: str, **extra: Any) -> Response:
    context = {"title": title, "message": message, "status": status, **extra}
    return render(request, "error.html", context, status=status)


#: The error page's heading for each refusal (`api.errors.REFUSALS`); others say 请求无法完成.
REFUSAL_TITLES = {
    "unauthorized": "需要登录",
    "login_failed": "登录失败",
    "forbidden": "无权访问",
    "account_disabled": "账户已停用",
    "rate_limited": "访问过于频繁",
    "login_throttled": "请稍后再登录",
    "csrf_failed": "无法确认表单来源",
    "body_too_large": "提交的内容过大",
    "query_too_long": "查询地址过长",
    "purpose_required": "请说明查询目的",
    "page_out_of_range": "页码超出范围",
}


def refusal_response(request: Request, err: ApiError) -> Response:
    """`err` (a `Refusal`, or any `ApiError`) as the caller expects it: an error page for a page
    request, JSON for the API — with its headers (`Retry-After`, `WWW-Authenticate`) either way."""
    if not wants_html(request):
        return api_error_response(err)
    title = REFUSAL_TITLES.get(err.code, "请求无法完成")
    response = _page(request, err.status, title, err.message, retry_after=err.detail.get("retry_after"))
    response.headers.update(err.headers)
    return response


def html_for(request: Request, err: Exception) -> Response:
    """The error page for `err` on a page request."""
    if isinstance(err, ApiError):
        return refusal_response(request, err)
    if isinstance(err, InvalidUSCC | InvalidRegistrationNumber):
        what = "统一社会信用代码" if isinstance(err, InvalidUSCC) else "注册号"
        return _page(
            request,
            422,
            f"{what}有误",
            err.message,
            hint="uscc",
            position=err.detail.get("position"),
            expected=err.detail.get("expected"),
            candidates=err.detail.get("candidates") or [],
            value=request.path_params.get("uscc", ""),
        )
    if isinstance(err, EntityNotFound):
        return _page(
            request,
            404,
            "未找到该市场主体",
            f"本平台没有统一社会信用代码或注册号为 {err.detail.get('uscc', '')} 的市场主体。",
            hint="search",
        )
    if isinstance(err, DomainError):
        status = next(s for cls, s in STATUS_BY_ERROR if isinstance(err, cls))
        return _page(request, status, "请求无法完成", err.message)
    if isinstance(err, SearchUnavailable | LedgerUnavailable):
        log.warning("page unavailable: %s", err)
        return _page(request, 503, "服务暂时不可用", "查询服务暂时不可用，请稍后再试。")
    if isinstance(err, RequestValidationError):
        return _page(request, 422, "请求参数有误", "您提交的查询参数有误，请返回修改后重试。")
    if isinstance(err, StarletteHTTPException):
        if err.status_code == 404:
            return _page(
                request, 404, "页面不存在", "您访问的页面不存在，可能是链接有误或页面已移动。", hint="search"
            )
        if err.status_code == 405:
            return _page(
                request, 405, "不支持该操作", "该页面不支持这种访问方式，请从页面上的链接或表单进入。"
            )
        return _page(request, err.status_code, "请求无法完成", str(err.detail))
    log.exception("unhandled error on page %s", request.url.path, exc_info=err)
    return _page(request, 500, "服务器内部错误", "很抱歉，服务器处理您的请求时出错，请稍后再试。")


def install(app: FastAPI) -> None:
    """Serve HTML errors on page routes; keep the JSON handlers for the API."""
    classes = (  # (ApiError's own handler answers pages too: api.errors)
        DomainError,
        SearchUnavailable,
        LedgerUnavailable,
        RequestValidationError,
        StarletteHTTPException,
        Exception,
    )
    fallback = app.exception_handlers.get(Exception)
    for cls in classes:
        original: JSONHandler | None = app.exception_handlers.get(cls) or fallback

        def make(json_handler: JSONHandler | None) -> Handler:
            async def handle(request: Request, err: Any) -> Response:
                if wants_html(request) or json_handler is None:
                    return html_for(request, err)
                response = json_handler(request, err)
                return await response if inspect.isawaitable(response) else response

            return handle

        app.add_exception_handler(cls, make(original))
