"""Running the platform: `gongshi serve` (everything in one process) and `gongshi run ROLE`
(one role per process, to scale out). Background threads run under `api.supervisor`."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Collection
from enum import Enum
from types import FrameType
from typing import Annotated

import typer

from api.cli.console import console, open_container, progress, setup_logging
from api.supervisor import Role as BackgroundRole
from api.supervisor import Supervisor, runners_for
from infra.bootstrap import FOLLOWER_NAMES, Container
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
    only: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME",
            help=(
                "projections: run only these followers of the event store (repeat the option, or "
                f"give a comma list): {', '.join(FOLLOWER_NAMES)}. Run the rest in other processes; "
                "each follower's position is its own. Default: all of them"
            ),
        ),
    ] = None,
) -> None:
    """Run one role: the ingestion worker, the projections, or the API."""
    chosen = followers_chosen(only)
    if chosen is not None and role is not Role.projections:
        raise typer.BadParameter("只有 projections 角色可以选择投影", param_hint="--only")
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
            catch_up(built, ingest=role is Role.ingest, project=role is Role.projections, only=chosen)
        finally:
            built.close()
        return
    supervisor = Supervisor(runners_for(built, BackgroundRole(role.value), chosen))
    try:
        healthy = supervise(supervisor)
    finally:
        built.close()
    if not healthy:
        failed = ", ".join(f"{name} ({err!r})" for name, err in supervisor.failures.items())
        console.print(f"[red]后台任务异常退出：{failed}[/red]")
        raise typer.Exit(1)


def followers_chosen(only: list[str] | None) -> list[str] | None:
    """The follower names `--only` gives (repeated, or comma lists), each once; None without
    `--only`. An unknown or missing name is a usage error naming the valid ones."""
    if only is None:
        return None
    names = list(dict.fromkeys(name.strip() for value in only for name in value.split(",") if name.strip()))
    valid = "、".join(FOLLOWER_NAMES)
    if not names:
        raise typer.BadParameter(f"请给出至少一个投影名称，可选：{valid}", param_hint="--only")
    unknown = [name for name in names if name not in FOLLOWER_NAMES]
    if unknown:
        raise typer.BadParameter(f"没有名为 {'、'.join(unknown)} 的投影，可选：{valid}", param_hint="--only")
    return names


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


def catch_up(
    container: Container, *, ingest: bool, project: bool, only: Collection[str] | None = None
) -> None:
    """Apply what the log holds, then bring every follower (those named `only`, when given) up to
    the event store's head."""
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
            followers = container.followers if only is None else container.followers_named(only)
            for follower in followers:
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
