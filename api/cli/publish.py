"""Data in: `gongshi generate`, `gongshi publish` and `gongshi load`."""

from __future__ import annotations

from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from api.cli.console import console, open_container, out, progress
from api.cli.publishing import (
    Gateway,
    GatewayRefused,
    StatusSource,
    ViewStatuses,
    read_lines,
    to_log,
    wait_for,
)
from api.cli.run import catch_up


def generate(
    entities: Annotated[int, typer.Option(help="number of market entities")] = 2000,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same file)")] = 1,
    out_file: Annotated[Path, typer.Option("--out", help="JSON Lines file of publication envelopes")] = Path(
        "var/demo.jsonl"
    ),
    today: Annotated[str | None, typer.Option(help="last business date (default: the system's date)")] = None,
) -> None:
    """Write realistic publication envelopes for N entities across Tianjin's 16 districts."""
    from infra.datagen.generator import write_jsonl

    as_of = date.fromisoformat(today) if today else open_container().clock.today()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with progress() as bar:
        task = bar.add_task("生成数据", total=entities)
        count = write_jsonl(
            out_file, entities, seed, as_of, on_progress=lambda done: bar.update(task, completed=done)
        )
        bar.update(task, completed=entities)
    console.print(f"{count} publications for {entities} entities → {out_file}")


class Via(str, Enum):
    log = "log"
    kafka = "kafka"
    gateway = "gateway"


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
    lines = read_lines(file)
    container = None if via is Via.gateway else open_container()
    gateway = None
    try:
        with progress() as bar:
            sending = bar.add_task("发布", total=len(lines))

            def sent(done: int) -> None:
                bar.update(sending, completed=done)

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
                waiting = bar.add_task("等待处理", total=len(tally.ids))
                settled = wait_for(source, tally, timeout, lambda done: bar.update(waiting, completed=done))
    except GatewayRefused as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    finally:
        if gateway is not None:
            gateway.close()
        if container is not None:
            container.close()
    out().print(tally.summary(waited=wait))
    if not settled:
        console.print(f"[yellow]still pending after {timeout:g}s: {len(tally.pending)}[/yellow]")
        raise typer.Exit(1)


def load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
) -> None:
    """Publish a file, then apply it and index it (the demo's loader; same path as production)."""
    publish(file, Via.log, wait=False)
    container = open_container()
    try:
        catch_up(container, ingest=True, project=True)
    finally:
        container.close()
