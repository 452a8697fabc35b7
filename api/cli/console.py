"""What every command shares: the consoles, logging, the container, progress bars."""

from __future__ import annotations

import logging
import os
import pwd
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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

from adapters.audit_trail import AuditUnavailable
from api.operations import ActRefused
from infra.bootstrap import Container, build
from infra.settings import Settings

#: Messages and progress go to standard error; results to standard output (`out()`).
console = Console(stderr=True)


def out() -> Console:
    """Standard output; wide when not a terminal, so tables are not wrapped for scripts."""
    return Console() if sys.stdout.isatty() else Console(width=240)


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # the Elasticsearch client logs every request at INFO: a line per search, beside the access log
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)


def open_container() -> Container:
    setup_logging()
    return build(Settings())


def operator() -> str:
    """Who runs this command, for the audit trail: `cli:` and the operating-system user (from the
    process's real uid, not from an environment variable anyone can set)."""
    try:
        name = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        name = f"uid{os.getuid()}"
    return f"cli:{name}"


def audited(container: Container, action: str, **arguments: Any) -> None:
    """Record an act just done in the audit trail; when the trail cannot take it, say so and exit 1
    (the act stands, unrecorded: the operator must know)."""
    try:
        container.record_act(operator(), action, **arguments)
    except AuditUnavailable as err:
        console.print(f"[red]操作已完成，但未能写入审计记录：{err}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None


#: How the command line names an argument an act refused (api.operations.ActRefused.param).
HINTS = {
    "code": "CODE",
    "kinds": "--kinds",
    "name": "--name",
    "scopes": "--scopes",
    "department": "--department",
    "as_of": "--as-of",
    "older_than_days": "--older-than",
}


@contextmanager
def acting() -> Iterator[None]:
    """Around an act of `api.operations`: a refusal becomes a usage error (invalid argument) or
    a red line and exit 2 (unknown, conflicting); an act the trail could not take, exit 1."""
    try:
        yield
    except ActRefused as err:
        if err.status == 422:
            raise typer.BadParameter(err.message, param_hint=HINTS.get(err.param or "")) from None
        console.print(f"[red]{err.message}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    except AuditUnavailable as err:
        console.print(f"[red]操作已完成，但未能写入审计记录：{err}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None


def progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def set_total(bar: Progress, task: TaskID, total: int) -> None:
    bar.update(task, total=total)


def set_completed(bar: Progress, task: TaskID, done: int) -> None:
    bar.update(task, completed=done)
