"""Benchmark: publications/s from Kafka into PostgreSQL through the ingestion worker, beside the
raw stages on the same messages in the same run.

1. generates N publications (`infra.datagen.generator`, enough entities, the first N in stream
   order) and produces them to a fresh topic (key = USCC), each signed with the platform's key
   (the worker verifies every signature, as in production);
2. raw Kafka: kafka-python's KafkaConsumer reads them all, no processing;
3. raw PostgreSQL: the same bytes as rows (one per publication) into a table shaped like the
   event store's (originator_id uuid, originator_version int, topic text, state bytea,
   notification_id bigserial; primary key + unique notification index), one transaction per
   batch, both with executemany (pipeline mode, as eventsourcing inserts) and with COPY;
4. the pipeline: the ingestion worker in a subprocess (Container on Kafka + PostgreSQL, one
   transaction per poll per partition) applies them all; its rate is counted from the end of its
   first batch (the group join is left out) and its peak RSS is its `ru_maxrss`.

Prints the figures and the command that reproduces them. `--profile FILE` runs the worker under
cProfile, writes the stats to FILE and prints where the time goes. Needs the real engines
(`make services-up`; Kafka login from GONGSHI_KAFKA_USERNAME / _PASSWORD / _SASL_MECHANISM, by
default the provisioned gongshi/gongshi over SCRAM-SHA-512); uses a unique topic and schema and
removes them afterwards.

    .venv/bin/python bench/ingest.py --publications 100000
    .venv/bin/python bench/ingest.py --publications 100000 --workers 2   # processes in one group
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from kafka import KafkaConsumer, TopicPartition
from kafka.record.util import crc32c_c
from psycopg.sql import SQL, Identifier

from adapters.publication_log.kafka import KafkaLog
from domain.entity import entity_id
from domain.uscc import partition_key
from infra.bootstrap import Container
from infra.datagen.generator import write_jsonl
from infra.settings import Settings

PER_ENTITY = 11  # publications per generated entity, a little under the average (≈ 11.9)
TIMEOUT_S = 1800.0


DEFAULTS = {"--kafka": "127.0.0.1:9092", "--postgres": "postgresql://gongshi:gongshi@127.0.0.1:5432/gongshi"}


def parser_default(flag: str) -> str:
    return DEFAULTS[flag]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publications", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--today", default="2026-11-22")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=500, help="the worker's max records per poll")
    parser.add_argument("--kafka", default=DEFAULTS["--kafka"])
    parser.add_argument("--postgres", default=DEFAULTS["--postgres"])
    parser.add_argument("--profile", type=Path, help="run the worker under cProfile, stats to this file")
    parser.add_argument(
        "--store-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override an event-store setting of the worker, e.g. AGGREGATE_CACHE_MAXSIZE=1000 "
        "(KEY= removes it); repeatable",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="ingestion worker processes in the one consumer group"
    )
    parser.add_argument("--child-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workers > 1 and args.profile:
        parser.error("--profile runs one worker: leave --workers at 1")
    if args.child_worker:
        child_worker(json.loads(args.child_worker))
        return
    run(args)


# --- the parent: data, raw stages, the pipeline, the report --------------------------------------


def run(args: argparse.Namespace) -> None:
    n = args.publications
    today = date.fromisoformat(args.today)
    prefix = f"bench_{uuid.uuid4().hex[:8]}"
    topic = f"{prefix}.publications"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(SQL("CREATE SCHEMA {}").format(Identifier(prefix)))
    keys_dir = tempfile.TemporaryDirectory(prefix="gongshi-bench-keys-")
    # the platform's key, registered in the schema's credential store the worker verifies with
    parent = Container(
        Settings(
            data_dir=Path(keys_dir.name),
            kafka_bootstrap=args.kafka,
            postgres_dsn=args.postgres,
            postgres_schema=prefix,
            prefix=prefix,
        )
    )
    log = KafkaLog(
        args.kafka, default_partitions=args.partitions, client_id="gongshi-bench", sasl=parent.kafka_login()
    )
    try:
        t0 = time.perf_counter()
        lines, entities = generate_lines(n, args.seed, today)
        t_generate = time.perf_counter() - t0
        items = [(partition_key(json.loads(line)["uscc"]), line) for line in lines]
        size_mb = sum(len(line) for line in lines) / 1e6
        print(f"generated {n} publications of {entities} entities ({size_mb:.1f} MB) in {t_generate:.1f}s")

        log.ensure_topic(topic, args.partitions)
        log.ensure_topic(f"{prefix}.publications.dlq", 1)
        t0 = time.perf_counter()
        log.produce_many(topic, items, headers_for=parent.signed_by_platform("job:bench"))
        t_produce = time.perf_counter() - t0
        print(f"produced (signed) in {t_produce:.1f}s")

        t_kafka = raw_kafka(log, topic, n)
        print(f"raw Kafka consume: {n / t_kafka:,.0f}/s")
        t_pg_many, t_pg_copy = raw_postgres(args.postgres, prefix, items, args.batch_size)
        print(f"raw PostgreSQL: executemany {n / t_pg_many:,.0f}/s, COPY {n / t_pg_copy:,.0f}/s")

        result = pipeline(args, prefix)
        children_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    finally:
        parent.close()
        keys_dir.cleanup()
        cleanup(log, args.postgres, prefix, topic)

    rate = result["rate"]
    raw_kafka_rate, raw_pg_rate, copy_rate = n / t_kafka, n / t_pg_many, n / t_pg_copy
    slower_name, slower = min(
        ("raw Kafka consume", raw_kafka_rate), ("raw PostgreSQL insert", raw_pg_rate), key=lambda kv: kv[1]
    )
    command = (
        f".venv/bin/python bench/ingest.py --publications {n} --seed {args.seed} --today {args.today} "
        f"--partitions {args.partitions} --batch-size {args.batch_size}"
    ) + "".join(f" --store-env {kv}" for kv in args.store_env)
    if args.workers > 1:
        command += f" --workers {args.workers}"
    for flag, value in (("--kafka", args.kafka), ("--postgres", args.postgres)):
        if value != parser_default(flag):
            command += f" {flag} {value}"
    rss_mb = result["maxrss_kb"] / 1024
    print()
    print(
        f"# bench/ingest — Kafka → ingestion worker → PostgreSQL, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"command: {command}")
    print(
        f"publications: {n} ({entities} entities, {size_mb:.1f} MB), {args.partitions} partitions, "
        f"worker batch {args.batch_size}; outcomes: {result['counts']}"
    )
    print(f"worker's event-store cache settings: {result['cache'] or 'none (no aggregate cache)'}")
    if args.workers > 1:
        each = ", ".join(f"{w['read']:,} read, {w['maxrss_kb'] / 1024:.0f} MB" for w in result["workers"])
        print(f"worker processes: {args.workers} in one group ({each})")
    print(f"kafka-python CRC-32C: {'C extension (crc32c)' if crc32c_c is not None else 'pure Python'}")
    print(f"produce (KafkaLog.produce_many, signed): {t_produce:7.2f} s  {n / t_produce:9,.0f} /s")
    print(f"raw Kafka consume (kafka-python)       : {t_kafka:7.2f} s  {raw_kafka_rate:9,.0f} /s")
    print(f"raw PostgreSQL insert (executemany)    : {t_pg_many:7.2f} s  {raw_pg_rate:9,.0f} /s")
    print(f"raw PostgreSQL insert (COPY)           : {t_pg_copy:7.2f} s  {copy_rate:9,.0f} /s")
    print(
        f"pipeline (ingestion worker)            : {result['elapsed']:7.2f} s  {rate:9,.0f} /s"
        f"  (first batch and group join left out; {result['total_elapsed']:.1f} s in all)"
    )
    print(f"pipeline / slower raw stage ({slower_name}): {rate / slower:.1%}  (goal ≥ 50 %)")
    print(f"pipeline / raw PostgreSQL COPY         : {rate / copy_rate:.1%}")
    print(
        f"worker peak RSS                        : {rss_mb:.0f} MB  (goal ≤ 300 MB; RUSAGE_CHILDREN "
        f"{children_rss_mb:.0f} MB)"
    )
    if result.get("profile"):
        print(f"\n## where the worker's time goes (cProfile, {args.profile})\n{result['profile']}")


def generate_lines(n: int, seed: int, today: date) -> tuple[list[bytes], int]:
    """The first `n` publications (stream order) of just enough generated entities."""
    entities = n // PER_ENTITY + 1
    with tempfile.TemporaryDirectory(prefix="gongshi-bench-") as tmp:
        path = Path(tmp) / "publications.jsonl"
        while True:
            if write_jsonl(path, entities, seed, today) >= n:
                return path.read_bytes().splitlines()[:n], entities
            entities = int(entities * 1.2) + 1


def raw_kafka(log: KafkaLog, topic: str, n: int) -> float:
    """Seconds for kafka-python to read the `n` messages of `topic` from the start, no processing."""
    consumer = KafkaConsumer(**log.consumer_config(), group_id=None)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        count = 0
        deadline = time.monotonic() + TIMEOUT_S
        t0 = time.perf_counter()
        while count < n and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500, max_records=500).values():
                count += len(records)
        elapsed = time.perf_counter() - t0
    finally:
        consumer.close(autocommit=False)
    if count < n:
        raise SystemExit(f"raw Kafka read {count} of {n} messages before the timeout")
    return elapsed


def raw_postgres(dsn: str, schema: str, items: list[tuple[str, bytes]], batch: int) -> tuple[float, float]:
    """Seconds to insert one row per publication (same bytes as `state`) into a table shaped like
    the event store's, one transaction per `batch` rows: (executemany in pipeline mode, COPY)."""
    versions: dict[str, int] = {}
    rows = []
    for uscc, value in items:
        versions[uscc] = versions.get(uscc, 0) + 1
        rows.append((entity_id(uscc), versions[uscc], "domain.entity:MarketEntity.Published", value))
    timings = []
    for method in ("executemany", "copy"):
        table = Identifier(schema, f"raw_{method}")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                SQL(
                    "CREATE TABLE {} (originator_id uuid NOT NULL, originator_version integer NOT NULL, "
                    "topic text, state bytea, notification_id bigserial, "
                    "PRIMARY KEY (originator_id, originator_version))"
                ).format(table)
            )
            conn.execute(SQL("CREATE UNIQUE INDEX ON {} (notification_id)").format(table))
            insert = SQL(
                "INSERT INTO {} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)"
            ).format(table)
            copy = SQL("COPY {} (originator_id, originator_version, topic, state) FROM STDIN").format(table)
            t0 = time.perf_counter()
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                with conn.transaction(), conn.cursor() as cur:
                    if method == "copy":
                        with cur.copy(copy) as out:
                            for row in chunk:
                                out.write_row(row)
                    else:
                        cur.executemany(insert, chunk)
            timings.append(time.perf_counter() - t0)
    return timings[0], timings[1]


