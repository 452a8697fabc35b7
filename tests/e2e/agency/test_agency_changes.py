"""Following changes: the feed after a position as NDJSON or server-sent events (heartbeats,
Last-Event-ID), 410 for a purged position, watchlists by USCC list and by filter, and webhooks
— signed, retried with growing waits, only to allowed hosts."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from unittest import mock

import pytest

from adapters.access_log import AccessLogQuery
from projections.changes import ChangeMessage
from tests.e2e.agency.conftest import HISTORY, SERIOUS, AgencyPlatform

FEED = "/api/v1/agency/changes"


def headers(platform: AgencyPlatform, **extra: str) -> dict[str, str]:
    return platform.headers("feed", purpose="跟踪监管对象变动") | extra


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_the_feed_answers_changes_after_a_position_as_ndjson(agency_platform: AgencyPlatform) -> None:
    client = agency_platform.client
    first = client.get(FEED, params={"limit": 50}, headers=headers(agency_platform))
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/x-ndjson")
    changes = lines(first.text)
    assert len(changes) == 50
    positions = [c["position"] for c in changes]
    assert positions == sorted(positions) and len(set(positions)) == 50
    assert int(first.headers["x-next-after"]) == positions[-1]
    for change in changes:
        ChangeMessage.model_validate(change)  # each line is a gongshi.change/2 message
    more = lines(
        client.get(FEED, params={"after": positions[-1], "limit": 5}, headers=headers(agency_platform)).text
    )
    assert [c["position"] for c in more] == sorted(c["position"] for c in more) and more[0][
        "position"
    ] > positions[-1]
    entry = agency_platform.container.access_log.entries(AccessLogQuery(limit=1))[0]
    assert entry.counts["changes"] == 5 and set(entry.usccs) == {c["uscc"] for c in more}


def test_a_change_carries_the_agency_view_and_the_public_one_masked(agency_platform: AgencyPlatform) -> None:
    everything = lines(
        agency_platform.client.get(FEED, params={"limit": 10000}, headers=headers(agency_platform)).text
    )
    listed = next(c for c in everything if c["uscc"] == SERIOUS and c["event"] == "SeriousListed")
    assert (listed["cause"], listed["flags_before"], listed["flags_after"]) == ("event", [], ["serious"])
    assert listed["categories"] == ["serious"] and listed["district"] == "120116"
    assert listed["public"]["serious_listings"][0]["decision_no"] == "津市监严〔2025〕2号"
    registered = next(c for c in everything if c["uscc"] == SERIOUS and c["event"] == "Registered")
    number = registered["sharing"]["registration"]["legal_representative"]["id_number"]
    assert (
        "*" not in number and "*" in registered["public"]["registration"]["legal_representative"]["id_number"]
    )


def test_server_sent_events_resume_from_last_event_id_with_heartbeats(
    agency_platform: AgencyPlatform,
) -> None:
    client = agency_platform.client
    with mock.patch.object(agency_platform.container.settings, "sse_heartbeat_s", 0.2):
        response = client.get(
            FEED,
            params={"idle_timeout": 1},
            headers=headers(agency_platform, Accept="text/event-stream", **{"Last-Event-ID": "20"}),
        )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = [block for block in response.text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    ids = [int(line[4:]) for block in events for line in block.splitlines() if line.startswith("id: ")]
    assert ids and ids[0] > 20 and ids == sorted(ids)
    assert any(line.startswith(": ping") for block in events for line in block.splitlines())  # heartbeats
    data = [
        json.loads(line[6:]) for block in events for line in block.splitlines() if line.startswith("data: ")
    ]
    assert [d["position"] for d in data] == ids
    entry = agency_platform.container.access_log.entries(AccessLogQuery(limit=1))[0]
    assert entry.completed is True and entry.counts["changes"] == len(ids)


def test_a_position_older_than_the_feed_keeps_is_410(agency_platform: AgencyPlatform) -> None:
    container = agency_platform.container
    store = container.change_store
    oldest, newest, _purged = store.bounds()
    with mock.patch.object(store, "bounds", return_value=(oldest + 5, newest, oldest + 4)):
        expired = agency_platform.client.get(FEED, params={"after": 0}, headers=headers(agency_platform))
        fine = agency_platform.client.get(
            FEED, params={"after": oldest + 4}, headers=headers(agency_platform)
        )
    assert expired.status_code == 410
    assert expired.json()["code"] == "position_expired" and expired.json()["oldest_position"] == oldest + 5
    assert fine.status_code == 200


def test_the_retention_purges_and_then_old_positions_are_410(tmp_path: Any) -> None:
    from datetime import UTC, datetime

    from adapters.change_store import NewChange
    from adapters.change_store.sqlite import SQLiteChangeStore

    store = SQLiteChangeStore(tmp_path / "changes.sqlite3")
    now = datetime(2026, 11, 22, tzinfo=UTC)
    store.append(
        [NewChange(f"event:{n}", HISTORY, now - timedelta(days=500 - n), {"n": n}) for n in range(3)]
    )
    assert store.purge(now - timedelta(days=400)) == 3
    assert store.bounds() == (None, 3, 3)
    store.close()


# --- watchlists -----------------------------------------------------------------------------------


def test_a_uscc_watchlist_has_a_feed_of_its_entities_only(agency_platform: AgencyPlatform) -> None:
    client = agency_platform.client
    created = client.post(
        "/api/v1/agency/watchlists",
        json={"name": "重点企业", "usccs": [SERIOUS, HISTORY]},
        headers=headers(agency_platform),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == "usccs" and body["uscc_count"] == 2 and body["webhook_secret"] is None
    feed = client.get(f"/api/v1/agency/watchlists/{body['id']}/changes", headers=headers(agency_platform))
    changes = lines(feed.text)
    assert changes and {c["uscc"] for c in changes} == {SERIOUS, HISTORY}
    listed = client.get("/api/v1/agency/watchlists", headers=headers(agency_platform)).json()
    assert body["id"] in [w["id"] for w in listed]
    # another agency cannot read it
    other = client.get(
        f"/api/v1/agency/watchlists/{body['id']}/changes", headers=agency_platform.headers("all")
    )
    assert other.status_code == 404


def test_an_agency_deletes_its_watchlist_and_its_feed_and_webhook_stop(
    agency_platform: AgencyPlatform, receiver: str
) -> None:
    container, client = agency_platform.container, agency_platform.client
    with mock.patch.object(container.settings, "webhook_allowed_hosts", "127.0.0.1/32"):
        container.__dict__.pop("webhooks", None)
        created = client.post(
            "/api/v1/agency/watchlists",
            json={"name": "已结案企业", "usccs": [SERIOUS], "webhook_url": receiver},
            headers=headers(agency_platform),
        ).json()
        path = f"/api/v1/agency/watchlists/{created['id']}"
        # another agency can neither see nor delete it
        assert client.delete(path, headers=agency_platform.headers("all")).status_code == 404
        assert client.get(f"{path}/changes", headers=headers(agency_platform)).status_code == 200
        deleted = client.delete(path, headers=headers(agency_platform))
        assert deleted.status_code == 204, deleted.text
        entry = container.access_log.entries(AccessLogQuery(limit=1))[0]
        assert entry.method == "DELETE" and entry.purpose == "跟踪监管对象变动" and entry.status == 204
        gone = client.get(f"{path}/changes", headers=headers(agency_platform))
        assert gone.status_code == 404 and gone.json()["code"] == "not_found"
        listed = client.get("/api/v1/agency/watchlists", headers=headers(agency_platform)).json()
        assert created["id"] not in [w["id"] for w in listed]
        assert client.delete(path, headers=headers(agency_platform)).status_code == 404
        container.webhooks.run_once()
        sent_for = [json.loads(body)["watchlist"] for _, body in Receiver.received]
        assert created["id"] not in sent_for  # nothing sent for a deleted list
    container.__dict__.pop("webhooks", None)


def test_a_filter_watchlist_keeps_the_changes_that_match(agency_platform: AgencyPlatform) -> None:
    client = agency_platform.client
    created = client.post(
        "/api/v1/agency/watchlists",
        json={
            "name": "滨海新区新列入严重失信",
            "filter": {"districts": ["滨海新区"], "flags_entered": ["serious"]},
        },
        headers=headers(agency_platform),
    ).json()
    assert created["filter"] == {"districts": ["120116"], "flags_entered": ["serious"]}
    changes = lines(
        client.get(
            f"/api/v1/agency/watchlists/{created['id']}/changes", headers=headers(agency_platform)
        ).text
    )
    assert [c["uscc"] for c in changes] == [SERIOUS]
    assert all("serious" in c["flags_after"] and "serious" not in c["flags_before"] for c in changes)


def test_a_watchlist_needs_exactly_one_of_usccs_or_filter(agency_platform: AgencyPlatform) -> None:
    client = agency_platform.client
    both = client.post(
        "/api/v1/agency/watchlists",
        json={"name": "x", "usccs": [SERIOUS], "filter": {}},
        headers=headers(agency_platform),
    )
    bad = client.post(
        "/api/v1/agency/watchlists",
        json={"name": "x", "usccs": [SERIOUS[:-1] + "0"]},
        headers=headers(agency_platform),
    )
    assert both.status_code == 422 and bad.status_code == 422 and "校验未通过" in bad.json()["message"]


# --- webhooks -------------------------------------------------------------------------------------


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(Receiver.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Receiver.received, Receiver.status = [], 200
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_webhooks_are_signed_retried_with_backoff_and_only_sent_to_allowed_hosts(
    agency_platform: AgencyPlatform, receiver: str
) -> None:
    container, client = agency_platform.container, agency_platform.client
    refused = client.post(
        "/api/v1/agency/watchlists",
        json={"name": "回调", "usccs": [SERIOUS], "webhook_url": receiver},
        headers=headers(agency_platform),
    )
    assert refused.status_code == 422 and "允许列表" in refused.json()["message"]  # loopback, not listed
    with mock.patch.object(container.settings, "webhook_allowed_hosts", "127.0.0.1/32"):
        container.__dict__.pop("webhooks", None)  # built again with the new allow-list
        created = client.post(
            "/api/v1/agency/watchlists",
            json={"name": "回调", "usccs": [SERIOUS], "webhook_url": receiver},
            headers=headers(agency_platform),
        ).json()
        secret = created["webhook_secret"]
        assert len(secret) == 64
        dispatcher = container.webhooks
        Receiver.status = 503
        assert dispatcher.run_once() == 0
        state = container.change_store.webhook_state(created["id"])
        assert state.attempts == 1 and state.position == 0 and "503" in (state.last_error or "")
        assert state.next_attempt_at is not None
        assert dispatcher.run_once() == 0 and len(Receiver.received) == 1  # waits before trying again
        later = state.next_attempt_at + timedelta(seconds=1)
        Receiver.status = 200
        with mock.patch.object(dispatcher, "now", lambda: later):
            delivered = dispatcher.run_once()
        assert delivered >= 2 and len(Receiver.received) == 2
        sent_headers, body = Receiver.received[-1]
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert sent_headers["x-gongshi-signature"] == expected
        payload = json.loads(body)
        assert payload["watchlist"] == created["id"] and {c["uscc"] for c in payload["changes"]} == {SERIOUS}
        assert container.change_store.webhook_state(created["id"]).attempts == 0
    container.__dict__.pop("webhooks", None)
