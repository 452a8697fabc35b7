"""Benchmark: the open-data export of N entities — a snapshot, a second snapshot at a later date,
the delta between them and applying it — each timed in a process of its own, with that
process's peak RSS and its RSS as the snapshot goes (bounded memory shows as a flat line).

The index is filled the way bench/rebuild.py fills it (synthetic entities from 2,000 template
entities built through the Registry, written by the rebuild path), on Elasticsearch (`--engine
elasticsearch`, the `{prefix}-entities` alias) or on an SQLite index file (`--engine sqlite`).
The export itself is what `gongshi export snapshot|delta|apply` runs.

    .venv/bin/python bench/export.py --entities 100000 --engine elasticsearch --prefix benchexport
    .venv/bin/python bench/export.py --entities 100000 --engine elasticsearch --prefix benchexport --no-fill
    .venv/bin/python bench/export.py --entities 1000000 --prefix bench1m --no-fill --keep --snapshot-only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.search_index.base import SearchIndex
from domain.departments import DepartmentRegistry

TODAY = date(2026, 11, 22)
LATER = TODAY + timedelta(days=400)  # windows have ended meanwhile: the delta withdraws penalties


def open_index(engine: str, prefix: str, url: str, data: Path) -> SearchIndex:
    if engine == "elasticsearch":
        from adapters.search_index.elasticsearch import ElasticsearchIndex

        return ElasticsearchIndex(url, prefix=prefix, request_timeout=300)
    from adapters.search_index.sqlite import SQLiteSearchIndex

    return SQLiteSearchIndex(data / "search.sqlite3")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    """This process's peak RSS: VmHWM, the high-water mark of its own address space (ru_maxrss
    would count the parent's pages at the fork that started it)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the child processes: one step each, printing one JSON line --------------------------------------


def child(args: argparse.Namespace) -> None:
    from opendata.delta import apply_delta, write_delta
    from opendata.snapshot import write_snapshot

    names = {d.code: d.name for d in DepartmentRegistry.load_default().all()}
    samples: list[tuple[int, float]] = [(0, round(rss_mb(), 1))]  # after the imports
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_at_start = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    if args.child == "snapshot":
        index = open_index(args.engine, args.prefix, args.url, args.data)

        def progress(done: int) -> None:
            if done % args.sample_every == 0:
                samples.append((done, round(rss_mb(), 1)))

        manifest = write_snapshot(
            index,
            names,
            date.fromisoformat(args.as_of),
            args.out,
            page_size=args.page_size,
            on_progress=progress,
        )
        index.close()
        result: dict[str, Any] = {
            "entities": manifest.counts.entities,
            "records": manifest.counts.records,
            "bytes": {f.name: f.bytes for f in manifest.files},
        }
    elif args.child == "delta":
        manifest_d = write_delta(args.base, args.out, args.out)
        result = {
            "counts": manifest_d.counts.model_dump(),
            "bytes": {f.name: f.bytes for f in manifest_d.files},
        }
    else:
        manifest_a = apply_delta(args.base, args.delta, args.out)
        result = {"entities": manifest_a.counts.entities, "records": manifest_a.counts.records}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.update(
        seconds=round(time.perf_counter() - started, 2),
        cpu_s=round(usage.ru_utime + usage.ru_stime - cpu_at_start, 2),
        peak_rss_mb=round(peak_mb(), 1),
        rss=samples,
    )
    print(json.dumps(result))


def es_cpu_s(url: str | None) -> float:
    """CPU seconds the Elasticsearch node has used so far (0 without Elasticsearch)."""
    if url is None:
        return 0.0
    from elasticsearch import Elasticsearch

    with Elasticsearch(url) as es:
        nodes = es.nodes.stats(metric="process")["nodes"]
    return sum(n["process"]["cpu"]["total_in_millis"] for n in nodes.values()) / 1000


