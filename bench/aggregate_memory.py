"""Benchmark: how much memory a cached aggregate holds, against its number of events — the data
behind the aggregate cache's memory bound (`domain.internals.estimated_bytes`).

Applies the generator's register (`--entities`, seed 20261122) and `--long` entities with long
histories (registered, then 50 to 1,000 inspection results) through a Registry on SQLite in a
temporary directory, then loads every aggregate into a fresh application object with no cache
and measures the bytes each one holds (`sys.getsizeof` over everything it reaches; tracemalloc
checks the total). Prints the distribution of
bytes per aggregate and per event, how `estimated_bytes` compares (its ratio to the measured
size), and a fill of a cache bounded at `--budget-mb` (estimated total against the measured
total of what it kept).

    .venv/bin/python bench/aggregate_memory.py
    .venv/bin/python bench/aggregate_memory.py --entities 5000 --budget-mb 16
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.event_store import sqlite_env
from bench.history import fill, registry
from domain.internals import MemoryBoundedCache, estimated_bytes
from infra.datagen.generator import generate
from tests.builders import uscc_for

TODAY = date(2026, 11, 22)


def deep_size(obj: Any) -> int:
    """Bytes of `obj` and everything it reaches through containers and instance dicts, each
    object counted once (`sys.getsizeof`): what the aggregate holds, shared constants included."""
    seen: set[int] = set()
    stack = [obj]
    total = 0
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, type):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif hasattr(item, "__dict__"):
            stack.append(vars(item))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=2000)
    parser.add_argument("--long", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--budget-mb", type=float, default=8.0)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gongshi-bench-aggmem-") as tmp:
        env = sqlite_env(Path(tmp))
        writer = registry(env)
        batch: list[Any] = []
        for message in generate(args.entities, args.seed, TODAY):
            batch.append(message)
            if len(batch) == 500:
                writer.process(batch)
                batch = []
        if batch:
            writer.process(batch)
        for n, length in enumerate(args.long):
            fill(writer, uscc_for(80_000 + n), length)
        ids = [UUID(str(n.originator_id)) for n in writer.recorder.select_notifications(start=1, limit=10**9)]
        ids = list(dict.fromkeys(ids))
        writer.close()

        reader = registry({**env, "AGGREGATE_CACHE_MAXSIZE": ""})
        rows: list[tuple[int, int, int]] = []  # (events, measured bytes, estimated bytes)
        kept: list[tuple[UUID, Any, int]] = []
        gc.collect()
        tracemalloc.start()
        for aggregate_id in ids:
            aggregate = reader.repository.get(aggregate_id)
            kept.append((aggregate_id, aggregate, 0))
        gc.collect()
        traced = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        for n, (aggregate_id, aggregate, _) in enumerate(kept):
            size = deep_size(aggregate)
            rows.append((aggregate.version, size, estimated_bytes(aggregate)))
            kept[n] = (aggregate_id, aggregate, size)
        reader.close()

    print(
        f"# bench/aggregate_memory — {len(rows):,} aggregates ({args.entities:,} generated entities "
        f"+ histories of {', '.join(map(str, args.long))} events), Python {platform.python_version()}, "
        f"{platform.machine()}, {time.perf_counter() - started:.0f} s"
    )
    sizes = sorted(float(r[1]) for r in rows)
    per_event = sorted(r[1] / r[0] for r in rows)
    ratios = sorted(r[2] / r[1] for r in rows if r[1] > 0)

    def q(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))]

    print("| | min | median | p90 | p99 | max |")
    print("|---|---|---|---|---|---|")

    def row(label: str, values: list[float], fmt: str) -> str:
        cells = " | ".join(format(q(values, p), fmt) for p in (0, 0.5, 0.9, 0.99))
        return f"| {label} | {cells} | {format(values[-1], fmt)} |"

    print(row("measured bytes per aggregate", sizes, ",.0f"))
    print(row("measured bytes per event", per_event, ",.0f"))
    print(row("estimated / measured", ratios, ".2f"))
    under = sum(1 for r in ratios if r < 1) / len(ratios)
    print(f"- estimated below the measured size: {under:.1%} of the aggregates")
    for length in args.long:
        match = [r for r in rows if r[0] == length]
        if match:
            print(f"- an entity of {length} events: measured {match[0][1]:,} B, estimated {match[0][2]:,} B")
    total_measured = sum(r[1] for r in rows)
    total_estimated = sum(r[2] for r in rows)
    print(f"- tracemalloc: loading all of them kept {traced / 2**20:.1f} MiB alive")
    print(
        f"- all {len(rows):,}: measured {total_measured / 2**20:.1f} MiB, estimated "
        f"{total_estimated / 2**20:.1f} MiB (mean {statistics.mean(r[1] for r in rows):,.0f} B measured)"
    )

    budget = int(args.budget_mb * 2**20)
    cache = MemoryBoundedCache(max_bytes=budget, max_entries=None)
    sizes_by_id = {aggregate_id: size for aggregate_id, _, size in kept}
    for aggregate_id, aggregate, _ in kept:
        cache.put(aggregate_id, aggregate)
    held = sum(sizes_by_id[i] for i in cache.cache)
    print(
        f"- a cache bounded at {args.budget_mb:g} MiB, filled with all of them: keeps {len(cache.cache):,} "
        f"aggregates, estimated {cache.total_bytes / 2**20:.2f} MiB, measured {held / 2**20:.2f} MiB"
    )


if __name__ == "__main__":
    main()
