"""The `gongshi` command line."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from infra.bootstrap import Container, build
from infra.settings import Settings

app = typer.Typer(
    help="Gongshi 公示 — market-entity credit information publicity platform.", no_args_is_help=True
)
console = Console(stderr=True)


def _out() -> Console:
    """Standard output; wide when not a terminal, so tables are not wrapped for scripts."""
    return Console() if sys.stdout.isatty() else Console(width=240)


def _container() -> Container:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return build(Settings())


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command()
def generate(
    entities: Annotated[int, typer.Option(help="number of market entities")] = 2000,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same file)")] = 1,
    out: Annotated[Path, typer.Option(help="JSON Lines file of publication envelopes")] = Path(
        "var/demo.jsonl"
    ),
    today: Annotated[str | None, typer.Option(help="last business date (default: the system's date)")] = None,
) -> None:
    """Write realistic publication envelopes for N entities across Tianjin's 16 districts."""
    from infra.datagen.generator import write_jsonl

    as_of = date.fromisoformat(today) if today else _container().clock.today()
    out.parent.mkdir(parents=True, exist_ok=True)
    with _progress() as progress:
        task = progress.add_task("生成数据", total=entities)
        count = write_jsonl(
            out, entities, seed, as_of, on_progress=lambda done: progress.update(task, completed=done)
        )
        progress.update(task, completed=entities)
    console.print(f"{count} publications for {entities} entities → {out}")


def _lines(path: Path) -> Iterator[tuple[str | None, bytes]]:
    with path.open("rb") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                key = json.loads(line).get("uscc")
            except (ValueError, AttributeError):
                key = None  # still published: the worker dead-letters it with its reason
            yield (key if isinstance(key, str) else None), line


class Via(str, Enum):
    log = "log"
    kafka = "kafka"


@app.command()
def publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON Lines of envelopes")],
    via: Annotated[Via, typer.Option(help="log = the configured publication log (Kafka when set)")] = Via.log,
) -> None:
    """Append a file of publication envelopes to the publication log."""
    container = _container()
    if via is Via.kafka and not container.settings.kafka_bootstrap:
        raise typer.BadParameter("GONGSHI_KAFKA_BOOTSTRAP is not set")
    total = sum(1 for line in file.open("rb") if line.strip())
    with _progress() as progress:
        task = progress.add_task("发布", total=total)
        count = container.log.produce_many(
            container.settings.publications_topic,
            _lines(file),
            on_progress=lambda done: progress.update(task, completed=done),
        )
    container.close()
    console.print(f"{count} publications appended to {container.settings.publications_topic}")


class Role(str, Enum):
    ingest = "ingest"
    projections = "projections"
    api = "api"


@app.command()
def run(
    role: Annotated[Role, typer.Argument(help="the one role this process runs")],
    until_idle: Annotated[bool, typer.Option(help="stop when there is nothing left to do")] = False,
) -> None:
    """Run one role: the ingestion worker, the projections, or the API."""
    container = _container()
    if role is Role.api:
        _serve(container, run_background=False)
        return
    if until_idle:
        _catch_up(container, ingest=role is Role.ingest, project=role is Role.projections)
        container.close()
        return
    runner = container.worker if role is Role.ingest else container.projection
    try:
        runner.run_forever()
    except KeyboardInterrupt:
        runner.stop()
    finally:
        container.close()


def _catch_up(container: Container, *, ingest: bool, project: bool) -> None:
    with _progress() as progress:
        if ingest:
            ends = container.log.end_offsets(container.settings.publications_topic)
            worker = container.worker
            done = sum((container.registry.position(worker.source(p)) or -1) + 1 for p in ends)
            task = progress.add_task("应用公示", total=sum(ends.values()), completed=done)
            started = time.monotonic()
            while count := worker.run_once(timeout_s=0.2):
                progress.advance(task, count)
            elapsed = time.monotonic() - started
            counts = dict(worker.counts)
            console.print(f"ingestion: {counts} in {elapsed:.1f}s")
        if project:
            projection = container.projection
            task = progress.add_task("更新索引", total=projection.head(), completed=projection.position())
            while projection.run_once():
                progress.update(task, completed=projection.position())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default GONGSHI_HTTP_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default GONGSHI_HTTP_PORT")] = None,
) -> None:
    """Run the API, the ingestion worker and the projection in one process."""
    container = _container()
    _serve(container, run_background=True, host=host, port=port)


def _serve(
    container: Container, *, run_background: bool, host: str | None = None, port: int | None = None
) -> None:
    import uvicorn

    from api.app import create_app

    s = container.settings
    uvicorn.run(
        create_app(container, run_background=run_background),
        host=host or s.http_host,
        port=port or s.http_port,
        log_level="info",
    )


@app.command()
def load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
) -> None:
    """Publish a file, then apply it and index it (the demo's loader; same path as production)."""
    publish(file, Via.log)
    container = _container()
    _catch_up(container, ingest=True, project=True)
    container.close()


@app.command()
def parked() -> None:
    """List publications waiting for their entity's registration."""
    container = _container()
    table = Table("publication_id", "uscc", "kind", "department", "occurred_on")
    for envelope in container.registry.all_parked():
        table.add_row(
            envelope["publication_id"],
            envelope["uscc"],
            envelope["kind"],
            envelope["department"],
            envelope["occurred_on"],
        )
    _out().print(table)
    container.close()


departments_app = typer.Typer(help="Connected departments.")
app.add_typer(departments_app, name="departments")


@departments_app.command("list")
def departments_list() -> None:
    """The departments and the kinds each may publish."""
    table = Table("code", "name", "kinds")
    for d in _container().departments.all():
        table.add_row(d.code, d.name, ", ".join(sorted(d.kinds)))
    _out().print(table)


if __name__ == "__main__":
    app()
