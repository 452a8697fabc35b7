"""Benchmark: decoding stored events through the read side's mapper — the cost every rebuilt
aggregate pays per event (the index projections, the casework follower, the change feed and a
rebuild read each entity's events and decode them, persons opened). Embedded engines.

1. generates N entities' publications and applies them on embedded defaults into a fresh data
   directory (the worker, persons sealed in the stored events as in production);
2. reads every notification, counts those whose stored bytes seal a person, and times
   `mapper.to_domain_event` over all of them, best of `--rounds`.

    .venv/bin/python bench/decode.py --entities 1500

Not checked: PostgreSQL (the stored bytes are the same), aggregates' `mutate` (not decoding).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.personal_data import SEALED
from domain.uscc import partition_key
from infra.bootstrap import Container
from infra.datagen.generator import write_jsonl
from infra.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--today", default="2026-11-22")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gongshi-decode-") as tmp:
        data = Path(tmp)
        source = data / "register.jsonl"
        write_jsonl(source, args.entities, args.seed, date.fromisoformat(args.today))
        container = Container(Settings(data_dir=data, today=args.today))
        try:
            lines = source.read_bytes().splitlines()
            container.log.produce_many(
                container.settings.publications_topic,
                ((partition_key(json.loads(line)["uscc"]), line) for line in lines),
                headers_for=container.signed_by_platform("job:bench"),
            )
            container.worker.drain()
            reader = container.reader
            stored = reader.recorder.select_notifications(start=1, limit=10 * len(lines) + 1000)
            mark = f'"{SEALED}"'.encode()
            sealed = sum(1 for n in stored if mark in n.state)
            best = float("inf")
            for _ in range(args.rounds):
                started = time.perf_counter()
                for n in stored:
                    reader.mapper.to_domain_event(n)
                best = min(best, time.perf_counter() - started)
        finally:
            container.close()
    print(f"# bench/decode, Python {platform.python_version()}")
    print(f"entities: {args.entities:,}  events: {len(stored):,}  with a sealed person: {sealed:,}")
    print(f"decode through the mapper: {len(stored) / best:,.0f} events/s (best of {args.rounds})")


if __name__ == "__main__":
    main()
