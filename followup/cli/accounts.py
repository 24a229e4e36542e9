"""`followup user …` (web accounts) and `followup audit` (the audit trail)."""

from __future__ import annotations

import json
import sys

import click

from followup.cli.common import (
    as_option,
    config_option,
    format_option,
    open_context,
    principal,
)


def _password_from_stdin(prompt: str) -> str:
    """Typed twice, hidden, at a terminal; else the first line of standard input (so a
    script can pipe it in and it never appears in a process list or shell history)."""
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise click.UsageError("no password on standard input; pipe one in, or use --invite")
    return password


@click.group()
def user():
    """Web accounts: add, reset a password, deactivate, list."""


@user.command("add")
@config_option
@click.argument("username")
@click.option(
    "--staff", "staff_id", required=True, help="staff_id of the member of staff this login is for."
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="ROLE",
    help="A role the account may use (repeat for several): facilitator, partner_support, "
    "supervisor, evaluator, manager or admin. The staff member must have it in the staff file.",
)
@click.option(
    "--site",
    "sites",
    multiple=True,
    metavar="SITE",
    help="Evaluators: a site whose aggregates they may read (repeat for several; * for every "
    "site). Default: their own site.",
)
@click.option(
    "--language",
    default=None,
    help="Interface language (en or sr-Latn). Default: the staff member's.",
)
@click.option(
    "--invite",
    is_flag=True,
    help="Print a one-time link with which the person sets their own password, instead of "
    "reading a password from standard input.",
)
def user_add(config_path, username, staff_id, roles, sites, language, invite):
    """Add a web account for a member of staff (password from standard input, or --invite)."""
    from followup.db import transaction
    from followup.operations.accounts import (
        add_account,
        check_password,
        issue_invite,
        parse_username,
    )

    ctx = open_context(config_path)
    password = None
    if not invite:
        password = _password_from_stdin("Password")
        check_password(password, parse_username(username))
    with transaction(ctx.engine) as session:
        account = add_account(
            session,
            ctx,
            username=username,
            staff_id=staff_id,
            roles=roles,
            sites=sites,
            language=language,
            password=password,
        )
        link = issue_invite(session, ctx, account) if invite else None
    click.echo(f"Added user {account.username} ({account.roles}) for staff member {staff_id}.")
    if link:
        click.echo(
            f"Send them this link to set their password (valid {ctx.config.web.invite_days} days, "
            f"works once):\n{link}"
        )


@user.command("reset-password")
@config_option
@click.argument("username")
@click.option(
    "--invite",
    is_flag=True,
    help="Print a one-time link instead of reading a new password from standard input.",
)
def user_reset_password(config_path, username, invite):
    """Set a new password (or make a reset link); ends the user's sessions and calendar feed,
    and lifts a login lock."""
    from followup.db import transaction
    from followup.operations.accounts import check_password, reset_password

    ctx = open_context(config_path)
    password = None
    if not invite:
        password = _password_from_stdin("New password")
        check_password(password, username)
    with transaction(ctx.engine) as session:
        link = reset_password(session, ctx, username, password)
    if link:
        click.echo(
            f"Password cleared for {username}; their sessions and calendar feed are ended. "
            f"Send them this link (valid {ctx.config.web.invite_days} days, works once):\n{link}"
        )
    else:
        click.echo(f"Password changed for {username}; their sessions and calendar feed are ended.")


@user.command("deactivate")
@config_option
@click.argument("username")
def user_deactivate(config_path, username):
    """Stop an account at once: its sessions end and its calendar feed stops working."""
    from followup.db import transaction
    from followup.operations.accounts import set_active

    ctx = open_context(config_path)
    with transaction(ctx.engine) as session:
        set_active(session, ctx, username, False)
    click.echo(f"Deactivated {username}; their sessions and calendar feed are ended.")


@user.command("activate")
@config_option
@click.argument("username")
def user_activate(config_path, username):
    """Let a deactivated account log in again."""
    from followup.db import transaction
    from followup.operations.accounts import set_active

    ctx = open_context(config_path)
    with transaction(ctx.engine) as session:
        set_active(session, ctx, username, True)
    click.echo(f"Activated {username}.")


@user.command("list")
@config_option
@format_option("text: a table; json: a list of objects.")
def user_list(config_path, fmt):
    """List the web accounts."""
    from followup.db import transaction
    from followup.operations.accounts import list_accounts

    ctx = open_context(config_path)
    with transaction(ctx.engine) as session:
        rows = list_accounts(session)
    if fmt == "json":
        click.echo(json.dumps([row.to_json() for row in rows], indent=2))
        return
    if not rows:
        click.echo(
            "No web accounts yet. Add one with `followup user add USERNAME --staff STAFF_ID --role ROLE`."
        )
        return
    click.echo(f"{'user':<20} {'staff':<10} {'site':<5} {'roles':<28} {'state':<12} last login")
    for row in rows:
        state = "inactive" if not row.active else ("invited" if row.invited else "active")
        if row.failed_logins:
            state += f" ({row.failed_logins} failed)"
        last = row.last_login_at.strftime("%Y-%m-%d %H:%MZ") if row.last_login_at else "never"
        click.echo(
            f"{row.username:<20} {row.staff_id:<10} {row.site:<5} {row.roles:<28} {state:<12} {last}"
        )


@click.command("audit")
@config_option
@click.option(
    "--actor",
    default=None,
    help="Who: web:USERNAME or cli:LOGIN exactly, or a bare name for any prefix.",
)
@click.option(
    "--action",
    default=None,
    help="One action, or several separated by commas (e.g. login_failed,read_partner).",
)
@click.option(
    "--since",
    default=None,
    help="From this date (YYYY-MM-DD, midnight UTC) or instant (ISO, with a zone).",
)
@click.option("--until", default=None, help="Before this date or instant.")
@click.option(
    "--entity", default=None, help="Kind of record: participant, partner, user, report, …"
)
@click.option(
    "--id", "entity_id", default=None, help="The record's id (a case id, partner id, user name …)."
)
@click.option(
    "--limit",
    type=click.IntRange(1, 1_000_000),
    default=1000,
    show_default=True,
    help="At most this many lines, newest first.",
)
@format_option("text: one line each; json: a list of objects.")
@as_option
def audit(config_path, actor, action, since, until, entity, entity_id, limit, fmt, as_user):
    """Read the audit trail: who read or changed what, when (newest first)."""
    from datetime import UTC

    from followup.db import transaction
    from followup.operations.auditlog import Filters, parse_instant, read, to_json, to_text

    bounds = {}
    for name, text in (("since", since), ("until", until)):
        if text:
            try:
                bounds[name] = parse_instant(text, UTC)
            except ValueError as problem:
                raise click.BadParameter(str(problem), param_hint=f"--{name}") from None
    ctx = open_context(config_path, need_key=False)  # the trail holds no sealed data
    with transaction(ctx.engine) as session:
        rows = read(
            session,
            principal(session, ctx, as_user),
            Filters(actor=actor, action=action, entity=entity, entity_id=entity_id, **bounds),
            limit=limit,
        )
    if fmt == "json":
        click.echo(json.dumps([to_json(row) for row in rows], indent=2, ensure_ascii=False))
    else:
        for row in rows:
            click.echo(to_text(row))
