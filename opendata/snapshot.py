"""A snapshot of the public register as of a date: `entities.jsonl.gz`, `records.csv.gz` and
`manifest.json` (`gongshi export snapshot`, and daily inside `gongshi serve`).

One pass over the index's public documents in USCC order (`SearchIndex.scan_public`: one
consistent view, read a page at a time) writes both files: each document becomes the public
record as of the date (`projections.public_record.public_record`, what the API answers that day)
and its publicised records become rows (`projections.documents.record_rows` on that record, so
a penalty out of its window is in neither file), sorted within the entity. Nothing but one page
of documents and one entity's rows is held in memory.

The same position and date give the same bytes (`opendata.files`); the manifest is written last,
so a directory with a `manifest.json` holds a complete snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from adapters.search_index.base import SearchIndex
from opendata.files import GzipWriter, canonical_json, csv_line, write_atomically
from opendata.models import (
    CATEGORY_LABELS,
    ENTITIES,
    KIND_OF_CATEGORY,
    MANIFEST,
    RECORD_COLUMNS,
    RECORDS,
    SnapshotCounts,
    SnapshotManifest,
    manifest_json,
)
from projections.documents import record_rows
from projections.public_record import public_record

#: The columns that identify a row and order the records file (after `uscc`, within an entity).
RECORD_KEY = ("uscc", "category", "record_id", "publication_id")
_KEY_AT = tuple(RECORD_COLUMNS.index(c) for c in RECORD_KEY)
#: Report progress (and look for a stop request) every this many entities.
PROGRESS_EVERY = 1000

Row = tuple[str | None, ...]


class ExportCancelled(Exception):
    """The export was asked to stop; nothing it began is left behind."""


def _nothing(_: int) -> None:
    pass


def _never() -> bool:
    return False


def record_key(row: Row) -> tuple[str, ...]:
    """What identifies a row of the records file (and orders it)."""
    return tuple(row[i] or "" for i in _KEY_AT)


def entity_rows(record: dict[str, Any], department_names: Mapping[str, str]) -> list[Row]:
    """The rows of the records file for one public record, in the file's order."""
    rows: list[Row] = []
    for r in record_rows(record):
        category = r["category"]
        values = {
            "uscc": r["uscc"],
            "entity_name": r["entity_name"],
            "category": category,
            "category_label": CATEGORY_LABELS[category],
            "kind": KIND_OF_CATEGORY[category],
            "record_id": r["record_id"],
            "publication_id": r["publication_id"] or "",
            "department": r["department"] or "",
            "department_name": department_names.get(r["department"] or ""),
            "title": r["title"],
            "occurred_on": r["occurred_on"],
            "public_until": r["public_until"],
            "basis": r["detail"].get("basis"),
        }
        rows.append(tuple(values[c] for c in RECORD_COLUMNS))
    rows.sort(key=record_key)
    return rows


def write_snapshot(
    index: SearchIndex,
    department_names: Mapping[str, str],
    as_of: date,
    out: Path,
    *,
    page_size: int = 1000,
    on_start: Callable[[int], None] = _nothing,
    on_progress: Callable[[int], None] = _nothing,
    should_stop: Callable[[], bool] = _never,
) -> SnapshotManifest:
    """Write the snapshot as of `as_of` into the directory `out` (created; a snapshot already
    there is replaced). `on_start(total)` once the view is open, `on_progress(done)` as
    entities are written; `should_stop()` is asked as often, and True ends the export with
    `ExportCancelled`, leaving no partial file."""
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)  # the directory is not a complete snapshot meanwhile
    with (
        index.scan_public(page_size) as scan,
        GzipWriter(out / ENTITIES, "jsonl") as entities,
        GzipWriter(out / RECORDS, "csv") as records,
    ):
        on_start(scan.total)
        records.write(csv_line(RECORD_COLUMNS), items=0)
        done = 0
        for doc in scan.documents:
            record = public_record(doc, as_of)
            entities.write(canonical_json(record))
            for row in entity_rows(record, department_names):
                records.write(csv_line(row))
            done += 1
            if done % PROGRESS_EVERY == 0:
                on_progress(done)
                if should_stop():
                    raise ExportCancelled(f"snapshot as of {as_of} stopped after {done} entities")
        on_progress(done)
        manifest = SnapshotManifest(
            as_of=as_of,
            position=scan.position,
            counts=SnapshotCounts(entities=entities.items, records=records.items),
            files=[entities.finish(), records.finish()],
        )
        entities.commit()
        records.commit()
    write_atomically(out / MANIFEST, manifest_json(manifest))
    return manifest
