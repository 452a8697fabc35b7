"""`gongshi export …`: the open-data files by hand — a snapshot, a delta between two snapshots,
applying a delta, checking a directory (the same code the daily release in `gongshi serve` runs)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from api.cli.console import console, open_container, progress, set_completed, set_total

export_app = typer.Typer(help="Open data: snapshots of the public register and deltas between them.")


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {raw}") from None


@contextmanager
def _refused() -> Iterator[None]:
    """A file that does not match its manifest, a delta for another snapshot, a missing
    manifest: said in red, exit code 1."""
    from opendata.delta import DeltaMismatch
    from opendata.files import CorruptFile

    try:
        yield
    except (CorruptFile, DeltaMismatch, FileNotFoundError, ValueError) as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None


@export_app.command("snapshot")
def export_snapshot(
    out: Annotated[Path, typer.Option("--out", help="the directory to write (created)")],
    as_of: Annotated[str | None, typer.Option(help="the date (default: the system's date)")] = None,
    page_size: Annotated[int, typer.Option(min=1, max=10_000, help="documents read per page")] = 1000,
) -> None:
    """The public register as of a date: entities.jsonl.gz, records.csv.gz, manifest.json."""
    from opendata.snapshot import write_snapshot

    day_given = _day(as_of)
    container = open_container()
    try:
        day = day_given or container.clock.today()
        with progress() as bar:
            task = bar.add_task(f"快照 {day.isoformat()}", total=None)
            manifest = write_snapshot(
                container.index,
                container.department_names,
                day,
                out,
                page_size=page_size,
                on_start=functools.partial(set_total, bar, task),
                on_progress=functools.partial(set_completed, bar, task),
            )
    finally:
        container.close()
    console.print(
        f"snapshot as of {manifest.as_of} (position {manifest.position}): {manifest.counts.entities} "
        f"entities, {manifest.counts.records} records → {out}"
    )


@export_app.command("delta")
def export_delta(
    from_: Annotated[Path, typer.Option("--from", help="the earlier snapshot (directory or manifest.json)")],
    to: Annotated[Path, typer.Option("--to", help="the later snapshot (directory or manifest.json)")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="where to write the delta (default: beside the later snapshot)"),
    ] = None,
) -> None:
    """What changed between two snapshots: delta-entities.jsonl.gz, delta-records.csv.gz,
    delta-manifest.json."""
    from opendata.delta import read_snapshot, write_delta

    target_dir = read_snapshot(to)[0]
    with progress() as bar:
        task = bar.add_task("比较快照", total=read_snapshot(to)[1].counts.entities)
        manifest = write_delta(
            from_, to, out or target_dir, on_progress=functools.partial(set_completed, bar, task)
        )
        bar.update(task, completed=manifest.to.counts.entities)
    c = manifest.counts
    console.print(
        f"delta {manifest.from_.as_of} → {manifest.to.as_of}: entities +{c.entities_upserted} "
        f"-{c.entities_withdrawn}, records +{c.records_upserted} -{c.records_withdrawn} → {out or target_dir}"
    )


@export_app.command("apply")
def export_apply(
    snapshot: Annotated[Path, typer.Option("--snapshot", help="the snapshot the delta starts from")],
    delta: Annotated[Path, typer.Option("--delta", help="the delta (directory or delta-manifest.json)")],
    out: Annotated[Path, typer.Option("--out", help="where to write the resulting snapshot")],
) -> None:
    """Apply a delta to the snapshot it starts from; the result is checked against the delta's
    counts and content hashes."""
    from opendata.delta import apply_delta

    with _refused():
        manifest = apply_delta(snapshot, delta, out)
    console.print(
        f"snapshot as of {manifest.as_of}: {manifest.counts.entities} entities, "
        f"{manifest.counts.records} records → {out} (content checked against the delta)"
    )


@export_app.command("verify")
def export_verify(
    directory: Annotated[Path, typer.Argument(help="a snapshot or release directory")],
) -> None:
    """Check every file against its manifest (size, SHA-256, content SHA-256, count)."""
    from opendata.delta import verify

    with _refused():
        checked = verify(directory)
    console.print(f"ok: {', '.join(checked)}")
