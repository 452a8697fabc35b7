"""Domain and adapter errors → HTTP statuses, in one table. Bodies: {"code", "message"}."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.search_index.base import SearchUnavailable
from domain.errors import DomainError, EntityNotFound, InvalidRegistrationNumber, InvalidUSCC
from domain.validation import chinese_message, describe_errors

log = logging.getLogger(__name__)

STATUS_BY_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (EntityNotFound, 404),
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
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status)


class ApiError(Exception):
    """An answer other than success that a dependency or handler decides on (e.g. 401 from the
    authenticated-department dependency): rendered as `error_response`, with its headers and
    any `extra` fields of the body (e.g. `pages` of `page_out_of_range`)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        **extra: str | int,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.extra = extra


#: Refusals: what the platform declines to do for a caller, by code, with their statuses (one
#: table for the access checks, the limits and the forms; the message is Chinese, the code stable).
REFUSALS: dict[str, int] = {
    "unauthorized": 401,
    "forbidden": 403,
    "csrf_failed": 403,
    "page_out_of_range": 404,
    "purpose_required": 400,
    "body_too_large": 413,
    "query_too_long": 414,
    "rate_limited": 429,
    "login_throttled": 429,
}


def refused(code: str, message: str, headers: dict[str, str] | None = None, **extra: str | int) -> ApiError:
    """The `ApiError` for a refusal in `REFUSALS`."""
    return ApiError(REFUSALS[code], code, message, headers, **extra)


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
    async def _api(_: Request, err: ApiError) -> JSONResponse:
        response = error_response(err.status, err.code, err.message, **err.extra)
        response.headers.update(err.headers)
        return response

    @app.exception_handler(SearchUnavailable)
    async def _search(_: Request, err: SearchUnavailable) -> JSONResponse:
        log.warning("search unavailable: %s", err)
        return error_response(503, "search_unavailable", "查询服务暂时不可用，请稍后再试")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        errors = list(err.errors())
        return JSONResponse(
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