def pipeline(args: argparse.Namespace, prefix: str) -> dict[str, Any]:
    settings = {
        "kafka_bootstrap": args.kafka,
        "kafka_partitions": args.partitions,
        "postgres_dsn": args.postgres,
        "postgres_schema": prefix,
        "prefix": prefix,
        "consumer_group": f"{prefix}-ingest",
        "ingest_batch_size": args.batch_size,
        "today": args.today,
    }
    store_env = dict(kv.split("=", 1) for kv in args.store_env)
    spec = {
        "settings": settings,
        "publications": args.publications,
        "profile": str(args.profile or ""),
        "store_env": store_env,
        "workers": args.workers,
    }
    command = [sys.executable, str(Path(__file__).resolve()), "--child-worker", json.dumps(spec)]
    children = [subprocess.Popen(command, stdout=subprocess.PIPE) for _ in range(args.workers)]
    results: list[dict[str, Any]] = []
    for child in children:
        out, _ = child.communicate(timeout=TIMEOUT_S)
        if child.returncode != 0:
            raise SystemExit(f"a worker process failed (exit {child.returncode})")
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    if len(results) == 1:
        return results[0]
    # the group's rate: from the first batch any worker applied to the last one any applied
    read = sum(r["read"] for r in results)
    first = sum(r["first"] for r in results)
    started = min(r["t_first"] for r in results if r["first"])
    ended = max(r["t_last"] for r in results)
    counts: dict[str, int] = {}
    for r in results:
        for key, value in r["counts"].items():
            counts[key] = counts.get(key, 0) + value
    if read < args.publications:
        raise SystemExit(f"the workers read {read} of {args.publications} publications before the timeout")
    return {
        "cache": results[0]["cache"],
        "read": read,
        "counts": counts,
        "elapsed": ended - started,
        "rate": (read - first) / (ended - started) if ended > started else 0.0,
        "total_elapsed": ended - min(r["t_start"] for r in results),
        "maxrss_kb": max(r["maxrss_kb"] for r in results),
        "workers": results,
    }


