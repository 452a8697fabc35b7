"""The index projections move a cached aggregate on with the events their batch already holds
instead of reading them again (projections.runner `EntityProjection._load`): the documents they
write are exactly those built from the entity read afresh from the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.registry import Registry
from infra.bootstrap import Container
from projections.documents import public_document, sharing_document
from tests.builders import envelope, penalty_payload
from tests.e2e.conftest import TODAY, load, publish


@pytest.fixture
def loaded(tmp_path: Path) -> Iterator[tuple[Container, list[dict]]]:
    container, envelopes = load(tmp_path, entities=60, seed=29)
    yield container, envelopes
    container.close()


def fresh(container: Container) -> Registry:
    return Registry(
        clock=container.clock,
        departments=container.departments,
        env=container.event_store_env,
        publicity=container.publicity_policy,
        calendar=container.calendar,
        vault=container.personal_data,
    )


def publish_penalties(container: Container, usccs: list[str], *, first: int) -> None:
    """A penalty for each of `usccs` (decision numbers from `first` on), applied and projected."""
    more = [
        envelope(
            "penalty.imposed",
            penalty_payload(decision_no=f"津市监罚〔2026〕{first + n}号"),
            uscc=uscc,
            occurred_on=TODAY - timedelta(days=2),
        )
        for n, uscc in enumerate(usccs)
    ]
    publish(container, [json.dumps(m, ensure_ascii=False).encode() for m in more])


def assert_indexed_as_read_afresh(container: Container, usccs: list[str]) -> None:
    """Each entity's indexed sharing and public documents are those of the entity read afresh
    from the store by an application object of its own."""
    store = fresh(container)
    try:
        for uscc in usccs:
            sharing = sharing_document(store.get_entity(uscc), container.publicity_policy)
            assert container.index.get_sharing(uscc) == sharing, uscc
            assert container.index.get_public(uscc) == public_document(sharing), uscc
    finally:
        store.close()


def test_documents_moved_in_memory_equal_those_read_afresh(
    loaded: tuple[Container, list[dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    container, envelopes = loaded
    usccs = sorted({e["uscc"] for e in envelopes if e["kind"] == "registration.registered"})
    # every entity is in the read side's cache now; new events for half of them
    reads: list[Any] = []
    select_events = container.reader.recorder.select_events

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return select_events(*args, **kwargs)

    monkeypatch.setattr(container.reader.recorder, "select_events", counted)
    publish_penalties(container, usccs[::2], first=500)
    assert reads == []  # moved on with the batch's events, nothing read again

    assert_indexed_as_read_afresh(container, usccs)
    penalties = container.index.get_public(usccs[0])["penalties"]
    assert "津市监罚〔2026〕500号" in [p["decision_no"] for p in penalties]


def test_uncached_entities_are_read_together_and_equal_those_read_afresh(
    loaded: tuple[Container, list[dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    container, envelopes = loaded
    usccs = sorted({e["uscc"] for e in envelopes if e["kind"] == "registration.registered"})
    container.reader.forget_cached()  # as when the register is larger than the cache
    reads: list[Any] = []
    together: list[set[Any]] = []
    select_events = container.reader.recorder.select_events
    read_latest = container.reader.read_latest

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return select_events(*args, **kwargs)

    def batched(ids: Any) -> Any:
        ids = set(ids)
        together.append(ids)
        return read_latest(ids)

    monkeypatch.setattr(container.reader.recorder, "select_events", counted)
    monkeypatch.setattr(container.reader, "read_latest", batched)
    touched = usccs[1::2]
    publish_penalties(container, touched, first=700)
    assert reads == []  # no entity read on its own
    # the first projection read the batch's entities in one call; the others found them cached
    assert len(together) == 1 and len(together[0]) == len(touched)

    assert_indexed_as_read_afresh(container, usccs)
    penalties = container.index.get_public(touched[0])["penalties"]
    assert "津市监罚〔2026〕700号" in [p["decision_no"] for p in penalties]
