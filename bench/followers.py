"""Benchmark: the casework follower and the change feed over a filled PostgreSQL event store,
reading each batch's entities together or one by one.

1. generates N entities' publications (`infra.datagen.generator`, in date order) and applies
   them through a `Registry` (batches of 500, persons sealed by a `PostgresVault`) into a fresh
   schema;
2. for each mode, times `catch_up` of a new casework follower (`CaseworkProjection`, its view in
   a SQLite file) and of a new change feed (`ChangeFeed`: embedded log, SQLite tracking, SQLite
   change table with the vault), each on an application object and a vault object of its own:
   - `one-by-one`: no loader (one `repository.get` per touched entity, as before the batch
     reads; the change feed's vault without `prefetch`, so one key query per person first seen),
   - `batched`: the composition root's loader (`load_until`: two queries per batch) and the
     vault's `prefetch`.
   The change feed follows at most `--followed-max` entities (`FOLLOWED_MAX`, 2,000 in the
   platform; default here 10 % of N, as 2,000 are of 20,000 in bench/load_real's profile), so
   that it reads from the store as often as at that scale.

Not checked: the rows and changes themselves (tests/contract/test_followers_read_in_batches.py
compares both modes), Kafka (the feed writes to the embedded log), the followers sharing a
process with the index projections (bench/load_real).

    .venv/bin/python bench/followers.py --entities 500
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from adapters.casework_view import SQLiteCaseworkView
from adapters.change_store.sqlite import SQLiteChangeStore
from adapters.clock import FixedDateClock
from adapters.event_store import load_until, postgres_env
from adapters.personal_data import PostgresVault
from adapters.publication_log.embedded import EmbeddedLog
from adapters.tracking import SQLiteTrackingStore
from bench.ingest import DEFAULTS
from domain.departments import DepartmentRegistry
from domain.registry import Registry
from infra.datagen.generator import generate
from projections import changes
from projections.casework import CaseworkProjection
from projections.changes import ChangeFeed

PEPPER = b"bench-followers"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--today", default="2026-11-22")
    parser.add_argument("--batch-size", type=int, default=500, help="the followers' notifications per batch")
    parser.add_argument("--followed-max", type=int, default=None, help="default: 10 %% of --entities")
    parser.add_argument("--postgres", default=DEFAULTS["--postgres"])
    args = parser.parse_args()
    today = date.fromisoformat(args.today)
    changes.FOLLOWED_MAX = args.followed_max or max(1, args.entities // 10)
    schema = f"bench_followers_{os.getpid()}"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    env = postgres_env(args.postgres, schema=schema)
    clock, departments = FixedDateClock(today), DepartmentRegistry.load_default()

    def vault() -> PostgresVault:
        return PostgresVault(args.postgres, schema=schema, pepper=PEPPER)

    def registry(batched: bool, keys: PostgresVault) -> Registry:
        loader = load_until if batched else None
        return Registry(clock=clock, departments=departments, env=env, loader=loader, vault=keys)

    try:
        writer_vault = vault()
        writer = registry(True, writer_vault)
        started, batch, applied = time.perf_counter(), [], 0
        for envelope in generate(args.entities, args.seed, today):
            batch.append(envelope)
            if len(batch) == 500:
                applied += len(writer.process(batch))
                batch = []
        if batch:
            applied += len(writer.process(batch))
        head = writer.recorder.max_notification_id() or 0
        print(
            f"applied {applied} publications of {args.entities} entities: {head} notifications, "
            f"{time.perf_counter() - started:.1f} s"
        )
        writer.close()
        writer_vault.close()
        results: list[tuple[str, str, int, float]] = []
        with tempfile.TemporaryDirectory(prefix="bench-followers-") as tmp:
            for mode in ("one-by-one", "batched"):
                batched = mode == "batched"
                keys = vault()
                app = registry(batched, keys)
                view = SQLiteCaseworkView.open(Path(tmp) / f"{mode}-casework.sqlite3")
                casework = CaseworkProjection(app, view, batch_size=args.batch_size)
                results.append(("casework", mode, *timed(casework.catch_up)))
                app.close()
                view.close()
                keys.close()

                keys = vault()
                if not batched:
                    keys.prefetch = None  # type: ignore[method-assign,assignment]
                log = EmbeddedLog(Path(tmp) / f"{mode}-log.sqlite3")
                tracking = SQLiteTrackingStore.open(Path(tmp) / f"{mode}-tracking.sqlite3")
                store = SQLiteChangeStore(Path(tmp) / f"{mode}-changes.sqlite3", vault=keys)
                feed = ChangeFeed(
                    registry(batched, keys), log, "bench.changes", tracking, store, batch_size=args.batch_size
                )
                results.append(("change feed", mode, *timed(feed.catch_up)))
                feed.close()
                for closable in (log, tracking, store, keys):
                    closable.close()
    finally:
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print()
    print("| follower | reads | notifications | time | rate |")
    print("|---|---|---|---|---|")
    for follower, mode, count, seconds in results:
        print(f"| {follower} | {mode} | {count:,} | {seconds:.1f} s | {count / seconds:,.0f} /s |")
    print()
    print(
        f"command: .venv/bin/python bench/followers.py --entities {args.entities} --seed {args.seed} "
        f"--batch-size {args.batch_size} --followed-max {changes.FOLLOWED_MAX}"
    )
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def timed(catch_up: Any) -> tuple[int, float]:
    started = time.perf_counter()
    count = catch_up()
    return int(count), time.perf_counter() - started


if __name__ == "__main__":
    main()
