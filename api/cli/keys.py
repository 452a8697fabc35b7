"""API keys of the agencies, the operators and the public, and the refusals audit.

`gongshi agencies add CODE --name NAME --scopes read,match`, `gongshi admins add NAME`,
`gongshi public-keys add NAME [--limit 600/minute]` print the new key alone on the last line of
standard output (what to say about it goes to standard error), so a script can take it with
`tail -n 1`; it is shown once, only its keyed hash is kept. `… list` shows ids, never keys;
`… revoke ID` refuses the key from the next request on, in every API process.
(Departments keep `gongshi departments add-key / keys / revoke-key`.)

`gongshi audit refusals` lists the keys refused repeatedly (api/audit.py counts them).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from typing import Annotated

import typer
from rich.table import Table

from adapters.credentials import ApiKey
from adapters.rate_limits import parse_limit
from api import operations
from api.cli.console import acting, console, open_container, operator, out
from domain.access import Role, parse_scopes
from domain.clock import CHINA

agencies_app = typer.Typer(help="Agencies' API keys (scopes read, match, screen, feed).")
admins_app = typer.Typer(help="Operators' API keys (/api/v1/admin, /metrics).")
public_keys_app = typer.Typer(help="Public API keys (a higher rate limit, nothing else).")
audit_app = typer.Typer(help="What operators did (the audit trail), and what the platform refused.")

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
_NAME_MAX = 80


def beijing(instant: datetime | None) -> str:
    """An instant as people read it here: Beijing time, to the second."""
    return instant.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") if instant else ""


def _limit(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parse_limit(value)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    return value


def _issue(
    role: Role, subject: str, *, name: str | None, scopes: tuple[str, ...] = (), limit: str | None
) -> None:
    container = open_container()
    try:
        with acting():
            key = operations.Operations(container).issue_key(
                operator(), role, subject, name=name, scopes=scopes, limit=limit
            )
    finally:
        container.close()
    console.print(f"{role.value} key for {subject} (shown once; keep it secret; only its hash is kept):")
    typer.echo(key)


def _list(role: Role) -> None:
    container = open_container()
    try:
        keys = container.credentials.keys(role)
    finally:
        container.close()
    columns = ["key_id", "subject", "name", "created (北京时间)", "last used", "revoked"]
    if role == Role.AGENCY:
        columns.insert(3, "scopes")
    if role != Role.ADMIN:
        columns.insert(-3, "limit")
    table = Table(*columns)
    for k in keys:
        table.add_row(*_cells(k, role))
    out().print(table)


def _cells(k: ApiKey, role: Role) -> list[str]:
    cells = [k.key_id, k.subject, k.name or ""]
    if role == Role.AGENCY:
        cells.append(",".join(k.scopes))
    if role != Role.ADMIN:
        cells.append(k.rate_limit or "")
    return [*cells, beijing(k.created_at), beijing(k.last_used_at), beijing(k.revoked_at)]


def _revoke(role: Role, key_id: str) -> None:
    container = open_container()
    try:
        with acting():
            revoked = operations.Operations(container).revoke_api_key(operator(), key_id, role)
    finally:
        container.close()
    if not revoked:
        console.print(f"[red]没有编号为 {key_id} 的有效{_ROLE_NAMES[role]}密钥[/red]")
        raise typer.Exit(2)
    console.print(f"key {key_id} revoked: refused from the next request on")


_ROLE_NAMES = {Role.AGENCY: "机构", Role.ADMIN: "管理员", Role.PUBLIC: "公众"}
KeyId = Annotated[str, typer.Argument(help="the key's id (the 8 characters after its prefix; see `list`)")]
Limit = Annotated[
    str | None, typer.Option("--limit", help="the key's own rate limit, e.g. 600/minute (limits notation)")
]


@agencies_app.command("add")
def agencies_add(
    code: Annotated[str, typer.Argument(help="the office's code, e.g. TJ-TAX-JC1")],
    name: Annotated[str, typer.Option("--name", help="the office's name, e.g. 天津市税务局稽查局")],
    scopes: Annotated[str, typer.Option("--scopes", help="comma-separated: read, match, screen, feed")],
    limit: Limit = None,
) -> None:
    """Issue an agency key with its scopes."""
    if not _CODE.match(code):
        raise typer.BadParameter(f"机构代码“{code}”应为 2–40 个大写字母、数字、- 或 _", param_hint="CODE")
    try:
        granted = parse_scopes(scopes)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--scopes") from None
    _issue(Role.AGENCY, code, name=name.strip()[:_NAME_MAX] or None, scopes=granted, limit=_limit(limit))


@agencies_app.command("list")
def agencies_list() -> None:
    """The agencies' keys (ids and scopes, never the keys)."""
    _list(Role.AGENCY)


