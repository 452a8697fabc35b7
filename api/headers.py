"""Security headers on every response, and redirects that name the public URL.

Pages (`text/html`) get a Content-Security-Policy that allows this origin's own files and nothing
else: no inline script, no inline style, no outside origin, no framing. Everything else (JSON,
PDF, static files) gets `default-src 'none'`. Every response also carries `nosniff`,
`X-Frame-Options: DENY` (for browsers older than `frame-ancestors`) and a Referrer-Policy that
keeps the search terms in page addresses from leaving the site; HTTPS deployments get HSTS.

A redirect the framework builds from the request (e.g. `/search/` → `/search`) would name the
request's `Host` header, which anyone can forge: its `Location` is rewritten to the configured
public URL (`GONGSHI_PUBLIC_URL`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["API_CSP", "PAGE_CSP", "SecurityHeaders"]

PAGE_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
REFERRER_POLICY = "same-origin"


class SecurityHeaders:
    """ASGI middleware adding the headers above; `base_url` is the public base URL."""

    def __init__(self, app: ASGIApp, *, base_url: str) -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.https = base_url.startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = PAGE_CSP if html else API_CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = REFERRER_POLICY
                if self.https:
                    headers["Strict-Transport-Security"] = "max-age=31536000"
                location = headers.get("location")
                if location:
                    headers["Location"] = self._public(location, scope)
            await send(message)

        await self.app(scope, receive, with_headers)

    def _public(self, location: str, scope: Scope) -> str:
        """An absolute `location` on the request's own host, moved to the public base URL."""
        parts = urlsplit(location)
        host = Headers(scope=scope).get("host")
        if not parts.netloc or (host is not None and parts.netloc != host):
            return location
        path = parts.path
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return self.base_url + path + (f"?{parts.query}" if parts.query else "")
