"""A department's desk on the command line: `gongshi repairs list|decide`, `gongshi objections
list|decide` — the same cases and decisions as `/api/v1/departments/{code}/…`, for an operator
acting for the department (principal `department:CODE/cli`).

`repairs` covers credit repair (`--kind repair`, the default) and removal from the abnormal list
(`--kind abnormal-removal`).
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer
from rich.table import Table

from api.cli.console import audited, console, open_container, out
from domain.errors import DomainError
from infra.bootstrap import Container

repairs_app = typer.Typer(help="Credit repair and abnormal-list removal applications a department decides.")
objections_app = typer.Typer(help="Objections to records a department answers.")


class RepairKind(str, Enum):
    repair = "repair"
    abnormal_removal = "abnormal-removal"


_ENDPOINT = {RepairKind.repair: "repairs", RepairKind.abnormal_removal: "abnormal-removals"}
_KIND = {RepairKind.repair: "repair", RepairKind.abnormal_removal: "abnormal_removal"}
Department = Annotated[
    str, typer.Option("--department", "-d", help="the deciding department's code, e.g. TJ-AMR")
]
Status = Annotated[str, typer.Option(help="pending (default), approved, rejected, resolved, or all")]


def _table(rows: list[dict[str, object]]) -> Table:
    table = Table("number", "uscc", "record", "filed_on", "due_on", "status", "decided_on")
    for r in rows:
        due = str(r.get("due_on") or "") + ("（估算）" if r.get("due_warning") else "")
        table.add_row(
            str(r["number"]),
            str(r["uscc"]),
            f"{r['target']} {r['record_no']}",
            str(r["filed_on"]),
            due,
            str(r["status"]),
            str(r.get("decided_on") or ""),
        )
    return table


def _list(department: str, endpoint: str, status: str) -> None:
    container = open_container()
    try:
        if department not in container.departments:
            console.print(f"[red]未登记的部门“{department}”[/red]")
            raise typer.Exit(2)
        container.casework_projection.catch_up()
        rows = container.decisions.cases(
            department, endpoint, None if status == "all" else status, limit=10_000
        )
    finally:
        container.close()
    out().print(_table(rows))


def _decide(container: Container, work: object, **arguments: object) -> None:
    try:
        accepted = work()  # type: ignore[operator]
    except DomainError as err:
        console.print(f"[red]{err.code}: {err.message}[/red]")
        raise typer.Exit(1) from None
    audited(
        container,
        "cases.decided",
        publication_id=accepted["publication_id"],
        kind=accepted["kind"],
        **arguments,
    )
    console.print(f"published {accepted['kind']} {accepted['publication_id']} for {accepted['uscc']}")


@repairs_app.command("list")
def repairs_list(
    department: Department,
    kind: Annotated[RepairKind, typer.Option(help="repair or abnormal-removal")] = RepairKind.repair,
    status: Status = "pending",
) -> None:
    """The department's applications, oldest number first, with their deadlines."""
    _list(department, _ENDPOINT[kind], status)


@repairs_app.command("decide")
def repairs_decide(
    number: Annotated[str, typer.Argument(help="the application's number")],
    department: Department,
    approve: Annotated[bool, typer.Option("--approve/--reject", help="approve or refuse")],
    reason: Annotated[str, typer.Option(help="the reason (shown to the enterprise)")],
    kind: Annotated[RepairKind, typer.Option(help="repair or abnormal-removal")] = RepairKind.repair,
) -> None:
    """Approve (repair.approved / abnormal.removed) or refuse (application.rejected)."""
    container = open_container()
    try:
        container.casework_projection.catch_up()
        _decide(
            container,
            lambda: container.decisions.decide_application(
                department, number, _KIND[kind], approve, reason, f"department:{department}/cli"
            ),
            department=department,
            number=number,
            approve=approve,
            reason=reason,
        )
    finally:
        container.close()


@objections_app.command("list")
def objections_list(department: Department, status: Status = "pending") -> None:
    """The objections the department answers, with their deadlines."""
    _list(department, "objections", status)


@objections_app.command("decide")
def objections_decide(
    number: Annotated[str, typer.Argument(help="the objection's number")],
    department: Department,
    upheld: Annotated[bool, typer.Option("--upheld/--not-upheld", help="the record was wrong, or not")],
    reason: Annotated[str, typer.Option(help="the answer")],
) -> None:
    """Answer an objection (objection.resolved)."""
    container = open_container()
    try:
        container.casework_projection.catch_up()
        _decide(
            container,
            lambda: container.decisions.decide_objection(
                department, number, upheld, reason, f"department:{department}/cli"
            ),
            department=department,
            number=number,
            upheld=upheld,
            reason=reason,
        )
    finally:
        container.close()
