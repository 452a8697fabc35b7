"""Domain and adapter errors → HTTP statuses, in one table; the refusals, in another.

Bodies: {"code", "message"} (and the refusal's details, e.g. `retry_after`, `pages`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.search_index.base import SearchUnavailable
from api.responses import OrjsonResponse
from domain.errors import (
    DomainError,
    EntityNotFound,
    InvalidFiling,
    InvalidRegistrationNumber,
    InvalidUSCC,
    NotFound,
)
from domain.validation import chinese_message, describe_errors

log = logging.getLogger(__name__)

STATUS_BY_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (EntityNotFound, 404),
    (NotFound, 404),
    (InvalidFiling, 422),
    (InvalidUSCC, 422),
    (InvalidRegistrationNumber, 422),
    (DomainError, 409),
)

HTTP_CODES = {
    400: ("bad_request", "请求格式有误，无法解析"),
    401: ("unauthorized", "需要有效的凭据"),
    403: ("forbidden", "无权访问"),
    404: ("not_found", "您访问的地址不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    406: ("not_acceptable", "无法按请求的格式作答"),
    413: ("body_too_large", "提交的内容过大"),
    415: ("unsupported_media_type", "不支持该内容类型"),
    429: ("rate_limited", "请求过于频繁，请稍后再试"),
}


def validation_errors(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each failed field of a request: where (`loc`), pydantic's `type`, a Chinese `message`."""
    return [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            "type": str(e.get("type", "")),
            "message": chinese_message(e),
        }
        for e in errors
    ]


class ErrorBody(dict[str, str]):
    """{"code": stable machine code, "message": Chinese message}"""


def error_response(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return OrjsonResponse({"code": code, "message": message, **extra}, status_code=status)


def api_error_response(err: ApiError) -> JSONResponse:
    response = error_response(err.status, err.code, err.message, **err.detail)
    response.headers.update(err.headers)
    return response


class ApiError(Exception):
    """An answer other than success that a dependency or handler decides on (e.g. 401 from the
    authenticated-department dependency): rendered as `error_response`, with its headers and
    `detail` (extra fields of the body, e.g. `pages` of `page_out_of_range`)."""

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
    "query_too_long": (414, "查询地址过长：查询参数不得超过 {limit} 字节，请缩短查询内容"),
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
            **{k: v for k, v in err.detail.items() if isinstance(v, (str, int, list))},
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
        errors = list(err.errors())
        return OrjsonResponse(
            {
                "code": "invalid_request",
                "message": "请求参数有误：" + describe_errors(errors, request=True),
                "errors": validation_errors(errors),
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        code, message = HTTP_CODES.get(err.status_code, ("http_error", "请求无法完成"))
        response = error_response(err.status_code, code, message)
        response.headers.update(err.headers or {})
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, err: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=err)
        return error_response(500, "internal_error", "服务器内部错误，请稍后再试")
