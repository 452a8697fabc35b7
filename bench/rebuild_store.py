"""Benchmark: `gongshi projections rebuild NAME` end to end — from the PostgreSQL event store into
Elasticsearch — for N generated entities, beside the documents-only rate of bench/rebuild.py.

Loads N generated entities into a fresh PostgreSQL schema through the Registry (in batches, no
Kafka), optionally (`--catch-up`) lets the live projections follow the log once, then times
`rebuild_projection` for each projection:
enumerate the registered entities, load each aggregate from the store, build its documents,
bulk them into a new generation, swap the alias. Everything is dropped at the end.

    .venv/bin/python bench/rebuild_store.py --entities 20000
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import date
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.search_index.base import PROJECTIONS
from adapters.search_index.elasticsearch import ElasticsearchIndex
from infra.bootstrap import build
from infra.datagen.generator import generate
from infra.settings import Settings
from projections.rebuild import rebuild_projection

TODAY = date(2026, 11, 22)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--dsn", default="postgresql://gongshi:gongshi@127.0.0.1:5432/gongshi")
    parser.add_argument("--url", default="http://127.0.0.1:9200")
    parser.add_argument("--prefix", default="benchstore")
    parser.add_argument("--catch-up", action="store_true", help="also time the live projections")
    args = parser.parse_args()
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{args.prefix}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{args.prefix}"')
    settings = Settings(
        data_dir=Path("/tmp") / args.prefix,
        today=TODAY,
        prefix=args.prefix,
        postgres_dsn=args.dsn,
        postgres_schema=args.prefix,
        elasticsearch_url=args.url,
    )
    container = build(settings)
    try:
        started = time.perf_counter()
        envelopes = list(generate(args.entities, args.seed, TODAY))
        for start in range(0, len(envelopes), 1000):
            container.registry.process(envelopes[start : start + 1000])
        loaded = time.perf_counter() - started
        print(f"loaded {args.entities:,} entities ({len(envelopes):,} publications) in {loaded:.1f} s")
        for name in PROJECTIONS if args.catch_up else ():
            started = time.perf_counter()
            count = container.projections[name].catch_up()
            elapsed = time.perf_counter() - started
            rate = count / elapsed
            print(f"live projection {name}: {count:,} notifications in {elapsed:.1f} s ({rate:,.0f}/s)")
        for name in PROJECTIONS:
            started = time.perf_counter()
            report = rebuild_projection(container.projections[name])
            elapsed = time.perf_counter() - started
            print(
                f"rebuild {name}: {report.entities:,} entities in {elapsed:.1f} s "
                f"({report.entities / elapsed:,.0f} entities/s)"
            )
    finally:
        container.close()
        cleanup = ElasticsearchIndex(args.url, prefix=args.prefix)
        cleanup.delete_all()
        cleanup.close()
        with psycopg.connect(args.dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{args.prefix}" CASCADE')
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    catch_up = " --catch-up" if args.catch_up else ""
    print(f"command: .venv/bin/python bench/rebuild_store.py --entities {args.entities}{catch_up}")


if __name__ == "__main__":
    main()
