"""The aggregate cache bounded by memory (`domain.internals.MemoryBoundedCache`): least recently
used first out, an aggregate re-weighed when it is saved again, the count bound kept, and the
registries the composition root builds using it with the configured budget."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from uuid import uuid4

import pytest
from eventsourcing.application import LRUCache

from domain.internals import (
    ESTIMATE_BASE_BYTES,
    ESTIMATE_PER_EVENT_BYTES,
    LibraryInternals,
    MemoryBoundedCache,
    estimated_bytes,
)
from infra.bootstrap import build
from infra.settings import Settings
from tests.builders import TODAY, envelope, inspection_payload, registered, uscc_for


def aggregate(version: int) -> SimpleNamespace:
    return SimpleNamespace(version=version)


def weight(version: int) -> int:
    return ESTIMATE_BASE_BYTES + ESTIMATE_PER_EVENT_BYTES * version


def test_the_estimate_grows_with_the_history() -> None:
    assert estimated_bytes(aggregate(1)) == weight(1)
    assert estimated_bytes(aggregate(1000)) == weight(1000) > 100 * estimated_bytes(aggregate(1))


def test_the_least_recently_used_go_first_when_the_budget_is_exceeded() -> None:
    cache = MemoryBoundedCache(max_bytes=3 * weight(1))
    a, b, c, d = (uuid4() for _ in range(4))
    for key in (a, b, c):
        cache.put(key, aggregate(1))
    assert cache.total_bytes == 3 * weight(1)
    cache.get(a)  # a is used again: b is now the oldest
    evicted = cache.put(d, aggregate(1))
    assert evicted is not None and evicted[0] == b
    assert list(cache.cache) == [c, a, d]
    assert cache.total_bytes == 3 * weight(1)
    with pytest.raises(KeyError):
        cache.get(b)


def test_an_aggregate_saved_again_is_weighed_again() -> None:
    cache = MemoryBoundedCache(max_bytes=weight(1) + weight(50))
    small, grower = uuid4(), uuid4()
    cache.put(small, aggregate(1))
    cache.put(grower, aggregate(1))
    assert cache.total_bytes == 2 * weight(1)
    cache.put(grower, aggregate(80))  # the batch added 79 events: over the budget now
    assert list(cache.cache) == [grower]
    assert cache.total_bytes == weight(80)


def test_one_aggregate_over_the_whole_budget_is_still_held_while_in_use() -> None:
    cache = MemoryBoundedCache(max_bytes=weight(1))
    key = uuid4()
    cache.put(key, aggregate(500))
    assert cache.get(key).version == 500
    cache.put(uuid4(), aggregate(1))
    assert key not in cache.cache


def test_the_count_bound_still_holds() -> None:
    cache = MemoryBoundedCache(max_bytes=10**9, max_entries=2)
    keys = [uuid4() for _ in range(3)]
    for key in keys:
        cache.put(key, aggregate(1))
    assert list(cache.cache) == keys[1:]


def test_evicting_get_and_the_empty_cache() -> None:
    cache = MemoryBoundedCache(max_bytes=10**6)
    assert cache  # eventsourcing's repository uses the cache only while it tests true
    key = uuid4()
    cache.put(key, aggregate(3))
    assert cache.get(key, evict=True).version == 3
    assert cache.total_bytes == 0 and key not in cache.cache
    assert cache.put(key, None) is None and key not in cache.cache


def test_the_registries_use_the_configured_budget_and_stay_within_it(tmp_path: Path) -> None:
    budget_mb = 1
    container = build(Settings(data_dir=tmp_path, today=TODAY, aggregate_cache_mb=budget_mb))
    try:
        registry = container.registry
        cache = registry.repository.cache
        assert isinstance(cache, MemoryBoundedCache)
        assert cache.max_bytes == budget_mb * 2**20 and cache.max_entries == 20_000
        assert isinstance(container.reader.repository.cache, MemoryBoundedCache)
        # 60 entities of 30 events each: ≈ 4.8 MB estimated, five times the budget
        usccs = [uscc_for(7_000 + n) for n in range(60)]
        bodies = [registered(uscc=u, publication_id=f"MB-{u}-R") for u in usccs]
        bodies += [
            envelope(
                "inspection.published",
                inspection_payload(inspection_no=f"SSJ-{n:03d}"),
                uscc=u,
                publication_id=f"MB-{u}-I{n}",
            )
            for u in usccs
            for n in range(29)
        ]
        for start in range(0, len(bodies), 200):
            outcomes = registry.process(bodies[start : start + 200])
            assert {o.status for o in outcomes} == {"applied"}
            assert cache.total_bytes <= cache.max_bytes
        held = LibraryInternals(registry).cached()
        assert 0 < len(held) < len(usccs)
        # what was evicted loads from the store, whole
        for u in usccs:
            assert container.reader.get_entity(u).version == 30
        registry.forget_cached()
        assert cache.total_bytes == 0 and not LibraryInternals(registry).cached()
    finally:
        container.close()


def test_zero_means_bounded_by_count_only(tmp_path: Path) -> None:
    container = build(Settings(data_dir=tmp_path, today=TODAY, aggregate_cache_mb=0))
    try:
        assert isinstance(container.registry.repository.cache, LRUCache)
        assert container.registry.repository.cache.maxsize == 20_000
    finally:
        container.close()
