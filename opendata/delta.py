"""Deltas between two snapshots, applying one, and checking a directory against its manifest.

Deltas go between snapshots, not between event positions: a penalty leaves public view when its
window ends with the date, with no event. `write_delta` reads both snapshots' files side by side
in their sorted order (a merge join on USCC for the entities, on `RECORD_KEY` for the records),
so memory holds one line of each; every file is checked against its manifest as it is read.

- An entity whose line differs (or is new) is an `upsert` with its whole new record; one that is
  gone is a `withdraw`.
- A record row that differs (or is new) is an `upsert`; one that is gone is a `withdraw` (its
  window ended, it was revoked or repaired), given as it was.

`apply_delta` is the other side: snapshot + delta → the next snapshot, byte for byte the same
content (and the same files, with the same zlib), checked against the counts and content hashes
the delta's manifest gives for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from opendata.files import (
    CheckedReader,
    CorruptFile,
    GzipWriter,
    canonical_json,
    csv_line,
    csv_rows,
    json_lines,
    sha256_of,
    write_atomically,
)
from opendata.models import (
    DELTA_ENTITIES,
    DELTA_MANIFEST,
    DELTA_RECORD_COLUMNS,
    DELTA_RECORDS,
    ENTITIES,
    MANIFEST,
    RECORD_COLUMNS,
    RECORDS,
    DeltaCounts,
    DeltaManifest,
    FileEntry,
    SnapshotCounts,
    SnapshotManifest,
    SnapshotRef,
    manifest_json,
)
from opendata.snapshot import record_key

K = TypeVar("K", bound=tuple[str, ...] | str)
A = TypeVar("A")
B = TypeVar("B")


class DeltaMismatch(Exception):
    """A delta does not fit the snapshot it is applied to, or does not lead where it says."""


def _nothing(_: int) -> None:
    pass


# --- manifests -------------------------------------------------------------------------------------


def _manifest_path(path: Path, name: str) -> Path:
    return path / name if path.is_dir() else path


def read_snapshot(path: Path) -> tuple[Path, SnapshotManifest, bytes]:
    """(directory, manifest, the manifest's bytes) of a snapshot given as its directory or its
    `manifest.json`."""
    file = _manifest_path(path, MANIFEST)
    raw = file.read_bytes()
    return file.parent, SnapshotManifest.model_validate_json(raw), raw


def read_delta(path: Path) -> tuple[Path, DeltaManifest, bytes]:
    file = _manifest_path(path, DELTA_MANIFEST)
    raw = file.read_bytes()
    return file.parent, DeltaManifest.model_validate_json(raw), raw


def snapshot_ref(manifest: SnapshotManifest, raw: bytes) -> SnapshotRef:
    return SnapshotRef(
        as_of=manifest.as_of,
        position=manifest.position,
        manifest_sha256=hashlib.sha256(raw).hexdigest(),
        counts=manifest.counts,
        content_sha256={f.name: f.content_sha256 for f in manifest.files},
    )


def entry(files: list[FileEntry], name: str) -> FileEntry:
    for f in files:
        if f.name == name:
            return f
    raise CorruptFile(f"the manifest lists no {name}")


# --- reading sorted files side by side ---------------------------------------------------------------


def merge_join(
    left: Iterator[tuple[K, A]], right: Iterator[tuple[K, B]], what: str
) -> Iterator[tuple[K, A | None, B | None]]:
    """Two streams sorted by strictly increasing keys, joined on the key (either side None where
    the key is on one side only). A stream out of order raises `CorruptFile`."""

    def ordered(items: Iterator[tuple[K, Any]], side: str) -> Iterator[tuple[K, Any]]:
        last: K | None = None
        for key, item in items:
            if last is not None and not last < key:  # type: ignore[operator]
                raise CorruptFile(f"{what} ({side}) is not sorted: {key!r} after {last!r}")
            last = key
            yield key, item

    a_items, b_items = ordered(left, "first"), ordered(right, "second")
    a, b = next(a_items, None), next(b_items, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):  # type: ignore[operator]
            assert a is not None
            yield a[0], a[1], None
            a = next(a_items, None)
        elif a is None or b[0] < a[0]:  # type: ignore[operator]
            yield b[0], None, b[1]
            b = next(b_items, None)
        else:
            yield a[0], a[1], b[1]
            a, b = next(a_items, None), next(b_items, None)


def _entity_lines(path: Path, file: FileEntry | None) -> Iterator[tuple[str, tuple[bytes, dict[str, Any]]]]:
    reader = CheckedReader(path, file)
    try:
        for line, parsed in json_lines(reader):
            yield str(parsed["uscc"]), (line, parsed)
    finally:
        reader.close()


def _record_rows(
    path: Path, file: FileEntry | None, header: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], list[str]]]:
    reader = CheckedReader(path, file)
    offset = len(header) - len(RECORD_COLUMNS)  # a delta's rows start with `op`
    try:
        for row in csv_rows(reader, header):
            if len(row) != len(header):
                raise CorruptFile(f"{path}: a row of {len(row)} cells, not {len(header)}: {row}")
            yield record_key(tuple(row[offset:])), row
    finally:
        reader.close()


# --- a delta ------------------------------------------------------------------------------------------


def write_delta(
    base: Path, target: Path, out: Path, *, on_progress: Callable[[int], None] = _nothing
) -> DeltaManifest:
    """Write into `out` what changed from snapshot `base` to snapshot `target` (each given as its
    directory or its manifest): `delta-entities.jsonl.gz`, `delta-records.csv.gz`, then
    `delta-manifest.json`. `on_progress(n)`: entities compared so far."""
    base_dir, base_m, base_raw = read_snapshot(base)
    target_dir, target_m, target_raw = read_snapshot(target)
    if base_m.as_of > target_m.as_of:
        raise DeltaMismatch(f"a delta goes forward: {base_m.as_of} is after {target_m.as_of}")
    out.mkdir(parents=True, exist_ok=True)
    (out / DELTA_MANIFEST).unlink(missing_ok=True)
    counts = dict.fromkeys(DeltaCounts.model_fields, 0)
    with (
        GzipWriter(out / DELTA_ENTITIES, "jsonl") as entities,
        GzipWriter(out / DELTA_RECORDS, "csv") as records,
    ):
        joined = merge_join(
            _entity_lines(base_dir / ENTITIES, entry(base_m.files, ENTITIES)),
            _entity_lines(target_dir / ENTITIES, entry(target_m.files, ENTITIES)),
            ENTITIES,
        )
        for n, (uscc, old, new) in enumerate(joined, 1):
            if new is None:
                entities.write(canonical_json({"op": "withdraw", "uscc": uscc}))
                counts["entities_withdrawn"] += 1
            elif old is None or old[0] != new[0]:
                entities.write(canonical_json({"op": "upsert", "uscc": uscc, "entity": new[1]}))
                counts["entities_upserted"] += 1
            if n % 1000 == 0:
                on_progress(n)

        records.write(csv_line(DELTA_RECORD_COLUMNS), items=0)
        rows = merge_join(
            _record_rows(base_dir / RECORDS, entry(base_m.files, RECORDS), RECORD_COLUMNS),
            _record_rows(target_dir / RECORDS, entry(target_m.files, RECORDS), RECORD_COLUMNS),
            RECORDS,
        )
        for _, old_row, new_row in rows:
            if new_row is None:
                assert old_row is not None
                records.write(csv_line(["withdraw", *old_row]))
                counts["records_withdrawn"] += 1
            elif old_row != new_row:
                records.write(csv_line(["upsert", *new_row]))
                counts["records_upserted"] += 1

        manifest = DeltaManifest.model_validate(
            {
                "from": snapshot_ref(base_m, base_raw),
                "to": snapshot_ref(target_m, target_raw),
                "counts": counts,
                "files": [entities.finish(), records.finish()],
            }
        )
        entities.commit()
        records.commit()
    write_atomically(out / DELTA_MANIFEST, manifest_json(manifest))
    return manifest


# --- applying a delta ---------------------------------------------------------------------------------


def apply_delta(base: Path, delta: Path, out: Path) -> SnapshotManifest:
    """Snapshot `base` + `delta` → the snapshot the delta leads to, written into `out` (which
    may be `base` itself: its files are replaced only once everything is read and checked).
    Raises `DeltaMismatch` when the delta starts from another snapshot or the result is not the
    one the delta names (counts, content hashes), `CorruptFile` when a file does not match its
    manifest; nothing is replaced then."""
    base_dir, base_m, base_raw = read_snapshot(base)
    delta_dir, delta_m, _ = read_delta(delta)
    if hashlib.sha256(base_raw).hexdigest() != delta_m.from_.manifest_sha256:
        raise DeltaMismatch(
            f"the delta starts from the snapshot as of {delta_m.from_.as_of} (manifest "
            f"{delta_m.from_.manifest_sha256[:12]}…), not from this one as of {base_m.as_of}"
        )
    out.mkdir(parents=True, exist_ok=True)
    with GzipWriter(out / ENTITIES, "jsonl") as entities, GzipWriter(out / RECORDS, "csv") as records:
        joined = merge_join(
            _entity_lines(base_dir / ENTITIES, entry(base_m.files, ENTITIES)),
            _entity_lines(delta_dir / DELTA_ENTITIES, entry(delta_m.files, DELTA_ENTITIES)),
            "entities and their delta",
        )
        for uscc, old, change in joined:
            if change is None:
                assert old is not None
                entities.write(old[0])
            elif change[1]["op"] == "upsert":
                entities.write(canonical_json(change[1]["entity"]))
            elif old is None:
                raise DeltaMismatch(f"the delta withdraws {uscc}, which the snapshot does not hold")

        records.write(csv_line(RECORD_COLUMNS), items=0)
        rows = merge_join(
            _record_rows(base_dir / RECORDS, entry(base_m.files, RECORDS), RECORD_COLUMNS),
            _record_rows(
                delta_dir / DELTA_RECORDS, entry(delta_m.files, DELTA_RECORDS), DELTA_RECORD_COLUMNS
            ),
            "records and their delta",
        )
        for key, old_row, change_row in rows:
            if change_row is None:
                assert old_row is not None
                records.write(csv_line(old_row))
            elif change_row[0] == "upsert":
                records.write(csv_line(change_row[1:]))
            elif old_row is None:
                raise DeltaMismatch(f"the delta withdraws the record {key}, which the snapshot does not hold")

        to = delta_m.to
        manifest = SnapshotManifest(
            as_of=to.as_of,
            position=to.position,
            counts=SnapshotCounts(entities=entities.items, records=records.items),
            files=[entities.finish(), records.finish()],
        )
        found = (manifest.counts, {f.name: f.content_sha256 for f in manifest.files})
        if found != (to.counts, to.content_sha256):
            raise DeltaMismatch(
                f"applying the delta does not give the snapshot as of {to.as_of}: {found} != "
                f"{(to.counts, to.content_sha256)}"
            )
        entities.commit()
        records.commit()
    write_atomically(out / MANIFEST, manifest_json(manifest))
    return manifest


# --- checking a directory -----------------------------------------------------------------------------


def verify(directory: Path) -> list[str]:
    """Check every file the directory's manifests list (`manifest.json`, `delta-manifest.json`)
    against its size, SHA-256, content SHA-256 and count; returns the names checked. Raises
    `CorruptFile` on the first mismatch, `FileNotFoundError` when there is no manifest."""
    checked: list[str] = []
    manifests: list[SnapshotManifest | DeltaManifest] = []
    if (directory / MANIFEST).exists():
        manifests.append(read_snapshot(directory)[1])
    if (directory / DELTA_MANIFEST).exists():
        manifests.append(read_delta(directory)[1])
    if not manifests:
        raise FileNotFoundError(f"{directory} holds neither {MANIFEST} nor {DELTA_MANIFEST}")
    for manifest in manifests:
        for file in manifest.files:
            path = directory / file.name
            if sha256_of(path) != file.sha256:
                raise CorruptFile(f"{path}: the SHA-256 differs from the manifest's")
            reader = CheckedReader(path, file)
            try:
                if file.format == "jsonl":
                    for _ in json_lines(reader):
                        pass
                else:
                    header = DELTA_RECORD_COLUMNS if file.name == DELTA_RECORDS else RECORD_COLUMNS
                    for _ in csv_rows(reader, header):
                        pass
            finally:
                reader.close()
            checked.append(file.name)
    return checked
