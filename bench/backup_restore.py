"""Benchmark: back up a loaded platform, wipe it, restore it and rebuild its search indexes —
what `gongshi backup` and `gongshi restore` do — and extrapolate the restore of 1,000,000 entities.

A register of N generated entities (infra/datagen, ≈3 publications each) is published, applied
and indexed on the embedded engines (or with the event store on PostgreSQL: --postgres-dsn,
in a schema of its own, dropped afterwards). Then, each timed:

1. backup (`infra.backup.backup`: SQLite online backup API per file / pg_dump of the schema);
2. restore of the files onto the emptied place (`restore_files`: copy / pg_restore);
3. rebuild of the three search projections from the restored store and the followers' catch-up.

    .venv/bin/python bench/backup_restore.py --entities 5000 [--postgres-dsn postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.uscc import partition_key
from infra.backup import backup, restore_files
from infra.bootstrap import build
from infra.datagen.generator import write_jsonl
from infra.settings import Settings
from projections.rebuild import rebuild_projection

TODAY = date(2026, 11, 22)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entities", type=int, default=5000)
    parser.add_argument("--postgres-dsn", default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gongshi-bench-backup-"))
    values: dict[str, object] = {"data_dir": work / "var", "today": TODAY}
    schema = None
    if args.postgres_dsn:
        import psycopg

        schema = f"bench_backup_{uuid.uuid4().hex[:8]}"
        values |= {"postgres_dsn": args.postgres_dsn, "postgres_schema": schema}
        with psycopg.connect(args.postgres_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    settings = Settings(**values)  # type: ignore[arg-type]
    try:
        source = work / "generated.jsonl"
        write_jsonl(source, args.entities, 7, TODAY)
        lines = source.read_bytes().splitlines()
        container = build(settings)
        started = time.perf_counter()
        container.log.produce_many(
            settings.publications_topic,
            ((partition_key(json.loads(line)["uscc"]), line) for line in lines),
            headers_for=container.signed_by_platform("job:bench"),
        )
        container.worker.drain()
        container.catch_up()
        load_s = time.perf_counter() - started
        notifications = container.registry.recorder.max_notification_id() or 0
        container.close()

        started = time.perf_counter()
        manifest = backup(settings, work / "backup", notifications=notifications, now=datetime.now(UTC))
        backup_s = time.perf_counter() - started
        size = sum(f["bytes"] for f in manifest.files.values())

        shutil.rmtree(settings.data_dir)
        if schema:
            import psycopg

            with psycopg.connect(args.postgres_dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        started = time.perf_counter()
        restore_files(settings, work / "backup")
        files_s = time.perf_counter() - started
        container = build(settings)
        started = time.perf_counter()
        for projection in container.projections.values():
            rebuild_projection(projection)
        container.catch_up()
        rebuild_s = time.perf_counter() - started
        container.close()
    finally:
        if schema:
            import psycopg

            with psycopg.connect(args.postgres_dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        shutil.rmtree(work, ignore_errors=True)

    n = args.entities
    scale = 1_000_000 / n
    print(f"# bench/backup_restore — {n} entities, {len(lines)} publications, {notifications} notifications")
    engine = f"PostgreSQL (schema {schema})" if schema else "SQLite (embedded)"
    print(f"engine: {engine}; Python {platform.python_version()}")
    print(f"load (publish, apply, index): {load_s:.1f} s")
    print(f"backup: {backup_s:.2f} s, {size / 1e6:.1f} MB ({size / n / 1e3:.1f} kB per entity)")
    print(f"restore of the files: {files_s:.2f} s")
    print(f"rebuild of the 3 indexes + catch-up: {rebuild_s:.1f} s ({n / rebuild_s:.0f} entities/s)")
    restore_1m = (files_s + rebuild_s) * scale
    print(
        f"extrapolated to 1,000,000 entities (linear): backup {backup_s * scale / 60:.1f} min, "
        f"{size * scale / 1e9:.1f} GB; restore {restore_1m / 60:.1f} min "
        f"(files {files_s * scale / 60:.1f} min + rebuild {rebuild_s * scale / 60:.1f} min)"
    )


if __name__ == "__main__":
    main()
