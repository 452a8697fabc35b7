"""Benchmark: latency of USCC lookup and name search through the public API, beside the raw
Elasticsearch requests the API makes for the same queries, at several concurrencies.

Runs against an index filled by bench/rebuild.py (`--prefix`, default `bench`). Samples entities
from it (random_score), then for each number of clients C runs C concurrent clients, either

- closed loop (default): each client sends its next request as soon as the last one answered —
  the saturation throughput, where latency is mostly queueing (Little's law: C ÷ throughput);
- paced (`--think S`): each client waits a random think time (exponential, mean S seconds)
  before each request, as people do between lookups — C clients offer about C/S requests/s,
  and the latency is what each of them sees at that load;

over these scenarios:

- lookup: `GET /api/v1/entities/{uscc}` vs the raw `GET {alias}/_doc/{uscc}?_source_includes=public`;
- name search: `GET /api/v1/entities?q=<4 characters of a name>` vs the raw `_search` body the
  adapter sends for it (dis_max of the ranking tiers, sorted, 20 hits, total tracked).

The API runs as `gongshi run api --workers W` in a child process (`--api-workers`, default 1).
The load generator is wrk (C; `bash infra/provision/bench-tools.sh` installs it), driven by a Lua
script cycling through the sampled requests, `--seconds` per scenario after a 3 s warm-up: a
Python load generator (httpx) was measured to saturate before Elasticsearch did. Everything
shares this machine's cores.

    .venv/bin/python bench/search.py --prefix bench --clients 50 200 --requests 4000
    .venv/bin/python bench/search.py --prefix bench --clients 50 200 --think 1
    .venv/bin/python bench/search.py --prefix bench --es-profile 100

`--es-profile N` runs nothing under load: it sends N of the sampled name searches one at a time
with Elasticsearch's `profile: true` and prints where Elasticsearch's time goes per search, by
clause of the ranking tiers (summed per field) and by phase (query, collecting, fetch), beside
the searches' `took` without profiling. Profiling inflates the times; read the shares.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.search_index.elasticsearch.queries import BY_RELEVANCE, text_query
from domain import names

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
        "query": {"bool": {"must": text_query(names.analyse(q)), "filter": []}},
        "track_total_hits": True,
        "_source": {"includes": ["public"]},
        "sort": BY_RELEVANCE,
        "from": 0,
        "size": 20,
    }


WRK_SCRIPT = r"""
-- one line per request in the file given after `--`: METHOD <tab> URL path <tab> JSON body (may be empty)
local requests, think_ms, next_id, id, at = {}, 0, 1, 1, 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end
function init(args)
  think_ms = tonumber(args[2]) or 0
  for line in io.lines(args[1]) do
    local method, path, body = line:match("^(%S+)\t([^\t]+)\t?(.*)$")
    local headers = {}
    if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  math.randomseed(id * 7919)
  at = (id * 7919) % #requests
end
function request()
  at = at % #requests + 1
  return requests[at]
