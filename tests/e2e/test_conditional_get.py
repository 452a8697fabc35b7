"""A repeated lookup of an unchanged entity: `GET /api/v1/entities/{uscc}` with `If-None-Match`
is answered 304 from the event store's version, without reading the search index; a new event or
a new system date gives a new ETag and the full answer (api/conditional.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.bootstrap import Container
from tests.builders import envelope, penalty_payload, uscc_for
from tests.e2e.conftest import TODAY, load, publish


@pytest.fixture
def small(tmp_path: Path) -> Iterator[tuple[Container, TestClient, str]]:
    container, envelopes = load(tmp_path, entities=12, seed=23)
    uscc = next(e["uscc"] for e in envelopes if e["kind"] == "registration.registered")
    with TestClient(create_app(container)) as client:
        yield container, client, uscc
    container.close()


def index_unreadable(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the index was read for a conditional GET of an unchanged entity")


def test_an_unchanged_entity_is_a_304_without_the_index(
    small: tuple[Container, TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    container, client, uscc = small
    first = client.get(f"/api/v1/entities/{uscc}")
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and TODAY.isoformat() in etag
    assert first.headers["cache-control"] == "no-cache"

    monkeypatch.setattr(container.index, "get_public", index_unreadable)
    monkeypatch.setattr(container.index, "search", index_unreadable)
    again = client.get(f"/api/v1/entities/{uscc}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    # the tag also matches among others, and without its W/ (a weak comparison)
    listed = client.get(f"/api/v1/entities/{uscc}", headers={"If-None-Match": f'"x", {etag[2:]}'})
    assert listed.status_code == 304
    # a lower-case USCC with spaces is the same entity
    spaced = client.get(f"/api/v1/entities/ {uscc.lower()} ", headers={"If-None-Match": etag})
    assert spaced.status_code == 304


def test_a_new_event_gives_a_new_etag_and_the_new_record(small: tuple[Container, TestClient, str]) -> None:
    container, client, uscc = small
    first = client.get(f"/api/v1/entities/{uscc}")
    penalty = envelope(
        "penalty.imposed",
        penalty_payload(decision_no="津市监罚〔2026〕901号"),
        uscc=uscc,
        occurred_on=TODAY - timedelta(days=3),
    )
    publish(container, [json.dumps(penalty, ensure_ascii=False).encode()])
    after = client.get(f"/api/v1/entities/{uscc}", headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != first.headers["etag"]
    assert "津市监罚〔2026〕901号" in after.text
    assert (
        client.get(f"/api/v1/entities/{uscc}", headers={"If-None-Match": after.headers["etag"]}).status_code
        == 304
    )


def test_the_next_system_date_gives_a_new_etag(
    small: tuple[Container, TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    container, client, uscc = small
    first = client.get(f"/api/v1/entities/{uscc}")
    monkeypatch.setattr(container.clock, "_today", TODAY + timedelta(days=1))
    later = client.get(f"/api/v1/entities/{uscc}", headers={"If-None-Match": first.headers["etag"]})
    assert later.status_code == 200  # a window may have ended with the date
    assert (TODAY + timedelta(days=1)).isoformat() in later.headers["etag"]


def test_an_unknown_entity_with_a_tag_is_still_a_404(small: tuple[Container, TestClient, str]) -> None:
    _, client, _ = small
    unknown = uscc_for(9_999)
    answer = client.get(f"/api/v1/entities/{unknown}", headers={"If-None-Match": "*"})
    assert answer.status_code == 404
    assert answer.json()["code"] == "entity_not_found"
