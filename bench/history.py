"""Benchmark: loading one entity against the length of its history, with and without snapshots.

For each history length L (default 10, 100, 1,000 events) one entity is registered and given
L − 1 inspection results through the Registry (the worker's use case, in batches of 500). Then an
application object with an empty cache loads it `--repeat` times (its cache dropped before each):

- *with snapshots*: `repository.get` — the Registry takes a snapshot every 100 events
  (`snapshotting_intervals`), so it reads the last snapshot and at most 99 events after it;
- *events only*: every stored event of the entity read and folded into the aggregate.

Prints the median and the 90th percentile of each, and the command. On SQLite in a temporary
directory by default; `--dsn` for PostgreSQL (a fresh schema, dropped afterwards).

    .venv/bin/python bench/history.py
    .venv/bin/python bench/history.py --dsn postgresql://gongshi:gongshi@127.0.0.1:5432/gongshi
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.clock import FixedDateClock
from adapters.event_store import postgres_env, sqlite_env
from domain.departments import DepartmentRegistry
from domain.entity import entity_id
from domain.registry import Registry
from tests.builders import envelope, inspection_payload, registered, uscc_for

TODAY = date(2026, 11, 22)


def registry(env: dict[str, str]) -> Registry:
    return Registry(clock=FixedDateClock(TODAY), departments=DepartmentRegistry.load_default(), env=env)


def fill(reg: Registry, uscc: str, length: int) -> None:
    reg.process([registered(uscc=uscc, publication_id=f"H-{uscc}-R", occurred_on="2001-01-01")])
    first = date(2001, 1, 2)
    bodies = [
        envelope(
            "inspection.published",
            inspection_payload(
                inspection_no=f"SSJ-{n:05d}", inspected_on=(first + timedelta(days=n)).isoformat()
            ),
            uscc=uscc,
            publication_id=f"H-{uscc}-I{n}",
            occurred_on=first + timedelta(days=n),
        )
        for n in range(length - 1)
    ]
    for start in range(0, len(bodies), 500):
        reg.process(bodies[start : start + 500])


def timed(load: Any, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        load()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.9 * (len(samples) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--dsn", help="PostgreSQL DSN (default: SQLite in a temporary directory)")
    args = parser.parse_args()
    schema = f"benchhist_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="gongshi-bench-history-") as tmp:
        if args.dsn:
            import psycopg

            with psycopg.connect(args.dsn, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            env = postgres_env(args.dsn, schema=schema)
        else:
            env = sqlite_env(Path(tmp))
        writer = registry(env)
        reader = registry({**env, "AGGREGATE_CACHE_MAXSIZE": ""})
        try:
            engine = "PostgreSQL" if args.dsn else "SQLite"
            print(f"# bench/history — one entity's load time against its history ({engine})")
            print("| events | with snapshots: median / p90 ms | events only: median / p90 ms |")
            print("|---|---|---|")
            for n, length in enumerate(args.lengths):
                uscc = uscc_for(90_000 + n)
                fill(writer, uscc, length)
                eid = entity_id(uscc)
                assert reader.get_entity(uscc).version == length

                def with_snapshots(eid: Any = eid) -> None:
                    reader.repository.get(eid)

                def events_only(eid: Any = eid) -> None:
                    aggregate: Any = None
                    for event in reader.events.get(eid):
                        aggregate = event.mutate(aggregate)

                snap = timed(with_snapshots, args.repeat)
                full = timed(events_only, args.repeat)
                print(f"| {length:,} | {snap[0]:.1f} / {snap[1]:.1f} | {full[0]:.1f} / {full[1]:.1f} |")
        finally:
            writer.close()
            reader.close()
            if args.dsn:
                import psycopg

                with psycopg.connect(args.dsn, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    dsn = f" --dsn {args.dsn}" if args.dsn else ""
    lengths = " ".join(str(n) for n in args.lengths)
    print(f"command: .venv/bin/python bench/history.py --lengths {lengths} --repeat {args.repeat}{dsn}")


if __name__ == "__main__":
    main()
