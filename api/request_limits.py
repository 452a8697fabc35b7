"""Request limits, checked before a handler runs: the query string's length and the body's size
per route.

- A query string longer than `GONGSHI_MAX_QUERY_BYTES` (2048) is refused with 414
  `query_too_long` (URI Too Long is the status HTTP has for it; no search needs more).
- A body larger than its route's limit (`BODY_LIMITS`, else `DEFAULT_BODY_BYTES`) is refused
  with 413 `body_too_large`: at once when `Content-Length` says so, and otherwise while it
  streams in (chunked uploads carry no length) — the body is counted as it is received and the
  handler's reading stops at the first byte past the limit, so nothing larger is ever held.

Page requests get the Chinese error page, API requests the JSON `{code, message}`
(`api.errors.Refusal`, answered by `api.web.errors.refusal_response`).
"""

from __future__ import annotations

import contextlib
import fnmatch
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import Refusal

__all__ = ["BODY_LIMITS", "DEFAULT_BODY_BYTES", "BodyLimit", "RequestLimits", "body_limit_for"]

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class BodyLimit:
    method: str
    path: str  # a glob (`fnmatch`), e.g. /api/v1/enterprise/*
    max_bytes: int
    why: str


#: The routes that take a body larger than the default; the first match wins.
BODY_LIMITS: tuple[BodyLimit, ...] = (
    BodyLimit("POST", "/api/v1/publications", 512 * KIB, "one envelope; Kafka's own message limit is 1 MiB"),
    BodyLimit("POST", "/verify", 10 * MIB, "an uploaded PDF extract (a few hundred KB at most)"),
    BodyLimit(
        "POST", "/api/v1/enterprise/evidence", 6 * MIB, "one evidence file of at most 5 MB, as multipart"
    ),
    BodyLimit("POST", "/enterprise/evidence", 6 * MIB, "the same upload from the enterprise pages"),
    BodyLimit("POST", "/api/v1/agency/screen", 1 * MIB, "up to 10,000 USCCs to screen (≈ 22 bytes each)"),
    BodyLimit("POST", "/api/v1/agency/watchlists", 4 * MIB, "a watchlist of up to 100,000 USCCs"),
    BodyLimit(
        "POST", "/api/v1/agency/match", 32 * MIB, "up to 100,000 rows of a list to match (JSON or CSV)"
    ),
)
#: Every other request, forms included (the enterprise forms' fields are short text).
DEFAULT_BODY_BYTES = 64 * KIB


def body_limit_for(method: str, path: str, limits: tuple[BodyLimit, ...] = BODY_LIMITS) -> int:
    for limit in limits:
        if limit.method == method and fnmatch.fnmatchcase(path, limit.path):
            return limit.max_bytes
    return DEFAULT_BODY_BYTES


def _size(n: int) -> str:
    return f"{n // MIB} MB" if n >= MIB and n % MIB == 0 else f"{n // KIB} KB"


class _BodyTooLarge(Exception):
    """Raised into the handler from `receive` when the body passes its limit."""


class RequestLimits:
    """ASGI middleware: refuses long query strings (414) and large bodies (413)."""

    def __init__(
        self, app: ASGIApp, *, max_query_bytes: int, limits: tuple[BodyLimit, ...] = BODY_LIMITS
    ) -> None:
        self.app = app
        self.max_query_bytes = max_query_bytes
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query_bytes:
            await self._refuse(scope, receive, send, Refusal("query_too_long", limit=self.max_query_bytes))
            return
        limit = body_limit_for(scope["method"], scope["path"], self.limits)
        too_large = Refusal(
            "body_too_large", f"提交的内容超过了 {_size(limit)} 的上限，未予处理", limit=limit
        )
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, too_large)
            return

        received = 0
        exceeded = False
        started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # whatever the handler made of the cut-off body: the 413 replaces it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, counted, guarded)
        if exceeded and not started:
            await self._refuse(scope, receive, send, too_large)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, refusal: Refusal) -> None:
        from api.web.errors import refusal_response

        response = refusal_response(Request(scope), refusal)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)
