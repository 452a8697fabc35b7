"""Batch cross-matching of an agency's list against the register (scope `match`).

The rows come as JSON (`{"rows": [...]}`), as a CSV upload (multipart field `file`) or as a raw
`text/csv` body; a CSV may use English or Chinese column names and UTF-8 (with or without BOM)
or GB18030 (what Excel writes on a Chinese Windows). Up to 100,000 rows.

The answer, per row in input order, is a decision with up to five scored, explained candidates:
`Accept: application/x-ndjson` streams one JSON line per row as rows are decided, `Accept:
text/csv` a CSV (UTF-8 with BOM, for Excel); otherwise one JSON document. Streams read the upload
as they go, so memory stays bounded by a batch whatever the list's length; the access log gets
the counts and the entities matched when the stream ends.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Annotated, Any

import anyio.from_thread
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.agency_log import AgencyCall, AgencyCallDep
from api.deps import ClockDep, IndexDep
from api.matching import (
    CsvHeaderError,
    Matcher,
    MatchResult,
    column_map,
    csv_line,
    csv_rows,
    result_csv_header,
    result_csv_row,
)
from api.responses import OrjsonResponse
from api.schemas import ERROR_RESPONSES
from domain.names.matching import MatchRow

router = APIRouter(prefix="/api/v1/agency", tags=["agency"], responses=ERROR_RESPONSES)

MAX_ROWS = 100_000
NDJSON = "application/x-ndjson"
CSV = "text/csv"

Field400 = Annotated[str | None, Field(max_length=400)]


class MatchRowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Field400 = None
    uscc: Annotated[str | None, Field(max_length=40)] = None
    registration_number: Annotated[str | None, Field(max_length=40)] = None
    legal_representative: Annotated[str | None, Field(max_length=100)] = None
    address: Field400 = None


class MatchCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rows": [
                        {"name": "天津濱海恆通科技有限責任公司", "legal_representative": "王建国"},
                        {"uscc": "91120116MA05JQ2X4L"},
                        {"name": "恒通科技", "address": "天津市滨海新区第三大街51号"},
                    ]
                }
            ]
        }
    )

    rows: Annotated[list[MatchRowCreate], Field(min_length=1, max_length=MAX_ROWS)]


class ExplanationAgency(BaseModel):
    feature: str = Field(
        description="e.g. uscc_exact, name_folded, name_place, former_name_exact, legal_representative"
    )
    label: str = Field(description="what scored, in Chinese")
    value: float


class CandidateAgency(BaseModel):
    uscc: str
    name: str
    score: float = Field(ge=0, le=1)
    explanation: list[ExplanationAgency]
    status: str | None
    flags: list[str] = Field(
        description="abnormal | serious | penalty (in its publicity window), as of today"
    )


class MatchResultAgency(BaseModel):
    row: int = Field(description="the row's number in the input, from 1")
    input: dict[str, str]
    decision: str = Field(description="match | possible | none")
    candidates: list[CandidateAgency]
    flags: list[str] = Field(description="ambiguous, uscc_invalid, uscc_not_found, no_name_or_code, …")


class MatchAgency(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "row": 1,
                            "input": {"name": "天津濱海恆通科技有限責任公司"},
                            "decision": "match",
                            "candidates": [
                                {
                                    "uscc": "91120116MA05JQ2X4L",
                                    "name": "天津滨海恒通科技有限公司",
                                    "score": 0.99,
                                    "explanation": [
                                        {
                                            "feature": "name_canonical",
                                            "label": "名称一致（组织形式写法不同）",
                                            "value": 0.99,
                                        }
                                    ],
                                    "status": "存续",
                                    "flags": ["abnormal"],
                                }
                            ],
                            "flags": [],
                        }
                    ],
                    "counts": {"rows": 1, "match": 1, "possible": 0, "none": 0},
                }
            ]
        }
    )

    results: list[MatchResultAgency]
    counts: dict[str, int]


_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/MatchCreate"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary", "description": "CSV 文件"}},
                    "required": ["file"],
                }
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": "名称,统一社会信用代码,法定代表人\n天津滨海恒通科技有限公司,,王建国\n",
            },
        },
    }
}


class _Body(io.RawIOBase):
    """The request body as a blocking file, for a worker thread (chunks fetched from the event
    loop as the reader asks for them), after `prefix` (bytes already read)."""

    def __init__(self, prefix: bytes, next_chunk: Callable[[], Any]) -> None:
        self._pending = prefix
        self._next_chunk = next_chunk
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            try:
                self._pending = anyio.from_thread.run(self._next_chunk)
            except StopAsyncIteration:
                self._done = True
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _text(binary: IO[bytes], head: bytes) -> io.TextIOWrapper:
    """UTF-8 (BOM or not) unless the head is not UTF-8: then GB18030 (Excel on Chinese Windows)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "gb18030"
    return io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="")


def _check_header(head: bytes) -> None:
    try:
        first = head.split(b"\n", 1)[0]
        text = first.decode("utf-8-sig") if _is_utf8(first) else first.decode("gb18030", errors="replace")
        column_map(next(iter(csv.reader([text])), []))
    except CsvHeaderError as err:
        problem = {"loc": ("body", "file"), "msg": str(err), "type": "value_error"}
        raise RequestValidationError([problem]) from None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _limited(rows: Iterable[MatchRow], state: dict[str, Any]) -> Iterator[MatchRow]:
    for n, row in enumerate(rows, start=1):
        if n > MAX_ROWS:
            state["truncated"] = True
            return
        yield row