def run_child(step: str, *extra: str, es_url: str | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", step, *extra]
    es_before = es_cpu_s(es_url)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{step} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["es_cpu_s"] = round(es_cpu_s(es_url) - es_before, 2)
    return result


# --- filling the index ---------------------------------------------------------------------------------


def fill(index: SearchIndex, n: int, templates: int, seed: int, batch: int) -> float:
    from bench.rebuild import batches
    from bench.rebuild import templates as make_templates
    from projections.rebuild import fill_generation

    pool = make_templates(templates, seed)
    started = time.perf_counter()
    target = index.begin_rebuild("entities")

    def progress(done: int) -> None:
        if done % 100_000 == 0:
            print(f"  fill: {done:,} in {time.perf_counter() - started:.0f} s", flush=True)

    fill_generation(index, "entities", target, batches(pool, 0, n, batch, "entities"), progress)
    index.finish_rebuild("entities", target, n)
    return time.perf_counter() - started


class Load(threading.Thread):
    """The machine's load average while a step runs (other helpers share it)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(5):
            self.samples.append(os.getloadavg()[0])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--engine", choices=["elasticsearch", "sqlite"], default="elasticsearch")
    parser.add_argument("--url", default="http://127.0.0.1:9200")
    parser.add_argument("--prefix", default="benchexport")
    parser.add_argument("--data", type=Path, default=Path("var/bench-export"))
    parser.add_argument("--templates", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--no-fill", action="store_true", help="export what the index holds already")
    parser.add_argument("--keep", action="store_true", help="keep the index and the files afterwards")
    parser.add_argument("--snapshot-only", action="store_true", help="time the first snapshot alone")
    # a child process: one step
    parser.add_argument("--child", choices=["snapshot", "delta", "apply"])
    parser.add_argument("--as-of", default=TODAY.isoformat())
    parser.add_argument("--out", type=Path)
    parser.add_argument("--base", type=Path)
    parser.add_argument("--delta", type=Path)
    parser.add_argument("--sample-every", type=int, default=10_000)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    args.data.mkdir(parents=True, exist_ok=True)
    common = ["--engine", args.engine, "--url", args.url, "--prefix", args.prefix, "--data", str(args.data)]
    common += ["--page-size", str(args.page_size), "--sample-every", str(max(args.entities // 10, 1000))]
    index = open_index(args.engine, args.prefix, args.url, args.data)
    if not args.no_fill:
        print(f"filling {args.entities:,} entities into {args.engine} …", flush=True)
        print(f"fill: {fill(index, args.entities, args.templates, args.seed, 500):.1f} s")
    print(f"index holds {index.count():,} entities")
    index.close()

    first, second = args.data / "first", args.data / "second"
    for d in (first, second):
        shutil.rmtree(d, ignore_errors=True)
    load = Load()
    load.start()
    es_url = args.url if args.engine == "elasticsearch" else None
    steps = {
        "snapshot": run_child(
            "snapshot", *common, "--as-of", TODAY.isoformat(), "--out", str(first), es_url=es_url
        )
    }
    if not args.snapshot_only:
        steps["snapshot later"] = run_child(
            "snapshot", *common, "--as-of", LATER.isoformat(), "--out", str(second), es_url=es_url
        )
        steps["delta"] = run_child("delta", "--base", str(first), "--out", str(second))
        steps["apply"] = run_child(
            "apply", "--base", str(first), "--delta", str(second), "--out", str(args.data / "applied")
        )
    load.stop.set()
    n = steps["snapshot"]["entities"]
    print(f"\n{args.engine}, {n:,} entities, {steps['snapshot']['records']:,} records")
    print("| step | time | rate | CPU: export process | CPU: Elasticsearch | peak RSS |")
    print("|---|---|---|---|---|---|")
    for name, r in steps.items():
        es_cpu = f"{r['es_cpu_s']:.1f} s" if es_url else "—"
        print(
            f"| {name} | {r['seconds']:.1f} s | {n / r['seconds']:,.0f} entities/s | {r['cpu_s']:.1f} s | "
            f"{es_cpu} | {r['peak_rss_mb']:.0f} MB |"
        )
    print("\nfiles:", json.dumps(steps["snapshot"]["bytes"]))
    if "delta" in steps:
        print("delta:", json.dumps(steps["delta"]["bytes"]), "counts:", json.dumps(steps["delta"]["counts"]))
    print(
        "RSS (MB) as the first snapshot goes:", ", ".join(f"{d:,}: {m}" for d, m in steps["snapshot"]["rss"])
    )
    if load.samples:
        print(f"load average during the steps: {min(load.samples):.1f}–{max(load.samples):.1f} (2 cores)")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}")
    if "apply" in steps:
        same = all(
            (args.data / "applied" / f).read_bytes() == (second / f).read_bytes()
            for f in ("manifest.json", "entities.jsonl.gz", "records.csv.gz")
        )
        print(f"snapshot + delta == later snapshot, byte for byte: {same}")
    print(
        f"command: .venv/bin/python bench/export.py --entities {args.entities} --engine {args.engine} "
        f"--prefix {args.prefix}"
        + "".join(f" --{f.replace('_', '-')}" for f in ("no_fill", "keep", "snapshot_only") if vars(args)[f])
    )
    if not args.keep:
        shutil.rmtree(args.data, ignore_errors=True)
        if args.engine == "elasticsearch":
            index = open_index(args.engine, args.prefix, args.url, args.data)
            index.delete_all()  # type: ignore[attr-defined]
            index.close()


if __name__ == "__main__":
    main()
