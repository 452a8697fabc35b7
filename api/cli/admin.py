"""Operating the platform: parked publications, departments and their keys, projections, jobs."""

from __future__ import annotations

import functools
import json
from datetime import date
from enum import Enum
from typing import Annotated

import typer
from rich.table import Table

from adapters.credentials import AccountError, key_id_of
from adapters.publication_log.base import LogUnavailable
from adapters.search_index.base import PROJECTIONS
from api.cli.console import (
    audited,
    console,
    open_container,
    out,
    progress,
    set_completed,
    set_total,
)
from domain.access import Role
from domain.departments import DepartmentType
from infra.bootstrap import Container


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


def kafka_username(department: str, key_id: str) -> str:
    """The Kafka principal of one department key (one per key, so two live during a rotation)."""
    return f"dept-{department}-{key_id}"


@departments_app.command("add-key")
def departments_add_key(
    department: Annotated[str, typer.Argument(help="the department's code, e.g. TJ-AMR")],
) -> None:
    """Issue a department's credentials, shown once: an API key for the gateway, a Kafka login
    allowed to write the publications topic only, and an Ed25519 signing key.

    The last line of standard output is one JSON object: `api_key`, `kafka_username`,
    `kafka_password`, `sasl_mechanism` (the three Kafka fields null without Kafka),
    `signing_key_id`, `signing_private_key` (base64 of the 32-byte private key), `department`,
    `topic` and `kafka_bootstrap`. Only hashes and the public key are kept."""
    container = open_container()
    try:
        if department not in container.departments:
            known = ", ".join(d.code for d in container.departments.all())
            console.print(f"[red]未登记的部门“{department}”[/red]；已接入的部门：{known}")
            raise typer.Exit(2)
        found = container.departments.get(department)
        if found is not None and found.type == DepartmentType.ENTERPRISE:
            console.print(
                f"[red]“{department}”是企业自主公示渠道，不发放部门密钥[/red]：企业以本企业账户登录报送"
                "（`gongshi enterprises invite USCC`），由平台代为签名",
                soft_wrap=True,
            )
            raise typer.Exit(2)
        credentials = container.credentials
        try:
            signer = credentials.add_signing_key(department)
        except AccountError as err:
            console.print(f"[red]{err.message}[/red]")
            raise typer.Exit(2) from None
        api_key = credentials.add(Role.DEPARTMENT, department, name=signer.key_id)
        key_id = key_id_of(api_key)
        assert key_id is not None
        topic = container.settings.publications_topic
        try:
            login = container.log_access.grant_writer(kafka_username(department, key_id), topic)
        except LogUnavailable as err:
            credentials.revoke(key_id, Role.DEPARTMENT)
            credentials.revoke_signing_key(signer.key_id)
            console.print(
                f"[red]无法在 Kafka 上创建该部门的账号（已撤回本次签发的密钥）：{err}[/red]", soft_wrap=True
            )
            raise typer.Exit(1) from None
        audited(
            container,
            "keys.created",
            role=Role.DEPARTMENT.value,
            subject=department,
            key_id=key_id,
            signing_key_id=signer.key_id,
            kafka_username=login.username if login else None,
        )
        issued = {
            "department": department,
            "api_key": api_key,
            "kafka_username": login.username if login else None,
            "kafka_password": login.password if login else None,
            "sasl_mechanism": login.mechanism if login else None,
            "kafka_bootstrap": container.settings.kafka_bootstrap if login else None,
            "topic": topic,
            "signing_key_id": signer.key_id,
            "signing_private_key": signer.private_base64(),
        }
    finally:
        container.close()
    console.print(
        f"credentials for {department} (shown once; keep them secret; key id {key_id}, "
        f"revoke with `gongshi departments revoke-key {key_id}`):",
        soft_wrap=True,
    )
    typer.echo(json.dumps(issued, ensure_ascii=False))


@departments_app.command("keys")
def departments_keys() -> None:
    """The issued department keys (their ids, never the keys) with their signing key and Kafka user."""
    container = open_container()
    table = Table("key_id", "department", "signing_key_id", "kafka_user", "created_at", "revoked_at")
    for k in container.credentials.list_keys():
        revoked = k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else ""
        signing = k.name if k.name and k.name.startswith("sk_") else ""
        table.add_row(
            k.key_id,
            k.department,
            signing,
            kafka_username(k.department, k.key_id) if signing else "",
            k.created_at.isoformat(timespec="seconds"),
            revoked,
        )
    container.close()
    out().print(table)


@departments_app.command("revoke-key")
def departments_revoke_key(
    key_id: Annotated[
        str,
        typer.Argument(help="a key id from `gongshi departments keys`, or a signing key's id (sk_…) alone"),
    ],
) -> None:
    """Revoke a department key and everything issued with it: the gateway refuses the API key from
    the next request on, Kafka refuses its user (ACLs and login removed), and the worker refuses
    its signing key from its next batch on. Publications signed before stay in the history."""
    container = open_container()
    done: list[str] = []
    try:
        try:
            _revoke_department_key(container, key_id, done)
        finally:
            if done:  # what was revoked is recorded, also when the Kafka user could not be removed
                audited(
                    container,
                    "keys.revoked",
                    role="signing" if key_id.startswith("sk_") else Role.DEPARTMENT.value,
                    key_id=key_id,
                    revoked=done,
                )
    finally:
        container.close()
    if not done:
        console.print(f"[red]没有编号为 {key_id} 的有效密钥[/red]")
        raise typer.Exit(2)
    console.print(f"revoked: {', '.join(done)}")


