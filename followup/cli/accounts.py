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
    from followup.operations.accounts import check_password, create_user, parse_username

    password = None
    if not invite:
        password = _password_from_stdin("Password")
        check_password(password, parse_username(username))
    ctx, (account, link) = _as_operator(
        config_path,
        lambda session, ctx, p: create_user(
            session,
            ctx,
            p,
            username=username,
            staff_id=staff_id,
            roles=roles,
            sites=sites,
            language=language,
            password=password,
        ),
    )
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
    from followup.operations.accounts import check_password, invite_again, reset_user_password

    password = None
    if not invite:
        password = _password_from_stdin("New password")
        check_password(password, username)
    ctx, link = _as_operator(
        config_path,
        lambda session, ctx, p: (
            invite_again(session, ctx, p, username)
            if password is None
            else reset_user_password(session, ctx, p, username, password)
        ),
    )
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
    from followup.operations.accounts import set_user_active

    _as_operator(
        config_path, lambda session, ctx, p: set_user_active(session, ctx, p, username, False)
    )
    click.echo(f"Deactivated {username}; their sessions and calendar feed are ended.")


@user.command("activate")
@config_option
@click.argument("username")
def user_activate(config_path, username):
    """Let a deactivated account log in again."""
    from followup.operations.accounts import set_user_active

    _as_operator(
        config_path, lambda session, ctx, p: set_user_active(session, ctx, p, username, True)
    )
    click.echo(f"Activated {username}.")


@user.command("access")
@config_option
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="ROLE",
    help="Every role the account may use from now on (repeat for several); the staff member "
    "must have each in the staff file.",
)
@click.option(
    "--site",
    "sites",
    multiple=True,
    metavar="SITE",
    help="Evaluators: the sites whose aggregates they may read (repeat; * for every site). "
    "Default: their own site.",
)
def user_access(config_path, username, roles, sites):
    """Change an account's roles and sites (a role taken away ends their sessions)."""
    from followup.operations.accounts import change_access

    _, account = _as_operator(
        config_path,
        lambda session, ctx, p: change_access(session, ctx, p, username, roles=roles, sites=sites),
    )
    click.echo(f"{account.username}: roles {account.roles}; sites {account.sites or 'own site'}.")


def _as_operator(config_path, operation):
    """Run `operation(session, ctx, p)` in one transaction as the CLI's operator (an
    administrator); returns the context and the operation's answer."""
    from followup.db import transaction

    ctx = open_context(config_path)
    with transaction(ctx.engine) as session:
        return ctx, operation(session, ctx, principal(session, ctx, None))


@click.group()
def staff():
    """Members of staff (the staff file's records, one at a time)."""


@staff.command("add")
@config_option
@click.argument("staff_id")
@click.option("--site", required=True, help="Site code from config.toml.")
@click.option("--name", required=True, help="Full name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="ROLE",
    help="facilitator, partner_support, supervisor, evaluator, manager or admin (repeat).",
)
@click.option("--phone", default="", help="E.164, e.g. +381601234567 (needed for sms).")
@click.option("--email", default="", help="Needed for the email channel.")
@click.option("--channel", default="", help="console, email or sms. Default: config.toml's.")
@click.option("--language", default="", help="Default: the site's language.")
def staff_add(config_path, staff_id, site, name, roles, phone, email, channel, language):
    """Add one member of staff, with the same checks as a row of `import staff`."""
    from followup.operations.accounts import add_staff

    fields = {
        "staff_id": staff_id,
        "site": site,
        "name": name,
        "roles": ";".join(roles),
        "phone": phone,
        "email": email,
        "channel": channel,
        "language": language,
    }
    _, added = _as_operator(config_path, lambda session, ctx, p: add_staff(session, ctx, p, fields))
    click.echo(f"Added staff member {added.staff_id} ({added.roles}) at {added.site_code}.")


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
