"""The released open data: one directory per date under one root, what `/api/v1/open-data` lists
and `/open-data/{date}/{file}` serves.

    <root>/2026-11-22/manifest.json             the snapshot as of that date
                      entities.jsonl.gz
                      records.csv.gz
                      delta-manifest.json       what changed since the previous release kept
                      delta-entities.jsonl.gz   (absent for the first release)
                      delta-records.csv.gz

A release is written into `<root>/.<date>.partial/` (snapshot, then the delta from the latest
earlier release) and renamed into place when complete, so a date directory is always whole.
`prune` removes releases older than the retention, never the latest one.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from adapters.search_index.base import SearchIndex
from opendata.delta import read_delta, read_snapshot, write_delta
from opendata.models import DELTA_MANIFEST, MANIFEST, RELEASE_FILES, DeltaManifest, SnapshotManifest
from opendata.snapshot import write_snapshot

log = logging.getLogger(__name__)

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _nothing(_: int) -> None:
    pass


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Release:
    day: date
    path: Path
    snapshot: SnapshotManifest
    delta: DeltaManifest | None

    def files(self) -> list[str]:
        """The names of the files this release holds, manifests first."""
        names = [MANIFEST, *(f.name for f in self.snapshot.files)]
        if self.delta is not None:
            names += [DELTA_MANIFEST, *(f.name for f in self.delta.files)]
        return names


class Releases:
    def __init__(self, root: Path) -> None:
        self.root = root

    def days(self) -> list[date]:
        """The dates of the complete releases, oldest first."""
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.iterdir():
            if _DAY.match(path.name) and (path / MANIFEST).is_file():
                try:
                    found.append(date.fromisoformat(path.name))
                except ValueError:
                    continue
        return sorted(found)

    def path(self, day: date) -> Path:
        return self.root / day.isoformat()

    def get(self, day: date) -> Release | None:
        path = self.path(day)
        if not (path / MANIFEST).is_file():
            return None
        snapshot = read_snapshot(path)[1]
        delta = read_delta(path)[1] if (path / DELTA_MANIFEST).is_file() else None
        return Release(day, path, snapshot, delta)

    def all(self) -> list[Release]:
        """Every complete release, newest first."""
        return [r for r in (self.get(d) for d in reversed(self.days())) if r is not None]

    def file(self, day: date, name: str) -> Path | None:
        """The stored file `name` of the release of `day`, if there is one."""
        if name not in RELEASE_FILES or not (self.path(day) / MANIFEST).is_file():
            return None
        path = self.path(day) / name
        return path if path.is_file() else None

    def publish(
        self,
        index: SearchIndex,
        department_names: Mapping[str, str],
        day: date,
        *,
        page_size: int = 1000,
        on_start: Callable[[int], None] = _nothing,
        on_progress: Callable[[int], None] = _nothing,
        should_stop: Callable[[], bool] = _never,
    ) -> Release:
        """Write the release of `day`: the snapshot as of `day`, and the delta from the latest
        earlier release kept (if any). A release of `day` already there is replaced."""
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f".{day.isoformat()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        try:
            write_snapshot(
                index,
                department_names,
                day,
                partial,
                page_size=page_size,
                on_start=on_start,
                on_progress=on_progress,
                should_stop=should_stop,
            )
            earlier = [d for d in self.days() if d < day]
            if earlier:
                write_delta(self.path(earlier[-1]), partial, partial)
            final = self.path(day)
            if final.exists():
                old = self.root / f".{day.isoformat()}.old"
                shutil.rmtree(old, ignore_errors=True)
                final.rename(old)
                partial.rename(final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                partial.rename(final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        release = self.get(day)
        assert release is not None
        return release

    def prune(self, today: date, keep_days: int) -> list[date]:
        """Remove the releases older than `keep_days` days before `today` (never the latest);
        returns their dates."""
        days = self.days()
        cutoff = today - timedelta(days=keep_days)
        removed = [d for d in days[:-1] if d < cutoff]
        for d in removed:
            shutil.rmtree(self.path(d), ignore_errors=True)
        return removed
