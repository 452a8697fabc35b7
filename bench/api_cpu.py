"""Benchmark: CPU time the API process spends per public lookup and per name search, in
process (httpx's ASGITransport: routing, dependencies, middleware, the index read, the body),
sequential, against an Elasticsearch index filled by bench/rebuild.py (`--prefix`).

CPU time per request moves less than wrk's rates when other work shares the machine's cores;
it leaves out uvicorn's HTTP handling and Elasticsearch's own time.

    .venv/bin/python bench/api_cpu.py --prefix bench --lookups 2000 --searches 600
    .venv/bin/python bench/api_cpu.py --prefix bench --profile var/api-lookup.prof

`--profile FILE` also runs the lookups once more under cProfile, writes the stats to FILE and
prints where a lookup's time goes, by component (the Elasticsearch client, each middleware, FastAPI,
Starlette, pydantic, the event loop, each of our modules); httpx's transport is the load generator,
not the API, and is shown apart. cProfile's clock is wall time, and its own overhead inflates the
many small calls: read the shares, not the milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from fastapi import FastAPI

from api.app import create_app
from bench.profiling import by_component
from infra.bootstrap import build
from infra.settings import Settings


async def per_request(app: FastAPI, paths: list[str]) -> tuple[float, float]:
    """(ms of CPU, ms of wall time) per request, after 100 warm-up requests."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for path in paths[:100]:
            (await client.get(path)).raise_for_status()
        wall, cpu = time.perf_counter(), time.process_time()
        for path in paths:
            (await client.get(path)).raise_for_status()
        return (time.process_time() - cpu) / len(paths) * 1e3, (time.perf_counter() - wall) / len(paths) * 1e3


async def profiled(app: FastAPI, paths: list[str], out: Path) -> str:
    """The requests once more under cProfile (after the same warm-up); the stats go to `out`."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for path in paths[:100]:
            (await client.get(path)).raise_for_status()
        profiler = cProfile.Profile()
        profiler.enable()
        for path in paths:
            (await client.get(path)).raise_for_status()
        profiler.disable()
    out.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(out)
    return by_component(profiler, len(paths))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:9200")
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--searches", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=Path, help="profile the lookups too, stats to this file")
    args = parser.parse_args()
    body = {
        "size": args.lookups,
        "_source": ["uscc", "name"],
        "query": {"function_score": {"random_score": {"seed": args.seed, "field": "_seq_no"}}},
    }
    hits = httpx.post(f"{args.url}/{args.prefix}-entities/_search", json=body, timeout=120).json()["hits"][
        "hits"
    ]
    picked = [h["_source"] for h in hits]
    fragments = [p["name"][2:6] for p in picked if len(p["name"]) >= 6][: args.searches]
    with tempfile.TemporaryDirectory(prefix="gongshi-bench-api-cpu-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            elasticsearch_url=args.url,
            prefix=args.prefix,
            today=date(2026, 11, 22),
            rate_limit_public_api="100000000/minute",  # one client address: limits never reached
            rate_limit_pages="100000000/minute",
        )
        app = create_app(build(settings))
        paths = [f"/api/v1/entities/{p['uscc']}" for p in picked]
        lookup = asyncio.run(per_request(app, paths))
        search = asyncio.run(per_request(app, [f"/api/v1/entities?q={f}" for f in fragments]))
        profile = asyncio.run(profiled(app, paths, args.profile)) if args.profile else ""
    load = " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"lookup: {lookup[0]:.2f} ms CPU, {lookup[1]:.2f} ms wall per request ({len(picked):,})")
    print(f"name search: {search[0]:.2f} ms CPU, {search[1]:.2f} ms wall per request ({len(fragments):,})")
    print(f"load average: {load}")
    print(
        f"command: .venv/bin/python bench/api_cpu.py --prefix {args.prefix} "
        f"--lookups {args.lookups} --searches {args.searches} --seed {args.seed}"
        + (f" --profile {args.profile}" if args.profile else "")
    )
    if profile:
        print(f"\n## where a lookup's time goes (cProfile, own time by component, {args.profile})\n{profile}")


if __name__ == "__main__":
    main()
