"""Serving a stored file as it is: its bytes, never re-encoded (no `Content-Encoding`; a `.gz` is
`application/gzip` content, not a compressed transfer), with a strong `ETag` (the SHA-256 its
manifest gives), conditional requests and one byte range.

- `If-None-Match` naming the ETag → 304.
- `Range: bytes=a-b`, `a-` or `-n` → 206 with `Content-Range`; a range that starts past the end,
  whose start is after its end, or that cannot be read → 416 with `Content-Range: bytes */size`.
  Several ranges (`bytes=0-1,5-6`), another unit, or an `If-Range` that is not the current ETag
  → the whole file, 200 (a server may ignore a Range it does not serve, RFC 9110 §14.2).
- `HEAD` → the headers alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

CHUNK = 256 * 1024
_RANGE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class Unsatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range [start, end] (inclusive) a `Range` header asks of a file of `size` bytes;
    None to send the whole file; `Unsatisfiable` for a range that cannot be served."""
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _RANGE.match(spec)
    if match is None:
        raise Unsatisfiable(header)
    first, last = match.groups()
    if not first:  # the last n bytes
        if not last or int(last) == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(size - int(last), 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start > end or start >= size:
        raise Unsatisfiable(header)
    return start, min(end, size - 1)


class StoredFileResponse(Response):
    """The file at `path` (or the part a Range asks for), as stored."""

    #: None: each response names its own type; the OpenAPI document gets the types from the
    #: route's `responses` (and documents the errors as JSON, which they are)
    media_type = None

    def __init__(
        self,
        request: Request,
        path: Path,
        *,
        etag: str,
        media_type: str,
        filename: str,
        max_age: int = 3600,
    ) -> None:
        self.path = path
        size = path.stat().st_size
        quoted = f'"{etag}"'
        headers = {
            "etag": quoted,
            "accept-ranges": "bytes",
            "cache-control": f"public, max-age={max_age}",
            "content-disposition": f'attachment; filename="{filename}"',
        }
        self.start, self.length = 0, size
        status = 200
        if _matches(request.headers.get("if-none-match"), quoted):
            status, self.length = 304, 0
        else:
            if_range = request.headers.get("if-range")
            wanted = request.headers.get("range") if if_range in (None, quoted) else None
            try:
                part = byte_range(wanted, size)
            except Unsatisfiable:
                status, self.length = 416, 0
                headers["content-range"] = f"bytes */{size}"
            else:
                if part is not None:
                    status = 206
                    self.start, self.length = part[0], part[1] - part[0] + 1
                    headers["content-range"] = f"bytes {part[0]}-{part[1]}/{size}"
        headers["content-length"] = str(self.length)
        self.send_body = request.method != "HEAD" and status in (200, 206)
        super().__init__(
            status_code=status, headers=headers, media_type=media_type if status != 304 else None
        )
        if status == 304:
            del self.headers["content-length"]
        elif status == 416:
            self.headers["content-type"] = "text/plain; charset=utf-8"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if not self.send_body or self.length == 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        left = self.length
        async with await anyio.open_file(self.path, "rb") as file:
            await file.seek(self.start)
            while left > 0:
                chunk = await file.read(min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": left > 0})
        if left > 0:  # the file shrank underneath: end the body (the client sees it short)
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags
