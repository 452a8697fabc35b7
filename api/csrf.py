"""CSRF protection for every form that changes something: a signed double-submit token.

A page that shows such a form calls `csrf_field()` in its template (`api.web.rendering.render`
provides it): the browser gets a random nonce in the cookie `gongshi_csrf` (HttpOnly,
SameSite=Strict, Secure under https) and the form a hidden field `csrf_token` holding
HMAC-SHA256(platform secret, nonce). A form post is accepted only when its field (or an
`X-CSRF-Token` header, for scripts) matches the nonce in its cookie. Another site can make a
browser post a form here but can read neither the cookie nor the page, so it cannot supply a
matching field; and because the token is signed with the platform's secret, a cookie planted
from a neighbouring subdomain is useless without a token made for it here.

Calls that carry `Authorization` (API keys, tokens) are not CSRF-prone — a browser never adds
that header on its own — and pass. A refusal is 403 `csrf_failed` (a Chinese page on page routes).

`tag` binds tokens to more than the nonce: a login session can pass its session id, so a token
issued before login stops working after it (see `csrf_token`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from fastapi import Request
from markupsafe import Markup
from starlette.responses import Response

from api.errors import Refusal

__all__ = ["COOKIE", "FIELD", "HEADER", "CsrfIssuer", "check_csrf", "csrf_token"]

COOKIE = "gongshi_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_NONCE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
FAILED = (
    "无法确认该表单由本站页面提交（页面可能已过期，或浏览器禁用了 Cookie）。请返回上一页，刷新后重新提交。"
)


def csrf_token(secret: bytes, nonce: str, tag: str = "") -> str:
    """The token that goes with `nonce` (and `tag`, e.g. a session id)."""
    return hmac.new(secret, f"csrf|{nonce}|{tag}".encode(), hashlib.sha256).hexdigest()


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.container.secret_key
    return secret


class CsrfIssuer:
    """Hands a page its hidden field; the cookie is set only when a form on the page used it."""

    def __init__(self, request: Request, tag: str = "") -> None:
        self.request = request
        self.tag = tag
        nonce = request.cookies.get(COOKIE, "")
        self.new = not _NONCE.match(nonce)
        self.nonce = secrets.token_urlsafe(32) if self.new else nonce
        self.used = False

    def token(self) -> str:
        self.used = True
        return csrf_token(_secret(self.request), self.nonce, self.tag)

    def field(self) -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, self.token())

    def set_cookie(self, response: Response) -> None:
        if self.used and self.new:
            base_url: str = self.request.app.state.container.settings.base_url
            response.set_cookie(
                COOKIE,
                self.nonce,
                httponly=True,
                samesite="strict",
                secure=base_url.startswith("https://"),
                path="/",
            )


async def check_csrf(request: Request) -> None:
    """The dependency every state-changing form route takes (`api.deps.CsrfDep`)."""
    if request.method in SAFE_METHODS or "authorization" in request.headers:
        return
    nonce = request.cookies.get(COOKIE, "")
    sent = request.headers.get(HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(FIELD)
        sent = value if isinstance(value, str) else None
    tag = getattr(request.state, "csrf_tag", "")
    if not sent or not _NONCE.match(nonce):
        raise Refusal("csrf_failed", FAILED)
    if not hmac.compare_digest(sent, csrf_token(_secret(request), nonce, tag)):
        raise Refusal("csrf_failed", FAILED)
