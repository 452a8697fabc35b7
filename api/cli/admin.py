"""Operating the platform: parked publications, departments and their keys, projections, jobs."""

from __future__ import annotations

import functools
import json
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from adapters.credentials import AccountError, key_id_of
from adapters.publication_log.base import LogUnavailable
from adapters.replays import Replay, ReplaysUnavailable
from adapters.search_index.base import PROJECTIONS
from api import operations
from api.cli.console import (
    acting,
    audited,
    console,
    open_container,
    operator,
    out,
    progress,
    set_completed,
    set_total,
    setup_logging,
)
from api.cli.keys import beijing
from api.dead_letters import DeadLetter, all_dead_letters, find_dead_letter, recent_dead_letters
from api.operations import kafka_username
from domain.access import Role
from domain.departments import DepartmentType
from infra.bootstrap import Container, build
from infra.settings import Settings


def parked(
    older_than: Annotated[
        int | None,
        typer.Option("--older-than", min=0, help="only those parked more than DAYS system days ago"),
    ] = None,
) -> None:
    """List publications waiting for their entity's registration, with the system date each was
    parked on (those past GONGSHI_PARKED_EXPIRY_DAYS go to the DLQ as parked_expired)."""
    container = open_container()
    try:
        today = container.clock.today()
        before = today - timedelta(days=older_than) if older_than is not None else None
        items = container.registry.parked_items(before=before)
        expires_after = container.settings.parked_expiry_days
    finally:
        container.close()
    table = Table(
        "publication_id", "uscc", "kind", "department", "occurred_on", "parked_on", "days", "expires"
    )
    for item in items:
        e = item.envelope
        table.add_row(
            e["publication_id"],
            e["uscc"],
            e["kind"],
            e["department"],
            e["occurred_on"],
            item.parked_on.isoformat(),
            str((today - item.parked_on).days),
            (item.parked_on + timedelta(days=expires_after + 1)).isoformat(),
        )
    out().print(table)
    console.print(f"{len(items)} parked publications")


departments_app = typer.Typer(help="Connected departments.")


@departments_app.command("list")
def departments_list(
    on: Annotated[
        str | None, typer.Option("--on", help="as in force on this date (default: the system date)")
    ] = None,
) -> None:
    """The departments and the kinds each may publish, as in force on the system date (or --on)."""
    container = open_container()
    try:
        registry = container.departments
        day = _day(on, "--on") if on else container.clock.today()
        table = Table("code", "name", "type", "kinds", "changes after")
        for d in registry.all(on=day):
            later = [c for c in registry.history(d.code) if c.effective_from > day]
            table.add_row(
                d.code,
                d.name,
                d.type.value,
                ", ".join(sorted(d.kinds)),
                "; ".join(f"{c.action} {c.effective_from}" for c in later),
            )
    finally:
        container.close()
    out().print(table)


def _day(text: str, hint: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"不是日期（YYYY-MM-DD）：{text}", param_hint=hint) from None


@departments_app.command("add")
def departments_add(
    code: Annotated[str, typer.Argument(help="the department's code, e.g. TJ-HRSS")],
    name: Annotated[str, typer.Option("--name", help="its full name, e.g. 天津市人力资源和社会保障局")],
    department_type: Annotated[DepartmentType, typer.Option("--type", help="what kind of body it is")],
    kinds: Annotated[str, typer.Option("--kinds", help="comma-separated publication kinds it may publish")],
    short_name: Annotated[str | None, typer.Option("--short-name", help="default: the name")] = None,
    abbreviation: Annotated[str, typer.Option("--abbreviation", help="e.g. 津人社 (decision numbers)")] = "",
    from_: Annotated[
        str | None, typer.Option("--from", help="in force from this date (default: today)")
    ] = None,
) -> None:
    """Connect a new department with its mandate (recorded with who and when; audited;
    also `POST /api/v1/admin/departments`)."""
    day = _day(from_, "--from") if from_ else None
    container = open_container()
    try:
        with acting():
            done = operations.Operations(container).add_department(
                operator(),
                code=code,
                name=name,
                department_type=department_type,
                kinds=kinds,
                short_name=short_name,
                abbreviation=abbreviation,
                effective_from=day,
            )
    finally:
        container.close()
    console.print(f"added {code} {name} from {done.effective_from}: {', '.join(done.kinds)}", soft_wrap=True)


