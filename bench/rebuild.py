"""Benchmark: rebuild one projection's index (default `entities`) of N entities on
Elasticsearch, beside a raw bulk index of the same documents.

Documents are generated directly (the event store is left out): a pool of template entities is
built through the Registry from the data generator, and entity i is template i % K with its own
USCC and a name of its own (three trade characters drawn from i), its search fields (pinyin,
canonical forms, grams) computed again. The same generator feeds every phase, so the phases
differ only in what they do with the documents:

1. generation only (Python, no Elasticsearch) on a sample, to know its share;
2. the rebuild path: `begin_rebuild` → `write_rebuild` per batch → `finish_rebuild` (the
   alias swap), exactly what `gongshi projections rebuild NAME` does after loading each entity
   from the event store;
3. raw bulk: `helpers.parallel_bulk` (as many threads as the rebuild's writers) of the same
   documents into a plain index with the same mapping (refresh off), then one refresh.

The rebuilt generation is left behind the `{prefix}-{projection}` alias for bench/search.

    .venv/bin/python bench/rebuild.py --entities 1000000 --prefix bench [--projection entities]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from elasticsearch import Elasticsearch, helpers

from adapters.clock import FixedDateClock
from adapters.search_index.base import PROJECTIONS, IndexedEntity
from adapters.search_index.elasticsearch import ElasticsearchIndex, definition
from domain.departments import DepartmentRegistry
from domain.registry import Registry
from domain.uscc import make_uscc
from infra.datagen.generator import generate
from projections.documents import search_fields
from projections.rebuild import fill_generation
from projections.runner import index_entity

TODAY = date(2026, 11, 22)
TRADE = (
    "安宝邦诚创达鼎东方丰福富港光广海航和恒宏鸿华汇佳嘉金锦津京景"
    "聚凯康乐立利联隆鲁茂美明南鹏平奇启强庆荣瑞润森盛顺泰通万威鑫永兴信远"
)
assert len(TRADE) == 64


def synthetic_uscc(template_uscc: str, i: int) -> str:
    return make_uscc(template_uscc[2:8], f"B{i:07d}", template_uscc[:2]).value


def synthetic_name(template_name: str, i: int) -> str:
    """The template's name with three trade characters of its own after the first two."""
    trade = TRADE[i % 64] + TRADE[(i // 64) % 64] + TRADE[(i // 4096) % 64]
    return template_name[:2] + trade + template_name[2:]


def templates(count: int, seed: int) -> list[IndexedEntity]:
    registry = Registry(
        clock=FixedDateClock(TODAY),
        departments=DepartmentRegistry.load_default(),
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
    )
    try:
        envelopes = list(generate(count, seed, TODAY))
        for start in range(0, len(envelopes), 1000):
            registry.process(envelopes[start : start + 1000])
        usccs = [e["uscc"] for e in envelopes if e["kind"] == "registration.registered"]
        return [index_entity(registry.get_entity(u), TODAY) for u in usccs]
    finally:
        registry.close()


def synthesise(pool: list[IndexedEntity], i: int, projection: str) -> IndexedEntity:
    """Entity i with the parts `projection` writes (as `index_entity(…, projection)` gives)."""
    t = pool[i % len(pool)]
    uscc, name = synthetic_uscc(t.uscc, i), synthetic_name(t.public["name"], i)
    if projection == "sharing":
        sharing = {**t.sharing, "uscc": uscc, "name": name, "registration_number": None}
        return IndexedEntity(uscc=uscc, version=t.version, sharing=sharing)
    if projection == "records":
        rows = [{**r, "uscc": uscc, "entity_name": name} for r in t.rows]
        return IndexedEntity(uscc=uscc, version=t.version, rows=rows)
    public = {**t.public, "uscc": uscc, "name": name, "registration_number": None}
    return replace(t, uscc=uscc, public=public, sharing={}, rows=[], fields=search_fields(public))


def batches(
    pool: list[IndexedEntity], start: int, stop: int, size: int, projection: str
) -> Iterator[list[IndexedEntity]]:
    for first in range(start, stop, size):
        yield [synthesise(pool, i, projection) for i in range(first, min(first + size, stop))]


def raw_actions(
    index: ElasticsearchIndex, pool: list[IndexedEntity], n: int, projection: str, raw: str, size: int
) -> Iterator[dict[str, Any]]:
    """The same documents the rebuild writes (the adapter's own bulk operations for a fresh
    index), as `helpers.bulk` actions."""
    for batch in batches(pool, 0, n, size, projection):
        ops = index.operations(projection, batch, raw)
        for action, source in zip(ops[::2], ops[1::2], strict=True):
            meta = action["index"]
            yield {"_index": raw, "_id": meta["_id"], "_source": source}


def size_of(es: Elasticsearch, index: str) -> str:
    stats = es.indices.stats(index=index, metric="store,docs")["_all"]["primaries"]
    return f"{stats['docs']['count']:,} docs, {stats['store']['size_in_bytes'] / 2**30:.2f} GiB"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--templates", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--url", default="http://127.0.0.1:9200")
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--projection", choices=PROJECTIONS, default="entities")
    parser.add_argument("--skip-raw", action="store_true")
    args = parser.parse_args()
    n, projection = args.entities, args.projection

    started = time.perf_counter()
    pool = templates(args.templates, args.seed)
    print(f"templates: {len(pool)} entities through the Registry in {time.perf_counter() - started:.1f} s")

    sample = min(n, 20_000)
    started = time.perf_counter()
    for _ in batches(pool, 0, sample, args.batch, projection):
        pass
    gen_rate = sample / (time.perf_counter() - started)
    print(f"generation only: {gen_rate:,.0f} documents/s (sample of {sample:,})")

    index = ElasticsearchIndex(args.url, prefix=args.prefix, request_timeout=120)
    index.ensure()
    es = Elasticsearch(args.url, request_timeout=300)
    started = time.perf_counter()
    target = index.begin_rebuild(projection)

    def progress(done: int) -> None:
        if done % 100_000 == 0:
            print(f"  rebuild: {done:,} in {time.perf_counter() - started:.0f} s", flush=True)

    fill_generation(index, projection, target, batches(pool, 0, n, args.batch, projection), progress)
    filled = time.perf_counter() - started
    index.finish_rebuild(projection, target, 0)
    rebuild_s = time.perf_counter() - started
    print(
        f"rebuild {projection} into {target}: {rebuild_s:.1f} s ({n / rebuild_s:,.0f} entities/s; "
        f"fill {filled:.1f} s, swap+refresh+drop {rebuild_s - filled:.1f} s); "
        f"{size_of(es, index.alias(projection))}"
    )

    if not args.skip_raw:
        raw = f"{args.prefix}-raw-{projection}"
        es.indices.delete(index=raw, ignore_unavailable=True)
        body = definition(projection)
        body["settings"]["index"]["refresh_interval"] = "-1"
        es.indices.create(index=raw, **body)
        started = time.perf_counter()
        ok = 0
        for success, _ in helpers.parallel_bulk(
            es,
            raw_actions(index, pool, n, projection, raw, args.batch),
            thread_count=index.rebuild_writers,
            queue_size=index.rebuild_writers,
            chunk_size=args.batch * (3 if projection == "records" else 1),
            max_chunk_bytes=50 << 20,
        ):
            ok += success
        es.indices.refresh(index=raw)
        raw_s = time.perf_counter() - started
        print(f"raw bulk: {raw_s:.1f} s ({n / raw_s:,.0f} entities/s, {ok:,} documents); {size_of(es, raw)}")
        es.indices.delete(index=raw)

    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"command: .venv/bin/python bench/rebuild.py --entities {n} --prefix {args.prefix} "
        f"--projection {projection}"
    )
    index.close()
    es.close()


if __name__ == "__main__":
    main()
