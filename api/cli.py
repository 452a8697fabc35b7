"""The `gongshi` command line."""

from __future__ import annotations

import functools
import logging
import sys
import threading
import time
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from adapters.search_index.base import PROJECTIONS
from infra.bootstrap import Container, build
from infra.settings import Settings

app = typer.Typer(
    help="Gongshi 公示 — market-entity credit information publicity platform.", no_args_is_help=True
)
console = Console(stderr=True)


def _out() -> Console:
    """Standard output; wide when not a terminal, so tables are not wrapped for scripts."""
    return Console() if sys.stdout.isatty() else Console(width=240)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # the Elasticsearch client logs every request at INFO: a line per search, beside the access log
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)


def _container() -> Container:
    _logging()
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


class Via(str, Enum):
    log = "log"
    kafka = "kafka"
    gateway = "gateway"


@app.command()
def publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON Lines of envelopes")],
    via: Annotated[
        Via, typer.Option(help="log = the configured publication log (Kafka when set); gateway = HTTP")
    ] = Via.log,
    gateway_url: Annotated[str, typer.Option(help="the gateway's base URL (--via gateway)")] = (
        "http://127.0.0.1:8000"
    ),
    api_key: Annotated[str | None, typer.Option(help="the department's API key gs_… (--via gateway)")] = None,
    wait: Annotated[
        bool, typer.Option(help="wait until every publication is applied, parked or rejected")
    ] = True,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the statuses")] = 300.0,
) -> None:
    """Publish a file of envelopes (to the log, or through the gateway) and report what became of them."""
    from api.publishing import (
        Gateway,
        GatewayRefused,
        StatusSource,
        ViewStatuses,
        read_lines,
        to_log,
        wait_for,
    )

    lines = read_lines(file)
    container = None if via is Via.gateway else _container()
    gateway = None
    try:
        with _progress() as progress:
            sending = progress.add_task("发布", total=len(lines))

            def sent(done: int) -> None:
                progress.update(sending, completed=done)

            source: StatusSource
            if via is Via.gateway:
                if not api_key:
                    raise typer.BadParameter("--api-key is required with --via gateway")
                gateway = Gateway(gateway_url, api_key)
                tally = gateway.post_all(lines, sent)
                source = gateway
            else:
                assert container is not None
                if via is Via.kafka and not container.settings.kafka_bootstrap:
                    raise typer.BadParameter("GONGSHI_KAFKA_BOOTSTRAP is not set")
                tally = to_log(container.log, container.settings.publications_topic, lines, sent)
                console.print(f"{len(lines)} lines → {container.settings.publications_topic}")
                source = ViewStatuses(container.status_view)
            for code, count in sorted(tally.refusals.items()):
                console.print(f"gateway refused {count}: {code}")
            settled = True
            if wait and tally.ids:
                if via is not Via.gateway:
                    console.print(
                        "waiting for the worker and the status projection "
                        "(`gongshi serve`, or `gongshi run ingest` + `gongshi run projections`); "
                        "--no-wait skips this"
                    )
                waiting = progress.add_task("等待处理", total=len(tally.ids))
                settled = wait_for(
                    source, tally, timeout, lambda done: progress.update(waiting, completed=done)
                )
    except GatewayRefused as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    finally:
        if gateway is not None:
            gateway.close()
        if container is not None:
            container.close()
    _out().print(tally.summary(waited=wait))
    if not settled:
        console.print(f"[yellow]still pending after {timeout:g}s: {len(tally.pending)}[/yellow]")
        raise typer.Exit(1)


class Role(str, Enum):
    ingest = "ingest"
    projections = "projections"
    api = "api"


@app.command()
def run(
    role: Annotated[Role, typer.Argument(help="the one role this process runs")],
    until_idle: Annotated[bool, typer.Option(help="stop when there is nothing left to do")] = False,
    workers: Annotated[
        int, typer.Option(min=1, help="api: uvicorn worker processes (the API is stateless)")
    ] = 1,
) -> None:
    """Run one role: the ingestion worker, the projections, or the API."""
    if role is Role.api and workers > 1:
        import uvicorn

        s = Settings()
        _logging()
        uvicorn.run(
            "api.app:app_from_environment",
            factory=True,
            workers=workers,
            host=s.http_host,
            port=s.http_port,
            log_level="info",
        )
        return
    container = _container()
    if role is Role.api:
        _serve(container, run_background=False)
        return
    if until_idle:
        _catch_up(container, ingest=role is Role.ingest, project=role is Role.projections)
        container.close()
        return
    runners: list[Any] = [container.worker] if role is Role.ingest else container.followers
    threads = [threading.Thread(target=r.run_forever, daemon=True, name=r.name) for r in runners[1:]]
    for thread in threads:
        thread.start()
    try:
        runners[0].run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for runner in runners:
            runner.stop()
        for thread in threads:
            thread.join(timeout=10)
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
            for follower in container.followers:
                label = f"投影 {follower.name}"
                task = progress.add_task(label, total=follower.head(), completed=follower.position())
                while follower.run_once():
                    progress.update(task, completed=follower.position())


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
    publish(file, Via.log, wait=False)
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


