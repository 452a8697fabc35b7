"""Following one entity without a key: `/entity/{uscc}/feed.atom`, an Atom feed (RFC 4287) of the
entity's public record, newest first, linked from its page.

The entries are the dated events of the public view as of the system's date — the ones its page
lists under the timeline (`api.web.timeline.events`): registration and status changes, licences
and filings, penalties in their publicity window, list entries and removals, inspections,
annual reports, disclosures, performance and other information. Masking and windows are the
public view's: a penalty whose window has ended is not an entry any more (its details are no
longer public), a new publication is. Each entry's id is derived from what it says, so a
reader sees an entry once until it changes.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import ClockDep, IndexDep, PublicUrlDep
from api.lookup import find_entity
from api.web import timeline
from api.web.rendering import ENV
from domain.clock import CHINA
from projections.documents import public_view

router = APIRouter(include_in_schema=False)

#: The newest entries a feed carries.
MAX_ENTRIES = 50
MEDIA_TYPE = "application/atom+xml; charset=utf-8"


def _instant(day: date) -> str:
    """A business date as an Atom date-time: midnight in China."""
    return datetime.combine(day, time(0), tzinfo=CHINA).isoformat()


def entries(view: dict[str, Any], today: date) -> list[dict[str, str]]:
    """The feed's entries for a public view, newest first."""
    found = timeline.events(view, today)
    out = []
    for event in reversed(found[-MAX_ENTRIES:]):
        said = f"{event.on.isoformat()}|{event.lane}|{event.label}|{event.detail}"
        digest = hashlib.sha256(said.encode()).hexdigest()[:24]
        out.append(
            {
                "id": f"tag:gongshi,2026:entity/{view['uscc']}/{digest}",
                "title": event.detail,
                "updated": _instant(event.on),
                "anchor": event.anchor,
                "detail": event.detail,
            }
        )
    return out


@router.get("/entity/{uscc}/feed.atom")
def entity_feed(uscc: str, index: IndexDep, clock: ClockDep, public_url: PublicUrlDep) -> Response:
    today = clock.today()
    view = public_view(find_entity(index, uscc, today), today)
    found = entries(view, today)
    xml = ENV.get_template("feed.atom").render(
        view=view,
        entries=found,
        base=public_url,
        updated=found[0]["updated"] if found else _instant(today),
    )
    return Response(xml, media_type=MEDIA_TYPE)
