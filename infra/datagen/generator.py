"""Realistic publications for N Tianjin market entities, as the platform's backfill feed.

The output is the global stream of publication envelopes sorted by `occurred_on` (stable: on
one day, entity by entity, each entity's publications in their own order), as compact JSON
lines. Everything is drawn from one `random.Random(seed)` and the `today` passed in, so one
seed always gives the same bytes.

To sort a stream bigger than memory, envelopes are first spilled to one temporary file per
year (each line prefixed with its date), then each year is sorted in memory and emitted.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

from domain.departments import DepartmentRegistry
from domain.publications import SCHEMA_ID
from infra.datagen.events import LifePlanner
from infra.datagen.profiles import ProfileFactory
from infra.datagen.timeline import iso

__all__ = ["generate", "write_jsonl"]

PROGRESS_EVERY = 1000
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def generate(entities: int, seed: int, today: date) -> Iterator[dict[str, Any]]:
    """The envelopes (JSON-ready dicts) for `entities` entities, sorted by `occurred_on`."""
    for chunk in _sorted_chunks(entities, seed, today, None, None):
        for line in chunk:
            yield json.loads(line)


def write_jsonl(
    path: Path,
    entities: int,
    seed: int,
    today: date,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write the envelopes as UTF-8 JSON lines to `path`; return how many were written.

    `on_progress(entities_done)` is called every 1,000 entities and once at the end of
    generation (sorting and writing the file follow).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    count = 0
    with open(partial, "wb", buffering=1 << 20) as out:
        for chunk in _sorted_chunks(entities, seed, today, on_progress, path.parent):
            out.writelines(chunk)
            count += len(chunk)
    os.replace(partial, path)
    return count


def _sorted_chunks(
    entities: int,
    seed: int,
    today: date,
    on_progress: Callable[[int], None] | None,
    spill_dir: Path | None,
) -> Iterator[list[bytes]]:
    """Lists of JSON lines (with newline), one per year, in file order."""
    if entities < 0:
        raise ValueError("entities must not be negative")
    if today.year < 2000:
        raise ValueError("today must be in 2000 or later")
    with tempfile.TemporaryDirectory(prefix=".gongshi-datagen-", dir=spill_dir) as tmp:
        years = _spill(Path(tmp), entities, seed, today, on_progress)
        for year in sorted(years):
            lines = (Path(tmp) / f"{year}.jsonl").read_bytes().split(b"\n")
            lines.pop()  # after the last newline
            lines.sort(key=_date_prefix)  # stable: entity order, then each entity's own order
            yield [line[11:] + b"\n" for line in lines]


def _date_prefix(line: bytes) -> bytes:
    return line[:10]


def _spill(
    tmp: Path, entities: int, seed: int, today: date, on_progress: Callable[[int], None] | None
) -> list[str]:
    """Generate entity by entity; append `YYYY-MM-DD\\t<json>` lines to one file per year."""
    rng = random.Random(seed)
    factory = ProfileFactory(rng, seed, today)
    abbreviations = {d.code: d.abbreviation for d in DepartmentRegistry.load_default().all()}
    planner = LifePlanner(rng, factory, today, abbreviations)
    serials: dict[str, int] = {}
    files: dict[str, IO[bytes]] = {}
    try:
        for index in range(entities):
            profile = factory.profile(index)
            uscc = profile.uscc
            for day, _, department, kind, payload in planner.plan(profile):
                on = iso(day)
                year = on[:4]
                series = f"{department}-{year}"
                serial = serials[series] = serials.get(series, 0) + 1
                line = _encode(
                    {
                        "schema": SCHEMA_ID,
                        "publication_id": f"{series}-{serial:06d}",
                        "department": department,
                        "kind": kind,
                        "uscc": uscc,
                        "occurred_on": on,
                        "payload": payload,
                    }
                )
                out = files.get(year)
                if out is None:
                    out = files[year] = open(tmp / f"{year}.jsonl", "wb", buffering=1 << 20)  # noqa: SIM115
                out.write(f"{on}\t{line}\n".encode())
            if on_progress is not None and (index + 1) % PROGRESS_EVERY == 0:
                on_progress(index + 1)
    finally:
        for out in files.values():
            out.close()
    if on_progress is not None and entities % PROGRESS_EVERY:
        on_progress(entities)
    return list(files)
