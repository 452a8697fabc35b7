"""Benchmark: publications/s of the load path on embedded defaults (the `make demo` path).

Generates N entities, publishes them to the embedded log, then times the ingestion worker
(validate → mandate → apply → record with position) and each follower of the notification log
(the entities, records and sharing projections into SQLite FTS5, the publication statuses, the
change feed onto the embedded log) separately. Prints figures and the command that reproduces them.

    .venv/bin/python bench/load.py --entities 2000 --seed 20261122
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.uscc import partition_key
from infra.bootstrap import build
from infra.datagen.generator import write_jsonl
from infra.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--today", default="2026-11-22")
    args = parser.parse_args()
    today = date.fromisoformat(args.today)

    with tempfile.TemporaryDirectory(prefix="gongshi-bench-") as tmp:
        data = Path(tmp)
        source = data / "bench.jsonl"
        t0 = time.perf_counter()
        count = write_jsonl(source, args.entities, args.seed, today)
        t_generate = time.perf_counter() - t0

        container = build(Settings(data_dir=data, today=today))
        lines = source.read_bytes().splitlines()
        t0 = time.perf_counter()
        container.log.produce_many(
            container.settings.publications_topic,
            ((partition_key(json.loads(line)["uscc"]), line) for line in lines),
            headers_for=container.signed_by_platform("job:bench"),
        )
        t_publish = time.perf_counter() - t0

        t0 = time.perf_counter()
        applied = container.worker.drain()
        t_ingest = time.perf_counter() - t0

        followers: list[tuple[str, int, float]] = []
        for follower in container.followers:
            t0 = time.perf_counter()
            notifications = follower.catch_up()
            followers.append((follower.name, notifications, time.perf_counter() - t0))
        t_project = sum(seconds for _, _, seconds in followers)
        counts = dict(container.worker.counts)
        indexed = container.index.count()
        container.close()

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# bench/load — embedded defaults (SQLite events, log, FTS5), Python {platform.python_version()}")
    command = f"bench/load.py --entities {args.entities} --seed {args.seed} --today {args.today}"
    print(f"command: .venv/bin/python {command}")
    print(f"entities: {args.entities}  publications: {count}  outcomes: {counts}")
    print(f"generate : {t_generate:7.2f} s  {count / t_generate:10.0f} publications/s")
    print(f"publish  : {t_publish:7.2f} s  {count / t_publish:10.0f} publications/s  (to the embedded log)")
    print(f"ingest   : {t_ingest:7.2f} s  {applied / t_ingest:10.0f} publications/s  (log → event store)")
    for name, notifications, seconds in followers:
        print(f"  {name:18s}: {seconds:7.2f} s  {notifications / seconds:10.0f} events/s")
    print(f"project  : {t_project:7.2f} s  (all followers; {indexed} entities indexed)")
    total = t_publish + t_ingest + t_project
    print(f"load     : {total:7.2f} s  {count / total:10.0f} publications/s  (publish + ingest + project)")
    print(f"peak RSS : {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
