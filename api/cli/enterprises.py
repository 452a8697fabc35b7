"""Enterprise accounts, as the registration authority runs them.

`gongshi enterprises invite USCC` prints a one-time activation code alone on the last line of
standard output (valid 30 system days; a new invitation voids the old code, which is also how a
forgotten password is reset: no e-mail or SMS is needed). The code goes to the enterprise by a
trusted channel (a letter, the registration counter); the enterprise sets its password with it
(`POST /api/v1/enterprise/activate`, or the login page). `disable` ends every login of the
account at once; `show` says where the account stands (never a password or code).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.console import audited, console, open_container, out
from api.cli.keys import beijing
from domain.errors import EntityNotFound, InvalidUSCC
from domain.uscc import USCC

enterprises_app = typer.Typer(help="Enterprise accounts: invite (activation code), disable, show.")


def _uscc(text: str) -> str:
    try:
        return USCC.parse(text).value
    except InvalidUSCC as err:
        raise typer.BadParameter(err.message) from None


@enterprises_app.command("invite")
def enterprises_invite(
    uscc: Annotated[str, typer.Argument(help="the enterprise's USCC")],
    force: Annotated[bool, typer.Option(help="invite even if the register does not hold the USCC")] = False,
) -> None:
    """A one-time activation code for the enterprise's account (its liaison's login), alone on the
    last line of standard output."""
    value = _uscc(uscc)
    container = open_container()
    try:
        try:
            entity = container.entity_reader.get_entity(value)
            name = entity.name
        except EntityNotFound:
            if not force:
                console.print(
                    f"[red]登记簿中没有统一社会信用代码为 {value} 的市场主体[/red]（--force 仍可邀请）"
                )
                raise typer.Exit(2) from None
            name = "（尚未登记）"
        code = container.credentials.invite(value)
        account = container.credentials.account(value)
        audited(container, "enterprises.invited", uscc=value, force=force)
    finally:
        container.close()
    expires = account.activation_expires_on.isoformat() if account and account.activation_expires_on else "?"
    console.print(
        f"activation code for {value} {name} (shown once; valid until {expires}; a new invitation voids it):",
        soft_wrap=True,
    )
    typer.echo(code)


@enterprises_app.command("disable")
def enterprises_disable(uscc: Annotated[str, typer.Argument(help="the enterprise's USCC")]) -> None:
    """Disable the account: its liaison and every invited user are logged out and refused."""
    value = _uscc(uscc)
    container = open_container()
    try:
        changed = container.credentials.disable(value)
        if changed:
            audited(container, "enterprises.disabled", uscc=value)
    finally:
        container.close()
    if not changed:
        console.print(f"[red]{value} 没有可停用的账户[/red]")
        raise typer.Exit(1)
    console.print(f"disabled the account of {value}")


@enterprises_app.command("show")
def enterprises_show(uscc: Annotated[str, typer.Argument(help="the enterprise's USCC")]) -> None:
    """The account and its invited users (never a password or code)."""
    value = _uscc(uscc)
    container = open_container()
    try:
        account = container.credentials.account(value)
        users = container.credentials.users(value)
    finally:
        container.close()
    if account is None:
        console.print(f"[red]{value} 尚无账户[/red]（`gongshi enterprises invite {value}`）")
        raise typer.Exit(1)
    table = Table("login", "kind", "name", "invited", "activated", "revoked/disabled")
    table.add_row(
        "(liaison)",
        "联络员",
        "",
        beijing(account.invited_at),
        beijing(account.activated_at),
        beijing(account.disabled_at),
    )
    for u in users:
        table.add_row(
            u.user_name,
            u.kind_label,
            u.display_name,
            beijing(u.invited_at),
            beijing(u.activated_at),
            beijing(u.revoked_at),
        )
    out().print(table)
