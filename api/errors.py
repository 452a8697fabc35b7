"""Domain and adapter errors → HTTP statuses, in one table; the refusals, in another.

Bodies: {"code", "message"} (and the refusal's details, e.g. `retry_after`, `pages`).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.search_index.base import SearchUnavailable
from domain.errors import DomainError, EntityNotFound, InvalidRegistrationNumber, InvalidUSCC

log = logging.getLogger(__name__)

STATUS_BY_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (EntityNotFound, 404),
    (InvalidUSCC, 422),
    (InvalidRegistrationNumber, 422),
    (DomainError, 409),
)

HTTP_CODES = {404: ("not_found", "您访问的地址不存在"), 405: ("method_not_allowed", "不支持该请求方法")}


class ErrorBody(dict[str, str]):
    """{"code": stable machine code, "message": Chinese message}"""


def error_response(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status)


def api_error_response(err: ApiError) -> JSONResponse:
    response = error_response(err.status, err.code, err.message, **err.detail)
    response.headers.update(err.headers)
    return response


class ApiError(Exception):
    """An answer other than success that a dependency or handler decides on (e.g. 503 when the
    credential store is down): rendered as `error_response`, with its headers and `detail`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        detail: dict[str, str | int] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.detail = detail or {}


#: Every way the platform refuses a caller: code → (HTTP status, Chinese message). A message may
#: name a detail given to `Refusal` (`{wait}` is made from `retry_after`). The API answers JSON
#: `{"code", "message", ...details}`, the pages an error page with the same status and message.
REFUSALS: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "缺少或无效的凭据：请以 Authorization: Bearer 提交有效的密钥或令牌"),
    "forbidden": (403, "您的凭据无权访问该地址"),
    "rate_limited": (429, "访问过于频繁，请 {wait}后再试"),
    "login_throttled": (429, "登录失败次数过多，请 {wait}后再试"),
    "login_failed": (401, "统一社会信用代码或密码错误"),
    "account_disabled": (403, "该账户已停用，请联系登记机关"),
    "csrf_failed": (403, "页面已过期或无法确认表单来源，请刷新页面后重新提交"),
    "body_too_large": (413, "提交的内容过大，不得超过 {limit}"),
    "purpose_required": (400, "请说明查询目的（purpose）：机构查询须写明用途，并记入访问日志"),
    "page_out_of_range": (404, "页码超出范围：共 {pages} 页"),
}


def wait_text(seconds: int) -> str:
    """`75` → `1 分 15 秒`: how long to wait, as the messages say it."""
    minutes, rest = divmod(max(0, int(seconds)), 60)
    if minutes and rest:
        return f"{minutes} 分 {rest} 秒"
    return f"{minutes} 分钟" if minutes else f"{rest} 秒"


class Refusal(ApiError):
    """A refusal from `REFUSALS`: `raise Refusal("page_out_of_range", pages=12)`,
    `Refusal("rate_limited", retry_after=30)`. `retry_after` (seconds) becomes the `Retry-After`
    header, the body's `retry_after` and the message's `{wait}`; a 401 carries
    `WWW-Authenticate: Bearer`. `message` replaces the table's when the caller knows better."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
        **detail: str | int,
    ) -> None:
        status, template = REFUSALS[code]
        values: dict[str, str | int] = dict(detail)
        all_headers = dict(headers or {})
        if retry_after is not None:
            retry_after = max(1, int(retry_after))
            values["retry_after"] = retry_after
            all_headers["Retry-After"] = str(retry_after)
        if status == 401:
            all_headers.setdefault("WWW-Authenticate", "Bearer")
        text = message or template.format(wait=wait_text(retry_after or 0), **values)
        super().__init__(status, code, text, all_headers, values)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, err: DomainError) -> JSONResponse:
        status = next(s for cls, s in STATUS_BY_ERROR if isinstance(err, cls))
        return error_response(
            status,
            err.code,
            err.message,
            **{k: v for k, v in err.detail.items() if isinstance(v, (str, int))},
        )

    @app.exception_handler(ApiError)
    async def _api(request: Request, err: ApiError) -> Response:
        from api import audit  # (api.audit imports this module)
        from api.web.errors import refusal_response

        if err.status in audit.REFUSED_STATUSES:
            await run_in_threadpool(audit.refused_request, request, err)
        return refusal_response(request, err)  # JSON, or a page for a page request

    @app.exception_handler(SearchUnavailable)
    async def _search(_: Request, err: SearchUnavailable) -> JSONResponse:
        log.warning("search unavailable: %s", err)
        return error_response(503, "search_unavailable", "查询服务暂时不可用，请稍后再试")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        parts = [
            f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}" for e in err.errors()[:5]
        ]
        return error_response(422, "invalid_request", "请求参数有误：" + "；".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        code, message = HTTP_CODES.get(err.status_code, ("http_error", str(err.detail)))
        return error_response(err.status_code, code, message)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, err: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=err)
        return error_response(500, "internal_error", "服务器内部错误，请稍后再试")
