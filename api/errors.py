"""Domain and adapter errors → HTTP statuses, in one table. Bodies: {"code", "message"}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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


class ApiError(Exception):
    """An answer other than success that a dependency or handler decides on (e.g. 401 from the
    authenticated-department dependency): rendered as `error_response`, with its headers."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


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
        response = error_response(err.status, err.code, err.message)
        response.headers.update(err.headers)
        return response

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