def cleanup(log: KafkaLog, dsn: str, prefix: str, topic: str) -> None:
    try:
        log.delete_topics([topic, f"{prefix}.publications.dlq"])
    finally:
        log.close()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(prefix)))


# --- the child: one ingestion worker ---------------------------------------------------------------


def child_worker(spec: dict[str, Any]) -> None:
    """Apply `publications` messages with the ingestion worker; print one JSON line of results."""
    n = int(spec["publications"])
    with tempfile.TemporaryDirectory(prefix="gongshi-bench-worker-") as tmp:
        container = Container(Settings(data_dir=Path(tmp), **spec["settings"]))
        env = container.worker_store_env  # the dict the worker's Registry is built from: adjust it first
        for key, value in spec.get("store_env", {}).items():
            if value:
                env[key] = value
            else:
                env.pop(key, None)
        worker = container.worker  # builds the Registry (creates the tables) before the clock starts
        profiler = cProfile.Profile() if spec.get("profile") else None
        deadline = time.monotonic() + TIMEOUT_S
        alone = int(spec.get("workers", 1)) == 1
        read = first = 0
        t_start = time.perf_counter()
        t_first = t_start
        wall_start = wall_first = wall_last = time.time()
        try:
            # alone: until it has read them all; in a group: until none is left unapplied
            while (read < n if alone else True) and time.monotonic() < deadline:
                if profiler is not None and first:
                    profiler.enable()
                count = worker.run_once(timeout_s=1.0)
                if profiler is not None:
                    profiler.disable()
                if count and not first:
                    first, t_first, wall_first = count, time.perf_counter(), time.time()
                if count:
                    wall_last = time.time()
                elif not alone and worker.unapplied() == 0:
                    break
                read += count
            t_end = time.perf_counter()
        finally:
            counts = dict(worker.counts)
            container.close()
    result: dict[str, Any] = {
        "cache": {k: v for k, v in env.items() if "CACHE" in k},
        "read": read,
        "counts": counts,
        "elapsed": t_end - t_first,
        "rate": (read - first) / (t_end - t_first) if t_end > t_first else 0.0,
        "total_elapsed": t_end - t_start,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "first": first,
        "t_start": wall_start,
        "t_first": wall_first,
        "t_last": wall_last,
    }
    if profiler is not None:
        profiler.dump_stats(spec["profile"])
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(25)
        result["profile"] = out.getvalue()
    if alone and read < n:
        raise SystemExit(f"the worker read {read} of {n} publications before the timeout")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