@departments_app.command("set-kinds")
def departments_set_kinds(
    code: Annotated[str, typer.Argument(help="the department's code")],
    kinds: Annotated[str, typer.Option("--kinds", help="comma-separated: its whole new mandate")],
    from_: Annotated[
        str | None, typer.Option("--from", help="in force from this date (default: today)")
    ] = None,
) -> None:
    """Change a department's mandate from a date on: publications arriving from then are checked
    against the new kinds, earlier ones were checked against the old (recorded; audited; also
    `PUT /api/v1/admin/departments/{code}/kinds`)."""
    day = _day(from_, "--from") if from_ else None
    container = open_container()
    try:
        with acting():
            done = operations.Operations(container).set_department_kinds(operator(), code, kinds, day)
    finally:
        container.close()
    console.print(f"{code} from {done.effective_from}: {', '.join(done.kinds)}", soft_wrap=True)


@departments_app.command("disable")
def departments_disable(
    code: Annotated[str, typer.Argument(help="the department's code")],
    from_: Annotated[str | None, typer.Option("--from", help="from this date (default: today)")] = None,
) -> None:
    """Stop a department publishing from a date on (its publications are then rejected as
    department_disabled; what it published stays). Its keys are revoked separately
    (`departments revoke-key`). Also `POST /api/v1/admin/departments/{code}/disable`."""
    day = _day(from_, "--from") if from_ else None
    container = open_container()
    try:
        with acting():
            done = operations.Operations(container).disable_department(operator(), code, day)
    finally:
        container.close()
    console.print(f"{code} disabled from {done.effective_from}")


