"""The enterprise pages' web session: the login token in a cookie.

The cookie holds the same opaque token the API gives (`gse_…`, stored hashed, valid 3600 s on
the real clock), so one check serves both. It is `HttpOnly` (no script reads it), `SameSite=Lax`
(another site's form cannot post with it; forms that change something carry a CSRF token too),
`Path=/`, and `Secure` when the page was served over https — the request's own scheme, or the
one a trusted proxy reports (`X-Forwarded-Proto` from an address in `GONGSHI_TRUSTED_PROXIES`).
The gate reads it on page routes only: the API takes the token as a bearer token, never a
cookie, so no other site can make a browser call the API with it.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Scope

from api.limits import proxied_scheme
from infra.settings import Settings

COOKIE = "gongshi_session"
LIFETIME_S = 3600


def secure(scope: Scope, settings: Settings) -> bool:
    """Whether the page was served over https (so the cookie must say `Secure`)."""
    public_url = str(getattr(settings, "public_url", None) or "")
    return public_url.startswith("https://") or proxied_scheme(scope, settings.trusted_networks) == "https"


def set_session(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE, token, max_age=LIFETIME_S, path="/", httponly=True, samesite="lax", secure=secure
    )


def clear_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)


def clearing_header(*, secure: bool) -> tuple[bytes, bytes]:
    """The `Set-Cookie` header that clears the session (for the gate, when a cookie is stale)."""
    response = Response()
    clear_session(response, secure=secure)
    return next((k, v) for k, v in response.raw_headers if k == b"set-cookie")