end
function delay()  -- think time before each request: exponential, mean think_ms (0: closed loop)
  if think_ms <= 0 then return 0 end
  return -think_ms * math.log(1 - math.random())
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT %.3f %.3f %d %d %d %d\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def wrk(
    base: str, requests: list[tuple[str, str, Any]], clients: int, seconds: float, think_s: float, tmp: Path
) -> tuple[float, float, float, int, int]:
    """Drive `requests` (method, path, json body) against `base` with `clients` connections for
    `seconds`; returns p50 ms, p99 ms, requests/s, HTTP errors (status ≥ 400) and socket errors
    (connect, read, write, timeout: a server closing an idle keep-alive connection shows here,
    and wrk reconnects)."""
    script, lines = tmp / "bench.lua", tmp / "requests.tsv"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    with lines.open("w", encoding="utf-8") as out:
        for method, path, body in requests:
            out.write(f"{method}\t{path}\t{json.dumps(body, ensure_ascii=False) if body else ''}\n")
    threads = min(2, clients)
    command = [
        "wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "30s",
        "-s", str(script), base, "--", str(lines), str(think_s * 1000),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = next(line for line in output.splitlines() if line.startswith("RESULT "))
    p50, p99, count, duration_us, status, socket_errors = result.split()[1:]
    rate = int(count) / (int(duration_us) / 1e6)
    return float(p50), float(p99), rate, int(status), int(socket_errors)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def es_profile(url: str, alias: str, fragments: list[str]) -> None:
    """Where Elasticsearch's time goes for these name searches (see the module's docstring)."""
    took: list[float] = []
    parts: dict[str, float] = {}
    for q in fragments:
        body = search_body(q)
        took.append(httpx.post(f"{url}/{alias}/_search", json=body, timeout=60).json()["took"])
        shard = httpx.post(f"{url}/{alias}/_search", json={**body, "profile": True}, timeout=60).json()
        shard = shard["profile"]["shards"][0]
        search = shard["searches"][0]
        top = search["query"][0]
        tiers = top["children"][0] if top["type"] == "BooleanQuery" else top  # must → dis_max
        for clause in tiers.get("children", []):
            what = f"{clause['type']} on {clause['description'].split(':')[0].split('(')[-1].lstrip('+')}"
            parts[what] = parts.get(what, 0.0) + clause["time_in_nanos"] / 1e6
        for phase, nanos in (
            ("phase: query (all clauses)", sum(q["time_in_nanos"] for q in search["query"])),
            ("phase: collecting and sorting", sum(c["time_in_nanos"] for c in search["collector"])),
            ("phase: fetch (_source of 20 hits)", shard.get("fetch", {}).get("time_in_nanos", 0)),
        ):
            parts[phase] = parts.get(phase, 0.0) + nanos / 1e6
    n = len(fragments)
    p50, p99, mean = pct(took, 50), pct(took, 99), sum(took) / n
    print(f"{n} name searches, took unprofiled: p50 {p50:.0f} ms, p99 {p99:.0f} ms, mean {mean:.1f} ms")
    print("| where (profiled) | ms per search |\n|---|---|")
    for what, ms in sorted(parts.items(), key=lambda item: -item[1]):
        print(f"| {what} | {ms / n:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:9200")
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--requests", type=int, default=4000, help="distinct requests per scenario")
    parser.add_argument("--seconds", type=float, default=20, help="duration of each scenario")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--think", type=float, default=0.0, help="mean think time, seconds (0: closed loop)")
    parser.add_argument("--api-workers", type=int, default=1)
    parser.add_argument("--es-profile", type=int, default=0, help="profile N name searches, no load")
    args = parser.parse_args()
    alias = f"{args.prefix}-entities"
    count = httpx.get(f"{args.url}/{alias}/_count", timeout=60).json()["count"]
    picked = sample(args.url, alias, min(args.requests, 10_000), args.seed)
    rng = random.Random(args.seed)
    fragments = [p["name"][2:6] for p in picked if len(p["name"]) >= 6]
    if args.es_profile:
        es_profile(args.url, alias, fragments[: args.es_profile])
        flags = f"--prefix {args.prefix} --es-profile {args.es_profile}"
        print(f"command: .venv/bin/python bench/search.py {flags}")
        return

    port = free_port()
    env = {
        **os.environ,
        "GONGSHI_ELASTICSEARCH_URL": args.url,
        "GONGSHI_PREFIX": args.prefix,
        "GONGSHI_HTTP_PORT": str(port),
        "GONGSHI_TODAY": "2026-11-22",
        # the load generator is one client address: limits it never reaches (still counted)
        "GONGSHI_RATE_LIMIT_PUBLIC_API": "100000000/minute",
        "GONGSHI_RATE_LIMIT_PAGES": "100000000/minute",
    }
    with tempfile.TemporaryDirectory(prefix="gongshi-bench-search-") as tmp:
        env["GONGSHI_DATA_DIR"] = tmp
        server = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "run", "api", "--workers", str(args.api_workers)],
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
            mode = f"paced, mean think time {args.think:g} s" if args.think else "closed loop"
            print(f"{count:,} entities in {alias}; {len(picked):,} sampled; {mode}; ", end="")
            print(f"API workers: {args.api_workers}\n")
            print("| scenario | clients | p50 ms | p99 ms | req/s | HTTP errors | socket errors |")
            print("|---|---|---|---|---|---|---|")
            for clients in args.clients:
                usccs = [rng.choice(picked)["uscc"] for _ in range(args.requests)]
                names = [rng.choice(fragments) for _ in range(args.requests)]
                scenarios = {
                    "lookup — API": (api, [("GET", f"/api/v1/entities/{u}", None) for u in usccs]),
                    "lookup — raw ES": (
                        args.url,
                        [("GET", f"/{alias}/_doc/{u}?_source_includes=public", None) for u in usccs],
                    ),
                    "name search — API": (
                        api,
                        [("GET", str(httpx.URL("/api/v1/entities", params={"q": q})), None) for q in names],
                    ),
                    "name search — raw ES": (
                        args.url,
                        [("POST", f"/{alias}/_search", search_body(q)) for q in names],
                    ),
                }
                for label, (base, requests) in scenarios.items():
                    wrk(base, requests, clients, 3, 0, Path(tmp))  # warm up
                    measured = wrk(base, requests, clients, args.seconds, args.think, Path(tmp))
                    p50, p99, rate, errors, socket_errors = measured
                    cells = [
                        label,
                        clients,
                        f"{p50:.1f}",
                        f"{p99:.1f}",
                        f"{rate:,.0f}",
                        errors,
                        socket_errors,
                    ]
                    print("| " + " | ".join(map(str, cells)) + " |", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"\ncommand: .venv/bin/python bench/search.py --prefix {args.prefix} --clients "
        f"{' '.join(map(str, args.clients))} --requests {args.requests} --seconds {args.seconds:g} "
        f"--think {args.think:g} --api-workers {args.api_workers}"
    )


if __name__ == "__main__":
    main()
