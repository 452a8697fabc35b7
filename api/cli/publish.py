"""Data in: `gongshi generate`, `gongshi publish` and `gongshi load`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.credentials.signing import Signer
from adapters.publication_log.base import Headers
from api.cli.console import console, open_container, out, progress
from api.cli.publishing import (
    Gateway,
    GatewayRefused,
    StatusSource,
    ViewStatuses,
    Waited,
    read_lines,
    to_log,
    wait_for,
)
from api.cli.run import catch_up

if TYPE_CHECKING:
    from infra.bootstrap import Container


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


#: Seconds without any progress (no status decided, no worker or status-projection position
#: moved) before `gongshi publish` says no worker is running.
STALL_TIMEOUT_S = 5.0
EXIT_PENDING = 1
EXIT_NO_WORKER = 3


#: Who acted, in what `gongshi load` publishes (signed with the platform's key).
LOAD_PRINCIPAL = "job:load"


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
    stall_timeout: Annotated[
        float,
        typer.Option(
            min=0.5,
            help="give up when nothing has moved for this many seconds (no worker running; exit code 3)",
        ),
    ] = STALL_TIMEOUT_S,
    signing_key: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            help="the department's signing key file (the signing_private_key `departments add-key` "
            "printed; default GONGSHI_SIGNING_KEY_FILE): every message is signed with it (--via log/kafka)",
        ),
    ] = None,
) -> None:
    """Publish a file of envelopes (to the log, or through the gateway) and report what became of them.

    On the log every message is signed with the department's signing key (--signing-key); the
    gateway signs for the department itself.

    Exit codes: 0 every publication decided (or --no-wait); 1 still pending when --timeout ran out
    while the worker was making progress, or the gateway refused; 2 no signing key (--via log/kafka);
    3 no worker moved anything for --stall-timeout seconds."""
    _publish(file, via, gateway_url, api_key, wait, timeout, stall_timeout, signing_key=signing_key)


def _department_signer(container: Container, path: Path | None) -> Callable[[bytes], Headers]:
    path = path or container.settings.signing_key_file
    if path is None:
        console.print(
            "[red]发布到公示队列的消息必须签名：请以 --signing-key 文件（或 GONGSHI_SIGNING_KEY_FILE）"
            "给出本部门的签名私钥（gongshi departments add-key 输出的 signing_private_key）。[/red]",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    try:
        signer = Signer.from_base64(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        console.print(f"[red]无法读取签名私钥 {path}：{err}[/red]")
        raise typer.Exit(2) from None
    return signer.headers


def _publish(
    file: Path,
    via: Via,
    gateway_url: str = "http://127.0.0.1:8000",
    api_key: str | None = None,
    wait: bool = True,
    timeout: float = 300.0,
    stall_timeout: float = STALL_TIMEOUT_S,
    *,
    signing_key: Path | None = None,
    as_platform: str | None = None,
) -> None:
    """`as_platform`: sign with the platform's own key in the name of this principal (`gongshi
    load`), instead of a department's key."""
    lines = read_lines(file)
    container = None if via is Via.gateway else open_container()
    sign: Callable[[bytes], Headers] | None = None
    if container is not None:
        try:
            if as_platform is not None:
                sign = container.signed_by_platform(as_platform)
            else:
                sign = _department_signer(container, signing_key)
        except BaseException:
            container.close()
            raise
    gateway = None
    try:
        with progress() as bar:
            sending = bar.add_task("发布", total=len(lines))

            def sent(done: int) -> None:
                bar.update(sending, completed=done)

            source: StatusSource | None = None
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
                assert sign is not None
                tally = to_log(container.log, container.settings.publications_topic, lines, sent, sign)
                console.print(f"{len(lines)} lines → {container.settings.publications_topic}")
                if wait:  # the event store is opened only to follow the progress
                    c = container
                    source = ViewStatuses(c.status_view, c.worker, c.status_projection)
            for code, count in sorted(tally.refusals.items()):
                console.print(f"gateway refused {count}: {code}")
            waited = Waited.settled
            behind: list[str] = []
            if source is not None and wait and tally.ids:
                if via is not Via.gateway:
                    console.print(
                        "waiting for the worker and the status projection "
                        "(`gongshi serve`, or `gongshi run ingest` + `gongshi run projections`); "
                        "--no-wait skips this"
                    )
                waiting = bar.add_task("等待处理", total=len(tally.ids))
                waited = wait_for(
                    source,
                    tally,
                    timeout,
                    lambda done: bar.update(waiting, completed=done),
                    stall_s=stall_timeout,
                )
                if waited is Waited.stalled:
                    behind = source.behind()
    except GatewayRefused as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    finally:
        if gateway is not None:
            gateway.close()
        if container is not None:
            container.close()
    out().print(tally.summary(waited=wait))
    if waited is Waited.stalled:
        _no_worker(stall_timeout, len(tally.pending), behind, via)
        raise typer.Exit(EXIT_NO_WORKER)
    if waited is Waited.timed_out:
        console.print(f"[yellow]still pending after {timeout:g}s: {len(tally.pending)}[/yellow]")
        raise typer.Exit(EXIT_PENDING)


def _no_worker(stall_s: float, pending: int, behind: list[str], via: Via) -> None:
    where = "在网关所在的服务器上启动" if via is Via.gateway else "请启动"
    console.print(
        f"[red]{stall_s:g} 秒内没有任何进展：没有处理进程在应用这些公示（{pending} 条仍待处理）。[/red]",
        soft_wrap=True,
    )
    for line in behind:
        console.print(f"  · {line}", soft_wrap=True)
    console.print(
        f"{where}处理进程：[bold]gongshi serve[/bold]（API、摄取与投影在同一进程），"
        "或 [bold]gongshi run ingest[/bold] 加 [bold]gongshi run projections[/bold]。"
        "公示已在队列中，处理进程启动后即会处理；--stall-timeout 可延长等待，--no-wait 不等待。",
        soft_wrap=True,  # the commands stay on one line, to copy
    )


def load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
) -> None:
    """Publish a file, then apply it and index it (the demo's loader; same path as production).

    The platform signs the file with its own key (principal `job:load`): a bulk load is the
    platform acting on the operator's word, for every department the file names."""
    _publish(file, Via.log, wait=False, as_platform=LOAD_PRINCIPAL)
    container = open_container()
    try:
        catch_up(container, ingest=True, project=True)
    finally:
        container.close()
