"""Benchmark: latency of USCC lookup and name search through the public API, beside the raw
Elasticsearch requests the API makes for the same queries, at several concurrencies.

Runs against an index filled by bench/rebuild.py (`--prefix`, default `bench`). Samples entities
from it (random_score), then for each concurrency C runs a closed loop of C clients:

- lookup: `GET /api/v1/entities/{uscc}` vs the raw `GET {alias}/_doc/{uscc}?_source_includes=public`;
- name search: `GET /api/v1/entities?q=<4 characters of a name>` vs the raw `_search` body the
  adapter sends for it (dis_max of the ranking tiers, sorted, 20 hits, total tracked).

The API runs as `gongshi run api` in a child process (one uvicorn worker); the load generator
is one asyncio process with httpx. Everything shares this machine's cores.

    .venv/bin/python bench/search.py --prefix bench --clients 50 200 --requests 4000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.search_index import text
from adapters.search_index.elasticsearch import BY_RELEVANCE, ElasticsearchIndex

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sample(url: str, alias: str, count: int, seed: int) -> list[dict[str, str]]:
    body = {
        "size": count,
        "_source": ["uscc", "name"],
        "query": {"function_score": {"random_score": {"seed": seed, "field": "_seq_no"}}},
    }
    hits = httpx.post(f"{url}/{alias}/_search", json=body, timeout=120).json()["hits"]["hits"]
    return [h["_source"] for h in hits]


def search_body(q: str) -> dict[str, Any]:
    return {
        "query": {"bool": {"must": ElasticsearchIndex._text_query(text.analyse(q)), "filter": []}},
        "track_total_hits": True,
        "_source": {"includes": ["public"]},
        "sort": BY_RELEVANCE,
        "from": 0,
        "size": 20,
    }


async def closed_loop(requests: list[tuple[str, str, Any]], clients: int) -> tuple[list[float], int, float]:
    """Run (method, url, json) requests with `clients` concurrent clients; returns latencies
    (ms), errors and the elapsed seconds."""
    latencies: list[float] = []
    errors = 0
    pending = iter(requests)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal errors
            for method, url, body in pending:
                started = time.perf_counter()
                response = await client.request(method, url, json=body)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code >= 400:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies, errors, time.perf_counter() - started


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:9200")
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    alias = f"{args.prefix}-entities"
    count = httpx.get(f"{args.url}/{alias}/_count", timeout=60).json()["count"]
    picked = sample(args.url, alias, min(args.requests, 10_000), args.seed)
    rng = random.Random(args.seed)
    fragments = [p["name"][2:6] for p in picked if len(p["name"]) >= 6]

    port = free_port()
    env = {
        **os.environ,
        "GONGSHI_ELASTICSEARCH_URL": args.url,
        "GONGSHI_PREFIX": args.prefix,
        "GONGSHI_HTTP_PORT": str(port),
        "GONGSHI_TODAY": "2026-11-22",
    }
    with tempfile.TemporaryDirectory(prefix="gongshi-bench-search-") as tmp:
        env["GONGSHI_DATA_DIR"] = tmp
        server = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "run", "api"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        api = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    httpx.get(f"{api}/healthz", timeout=2)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            print(f"{count:,} entities in {alias}; {len(picked):,} sampled\n")
            print("| scenario | clients | p50 ms | p99 ms | req/s | errors |")
            print("|---|---|---|---|---|---|")
            for clients in args.clients:
                usccs = [rng.choice(picked)["uscc"] for _ in range(args.requests)]
                names = [rng.choice(fragments) for _ in range(args.requests)]
                scenarios = {
                    "lookup — API": [("GET", f"{api}/api/v1/entities/{u}", None) for u in usccs],
                    "lookup — raw ES": [
                        ("GET", f"{args.url}/{alias}/_doc/{u}?_source_includes=public", None) for u in usccs
                    ],
                    "name search — API": [
                        ("GET", str(httpx.URL(f"{api}/api/v1/entities", params={"q": q})), None)
                        for q in names
                    ],
                    "name search — raw ES": [
                        ("POST", f"{args.url}/{alias}/_search", search_body(q)) for q in names
                    ],
                }
                for label, requests in scenarios.items():
                    asyncio.run(closed_loop(requests[: clients * 2], clients))  # warm up
                    latencies, errors, elapsed = asyncio.run(closed_loop(requests, clients))
                    p50, p99 = statistics.median(latencies), pct(latencies, 99)
                    print(
                        f"| {label} | {clients} | {p50:.1f} | {p99:.1f} "
                        f"| {len(latencies) / elapsed:,.0f} | {errors} |",
                        flush=True,
                    )
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"\ncommand: .venv/bin/python bench/search.py --prefix {args.prefix} --clients "
        f"{' '.join(map(str, args.clients))} --requests {args.requests}"
    )


if __name__ == "__main__":
    main()
