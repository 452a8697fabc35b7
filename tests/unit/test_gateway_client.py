"""`gongshi publish --via gateway` waits out a 429 as `Retry-After` says, then sends again."""

from __future__ import annotations

import httpx
import pytest

from api.cli import publishing
from api.cli.publishing import Gateway, GatewayRefused, Line


def gateway(responses: list[httpx.Response], monkeypatch: pytest.MonkeyPatch) -> tuple[Gateway, list[float]]:
    slept: list[float] = []
    monkeypatch.setattr(publishing.time, "sleep", slept.append)
    client = Gateway("http://gateway.test", "gs_" + "k" * 43)
    answers = iter(responses)
    client.client = httpx.Client(
        base_url="http://gateway.test", transport=httpx.MockTransport(lambda request: next(answers))
    )
    return client, slept


def limited(after: str) -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": after}, json={"code": "rate_limited", "message": "…"})


def test_a_rate_limited_post_is_sent_again_after_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    accepted = httpx.Response(202, json={"publication_id": "P-1", "status": "pending"})
    client, slept = gateway([limited("3"), limited("120"), accepted], monkeypatch)
    tally = client.post_all([Line(b"{}", "K", "P-1")], on_progress=lambda n: None)
    assert tally.accepted == 1 and tally.refusals == {}
    assert slept == [3.0, 60.0]  # as told, at most a minute at a time


def test_a_gateway_that_keeps_refusing_stops_publishing(monkeypatch: pytest.MonkeyPatch) -> None:
    client, slept = gateway([limited("1")] * publishing.MAX_RATE_LIMITED, monkeypatch)
    with pytest.raises(GatewayRefused, match="访问过于频繁"):
        client.post_all([Line(b"{}", "K", "P-1")], on_progress=lambda n: None)
    assert len(slept) == publishing.MAX_RATE_LIMITED
