"""Benchmark: `gongshi projections rebuild NAME` end to end — from the PostgreSQL event store into
Elasticsearch — for N generated entities, beside the documents-only rate of bench/rebuild.py.

Loads N generated entities into a fresh PostgreSQL schema through the Registry (in batches, no
Kafka), optionally (`--catch-up`) lets the live projections follow the log once, then times
`rebuild_projection` for each projection:
enumerate the registered entities, load each aggregate from the store, build its documents,
bulk them into a new generation, swap the alias. Everything is dropped at the end.

    .venv/bin/python bench/rebuild_store.py --entities 20000
    .venv/bin/python bench/rebuild_store.py --entities 2000 --profile var/projections.prof

`--profile FILE` runs each live projection's catch-up under cProfile (stats to FILE.<name>) and
prints its own time by component per notification (bench/profiling.py).
"""

from __future__ import annotations

import argparse
import cProfile
import platform
import sys
import time
from datetime import date
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.search_index.base import PROJECTIONS
from adapters.search_index.elasticsearch import ElasticsearchIndex
from bench.profiling import by_component
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
    parser.add_argument(
        "--sizes",
        action="store_true",
        help="after the catch-up, print the bytes each stored event and each index document takes "
        "(PostgreSQL tables with their indexes, Elasticsearch store after a flush): docs/SCALING.md",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="run each live projection's catch-up under cProfile (implies --catch-up), stats to "
        "FILE.<projection>, and print where its time goes by component",
    )
    args = parser.parse_args()
    args.catch_up = args.catch_up or bool(args.profile)
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
            profiler = cProfile.Profile() if args.profile else None
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            count = container.projections[name].catch_up()
            if profiler is not None:
                profiler.disable()
            elapsed = time.perf_counter() - started
            rate = count / elapsed
            print(f"live projection {name}: {count:,} notifications in {elapsed:.1f} s ({rate:,.0f}/s)")
            if profiler is not None:
                stats = args.profile.with_name(f"{args.profile.name}.{name}")
                profiler.dump_stats(stats)
                print(f"## where it goes (cProfile, own time by component, per notification; {stats})")
                print(by_component(profiler, count, unit="notification"))
        if args.sizes:
            print_sizes(args, len(envelopes))
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
    flags = (" --catch-up" if args.catch_up else "") + (" --sizes" if args.sizes else "")
    flags += f" --profile {args.profile}" if args.profile else ""
    flags += f" --prefix {args.prefix}" if args.prefix != parser.get_default("prefix") else ""
    print(f"command: .venv/bin/python bench/rebuild_store.py --entities {args.entities}{flags}")


def print_sizes(args: argparse.Namespace, publications: int) -> None:
    """Bytes on disk per stored row and per index document, for sizing (docs/SCALING.md)."""
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute(f'ANALYZE "{args.prefix}".registry_events')
        rows = conn.execute(
            "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'"
            " ORDER BY 3 DESC",
            (args.prefix,),
        ).fetchall()
    for table, count, size in rows[:6]:
        per = f"{size / count:,.0f} B/row" if count > 0 else "-"
        print(f"postgres {table}: {count:,} rows, {size / 1e6:,.1f} MB with indexes ({per})")
    print(f"publications loaded: {publications:,}")
    from elasticsearch import Elasticsearch

    es = Elasticsearch(args.url)
    try:
        es.indices.flush(index=f"{args.prefix}-*")
        es.indices.forcemerge(index=f"{args.prefix}-*", max_num_segments=1)
        for name in PROJECTIONS:
            stats = es.indices.stats(index=f"{args.prefix}-{name}", metric="docs,store")
            total = stats["_all"]["primaries"]
            docs, size = total["docs"]["count"], total["store"]["size_in_bytes"]
            print(
                f"elasticsearch {name}: {docs:,} documents, {size / 1e6:,.1f} MB "
                f"({size / max(docs, 1):,.0f} B/doc)"
            )
    finally:
        es.close()


if __name__ == "__main__":
    main()
