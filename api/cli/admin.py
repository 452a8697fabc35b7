"""Operating the platform: parked publications, departments and their keys, projections, jobs."""

from __future__ import annotations

import functools
from datetime import date
from enum import Enum
from typing import Annotated

import typer
from rich.table import Table

from adapters.search_index.base import PROJECTIONS
from api.cli.console import console, open_container, out, progress, set_completed, set_total


def parked() -> None:
    """List publications waiting for their entity's registration."""
    container = open_container()
    table = Table("publication_id", "uscc", "kind", "department", "occurred_on")
    for envelope in container.registry.all_parked():
        table.add_row(
            envelope["publication_id"],
            envelope["uscc"],
            envelope["kind"],
            envelope["department"],
            envelope["occurred_on"],
        )
    out().print(table)
    container.close()


departments_app = typer.Typer(help="Connected departments.")


@departments_app.command("list")
def departments_list() -> None:
    """The departments and the kinds each may publish."""
    table = Table("code", "name", "kinds")
    for d in open_container().departments.all():
        table.add_row(d.code, d.name, ", ".join(sorted(d.kinds)))
    out().print(table)


@departments_app.command("add-key")
def departments_add_key(
    department: Annotated[str, typer.Argument(help="the department's code, e.g. TJ-AMR")],
) -> None:
    """Issue an API key for the gateway; it is shown once, only its hash is kept."""
    container = open_container()
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
    container = open_container()
    table = Table("key_id", "department", "created_at", "revoked_at")
    for k in container.credentials.list_keys():
        revoked = k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else ""
        table.add_row(k.key_id, k.department, k.created_at.isoformat(timespec="seconds"), revoked)
    container.close()
    out().print(table)


@departments_app.command("revoke-key")
def departments_revoke_key(
    key_id: Annotated[str, typer.Argument(help="the key's id (see `gongshi departments keys`)")],
) -> None:
    """Revoke an API key: the gateway refuses it from the next request on."""
    container = open_container()
    try:
        revoked = container.credentials.revoke(key_id)
    finally:
        container.close()
    if not revoked:
        console.print(f"[red]没有编号为 {key_id} 的有效密钥[/red]")
        raise typer.Exit(2)
    console.print(f"key {key_id} revoked")


projections_app = typer.Typer(help="The search-index projections: progress and rebuilds.")


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
    container = open_container()
    try:
        for projection_name in names:
            with progress() as bar:
                task = bar.add_task(f"重建索引 {projection_name}", total=None)
                report = rebuild_projection(
                    container.projections[projection_name],
                    batch_size=batch_size,
                    on_start=functools.partial(set_total, bar, task),
                    on_progress=functools.partial(set_completed, bar, task),
                )
            console.print(
                f"{projection_name}: {report.entities} entities → {report.target} (filled up to "
                f"notification {report.started_from}; {report.replayed} later notifications re-projected)"
            )
    finally:
        container.close()


@projections_app.command("status")
def projections_status() -> None:
    """Each projection's position, the log's head and the lag."""
    from api.metrics import projection_state

    container = open_container()
    table = Table("projection", "position", "head", "lag")
    for follower in container.followers:
        state = projection_state(follower)
        table.add_row(*(str(state[k]) for k in ("name", "position", "head", "lag")))
    out().print(table)
    container.close()


jobs_app = typer.Typer(help="Scheduled jobs (also run daily inside `gongshi serve`).")
jobs_run_app = typer.Typer(help="Run one job now.")
jobs_app.add_typer(jobs_run_app, name="run")


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
    container = open_container()
    try:
        day = day_given or container.clock.today()
        changed = run_publicity(container.index, day)
    finally:
        container.close()
    console.print(f"publicity as of {day.isoformat()}: {changed} entities changed")
