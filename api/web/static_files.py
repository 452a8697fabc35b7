"""`/static` with content hashes: templates name a file as `static_url("site.css")`, which is
`/static/site.css?v=<first 12 hex of its SHA-256>`. Asked with the file's current hash, it is
served `Cache-Control: public, max-age=31536000, immutable` (a new version has a new address, so
browsers never need to ask again); asked without it, or with an old one, `no-cache` (the browser
revalidates with the ETag StaticFiles sends)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).resolve().parent / "static"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@lru_cache(maxsize=64)
def content_hash(name: str) -> str:
    """The first 12 hex digits of the SHA-256 of `static/<name>` (read once per process: the
    files change only with a release)."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    return f"/static/{name}?v={content_hash(name)}"


class HashedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            version = _query_value(scope, "v")
            current = _hash_or_none(path)
            immutable = current is not None and version == current
            response.headers["Cache-Control"] = IMMUTABLE if immutable else REVALIDATE
        return response


def _hash_or_none(path: str) -> str | None:
    name = Path(path).as_posix()
    if not (STATIC / name).is_file():
        return None
    return content_hash(name)


def _query_value(scope: Scope, key: str) -> str | None:
    for pair in bytes(scope.get("query_string", b"")).decode("latin-1").split("&"):
        k, _, v = pair.partition("=")
        if k == key:
            return v
    return None