@departments_app.command("add-key")
def departments_add_key(
    department: Annotated[str, typer.Argument(help="the department's code, e.g. TJ-AMR")],
) -> None:
    """Issue an API key for the gateway; it is shown once, only its hash is kept."""
    container = _container()
    try:
        if department not in container.departments:
            known = ", ".join(d.code for d in container.departments.all())
            console.print(f"[red]未登记的部门“{department}”[/red]；已接入的部门：{known}")
            raise typer.Exit(2)
        key = container.credentials.add_key(department)
    finally:
        container.close()
    console.print(f"API key for {department} (shown once; keep it secret):")
    typer.echo(key)


@departments_app.command("keys")
def departments_keys() -> None:
    """The issued API keys (their ids, never the keys)."""
    container = _container()
    table = Table("key_id", "department", "created_at", "revoked_at")
    for k in container.credentials.list_keys():
        revoked = k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else ""
        table.add_row(k.key_id, k.department, k.created_at.isoformat(timespec="seconds"), revoked)
    container.close()
    _out().print(table)


@departments_app.command("revoke-key")
def departments_revoke_key(
    key_id: Annotated[str, typer.Argument(help="the key's id (see `gongshi departments keys`)")],
) -> None:
    """Revoke an API key: the gateway refuses it from the next request on."""
    container = _container()
    try:
        revoked = container.credentials.revoke(key_id)
    finally:
        container.close()
    if not revoked:
        console.print(f"[red]没有编号为 {key_id} 的有效密钥[/red]")
        raise typer.Exit(2)
    console.print(f"key {key_id} revoked")


projections_app = typer.Typer(help="The search-index projections: progress and rebuilds.")
app.add_typer(projections_app, name="projections")


class ProjectionName(str, Enum):
    entities = "entities"
    records = "records"
    sharing = "sharing"
    all = "all"


@projections_app.command("rebuild")
def projections_rebuild(
    name: Annotated[
        ProjectionName,
        typer.Argument(
            help="entities = public entity documents, records = publicised records, "
            "sharing = agency documents, all = the three one after the other"
        ),
    ],
    batch_size: Annotated[int, typer.Option(help="entities per bulk write")] = 500,
) -> None:
    """Fill a new index generation from the event store, then swap it in (no downtime)."""
    from projections.rebuild import rebuild_projection

    names = list(PROJECTIONS) if name is ProjectionName.all else [name.value]
    container = _container()
    try:
        for projection_name in names:
            with _progress() as progress:
                task = progress.add_task(f"重建索引 {projection_name}", total=None)
                report = rebuild_projection(
                    container.projections[projection_name],
                    batch_size=batch_size,
                    on_start=functools.partial(_set_total, progress, task),
                    on_progress=functools.partial(_set_completed, progress, task),
                )
            console.print(
                f"{projection_name}: {report.entities} entities → {report.target} (filled up to "
                f"notification {report.started_from}; {report.replayed} later notifications re-projected)"
            )
    finally:
        container.close()


def _set_total(progress: Progress, task: TaskID, total: int) -> None:
    progress.update(task, total=total)


def _set_completed(progress: Progress, task: TaskID, done: int) -> None:
    progress.update(task, completed=done)


@projections_app.command("status")
def projections_status() -> None:
    """Each projection's position, the log's head and the lag."""
    from api.metrics import projection_state, tracked_projections

    container = _container()
    table = Table("projection", "position", "head", "lag")
    for projection in tracked_projections(container):
        state = projection_state(projection)
        table.add_row(*(str(state[k]) for k in ("name", "position", "head", "lag")))
    _out().print(table)
    container.close()


jobs_app = typer.Typer(help="Scheduled jobs (also run daily inside `gongshi serve`).")
jobs_run_app = typer.Typer(help="Run one job now.")
jobs_app.add_typer(jobs_run_app, name="run")
app.add_typer(jobs_app, name="jobs")


@jobs_run_app.command("publicity")
def jobs_run_publicity(
    as_of: Annotated[str | None, typer.Option(help="the date (default: the system's date)")] = None,
) -> None:
    """Re-evaluate publicity windows: penalties enter and leave the public indexes' flags."""
    from projections.publicity import run_publicity

    try:
        day_given = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {as_of}") from None
    container = _container()
    try:
        day = day_given or container.clock.today()
        changed = run_publicity(container.index, day)
    finally:
        container.close()
    console.print(f"publicity as of {day.isoformat()}: {changed} entities changed")


if __name__ == "__main__":
    app()
