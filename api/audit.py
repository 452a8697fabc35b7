"""What is written down when the platform refuses a caller (401, 403, 429).

Every refusal is logged (logger `gongshi.access`, level WARNING): the status and code, the route
as declared (`/api/v1/publications/{publication_id:path}`), the principal if any
(`department:TJ-AMR/key:ab12cd34`), the key id shown when it was not accepted, and the client
address. A refusal of a key the credential store knows is also counted there (table
`refusals`), so `gongshi audit refusals` lists the keys refused again and again.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request

from adapters.credentials import CredentialsUnavailable
from api.errors import ApiError
from domain.access import ANONYMOUS, Principal
from infra.bootstrap import Container

__all__ = ["REFUSED_STATUSES", "refused", "refused_request"]

log = logging.getLogger("gongshi.access")

REFUSED_STATUSES = frozenset({401, 403, 429})


def refused(
    container: Container,
    *,
    status: int,
    code: str,
    route: str,
    principal: Principal | None,
    address: str,
    key_id: str | None = None,
) -> None:
    """Log one refusal and count it against `key_id` (the principal's key when not given)."""
    shown = key_id or (principal.key_id if principal is not None else None)
    who = principal.id if principal is not None and principal != ANONYMOUS else "-"
    log.warning(
        "refused %d %s route=%s principal=%s key=%s address=%s",
        status,
        code,
        route,
        who,
        shown or "-",
        address,
    )
    if not shown:
        return
    try:
        container.credentials.record_refusal(shown, code, route, address)
    except CredentialsUnavailable as err:
        log.warning("refusal of key %s not counted: %s", shown, err)


def route_of(request: Request) -> str:
    """The route as declared, when the router chose one; else the path as asked."""
    route: Any = request.scope.get("route")
    return str(getattr(route, "path", None) or request.url.path)


def refused_request(request: Request, err: ApiError) -> None:
    """`refused` for an `ApiError` raised by a route or dependency the gate had let through."""
    if err.status not in REFUSED_STATUSES:
        return
    state: Any = request.state
    principal = getattr(state, "principal", None)
    address = getattr(state, "client_address", None) or (request.client.host if request.client else "-")
    container: Container = request.app.state.container
    refused(
        container,
        status=err.status,
        code=err.code,
        route=route_of(request),
        principal=principal,
        address=address,
    )