@agencies_app.command("revoke")
def agencies_revoke(key_id: KeyId) -> None:
    """Revoke an agency key."""
    _revoke(Role.AGENCY, key_id)


@admins_app.command("add")
def admins_add(name: Annotated[str, typer.Argument(help="who holds it, e.g. ops-zhang")]) -> None:
    """Issue an operator's key."""
    if not name.strip() or len(name) > _NAME_MAX:
        raise typer.BadParameter(f"名称须为 1–{_NAME_MAX} 个字符", param_hint="NAME")
    _issue(Role.ADMIN, name.strip(), name=name.strip(), limit=None)


@admins_app.command("list")
def admins_list() -> None:
    """The operators' keys."""
    _list(Role.ADMIN)


@admins_app.command("revoke")
def admins_revoke(key_id: KeyId) -> None:
    """Revoke an operator's key."""
    _revoke(Role.ADMIN, key_id)


@public_keys_app.command("add")
def public_keys_add(
    name: Annotated[str, typer.Argument(help="who it is for, e.g. a researcher or an app")],
    limit: Limit = None,
) -> None:
    """Issue a public API key (without --limit: the public API's limit, counted per key)."""
    if not name.strip() or len(name) > _NAME_MAX:
        raise typer.BadParameter(f"名称须为 1–{_NAME_MAX} 个字符", param_hint="NAME")
    _issue(Role.PUBLIC, name.strip(), name=name.strip(), limit=_limit(limit))


@public_keys_app.command("list")
def public_keys_list() -> None:
    """The public keys and their limits."""
    _list(Role.PUBLIC)


@public_keys_app.command("revoke")
def public_keys_revoke(key_id: KeyId) -> None:
    """Revoke a public key."""
    _revoke(Role.PUBLIC, key_id)


@audit_app.command("refusals")
def audit_refusals(
    hours: Annotated[int, typer.Option(min=1, help="look back this many hours")] = 24,
    at_least: Annotated[int, typer.Option("--at-least", min=1, help="refused at least this often")] = 3,
) -> None:
    """Keys refused repeatedly (401 revoked or wrong, 403 out of their role or scope, 429 over
    their limit), most refused first."""
    container = open_container()
    try:
        since = container.clock.now() - timedelta(hours=hours)
        found = container.credentials.refused_keys(since, at_least=at_least)
    finally:
        container.close()
    table = Table(
        "key_id", "role", "subject", "code", "count", "first (北京时间)", "last", "last address", "routes"
    )
    for k in found:
        subject = k.subject + ("（已吊销）" if k.revoked else "")
        table.add_row(
            k.key_id,
            k.role.value,
            subject,
            k.code,
            str(k.count),
            beijing(k.first_at),
            beijing(k.last_at),
            k.last_address or "",
            ", ".join(k.routes),
        )
    out().print(table)
    if not found:
        console.print(f"no key refused {at_least} times or more in the last {hours} h")


def parse_since(text: str) -> datetime:
    """`--since`: a date (from 00:00 Beijing time) or an instant (ISO 8601; Beijing time when it
    names no zone)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=CHINA)
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"“{text}”不是日期（YYYY-MM-DD）或时间（YYYY-MM-DDTHH:MM[:SS][+08:00]）", param_hint="--since"
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=CHINA)


@audit_app.command("list")
def audit_list(
    since: Annotated[
        str | None,
        typer.Option(help="from this date (00:00 Beijing time) or instant (ISO 8601) on"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="the most recent N acts")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Every administrative act recorded (who, what, when, the arguments), oldest first."""
    start = parse_since(since) if since else None
    container = open_container()
    try:
        entries = container.audit.entries(since=start, limit=limit)
    finally:
        container.close()
    if as_json:
        for e in entries:
            typer.echo(
                json.dumps(
                    {
                        "number": e.number,
                        "at": e.at.isoformat(),
                        "actor": e.actor,
                        "action": e.action,
                        "arguments": e.arguments,
                    },
                    ensure_ascii=False,
                )
            )
        return
    table = Table("#", "at (北京时间)", "actor", "action", "arguments")
    for e in entries:
        table.add_row(
            str(e.number), beijing(e.at), e.actor, e.action, json.dumps(e.arguments, ensure_ascii=False)
        )
    out().print(table)
    console.print(f"{len(entries)} acts")
