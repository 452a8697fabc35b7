"""Rebuild without downtime on the real engines: a generated register in PostgreSQL, indexed in
Elasticsearch (production refresh); each of the three projections is rebuilt into a new index
generation in turn while another thread searches, reads sharing documents and lists records
continuously, and the live projections keep writing."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from adapters.search_index.base import PROJECTIONS, RecordQuery
from adapters.search_index.elasticsearch import ElasticsearchIndex
from infra.bootstrap import Container, build
from infra.datagen.generator import generate
from projections.rebuild import rebuild_projection
from tests.builders import TODAY, change_payload, envelope
from tests.integration.conftest import SettingsFactory

pytestmark = pytest.mark.engines

ENTITIES = 200


@pytest.fixture
def real(settings_for: SettingsFactory) -> Iterator[Container]:
    settings = settings_for("rebuild", kafka=False, elasticsearch=True, projection_batch_size=100)
    container = build(settings)
    yield container
    container.close()


class Searcher(threading.Thread):
    """Cycles through queries until stopped; keeps every error and every empty answer."""

    def __init__(self, container: Container, queries: list[str], uscc: str) -> None:
        super().__init__(daemon=True)
        self.index, self.queries, self.uscc = container.index, queries, uscc
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
                if self.index.get_sharing(self.uscc) is None:
                    self.failures.append(f"sharing {self.uscc}: missing")
                if not self.index.records(RecordQuery(), TODAY, size=5).items:
                    self.failures.append("records: empty")
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


def catch_up(container: Container) -> None:
    for projection in container.projections.values():
        projection.catch_up()


def test_rebuilds_swap_each_alias_while_reads_never_fail_or_come_back_empty(real: Container) -> None:
    envelopes = list(generate(ENTITIES, 5, TODAY))
    for start in range(0, len(envelopes), 500):
        real.registry.process(envelopes[start : start + 500])
    catch_up(real)
    index = real.index
    assert isinstance(index, ElasticsearchIndex)
    client = Elasticsearch(real.settings.elasticsearch_url)
    client.indices.refresh(index=f"{index.prefix}-*")
    registrations = [e for e in envelopes if e["kind"] == "registration.registered"]
    first = registrations[0]
    queries = [
        first["payload"]["name"],
        first["uscc"].lower(),
        first["payload"]["name"][2:5],
        "tianjin",
        "有限公司",
    ]
    searcher = Searcher(real, queries, first["uscc"])
    searcher.start()
    searcher.wait_for_more(len(queries))
    try:
        for n, name in enumerate(PROJECTIONS):
            renamed = registrations[7 + n]
            new_name = f"天津重建期间{'甲乙丙'[n]}更名科技有限公司"

            def during_the_rebuild(done: int, renamed: dict = renamed, new_name: str = new_name) -> None:
                if done == 100:  # half way: a rename is applied and projected to the serving generation
                    change = change_payload("name", renamed["payload"]["name"], new_name)
                    outcome = real.registry.apply_publication(
                        envelope(
                            "registration.changed", change, uscc=renamed["uscc"], occurred_on="2026-11-20"
                        )
                    )
                    assert outcome.status == "applied", outcome.as_dict()
                    catch_up(real)
                    searcher.wait_for_more(len(queries))

            projection = real.projections[name]
            report = rebuild_projection(projection, batch_size=50, on_progress=during_the_rebuild)
            searcher.wait_for_more(len(queries))
            assert report.entities == ENTITIES and report.target == "v2" and report.replayed >= 1
            alias = f"{index.prefix}-{name}"
            assert list(client.indices.get_alias(name=alias)) == [f"{alias}-v2"]
            assert not client.indices.exists(index=f"{alias}-v1")
            client.indices.refresh(index=alias)  # search is near real time
            assert index.count(name) == ENTITIES
            assert projection.lag() == 0
            if name == "entities":
                found = index.search(new_name, TODAY).items
                assert [item["uscc"] for item in found] == [renamed["uscc"]]
            if name == "sharing":
                assert index.get_sharing(renamed["uscc"])["name"] == new_name
        searcher.stop()
        assert searcher.failures == []
        # the live projections carry on writing to the new generations
        renamed = registrations[7]
        change = change_payload("name", "天津重建期间甲更名科技有限公司", "天津重建之后科技有限公司")
        real.registry.apply_publication(
            envelope("registration.changed", change, uscc=renamed["uscc"], occurred_on="2026-11-21")
        )
        catch_up(real)
        assert index.get_public(renamed["uscc"])["name"] == "天津重建之后科技有限公司"
        assert index.get_sharing(renamed["uscc"])["name"] == "天津重建之后科技有限公司"
    finally:
        searcher.stop()
        client.close()
