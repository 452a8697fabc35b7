"""Running the platform: `gongshi serve` (everything in one process) and `gongshi run ROLE`
(one role per process, to scale out). Background threads run under `api.supervisor`."""

from __future__ import annotations

import signal
import threading
import time
from enum import Enum
from types import FrameType
from typing import Annotated

import typer

from api.cli.console import console, open_container, progress, setup_logging
from api.supervisor import Role as BackgroundRole
from api.supervisor import Supervisor, runners_for
from infra.bootstrap import Container
from infra.settings import Settings


class Role(str, Enum):
    ingest = "ingest"
    projections = "projections"
    api = "api"


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
        setup_logging()
        uvicorn.run(
            "api.app:app_from_environment",
            factory=True,
            workers=workers,
            host=s.http_host,
            port=s.http_port,
            log_level="info",
        )
        return
    built = open_container()
    if role is Role.api:
        serve_http(built, run_background=False)
        return
    if until_idle:
        try:
            catch_up(built, ingest=role is Role.ingest, project=role is Role.projections)
        finally:
            built.close()
        return
    supervisor = Supervisor(runners_for(built, BackgroundRole(role.value)))
    try:
        healthy = supervise(supervisor)
    finally:
        built.close()
    if not healthy:
        failed = ", ".join(f"{name} ({err!r})" for name, err in supervisor.failures.items())
        console.print(f"[red]后台任务异常退出：{failed}[/red]")
        raise typer.Exit(1)


def supervise(supervisor: Supervisor) -> bool:
    """Run the supervisor's runners until Ctrl-C or SIGTERM (a clean stop) or until one of them
    fails; returns False when one failed."""

    def on_term(signum: int, frame: FrameType | None) -> None:
        supervisor.request_stop()

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_term) if in_main else None
    supervisor.start()
    try:
        supervisor.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stuck = supervisor.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
    if stuck:
        console.print(f"[yellow]仍在运行（已放弃等待）：{', '.join(stuck)}[/yellow]")
    return not supervisor.failures


def catch_up(container: Container, *, ingest: bool, project: bool) -> None:
    """Apply what the log holds, then bring every follower up to the event store's head."""
    with progress() as bar:
        if ingest:
            ends = container.log.end_offsets(container.settings.publications_topic)
            worker = container.worker
            done = sum(worker.recorded(ends).values())
            task = bar.add_task("应用公示", total=sum(ends.values()), completed=done)
            started = time.monotonic()
            while count := worker.run_once(timeout_s=0.2):
                bar.advance(task, count)
            elapsed = time.monotonic() - started
            counts = dict(worker.counts)
            console.print(f"ingestion: {counts} in {elapsed:.1f}s")
        if project:
            for follower in container.followers:
                label = f"投影 {follower.name}"
                task = bar.add_task(label, total=follower.head(), completed=follower.position())
                while follower.run_once():
                    bar.update(task, completed=follower.position())


def serve(
    host: Annotated[str | None, typer.Option(help="default GONGSHI_HTTP_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default GONGSHI_HTTP_PORT")] = None,
) -> None:
    """Run the API, the ingestion worker and the projection in one process."""
    serve_http(open_container(), run_background=True, host=host, port=port)


def serve_http(
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
