"""Open data on the real engines: a register in PostgreSQL, indexed in Elasticsearch (production
refresh, a prefix of the test's own). The snapshot read from Elasticsearch is byte for byte the
one read from an SQLite index the same projections fill from the same event store; a later
snapshot is the first plus the delta between them; the same position and date give the same
bytes."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from adapters.search_index.elasticsearch import ElasticsearchIndex
from adapters.search_index.sqlite import SQLiteSearchIndex
from infra.bootstrap import Container, build
from infra.datagen.generator import generate
from opendata.delta import apply_delta, write_delta
from opendata.models import ENTITIES, MANIFEST, RECORDS
from opendata.snapshot import write_snapshot
from projections.runner import index_projections
from tests.builders import TODAY, change_payload, envelope, penalty_payload, registered, uscc_for
from tests.integration.conftest import SettingsFactory

pytestmark = pytest.mark.engines

ENTITIES_LOADED = 150
LATER = date(2027, 3, 1)
FILES = (MANIFEST, ENTITIES, RECORDS)


@pytest.fixture
def real(settings_for: SettingsFactory) -> Iterator[Container]:
    container = build(settings_for("opendata", kafka=False, elasticsearch=True, projection_batch_size=100))
    yield container
    container.close()


def catch_up(container: Container) -> None:
    for projection in container.projections.values():
        projection.catch_up()


def process(container: Container, envelopes: list[dict]) -> None:
    for start in range(0, len(envelopes), 500):
        container.registry.process(envelopes[start : start + 500])
    catch_up(container)


def same_files(a: Path, b: Path) -> bool:
    return all((a / name).read_bytes() == (b / name).read_bytes() for name in FILES)


def test_snapshots_on_elasticsearch_match_sqlite_and_deltas_lead_from_one_to_the_next(
    real: Container, tmp_path: Path
) -> None:
    assert isinstance(real.index, ElasticsearchIndex)
    short = uscc_for(951)
    process(
        real,
        [
            *generate(ENTITIES_LOADED, 20261130, TODAY),
            registered(uscc=short, name="天津真引擎短期处罚有限公司"),
            envelope(
                "penalty.imposed",
                penalty_payload(
                    "津市监罚〔2026〕951号", decided_on="2026-11-20", fine_amount="1000.00", measures=["fine"]
                ),
                uscc=short,
                occurred_on="2026-11-20",
            ),
        ],
    )
    names = real.department_names
    first, again = tmp_path / "first-es", tmp_path / "first-es-again"
    manifest = write_snapshot(real.index, names, TODAY, first, page_size=37)
    assert manifest.counts.entities == ENTITIES_LOADED + 1 == real.index.count()
    assert manifest.position == real.projections["entities"].position()
    write_snapshot(real.index, names, TODAY, again)
    assert same_files(first, again)  # same position and date, other pages: the same bytes

    # the same events projected into SQLite give the same files, byte for byte
    sqlite = SQLiteSearchIndex(tmp_path / "search.sqlite3")
    try:
        for projection in index_projections(real.reader, sqlite, batch_size=200, clock=real.clock).values():
            projection.catch_up()
        write_snapshot(sqlite, names, TODAY, tmp_path / "first-sqlite")
    finally:
        sqlite.close()
    assert same_files(first, tmp_path / "first-sqlite")

    # a later day: a rename and a new entity; the short penalty's window has ended by then
    later = build(real.settings.model_copy(update={"today": LATER}))
    try:
        renamed = next(
            e for e in generate(ENTITIES_LOADED, 20261130, TODAY) if e["kind"] == "registration.registered"
        )
        process(
            later,
            [
                envelope(
                    "registration.changed",
                    change_payload("name", renamed["payload"]["name"], "天津真引擎改名后有限公司"),
                    uscc=renamed["uscc"],
                    occurred_on="2027-02-01",
                ),
                registered(uscc=uscc_for(952), name="天津真引擎新设有限公司", occurred_on="2027-02-02"),
            ],
        )
        second = tmp_path / "second"
        write_snapshot(later.index, names, LATER, second)
    finally:
        later.close()

    delta = write_delta(first, second, second)
    assert delta.counts.entities_upserted >= 3 and delta.counts.records_withdrawn >= 1
    withdrawn = gzip.decompress((second / "delta-records.csv.gz").read_bytes()).decode()
    assert "withdraw," + short in withdrawn
    applied = apply_delta(first, second, tmp_path / "applied")
    assert same_files(tmp_path / "applied", second)
    assert applied.counts.entities == ENTITIES_LOADED + 2