def _note(call: AgencyCall, result: MatchResult) -> None:
    call.add("rows")
    call.add(result.decision)
    if result.decision in ("match", "possible") and result.candidates:
        call.read(result.candidates[0].candidate.uscc)


def _results(
    matcher: Matcher, rows: Iterable[MatchRow], call: AgencyCall, state: dict[str, Any]
) -> Iterator[MatchResult]:
    call.count(rows=0, match=0, possible=0, none=0)
    for result in matcher.match(_limited(rows, state)):
        _note(call, result)
        yield result
    if state.get("truncated"):
        call.count(truncated=True)


TOO_MANY = f"超过 {MAX_ROWS} 行的部分未予比对"


def _ndjson(results: Iterator[MatchResult], state: dict[str, Any]) -> Iterator[bytes]:
    for result in results:
        yield json.dumps(result.public(), ensure_ascii=False).encode() + b"\n"
    if state.get("truncated"):
        yield (
            json.dumps({"error": {"code": "too_many_rows", "message": TOO_MANY}}, ensure_ascii=False).encode()
            + b"\n"
        )


def _csv(results: Iterator[MatchResult], state: dict[str, Any]) -> Iterator[bytes]:
    yield ("\ufeff" + csv_line(result_csv_header())).encode()
    for result in results:
        yield csv_line(result_csv_row(result)).encode()
    if state.get("truncated"):
        yield csv_line(["#error", "too_many_rows", TOO_MANY]).encode()


def _wants(request: Request) -> str:
    accept = request.headers.get("accept", "")
    if NDJSON in accept:
        return NDJSON
    if CSV in accept:
        return CSV
    return "application/json"


@router.post(
    "/match",
    response_model=MatchAgency,
    responses={
        200: {
            "content": {
                NDJSON: {"example": '{"row": 1, "decision": "match", "candidates": [...], "flags": []}\n'},
                CSV: {"example": "row,name,uscc,…,decision,flags,candidate_1_uscc,…\n"},
            },
            "description": "每行一个结论：match / possible / none，附最多 5 个带分数和解释的候选主体",
        }
    },
    openapi_extra=_BODY_DOC,
    summary="批量比对（名单与登记主体交叉比对）",
)
async def match_rows(request: Request, call: AgencyCallDep, index: IndexDep, clock: ClockDep) -> Response:
    matcher = Matcher(index, clock.today())
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    state: dict[str, Any] = {}
    upload: UploadFile | None = None
    rows: Iterable[MatchRow]
    if content_type == "application/json":
        try:
            body = MatchCreate.model_validate_json(await request.body())
        except ValidationError as err:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e.get("loc", ()))} for e in err.errors(include_url=False)]
            ) from None
        rows = [MatchRow(**r.model_dump()) for r in body.rows]
    elif content_type == "multipart/form-data":
        form = await request.form(max_files=1)
        file = form.get("file")
        if not isinstance(file, UploadFile):
            problem = {"loc": ("body", "file"), "msg": "请以 file 字段上传 CSV 文件", "type": "missing"}
            raise RequestValidationError([problem])
        upload = file
        head = await file.read(8192)
        await file.seek(0)
        _check_header(head)
        rows = csv_rows(_text(file.file, head))
    elif content_type in (CSV, "application/csv"):
        stream = request.stream().__aiter__()
        head = b""
        async for chunk in stream:
            head += chunk
            if b"\n" in head or len(head) > 65536:
                break
        _check_header(head)
        raw = io.BufferedReader(_Body(head, stream.__anext__), buffer_size=65536)
        rows = csv_rows(_text(raw, head))
    else:
        return OrjsonResponse(
            {
                "code": "unsupported_media_type",
                "message": "请以 JSON、CSV 文件上传（multipart）或 text/csv 提交名单",
            },
            status_code=415,
        )
    wanted = _wants(request)
    results = _results(matcher, rows, call, state)
    if wanted == NDJSON:
        return StreamingResponse(_ndjson(results, state), media_type=NDJSON, background=_closing(upload))
    if wanted == CSV:
        headers = {"Content-Disposition": 'attachment; filename="match-results.csv"'}
        return StreamingResponse(
            _csv(results, state),
            media_type="text/csv; charset=utf-8",
            headers=headers,
            background=_closing(upload),
        )
    decided = await run_in_threadpool(lambda: [r.public() for r in results])
    if upload is not None:
        await upload.close()
    if state.get("truncated"):
        problem = {"loc": ("body",), "msg": f"名单不得超过 {MAX_ROWS} 行", "type": "too_long"}
        raise RequestValidationError([problem])
    counts = {k: int(call.counts.get(k, 0)) for k in ("rows", "match", "possible", "none")}
    return OrjsonResponse({"results": decided, "counts": counts})


def _closing(upload: UploadFile | None) -> Any:
    from starlette.background import BackgroundTask

    return BackgroundTask(upload.close) if upload is not None else None
