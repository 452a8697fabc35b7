"""Who is asking, by address, and how often they may ask.

- `client_address(scope, trusted)`: the socket peer, unless the peer is a proxy listed in
  `GONGSHI_TRUSTED_PROXIES`; then the right-most address of `X-Forwarded-For` that is not one of
  those proxies (everything to its left was written by the client and proves nothing).
- Buckets (`BUCKETS`): the public API and the pages are counted per client address, each with
  its own limit; every keyed caller per key (its own limit, or `GONGSHI_RATE_LIMIT_KEYS`; a
  public key's own limit, or the public API's), whatever it calls; extracts issued have a bucket
  of their own, per key or address, that the extract route charges (`charge`).

The gate (`api.gate`) charges each request to its route's bucket; a route charges one more with
`charge(request, "extracts")` or the dependency `limited("extracts")`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any, Literal

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from adapters.rate_limits import Decision
from api.errors import Refusal, wait_text
from domain.access import Principal, Role
from infra.bootstrap import Container
from infra.settings import Settings

__all__ = ["BUCKETS", "Bucket", "charge", "client_address", "hit", "limited", "proxied_scheme"]

Bucket = Literal["api", "pages", "extracts", "keys"]

#: The buckets and the setting that holds each one's default limit.
BUCKETS: dict[str, str] = {
    "api": "rate_limit_public_api",
    "pages": "rate_limit_pages",
    "extracts": "rate_limit_extracts",
    "keys": "rate_limit_keys",
}

Networks = Sequence[IPv4Network | IPv6Network]


def _trusted(address: str, trusted: Networks) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def _header(scope: Scope, name: bytes) -> list[str]:
    return [v.decode("latin-1") for k, v in scope.get("headers") or () if k.lower() == name]


def client_address(scope: Scope, trusted: Networks) -> str:
    """The address a request came from (see the module doc)."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for value in _header(scope, b"x-forwarded-for") for h in value.split(",")]
    address = peer
    for hop in reversed([h for h in hops if h]):
        try:
            ip_address(hop)
        except ValueError:  # a proxy passed on something that is no address: trust no further
            return address
        address = hop
        if not _trusted(hop, trusted):
            return hop
    return address


def proxied_scheme(scope: Scope, trusted: Networks) -> str:
    """`https` or `http`: the request's own scheme, or the one a trusted proxy reports in
    `X-Forwarded-Proto` (its right-most value)."""
    scheme = str(scope.get("scheme", "http"))
    client = scope.get("client")
    if client and trusted and _trusted(str(client[0]), trusted):
        values = [p.strip() for v in _header(scope, b"x-forwarded-proto") for p in v.split(",")]
        if values and values[-1] in ("http", "https"):
            return values[-1]
    return scheme


def limit_for(settings: Settings, bucket: str, principal: Principal) -> tuple[str, str]:
    """(bucket to count in, limit) for `principal` calling a route counted in `bucket`: keyed
    callers in their key's bucket, whatever they call (extracts excepted)."""
    if bucket == "extracts" or principal.subject is None:
        return bucket, str(getattr(settings, BUCKETS[bucket]))
    if principal.rate_limit:
        return "keys", principal.rate_limit
    default = settings.rate_limit_public_api if principal.role == Role.PUBLIC else settings.rate_limit_keys
    return "keys", default


def caller_id(principal: Principal, address: str) -> str:
    """Whom a bucket counts: the key (an enterprise: its account, across its tokens), else the
    client address."""
    if principal.subject is None:
        return address
    if principal.role == Role.ENTERPRISE or principal.key_id is None:
        return principal.id
    return f"key:{principal.key_id}"


def hit(container: Container, bucket: str, principal: Principal, address: str) -> Decision:
    """Count one request of this caller in `bucket` (blocking: Redis or memory)."""
    counted_in, limit = limit_for(container.settings, bucket, principal)
    return container.rate_limiter.hit(counted_in, caller_id(principal, address), limit)


def _caller(request: Request) -> tuple[Principal, str]:
    state: Any = request.state
    principal = getattr(state, "principal", None)
    address = getattr(state, "client_address", None)
    if principal is None or address is None:  # not through the gate (it always is in the app)
        from domain.access import ANONYMOUS

        container: Container = request.app.state.container
        return ANONYMOUS, client_address(request.scope, container.settings.trusted_networks)
    return principal, address


#: A bucket's own refusal, where the general "too many requests" would not say what is limited.
BUCKET_MESSAGES: dict[str, str] = {"extracts": "信用信息报告下载过于频繁，请 {wait}后再试"}


async def charge(request: Request, bucket: Bucket) -> None:
    """Count this request in `bucket` as well (e.g. "extracts"); raises `Refusal("rate_limited")`
    (429, `Retry-After`, a Chinese message) when the caller's limit there is reached."""
    container: Container = request.app.state.container
    principal, address = _caller(request)
    decision = await run_in_threadpool(hit, container, bucket, principal, address)
    if not decision.allowed:
        template = BUCKET_MESSAGES.get(bucket)
        message = template.format(wait=wait_text(decision.retry_after)) if template else None
        raise Refusal("rate_limited", message, retry_after=decision.retry_after)


def limited(bucket: Bucket) -> Callable[[Request], Any]:
    """A dependency that charges `bucket`: `dependencies=[Depends(limited("extracts"))]`."""

    async def dependency(request: Request) -> None:
        await charge(request, bucket)

    return dependency
