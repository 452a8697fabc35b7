"""Benchmark: server render time of the public web pages on the embedded demo data.

Loads a generated register through the ingestion path (embedded log → worker → SQLite event
store → projection → SQLite FTS5), then requests every page type N times, one at a time:

1. in-process — through the ASGI app with httpx's ASGITransport (no sockets: routing, the
   index reads, Jinja2 rendering, the PDF);
2. over HTTP — through a uvicorn server on 127.0.0.1 with a keep-alive httpx client.

Prints p50/p95 per page in milliseconds, the response size, and the command that reproduces it.

    .venv/bin/python bench/web.py --entities 2000 --requests 200 --seed 20261122
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import uvicorn

from adapters.search_index.base import RecordQuery
from api.app import create_app
from domain.uscc import make_uscc, partition_key
from infra.bootstrap import Container, build
from infra.datagen.generator import write_jsonl
from infra.settings import Settings

#: The PDF is two orders of magnitude heavier than a page; it is requested this much less often.
PDF_SHARE = 10
#: One client asks far more often than any person would: limits it never reaches (the gate still
#: counts every request, so its cost is in the figures).
UNREACHED_LIMITS = {
    "rate_limit_public_api": "10000000/minute",
    "rate_limit_pages": "10000000/minute",
    "rate_limit_extracts": "10000000/minute",
}


def load(data: Path, entities: int, seed: int, today: date) -> tuple[Container, float]:
    source = data / "bench.jsonl"
    write_jsonl(source, entities, seed, today)
    container = build(Settings(data_dir=data, today=today, **UNREACHED_LIMITS))
    lines = source.read_bytes().splitlines()
    t0 = time.perf_counter()
    container.log.produce_many(
        container.settings.publications_topic,
        ((partition_key(json.loads(line)["uscc"]), line) for line in lines),
        headers_for=container.signed_by_platform("job:bench"),
    )
    container.worker.drain()
    container.catch_up()
    return container, time.perf_counter() - t0


def pages(container: Container, today: date) -> list[tuple[str, str]]:
    """(label, path) for every page type, on entities the generated data makes interesting."""
    index = container.index
    penalty = index.records(RecordQuery(category="penalty"), today, size=1).items
    rich_uscc = penalty[0]["uscc"] if penalty else index.search("有限公司", today, size=1).items[0]["uscc"]
    rich = index.get_public(rich_uscc) or {}
    fragment = rich.get("name", "天津滨海")[2:4]
    department = penalty[0]["department"] if penalty else "TJ-AMR"
    return [
        ("home /", "/"),
        ("search ?q=<2 chars>", f"/search?q={fragment}"),
        ("search ?q=<common word>&page=3", "/search?q=有限公司&page=3"),
        ("search + district filter", f"/search?q={fragment}&district={rich.get('district_code', '')}"),
        ("search by USCC", f"/search?q={rich_uscc}"),
        ("entity (all tabs)", f"/entity/{rich_uscc}"),
        ("entity ?tab=penalties", f"/entity/{rich_uscc}?tab=penalties"),
        ("publicity (all)", "/publicity"),
        (
            "publicity penalty+dept+dates",
            f"/publicity?category=penalty&department={department}&from=2020-01-01",
        ),
        ("announcements (all)", "/announcements"),
        ("announcements ?type=abnormal", "/announcements?type=abnormal"),
        ("policy (markdown)", "/policy"),
        ("faq (markdown)", "/faq"),
        ("verify", "/verify"),
        ("422 page (invalid USCC)", "/entity/91120116MA0000000X"),
        ("404 page (unknown entity)", f"/entity/{make_uscc('120116', 'WX999999').value}"),
        ("extract.pdf", f"/entity/{rich_uscc}/extract.pdf"),
    ]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def runs_for(path: str, requests: int) -> int:
    return max(5, requests // PDF_SHARE) if path.endswith(".pdf") else requests


async def measure_in_process(app: Any, targets: list[tuple[str, str]], requests: int) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for label, path in targets:
            await client.get(path)  # warm: templates compiled, caches filled
            samples = []
            size = 0
            for _ in range(runs_for(path, requests)):
                t0 = time.perf_counter()
                response = await client.get(path)
                samples.append((time.perf_counter() - t0) * 1000)
                size = len(response.content)
            out[label] = (samples, size, response.status_code)
    return out


def measure_http(base: str, targets: list[tuple[str, str]], requests: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for label, path in targets:
            client.get(path)
            samples = []
            for _ in range(runs_for(path, requests)):
                t0 = time.perf_counter()
                client.get(path)
                samples.append((time.perf_counter() - t0) * 1000)
            out[label] = samples
    return out


def serve(app: Any) -> tuple[str, Callable[[], None]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200, help="requests per page (the PDF: a tenth)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--today", default="2026-11-22")
    args = parser.parse_args()
    today = date.fromisoformat(args.today)

    with tempfile.TemporaryDirectory(prefix="gongshi-bench-web-") as tmp:
        container, t_load = load(Path(tmp), args.entities, args.seed, today)
        app = create_app(container, owns_container=False)
        targets = pages(container, today)
        local = asyncio.run(measure_in_process(app, targets, args.requests))
        base, stop = serve(app)
        try:
            remote = measure_http(base, targets, args.requests)
        finally:
            stop()
        indexed = container.index.count()
        container.close()

    print(
        f"Gongshi web pages — {indexed} entities (embedded: SQLite event store + FTS5), "
        f"loaded in {t_load:.1f} s"
    )
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}; "
        f"{args.requests} sequential requests per page "
        f"(PDF: {max(5, args.requests // PDF_SHARE)}), after one warm-up"
    )
    print()
    head = (
        f"{'page':34} {'status':>6} {'size KB':>8} | "
        f"{'in-process p50':>14} {'p95':>7} | {'HTTP p50':>9} {'p95':>7}"
    )
    print(head)
    print("-" * len(head))
    for label, _ in targets:
        samples, size, status = local[label]
        http = remote[label]
        print(
            f"{label:34} {status:>6} {size / 1024:>8.1f} | "
            f"{statistics.median(samples):>11.2f} ms {percentile(samples, 0.95):>7.2f} | "
            f"{statistics.median(http):>6.2f} ms {percentile(http, 0.95):>7.2f}"
        )
    print()
    print(
        "Reproduce: .venv/bin/python bench/web.py "
        f"--entities {args.entities} --requests {args.requests} --seed {args.seed} --today {args.today}"
    )


if __name__ == "__main__":
    main()