@departments_app.command("history")
def departments_history(code: Annotated[str, typer.Argument(help="the department's code")]) -> None:
    """Every change of a department: what, in force from when, who recorded it and when."""
    container = open_container()
    try:
        changes = container.departments.history(code)
    finally:
        container.close()
    table = Table("#", "action", "from", "by", "at (北京时间)", "kinds")
    for c in changes:
        kinds = c.fields.get("kinds")
        table.add_row(
            str(c.number),
            c.action,
            "" if c.effective_from == date.min else c.effective_from.isoformat(),
            c.actor,
            beijing(c.at),
            ", ".join(kinds) if isinstance(kinds, list) else "",
        )
    out().print(table)


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
    try:
        with acting():
            done = operations.Operations(container).revoke_department_key(operator(), key_id)
    except LogUnavailable as err:
        console.print(f"[red]Kafka 账号未能删除（其余已撤销并记录）：{err}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        container.close()
    if not done:
        console.print(f"[red]没有编号为 {key_id} 的有效密钥[/red]")
        raise typer.Exit(2)
    console.print(f"revoked: {', '.join(done)}")


dlq_app = typer.Typer(help="The dead-letter queue: publications that were not applied, and why.")


Reason = Annotated[str | None, typer.Option("--reason", help="only entries with this reason code")]
DepartmentOption = Annotated[
    str | None, typer.Option("--department", help="only entries of this department's publications")
]


def _dlq_table(entries: list[DeadLetter], replays: dict[str, Replay]) -> Table:
    table = Table(
        "id", "publication_id", "department", "reason", "message", "source", "signing_key_id", "replay"
    )
    for e in entries:
        done = replays.get(e.entry)
        state = f"已重放 {beijing(done.replayed_at)}" if done else ""
        if e.replay_of:
            state = f"重放后再次拒绝（{e.replay_of}）" + (f"；{state}" if state else "")
        table.add_row(
            e.id,
            e.publication_id or "",
            e.department or "",
            e.reason,
            e.message,
            e.source,
            e.signing_key_id or "",
            state,
        )
    return table


@dlq_app.command("list")
def dlq_list(
    limit: Annotated[int, typer.Option(min=1, help="the most recent N entries")] = 50,
    reason: Reason = None,
    department: DepartmentOption = None,
) -> None:
    """The DLQ's most recent entries, oldest first: id (PARTITION@OFFSET), publication id,
    department, reason, message, where the publication was read (topic[partition]@offset), the key
    that signed it, and whether it was replayed (or is a replay rejected again)."""
    container = open_container()
    try:
        entries = recent_dead_letters(
            container.log, container.settings.dlq_topic, limit, reason=reason, department=department
        )
        replays = container.replays.replays([e.entry for e in entries])
    except LogUnavailable as err:
        console.print(f"[red]无法读取死信队列：{err}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        container.close()
    out().print(_dlq_table(entries, replays))
    console.print(f"{len(entries)} entries ({container.settings.dlq_topic})")


@dlq_app.command("show")
def dlq_show(
    ident: Annotated[
        str, typer.Argument(metavar="ID", help="PARTITION@OFFSET, or a publication id (its latest entry)")
    ],
) -> None:
    """One entry in full: its headers, the original message, whether and when it was replayed, and
    where the publication stands now (applied, parked, or rejected again)."""
    container = open_container()
    try:
        topic = container.settings.dlq_topic
        letter = find_dead_letter(container.log, topic, ident)
        if letter is None:
            console.print(f"[red]死信队列中没有 {ident}[/red]")
            raise typer.Exit(2)
        done = container.replays.replays([letter.entry]).get(letter.entry)
        again = (
            [d for d in all_dead_letters(container.log, topic) if d.replay_of == letter.entry] if done else []
        )
        status = container.status_view.get(letter.publication_id) if letter.publication_id else None
    except LogUnavailable as err:
        console.print(f"[red]无法读取死信队列：{err}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        container.close()
    assert letter.record is not None
    try:
        original: Any = json.loads(letter.record.value)
    except ValueError:
        original = letter.record.value.decode("utf-8", "replace")
    shown = {
        "id": letter.id,
        "entry": letter.entry,
        "written_at": beijing(datetime.fromtimestamp(letter.timestamp_ms / 1000, UTC)),
        "key": letter.record.key,
        "headers": {k: v for k, v in letter.headers.items() if k != "gongshi-signature"},
        "value": original,
        "replayed": ({"at": done.replayed_at.isoformat(), "by": done.actor} if done is not None else None),
        "rejected_again": [{"id": d.id, "reason": d.reason, "message": d.message} for d in again],
        "status_now": status,
    }
    typer.echo(json.dumps(shown, ensure_ascii=False, indent=2, default=str))


@dlq_app.command("replay")
def dlq_replay(
    ident: Annotated[
        str | None,
        typer.Argument(metavar="[ID]", help="PARTITION@OFFSET, or a publication id (its latest entry)"),
    ] = None,
    reason: Reason = None,
    department: DepartmentOption = None,
) -> None:
    """Put rejected publications back on the publication log (after their mandate or key was fixed):
    one entry by ID, or every entry with --reason [and --department]. The original bytes, key and
    signature go back unchanged, each entry once; an entry replayed before is reported, not sent."""
    if (ident is None) == (reason is None):
        raise typer.BadParameter("请给出一个条目编号，或以 --reason 选择条目（二者择一）")
    if ident is not None and department is not None:
        raise typer.BadParameter("--department 只与 --reason 一起使用", param_hint="--department")
    container = open_container()
    try:
        with acting():
            results = operations.Operations(container).replay_dead_letters(
                operator(), ident, reason=reason, department=department
            )
    except (LogUnavailable, ReplaysUnavailable) as err:
        console.print(f"[red]重放失败（未重放的条目可再次重放）：{err}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        container.close()
    sent = [r.letter for r in results if r.replayed]
    for r in results:
        if r.replayed:
            console.print(f"replayed {r.letter.id} ({r.letter.publication_id or '?'})")
        else:
            when = f"{beijing(r.earlier.replayed_at)} by {r.earlier.actor}" if r.earlier else ""
            console.print(f"[yellow]{r.letter.id} 已于 {when} 重放过，不再重放[/yellow]", soft_wrap=True)
    typer.echo(json.dumps({"replayed": len(sent), "already_replayed": len(results) - len(sent)}))


@dlq_app.command("purge")
def dlq_purge(
    older_than: Annotated[int, typer.Option("--older-than", min=1, help="days, by the system date")],
) -> None:
    """Delete the DLQ's entries written more than DAYS days before the system date (their
    replays stay recorded; offsets are never reused)."""
    container = open_container()
    try:
        with acting():
            deleted, cutoff = operations.Operations(container).purge_dead_letters(operator(), older_than)
    except LogUnavailable as err:
        console.print(f"[red]清理失败：{err}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        container.close()
    console.print(f"deleted {deleted} entries written before {cutoff.isoformat()}")
    typer.echo(json.dumps({"deleted": deleted, "before": cutoff.isoformat()}))


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


@jobs_run_app.command("parked-expiry")
def jobs_run_parked_expiry() -> None:
    """Reject to the DLQ (reason parked_expired) every publication parked more than
    GONGSHI_PARKED_EXPIRY_DAYS system days ago (also daily inside `gongshi serve`)."""
    container = open_container()
    try:
        with acting():
            run = operations.Operations(container).run_job(operator(), operations.PARKED_EXPIRY)
    except LogUnavailable as err:
        console.print(f"[red]无法写入死信队列，未作处理：{err}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        container.close()
    console.print(run.summary)
    typer.echo(json.dumps({"job": run.job, "as_of": run.as_of.isoformat(), **run.figures}))


@jobs_run_app.command("publicity")
def jobs_run_publicity(
    as_of: Annotated[str | None, typer.Option(help="the date (default: the system's date)")] = None,
) -> None:
    """Re-evaluate publicity windows: penalties enter and leave the public indexes' flags."""
    try:
        day_given = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {as_of}") from None
    container = open_container()
    try:
        with acting():
            run = operations.Operations(container).run_job(operator(), operations.PUBLICITY, day_given)
    finally:
        container.close()
    console.print(run.summary)


def _run_deadline_job(name: str, as_of: str | None) -> None:
    """Bring the casework view up to date, then run one deadline job for the date."""
    try:
        day_given = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {as_of}") from None
    container = open_container()
    try:
        with progress() as bar, acting():
            task = bar.add_task(f"{name} {day_given or container.clock.today()}", total=None)
            run = operations.Operations(container).run_job(
                operator(),
                name,
                day_given,
                on_batch=lambda n: bar.advance(task, n),
                on_caught_up=lambda read, lag: console.print(
                    f"casework view: {read} notifications read, lag {lag}"
                ),
            )
    finally:
        container.close()
    console.print(run.summary, soft_wrap=True)
    typer.echo(json.dumps({"job": run.job, "as_of": run.as_of.isoformat(), **run.figures}))


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


def backup_command(
    out: Annotated[Path, typer.Option("--out", help="a new or empty folder for the backup")],
) -> None:
    """Back up the event store and the platform's own tables (PostgreSQL: pg_dump of its schema;
    SQLite: the online backup API), the embedded log and the key files; not the search index,
    which `restore` rebuilds. The backup holds secrets: keep it as such."""
    from infra.backup import BackupError, backup

    container = open_container()
    try:
        notifications = container.registry.recorder.max_notification_id() or 0
        try:
            manifest = backup(container.settings, out, notifications=notifications, now=container.clock.now())
        except BackupError as err:
            console.print(f"[red]{err.message}[/red]", soft_wrap=True)
            raise typer.Exit(1) from None
        audited(
            container,
            "backup.made",
            out=str(out.resolve()),
            engine=manifest.engine,
            notifications=notifications,
            files=sorted(manifest.files),
        )
    finally:
        container.close()
    console.print(
        f"backed up {len(manifest.files)} files to {out} (event store up to notification {notifications})"
    )
    typer.echo(json.dumps({"out": str(out), "engine": manifest.engine, "notifications": notifications}))


def restore_command(
    folder: Annotated[Path, typer.Argument(help="a folder written by `gongshi backup`")],
) -> None:
    """Restore a backup onto an empty data dir (and an empty PostgreSQL schema), then rebuild the
    search indexes and bring every follower up to date."""
    from infra.backup import BackupError, restore_files
    from projections.rebuild import rebuild_projection

    setup_logging()
    settings = Settings()
    try:
        manifest = restore_files(settings, folder)
    except BackupError as err:
        console.print(f"[red]{err.message}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    container = build(settings)
    try:
        entities = {}
        for name, projection in container.projections.items():
            with progress() as bar:
                task = bar.add_task(f"重建索引 {name}", total=None)
                report = rebuild_projection(
                    projection,
                    on_start=functools.partial(set_total, bar, task),
                    on_progress=functools.partial(set_completed, bar, task),
                )
            entities[name] = report.entities
        caught_up = container.catch_up()
        audited(
            container,
            "backup.restored",
            folder=str(folder.resolve()),
            engine=manifest.engine,
            created_at=manifest.created_at,
            notifications=manifest.notifications,
            rebuilt=entities,
        )
    finally:
        container.close()
    console.print(f"restored the backup of {manifest.created_at}; rebuilt {entities}; {caught_up} caught up")
    typer.echo(
        json.dumps({"restored": str(folder), "notifications": manifest.notifications, "rebuilt": entities})
    )


persons_app = typer.Typer(help="Natural persons' personal data in the stored events (个人信息保护法).")


def _rebuild_indexes(container: Container) -> dict[str, int]:
    from projections.rebuild import rebuild_projection

    rebuilt: dict[str, int] = {}
    for name, projection in container.projections.items():
        with progress() as bar:
            task = bar.add_task(f"重建索引 {name}", total=None)
            report = rebuild_projection(
                projection,
                on_start=functools.partial(set_total, bar, task),
                on_progress=functools.partial(set_completed, bar, task),
            )
        rebuilt[name] = report.entities
    return rebuilt


@persons_app.command("erase")
def persons_erase(
    id_number: Annotated[
        str | None, typer.Argument(metavar="ID_NUMBER", help="the person's identity number")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="the legal ground, e.g. 本人依法申请删除")] = "",
    ref: Annotated[
        str | None,
        typer.Option("--ref", help="instead of the number: the person's ref from the audit trail"),
    ] = None,
) -> None:
    """Erase a natural person: delete their keys, so their identity number, phone and address
    read as 已删除 in every event, view and index (the indexes are rebuilt here). Audited, by a
    keyed hash of the number (the person's ref), never the number."""
    if (id_number is None) == (ref is None) or not reason.strip():
        raise typer.BadParameter("须给出证件号码（或 --ref）之一，以及删除依据 --reason")
    container = open_container()
    try:
        vault = container.personal_data
        person = ref if ref is not None else vault.ref(id_number or "")
        deleted = vault.erase_ref(person, reason=reason.strip(), actor=operator())
        audited(container, "persons.erased", person=person, reason=reason.strip(), keys_deleted=deleted)
        rebuilt = _rebuild_indexes(container) if deleted else {}
    finally:
        container.close()
    if not deleted:
        console.print(f"[yellow]人员 {person} 没有可删除的密钥（从未记录，或已删除）[/yellow]")
    else:
        console.print(f"erased person {person}: {deleted} key(s) deleted; indexes rebuilt {rebuilt}")
    typer.echo(json.dumps({"person": person, "keys_deleted": deleted, "rebuilt": rebuilt}))


@persons_app.command("migrate")
def persons_migrate() -> None:
    """Seal the persons in events and agencies' changes stored before sealing existed (stop every
    process first): each stored event and each change in the change table is rewritten with its
    persons' fields encrypted, snapshots are dropped, and the store and the change table are
    compacted so no plaintext number stays on disk. Idempotent."""
    from adapters.personal_data import migrate_postgres, migrate_sqlite

    container = open_container()
    try:
        s = container.settings
        vault = container.personal_data
        if s.postgres_dsn:
            rewritten = migrate_postgres(s.postgres_dsn, s.postgres_schema, vault)
        else:
            rewritten = migrate_sqlite(s.data_dir / "events.sqlite3", vault)
        changes = container.change_store.seal_stored()
        audited(container, "persons.migrated", events_rewritten=rewritten, changes_rewritten=changes)
    finally:
        container.close()
    console.print(f"{rewritten} stored events and {changes} changes rewritten with their persons sealed")
    typer.echo(json.dumps({"events_rewritten": rewritten, "changes_rewritten": changes}))
