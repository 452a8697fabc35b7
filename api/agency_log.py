"""Every agency call on the record: the stated purpose checked, the call written to the access
log before its answer is sent.

An ASGI middleware (`AgencyAccessLog`, inside the gate) for every request under
`/api/v1/agency/` the gate let through:

1. It reads the stated purpose — `X-Purpose` (percent-encoded UTF-8) or the `purpose` query
   parameter, at least 4 characters once decoded — the officer (`X-Officer`, encoded the same
   way) and `X-Confidential`. Without a purpose the call is answered 400 `purpose_required`
   (and that refusal is logged too).
2. The route runs with an `AgencyCall` (`AgencyCallDep`): it names the entities it read
   (`call.read(uscc)`) and its result counts (`call.count(...)`).
3. When the answer starts, before its first byte leaves, the call is written to the access log
   (agency, office name, key id, officer, purpose, route, USCCs read, status, counts, time). If
   that write fails, the answer is replaced by 503 `access_log_unavailable`: nothing is read
   off the record that is not written down.
4. A streamed answer (NDJSON, CSV, server-sent events) appends its counts and the USCCs it
   matched when it ends (`completed` false when the client went away); its last chunk is held
   until that is written, so a failure there cuts the stream short instead of ending it cleanly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from fastapi import Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.access_log import AccessLogUnavailable
from adapters.credentials import CredentialsUnavailable
from api.errors import ApiError, Refusal
from domain.access import Principal, Role
from domain.agency_access import (
    MAX_OFFICER_CHARS,
    AccessEntry,
    HeaderTextError,
    decode_header_text,
    is_confidential,
    purpose_problem,
)
from infra.bootstrap import Container

__all__ = ["AGENCY_PREFIX", "AgencyAccessLog", "AgencyCall", "AgencyCallDep"]

log = logging.getLogger("gongshi.access")

AGENCY_PREFIX = "/api/v1/agency/"
STATE_KEY = "agency_call"
UNAVAILABLE = ApiError(503, "access_log_unavailable", "访问日志暂时无法写入，本次查询未予处理，请稍后再试")


@dataclass
class AgencyCall:
    """One agency call in flight: who, why, and what it has read so far."""

    principal: Principal
    purpose: str
    officer: str | None = None
    confidential: bool = False
    agency_name: str | None = None
    usccs: dict[str, None] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def agency(self) -> str:
        return self.principal.subject or "-"

    def read(self, *usccs: str) -> None:
        """The entities this call read or matched (written to the log with it)."""
        for uscc in usccs:
            self.usccs[uscc] = None

    def read_all(self, usccs: Iterable[str]) -> None:
        self.usccs.update(dict.fromkeys(usccs))

    def count(self, **counts: Any) -> None:
        """Result counts (`rows=1200, match=67`): set, replacing earlier values."""
        self.counts.update(counts)

    def add(self, name: str, n: int = 1) -> None:
        """Add to one result count (a stream counting as it goes)."""
        self.counts[name] = int(self.counts.get(name, 0)) + n


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _query_purpose(scope: Scope) -> str | None:
    from urllib.parse import parse_qs

    query = scope.get("query_string", b"").decode("latin-1")
    values = parse_qs(query, keep_blank_values=True, encoding="utf-8", errors="strict").get("purpose")
    text = " ".join(values[0].split()) if values else ""
    if any(not ch.isprintable() for ch in text):
        raise HeaderTextError("查询参数含有控制字符")
    return text or None


class _AgencyNames:
    """Office names of agency keys (`gongshi agencies add CODE --name NAME`), read again when a key
    is not known yet (at most every few seconds): the log keeps the name the office had then."""

    REREAD_S = 5.0

    def __init__(self) -> None:
        self._names: dict[str, str | None] = {}
        self._read_at: float | None = None

    def name(self, container: Container, key_id: str | None) -> str | None:
        if key_id is None:
            return None
        stale = self._read_at is None or time.monotonic() - self._read_at > self.REREAD_S
        if key_id not in self._names and stale:
            self._read_at = time.monotonic()
            try:
                self._names = {k.key_id: k.name for k in container.credentials.keys(Role.AGENCY)}
            except CredentialsUnavailable:
                return None
        return self._names.get(key_id)


class AgencyAccessLog:
    """The ASGI middleware (see the module's docstring). Add it inside the gate."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.names = _AgencyNames()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal: Principal | None = (scope.get("state") or {}).get("principal")
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(AGENCY_PREFIX)
            or principal is None
            or principal.role != Role.AGENCY
        ):
            await self.app(scope, receive, send)
            return
        container: Container = scope["app"].state.container
        try:
            purpose = decode_header_text(_header(scope, b"x-purpose")) or _query_purpose(scope)
            officer = decode_header_text(_header(scope, b"x-officer"))
            problem = purpose_problem(purpose)
        except HeaderTextError as err:
            purpose, officer, problem = None, None, f"查询目的或经办人应为百分号编码的 UTF-8 文本：{err}"
        if officer is not None:
            officer = officer[:MAX_OFFICER_CHARS]
        call = AgencyCall(
            principal=principal,
            purpose=purpose or "",
            officer=officer,
            confidential=is_confidential(_header(scope, b"x-confidential")),
            agency_name=self.names.name(container, principal.key_id),
        )
        if problem is not None:
            await self._refuse(container, scope, receive, send, call, Refusal("purpose_required", problem))
            return
        scope.setdefault("state", {})[STATE_KEY] = call
        await self._logged(container, scope, receive, send, call)

    def _entry(self, container: Container, scope: Scope, call: AgencyCall, status: int) -> AccessEntry:
        now = container.clock.now()
        row = (scope.get("state") or {}).get("access")
        return AccessEntry(
            at=now,
            read_on=container.clock.date_of(now),
            agency=call.agency,
            agency_name=call.agency_name,
            key_id=call.principal.key_id,
            officer=call.officer,
            method=scope["method"],
            route=row.path if row is not None else scope["path"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1") or None,
            purpose=call.purpose or None,
            confidential=call.confidential,
            status=status,
            usccs=tuple(call.usccs),
            counts=dict(call.counts),
        )

    async def _append(self, container: Container, entry: AccessEntry) -> int | None:
        try:
            entry_id: int = await run_in_threadpool(container.access_log.append, entry)
        except AccessLogUnavailable as err:
            log.error("access log write failed: %s (%s %s)", err, entry.method, entry.path)
            return None
        return entry_id

    async def _refuse(
        self,
        container: Container,
        scope: Scope,
        receive: Receive,
        send: Send,
        call: AgencyCall,
        refusal: ApiError,
    ) -> None:
        from starlette.requests import Request as StarletteRequest

        from api.web.errors import refusal_response

        written = await self._append(container, self._entry(container, scope, call, refusal.status))
        answer = refusal if written is not None else UNAVAILABLE
        await refusal_response(StarletteRequest(scope), answer)(scope, receive, send)

    async def _logged(
        self, container: Container, scope: Scope, receive: Receive, send: Send, call: AgencyCall
    ) -> None:
        entry_id: int | None = None
        started = failed = streaming = finished = False
        result_written = False

        async def append_result(completed: bool) -> None:
            nonlocal result_written
            result_written = True
            assert entry_id is not None
            await run_in_threadpool(
                container.access_log.append_result,
                entry_id,
                ended_at=container.clock.now(),
                completed=completed,
                counts=dict(call.counts),
                usccs=list(call.usccs),
            )

        async def logged_send(message: Message) -> None:
            nonlocal entry_id, started, failed, streaming, finished
            if failed:
                return  # the 503 replaced the route's answer
            if message["type"] == "http.response.start":
                started = True
                entry_id = await self._append(
                    container, self._entry(container, scope, call, message["status"])
                )
                if entry_id is None:
                    failed = True
                    from starlette.requests import Request as StarletteRequest

                    from api.web.errors import refusal_response

                    await refusal_response(StarletteRequest(scope), UNAVAILABLE)(scope, receive, send)
                    return
            elif message["type"] == "http.response.body":
                more = bool(message.get("more_body", False))
                if more:
                    streaming = True
                elif streaming:
                    try:
                        await append_result(completed=True)
                    except AccessLogUnavailable as err:
                        log.error("access log: the end of stream %s was not written: %s", entry_id, err)
                        raise  # the stream is cut short rather than ended as if complete
                finished = not more
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        except BaseException:
            if not started:  # an error the route did not answer: written down as a 500
                with anyio.CancelScope(shield=True):
                    await self._append(container, self._entry(container, scope, call, 500))
            raise
        finally:
            if streaming and not finished and not result_written and entry_id is not None:
                with anyio.CancelScope(shield=True):
                    try:
                        await append_result(completed=False)
                    except AccessLogUnavailable as err:
                        log.error("access log: the cut-off stream %s was not written: %s", entry_id, err)


def _agency_call(
    request: Request,
    x_purpose: Annotated[
        str | None,
        Header(
            alias="X-Purpose",
            description="查询目的（必填，不少于4个字）：百分号编码的 UTF-8，例如 "
            "`%E8%A1%8C%E6%94%BF%E8%AE%B8%E5%8F%AF%E5%AE%A1%E6%9F%A5`（行政许可审查）；"
            "也可用查询参数 `purpose`。记入访问日志。",
            examples=["%E8%A1%8C%E6%94%BF%E8%AE%B8%E5%8F%AF%E5%AE%A1%E6%9F%A5"],
        ),
    ] = None,
    x_officer: Annotated[
        str | None,
        Header(
            alias="X-Officer",
            description="经办人（百分号编码的 UTF-8），记入访问日志",
            examples=["%E5%BC%A0%E4%B8%89"],
        ),
    ] = None,
    x_confidential: Annotated[
        str | None,
        Header(
            alias="X-Confidential",
            description="`1`：保密查询（如正在立案调查）：被查询企业在延迟期满后才能看到这次查询",
            examples=["1"],
        ),
    ] = None,
    purpose: Annotated[
        str | None, Query(max_length=500, description="查询目的（不便设置请求头时使用）")
    ] = None,
) -> AgencyCall:
    """The call in flight (the middleware has checked the purpose already; the parameters are
    declared for the OpenAPI document)."""
    call: AgencyCall | None = getattr(request.state, STATE_KEY, None)
    if call is None:  # the middleware always sets it on agency routes
        raise ApiError(500, "internal_error", "服务器内部错误，请稍后再试")
    return call


#: The agency call in flight: who, why, and where the route notes what it read.
AgencyCallDep = Annotated[AgencyCall, Depends(_agency_call)]