def _revoke_department_key(container: Container, key_id: str, done: list[str]) -> None:
    credentials = container.credentials
    if key_id.startswith("sk_"):
        if credentials.revoke_signing_key(key_id):
            done.append(f"signing key {key_id}")
        return
    issued = next((k for k in credentials.list_keys() if k.key_id == key_id), None)
    if issued is None:
        return
    if credentials.revoke(key_id, Role.DEPARTMENT):
        done.append(f"API key {key_id}")
    if issued.name and issued.name.startswith("sk_") and credentials.revoke_signing_key(issued.name):
        done.append(f"signing key {issued.name}")
    user = kafka_username(issued.department, key_id)
    try:
        if container.log_access.revoke_writer(user):
            done.append(f"Kafka user {user}")
    except LogUnavailable as err:
        console.print(f"[red]Kafka 账号 {user} 未能删除：{err}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None


dlq_app = typer.Typer(help="The dead-letter queue: publications that were not applied, and why.")


@dlq_app.command("list")
def dlq_list(
    limit: Annotated[int, typer.Option(min=1, help="the most recent N entries")] = 50,
) -> None:
    """The DLQ's most recent entries, oldest first: publication id, department, reason, message,
    where the publication was read (topic[partition]@offset) and the key that signed it."""
    from api.cli.dead_letters import recent_dead_letters

    container = open_container()
    try:
        entries = recent_dead_letters(container.log, container.settings.dlq_topic, limit)
    except LogUnavailable as err:
        console.print(f"[red]无法读取死信队列：{err}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        container.close()
    table = Table("publication_id", "department", "reason", "message", "source", "signing_key_id", "dlq")
    for e in entries:
        table.add_row(
            e.publication_id or "",
            e.department or "",
            e.reason,
            e.message,
            e.source,
            e.signing_key_id or "",
            f"{e.partition}@{e.offset}",
        )
    out().print(table)
    console.print(f"{len(entries)} entries ({container.settings.dlq_topic})")


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
            audited(
                container,
                "projections.rebuilt",
                name=projection_name,
                entities=report.entities,
                target=report.target,
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
        audited(container, "jobs.run", job="publicity", as_of=day.isoformat(), changed=changed)
    finally:
        container.close()
    console.print(f"publicity as of {day.isoformat()}: {changed} entities changed")


def _run_deadline_job(name: str, as_of: str | None) -> None:
    """Bring the casework view up to date, then run one deadline job for the date."""
    try:
        day_given = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {as_of}") from None
    container = open_container()
    try:
        today = container.clock.today()
        day = day_given or today
        if day > today:
            console.print(f"[red]--as-of {day} 晚于系统日期 {today}：作业不能提前作出决定[/red]")
            raise typer.Exit(2)
        caught_up = container.casework_projection.catch_up()
        console.print(
            f"casework view: {caught_up} notifications read, lag {container.casework_projection.lag()}"
        )
        with progress() as bar:
            task = bar.add_task(f"{name} {day}", total=None)
            job = container.job(name, on_batch=lambda n: bar.advance(task, n))
            result = job.run(day)
        audited(container, "jobs.run", job=name, as_of=day.isoformat(), published=result.published)
    finally:
        container.close()
    console.print(result.summary(), soft_wrap=True)
    typer.echo(json.dumps({"job": result.job, "as_of": day.isoformat(), "published": result.published}))


@jobs_run_app.command("annual-reports")
def jobs_run_annual_reports(
    as_of: Annotated[str | None, typer.Option(help="the date (default: the system's date)")] = None,
) -> None:
    """List every active entity that has not filed last year's annual report on the abnormal
    operations list (from 1 July; idempotent, batched, resumable)."""
    _run_deadline_job("annual-reports", as_of)


@jobs_run_app.command("abnormal-removals")
def jobs_run_abnormal_removals(
    as_of: Annotated[str | None, typer.Option(help="the date (default: the system's date)")] = None,
) -> None:
    """Grant applications to leave the abnormal list whose check passes and whose department has
    not decided within GONGSHI_ABNORMAL_REMOVAL_WORKING_DAYS."""
    _run_deadline_job("abnormal-removals", as_of)


@jobs_run_app.command("serious-escalation")
def jobs_run_serious_escalation(
    as_of: Annotated[str | None, typer.Option(help="the date (default: the system's date)")] = None,
) -> None:
    """Warn listings nearing three years on the abnormal list, and move those past it (warned in
    time) to the serious illegal and dishonest list."""
    _run_deadline_job("serious-escalation", as_of)
