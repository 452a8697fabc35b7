"""Benchmark: the `annual-reports` deadline job over N entities, and the cost of applying what it
publishes.

Two parts, timed apart:

1. **the job** — N entities in the casework view (filled directly, in batches, as the casework
   follower writes them: an entity row and its reports), a share of them non-filers; then
   `AnnualReportsJob.run(1 July)`: page through the view by USCC, check each page against the
   enterprise store, build and sign one `abnormal.listed` envelope per non-filer and put each batch
   on the log (`--log embedded` or `kafka`), recording progress per batch. Then a second run, which
   must publish nothing once the listings are applied — here it is run before they are, so it shows
   the cost of a rerun that republishes (at least once) — and a run the day after, with the
   listings not yet in the view.
2. **end to end** (`--apply N`, a data directory and schema of its own) — N entities registered
   through the log, none of which filed; the casework follower catches up; the job lists all N;
   the ingestion worker applies the listings and the casework follower reads them: listings
   applied per second, the figure to extrapolate from.

    .venv/bin/python bench/deadline_jobs.py --entities 1000000 --non-filers 0.1
    .venv/bin/python bench/deadline_jobs.py --entities 1000000 --engine postgres --log kafka
    .venv/bin/python bench/deadline_jobs.py --entities 20000 --apply 20000

Prints its figures (and the machine) for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import psycopg
from eventsourcing.persistence import Tracking

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.casework_view import EntityRows
from domain.uscc import make_uscc
from infra.bootstrap import build
from infra.settings import Settings
from tests.builders import registered

RUN_ON = date(2026, 7, 1)


def uscc(n: int) -> str:
    return make_uscc("120116", f"B{n:07d}", "91").value


def fill_view(container: object, entities: int, non_filers: float, seed: int) -> int:
    """The casework view holding `entities` rows, as the follower would write them."""
    view = container.casework_view  # type: ignore[attr-defined]
    rng = random.Random(seed)
    position, missing, batch = 0, 0, []
    for n in range(entities):
        filed = rng.random() >= non_filers
        missing += not filed
        reports = {2023: "2024-05-01", 2024: "2025-05-01"} | ({2025: "2026-05-01"} if filed else {})
        batch.append(
            EntityRows(
                uscc(n),
                f"天津测试{n}有限公司",
                "TJ-AMR",
                "天津市滨海新区市场监督管理局",
                "存续",
                2022,
                reports,
            )
        )
        if len(batch) == 5000:
            position += 1
            view.replace(batch, Tracking("Registry", position))
            batch = []
    if batch:
        view.replace(batch, Tracking("Registry", position + 1))
    return missing


def fresh_topics(fields: dict[str, object]) -> None:
    """Drop the prefix's topics on Kafka (an earlier run's messages would be read again)."""
    if "kafka_bootstrap" not in fields:
        return
    settings = Settings(**fields)  # type: ignore[arg-type]
    container = build(settings)
    try:
        topics = [settings.publications_topic, settings.dlq_topic, settings.changes_topic]
        container.log.delete_topics(topics)  # type: ignore[attr-defined]
        time.sleep(2)  # let the broker finish deleting before the topics are made again
    finally:
        container.close()


def end_to_end(args: argparse.Namespace, fields: dict[str, object]) -> None:
    n = args.apply
    fresh_topics(fields)
    data = Path("/tmp") / f"{args.prefix}_e2e"
    shutil.rmtree(data, ignore_errors=True)
    container = build(Settings(**{**fields, "data_dir": data}))  # type: ignore[arg-type]
    try:
        t0 = time.perf_counter()
        regs = [
            registered(uscc=uscc(i), occurred_on="2022-03-01", publication_id=f"B-R-{i}") for i in range(n)
        ]
        for start in range(0, n, 5000):
            container.publisher.publish(regs[start : start + 5000], "job:bench")
        container.worker.drain()
        print(f"end to end: register {n:,} entities through the log: {time.perf_counter() - t0:,.1f} s")
        t0 = time.perf_counter()
        read = container.casework_projection.catch_up()
        took = time.perf_counter() - t0
        print(f"casework follower over the registrations: {read:,} notifications, {took:,.1f} s")
        t0 = time.perf_counter()
        result = container.job("annual-reports").run(RUN_ON)
        print(f"annual-reports: {result.published:,} listings published in {time.perf_counter() - t0:,.1f} s")
        t0 = time.perf_counter()
        applied = container.worker.drain()
        took = time.perf_counter() - t0
        print(f"worker: {applied:,} listings applied in {took:,.1f} s ({applied / took:,.0f}/s)")
        t0 = time.perf_counter()
        read = container.casework_projection.catch_up()
        took = time.perf_counter() - t0
        print(f"casework follower: {read:,} notifications in {took:,.1f} s ({read / max(took, 1e-9):,.0f}/s)")
        again = container.job("annual-reports").run(date(2026, 7, 2))
        print(f"annual-reports the next day, listings applied: {again.published} published")
    finally:
        container.close()
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--non-filers", type=float, default=0.1, help="share of entities that did not file")
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--log", choices=("embedded", "kafka"), default="embedded")
    parser.add_argument("--batch", type=int, default=1000, help="GONGSHI_JOBS_BATCH_SIZE")
    parser.add_argument("--apply", type=int, default=0, help="apply this many listings through the worker")
    parser.add_argument("--dsn", default="postgresql://gongshi:gongshi@127.0.0.1:5432/gongshi")
    parser.add_argument("--kafka", default="127.0.0.1:9092")
    parser.add_argument("--prefix", default="benchjobs")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    data = Path("/tmp") / args.prefix
    shutil.rmtree(data, ignore_errors=True)
    fields: dict[str, object] = {
        "data_dir": data,
        "today": RUN_ON,
        "prefix": args.prefix,
        "jobs_batch_size": args.batch,
    }
    if args.engine == "postgres":
        with psycopg.connect(args.dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{args.prefix}" CASCADE')
            conn.execute(f'CREATE SCHEMA "{args.prefix}"')
        fields |= {"postgres_dsn": args.dsn, "postgres_schema": args.prefix}
    if args.log == "kafka":
        fields |= {
            "kafka_bootstrap": args.kafka,
            "kafka_partitions": 6,
            "consumer_group": f"{args.prefix}-ingest",
        }
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"engine {args.engine}, log {args.log}, {args.entities:,} entities, "
        f"non-filers {args.non_filers:.0%}, batch {args.batch}"
    )
    if args.apply:
        if args.engine == "postgres":
            with psycopg.connect(args.dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{args.prefix}" CASCADE')
                conn.execute(f'CREATE SCHEMA "{args.prefix}"')
        end_to_end(args, fields)
        if args.engine == "postgres":
            with psycopg.connect(args.dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{args.prefix}" CASCADE')
                conn.execute(f'CREATE SCHEMA "{args.prefix}"')
    fresh_topics(fields)
    container = build(Settings(**fields))  # type: ignore[arg-type]
    try:
        t0 = time.perf_counter()
        missing = fill_view(container, args.entities, args.non_filers, args.seed)
        print(f"fill the view: {time.perf_counter() - t0:,.1f} s ({missing:,} non-filers)")

        job = container.job("annual-reports")
        t0 = time.perf_counter()
        first = job.run(RUN_ON)
        took = time.perf_counter() - t0
        print(
            f"annual-reports, first run: {took:,.1f} s — {first.published:,} listings published "
            f"({first.published / took:,.0f}/s), {first.examined:,} candidates examined"
        )
        assert first.published == missing, (first.published, missing)
        t0 = time.perf_counter()
        again = job.run(RUN_ON)
        print(
            f"annual-reports, same day again: {time.perf_counter() - t0:,.2f} s, {again.published} published"
        )
        t0 = time.perf_counter()
        next_day = job.run(date(2026, 7, 2))
        took = time.perf_counter() - t0
        print(
            f"annual-reports, next day before the listings are applied: {took:,.1f} s, "
            f"{next_day.published:,} republished (same publication ids: applied once)"
        )

    finally:
        container.close()
        if args.engine == "postgres":
            with psycopg.connect(args.dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{args.prefix}" CASCADE')
        shutil.rmtree(data, ignore_errors=True)
        fresh_topics(fields)


if __name__ == "__main__":
    main()
