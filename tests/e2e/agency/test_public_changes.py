"""The public change feed (`GET /api/v1/changes`, issue 14): the public side of gongshi.change/2
for public API keys — only changes to public documents, without the agencies' view, the
identity numbers masked as on the public record; NDJSON or SSE; 410 past the retention; 401
without a key."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

from domain.access import Role
from domain.masking import contains_unmasked_resident_id
from tests.e2e.agency.conftest import SERIOUS, AgencyPlatform

FEED = "/api/v1/changes"


def key(platform: AgencyPlatform) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform.container.credentials.add(Role.PUBLIC, 'public-feed-test')}"}


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_without_a_key_the_feed_is_401(agency_platform: AgencyPlatform) -> None:
    answer = agency_platform.client.get(FEED)
    assert answer.status_code == 401


def test_the_public_feed_lists_public_changes_without_the_agency_view(
    agency_platform: AgencyPlatform,
) -> None:
    client, headers = agency_platform.client, key(agency_platform)
    public = client.get(FEED, params={"limit": 10000}, headers=headers)
    assert public.status_code == 200 and public.headers["content-type"].startswith("application/x-ndjson")
    changes = lines(public.text)
    assert changes and all("sharing" not in c for c in changes)
    assert all(set(c["changed"]) == {"public"} and c["changed"]["public"] for c in changes)
    assert not contains_unmasked_resident_id(public.text)
    # the same positions as the agencies' feed, leaving out what changed nothing public
    agency = lines(
        client.get(
            "/api/v1/agency/changes",
            params={"limit": 10000},
            headers=agency_platform.headers("feed", purpose="核对公开变更订阅"),
        ).text
    )
    expected = [c["position"] for c in agency if c["changed"]["public"]]
    assert [c["position"] for c in changes] == expected
    listed = next(c for c in changes if c["uscc"] == SERIOUS and c["event"] == "SeriousListed")
    assert listed["public"]["serious_listings"][0]["decision_no"] == "津市监严〔2025〕2号"
    assert int(public.headers["x-next-after"]) == agency[-1]["position"]
    # paging on: after the last position, only later ones
    later = lines(
        client.get(FEED, params={"after": changes[2]["position"], "limit": 3}, headers=headers).text
    )
    assert [c["position"] for c in later] == expected[3:6]


def test_the_public_feed_streams_server_sent_events_and_410s_a_purged_position(
    agency_platform: AgencyPlatform,
) -> None:
    client, headers = agency_platform.client, key(agency_platform)
    with mock.patch.object(agency_platform.container.settings, "sse_heartbeat_s", 0.2):
        stream = client.get(
            FEED,
            params={"idle_timeout": 1},
            headers=headers | {"Accept": "text/event-stream", "Last-Event-ID": "10"},
        )
    assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
    data = [json.loads(line[6:]) for line in stream.text.splitlines() if line.startswith("data: ")]
    assert data and all(d["position"] > 10 and "sharing" not in d for d in data)
    store = agency_platform.container.change_store
    oldest, newest, _ = store.bounds()
    with mock.patch.object(store, "bounds", return_value=(oldest + 5, newest, oldest + 4)):
        expired = client.get(FEED, params={"after": 0}, headers=headers)
    assert expired.status_code == 410
    assert expired.json()["code"] == "position_expired" and expired.json()["oldest_position"] == oldest + 5
