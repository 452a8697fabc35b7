"""Rebuild without downtime on the real engines: a generated register in PostgreSQL, indexed in
Elasticsearch (production refresh), rebuilt into a new index generation while another thread
searches continuously and the live projection keeps writing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from elasticsearch import Elasticsearch

from adapters.search_index.elasticsearch import ElasticsearchIndex
from infra.bootstrap import Container, build
from infra.datagen.generator import generate
from infra.settings import Settings
from projections.rebuild import rebuild_entities
from tests.builders import change_payload, envelope
from tests.engines import elasticsearch_url, postgres_dsn, unique_prefix

TODAY = date(2026, 11, 22)
ENTITIES = 200


@pytest.fixture
def real(tmp_path: Path) -> Iterator[Container]:
    prefix = unique_prefix("rebuild")
    dsn, url = postgres_dsn(), elasticsearch_url()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{prefix}"')
    settings = Settings(
        data_dir=tmp_path,
        today=TODAY,
        prefix=prefix,
        postgres_dsn=dsn,
        postgres_schema=prefix,
        elasticsearch_url=url,
        projection_batch_size=100,
    )
    container = build(settings)
    try:
        yield container
    finally:
        container.close()
        cleanup = ElasticsearchIndex(url, prefix=prefix)
        cleanup.delete_all()
        cleanup.close()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{prefix}" CASCADE')


class Searcher(threading.Thread):
    """Cycles through queries until stopped; keeps every error and every empty answer."""

    def __init__(self, container: Container, queries: list[str]) -> None:
        super().__init__(daemon=True)
        self.index, self.queries = container.index, queries
        self.failures: list[str] = []
        self.done = 0
        self._halt = threading.Event()
        self._tick = threading.Condition()

    def run(self) -> None:
        while not self._halt.is_set():
            query = self.queries[self.done % len(self.queries)]
            try:
                if not self.index.search(query, TODAY, size=5).items:
                    self.failures.append(f"{query!r}: empty")
            except Exception as err:
                self.failures.append(f"{query!r}: {err!r}")
            with self._tick:
                self.done += 1
                self._tick.notify_all()

    def wait_for_more(self, searches: int = 1) -> None:
        with self._tick:
            target = self.done + searches
            assert self._tick.wait_for(lambda: self.done >= target, timeout=120)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=60)


def test_rebuild_swaps_both_aliases_while_searches_never_fail_or_come_back_empty(real: Container) -> None:
    envelopes = list(generate(ENTITIES, 5, TODAY))
    for start in range(0, len(envelopes), 500):
        real.registry.process(envelopes[start : start + 500])
    real.projection.catch_up()
    index = real.index
    assert isinstance(index, ElasticsearchIndex)
    client = Elasticsearch(elasticsearch_url())
    client.indices.refresh(index=f"{index.prefix}-*")
    registrations = [e for e in envelopes if e["kind"] == "registration.registered"]
    first, renamed = registrations[0], registrations[7]
    queries = [
        first["payload"]["name"],
        first["uscc"].lower(),
        first["payload"]["name"][2:5],
        "tianjin",
        "有限公司",
    ]
    searcher = Searcher(real, queries)
    searcher.start()
    searcher.wait_for_more(len(queries))

    def during_the_rebuild(done: int) -> None:
        if done == 100:  # half way: a rename is applied and projected to the serving generation
            change = change_payload("name", renamed["payload"]["name"], "天津重建期间更名科技有限公司")
            outcome = real.registry.apply_publication(
                envelope("registration.changed", change, uscc=renamed["uscc"], occurred_on="2026-11-20")
            )
            assert outcome.status == "applied", outcome.as_dict()
            real.projection.catch_up()
            searcher.wait_for_more(len(queries))

    report = rebuild_entities(real.projection, batch_size=50, on_progress=during_the_rebuild)
    searcher.wait_for_more(len(queries))
    searcher.stop()
    try:
        assert searcher.failures == []
        assert report.entities == ENTITIES and report.target == "v2" and report.replayed >= 1
        for name in ("entities", "records"):
            alias = f"{index.prefix}-{name}"
            assert list(client.indices.get_alias(name=alias)) == [f"{alias}-v2"]
            assert not client.indices.exists(index=f"{alias}-v1")
        client.indices.refresh(index=f"{index.prefix}-entities")  # search is near real time
        assert index.count() == ENTITIES
        found = index.search("重建期间更名", TODAY).items
        assert [item["uscc"] for item in found] == [renamed["uscc"]]
        assert real.projection.lag() == 0
        # the live projection carries on writing to the new generation
        change = change_payload("name", "天津重建期间更名科技有限公司", "天津重建之后科技有限公司")
        real.registry.apply_publication(
            envelope("registration.changed", change, uscc=renamed["uscc"], occurred_on="2026-11-21")
        )
        real.projection.catch_up()
        assert index.get_public(renamed["uscc"])["name"] == "天津重建之后科技有限公司"
    finally:
        client.close()
