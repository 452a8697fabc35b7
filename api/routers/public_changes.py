"""The public change feed (issue 14): `GET /api/v1/changes?after=&limit=` — the public side of
`gongshi.change/2`, for anyone holding a public API key (rate limited per key).

Only changes to public documents are listed — including those a publicity window beginning or
ending with the date caused (`cause: publicity`) — each without the agencies' view: the message's
`sharing` part is left out and `changed` names the public keys only, their new values masked
exactly as the public record (`ChangeMessage.public_part`). Newline-delimited JSON, or with
`Accept: text/event-stream` a resumable SSE stream (`Last-Event-ID`, heartbeats); a position
older than the feed keeps answers 410 `position_expired` with `oldest_position`. The positions are
the agencies' feed's, so a line's `position` is `after=` of the next request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from adapters.change_store import ChangeRow, ChangeStoreUnavailable
from api.deps import ChangeStoreDep, SettingsDep
from api.routers.agency_changes import (
    _FEED_DOC,
    UNAVAILABLE,
    After,
    IdleTimeout,
    LastEventId,
    Limit,
    _answer,
)
from api.schemas import ERROR_RESPONSES
from projections.changes import ChangeMessage

router = APIRouter(prefix="/api/v1", tags=["public"], responses=ERROR_RESPONSES)


def public_row(row: ChangeRow) -> ChangeRow | None:
    """The row as the public may read it; None when it changed nothing public."""
    message: dict[str, Any] = dict(row.message)
    changed = (message.get("changed") or {}).get("public") or []
    if not changed:
        return None
    message.pop("sharing", None)
    message["changed"] = {"public": list(changed)}
    return ChangeRow(position=row.position, uscc=row.uscc, message=message)


@router.get(
    "/changes", response_model=ChangeMessage, responses=_FEED_DOC, summary="公开变更订阅（需公众密钥）"
)
def changes(
    request: Request,
    store: ChangeStoreDep,
    settings: SettingsDep,
    after: After = 0,
    limit: Limit = 1000,
    idle_timeout: IdleTimeout = None,
    last_event_id: LastEventId = None,
) -> Response:
    def reader(position: int, count: int) -> tuple[list[ChangeRow], int]:
        rows = store.after(position, count)
        cursor = rows[-1].position if rows else position  # past what was left out, too
        return [p for r in rows if (p := public_row(r)) is not None], cursor

    try:
        return _answer(
            request,
            reader,
            store,
            lambda rows: None,
            after,
            limit,
            idle_timeout,
            last_event_id,
            settings.sse_heartbeat_s,
        )
    except ChangeStoreUnavailable:
        raise UNAVAILABLE from None
