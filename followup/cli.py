"""`followup …`: the command line. One function per subcommand.

Domain errors are turned into one clean line on stderr here, at the edge, and nowhere
else; the exit status is 1 for a refused operation, 2 for a misused command.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps

import click

from followup.errors import ConfigError, CsvRejected, FollowupError
from followup.values import MAX_NOTES, limit_length, parse_date, parse_yes_no, refuse_control

# Files this process creates (the SQLite database and its -wal/-shm files, reports
# written with --out, exports) hold case ids, violence answers, risk and audit: readable
# and writable by the owner only, whatever the shell's umask.
PRIVATE_UMASK = 0o077


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return parse_date(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class YesNoType(click.ParamType):
    name = "yes|no"

    def convert(self, value, param, ctx):
        try:
            return parse_yes_no(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DATE = DateType()
YES_NO = YesNoType()


def config_option(func: Callable) -> Callable:
    """--config on every command (also read from $FOLLOWUP_CONFIG)."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Path of config.toml. Default: $FOLLOWUP_CONFIG, else ./config.toml.",
    )
    @wraps(func)
    def wrapper(*args, config_path=None, **kwargs):
        parent = click.get_current_context().find_root().params.get("config_path")
        return func(*args, config_path=config_path or parent, **kwargs)

    return wrapper


def format_option(help: str = "Output format.") -> Callable:
    """--format text|json, the same on every command that can print json."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help,
    )


def open_context(
    config_path: str | None,
    *,
    need_schema: bool = True,
    need_key: bool = True,
    private_file: bool = False,
):
    """The context of a command, after the start-up checks every command shares
    (followup.context.startup_checks): the database is reachable and has its tables, and
    when partner data exists the key opens it (`need_key=False` only for commands that
    never read sealed data); `private_file` also refuses a database others can read."""
    from followup.context import Context, startup_checks

    ctx = Context.open(config_path)
    startup_checks(ctx, schema=need_schema, key=need_key, private_file=private_file)
    return ctx


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Path of config.toml for every subcommand. Default: $FOLLOWUP_CONFIG, else ./config.toml.",
)
@click.version_option(package_name="followup")
def cli(config_path):
    """Follow-up scheduling and outcome tracking for perpetrator programmes."""


# --- init ----------------------------------------------------------------------


@cli.command()
@config_option
@click.option(
    "--demo", is_flag=True, help="Also load a synthetic demo cohort (only into an empty database)."
)
def init(config_path, demo):
    """Create the database tables (or upgrade older ones) and, for the embedded default,
    the encryption key file."""
    from followup.crypto import create_key_file
    from followup.db import transaction
    from followup.migrate import BASELINE, create_or_upgrade

    # The key is checked below, once it exists; a database others can read is refused.
    ctx = open_context(config_path, need_schema=False, need_key=False, private_file=True)
    key_path = ctx.config.resolve(ctx.config.security.key_file)
    key_from_env = os.environ.get("FOLLOWUP_SECRET_KEY") or os.environ.get(
        "FOLLOWUP_SECRET_KEY_FILE"
    )
    if not key_from_env and create_key_file(key_path):
        click.echo(
            f"Created the encryption key {key_path} (mode 0600). Back it up: "
            "without it partner contact details cannot be read."
        )
    before, after = create_or_upgrade(ctx.engine)
    with transaction(ctx.engine) as session:
        ctx.sync_sites(session)
        ctx.register_protocols(session)
        ctx.check_key(session)
    if before.has_tables and before.current != after.current:
        was = before.current or f"{BASELINE} (made before migrations)"
        click.echo(f"Database schema upgraded from {was} to {after.current}.")
    click.echo(f"Database ready: {_safe_url(ctx.config.database_url)}")
    if demo:
        from sqlalchemy.orm import Session

        from followup.demo import load_demo

        with Session(ctx.engine) as session:
            click.echo(load_demo(session, ctx))


# --- db ------------------------------------------------------------------------


@cli.group()
def db():
    """The database schema: upgrade it after installing a new release, see where it is."""


@db.command("upgrade")
@config_option
def db_upgrade(config_path):
    """Upgrade the database schema to this release's (back the database up first)."""
    from followup import migrate

    ctx = open_context(config_path, need_schema=False, need_key=False)
    before = migrate.state(ctx.engine)
    if before.up_to_date:
        click.echo(f"Database schema is at {before.head}, this release's: nothing to do.")
        return
    migrate.upgrade(ctx.engine)
    was = before.current or f"{migrate.BASELINE} (made before migrations)"
    click.echo(f"Database schema upgraded from {was} to {migrate.state(ctx.engine).current}.")


@db.command("current")
@config_option
def db_current(config_path):
    """Print the database's schema revision and this release's."""
    from followup import migrate

    now = migrate.state(open_context(config_path, need_schema=False, need_key=False).engine)
    if now.empty:
        at = "none (no followup tables: run `followup init`)"
    else:
        at = (
            now.current or f"{migrate.BASELINE} (made before migrations; run `followup db upgrade`)"
        )
    click.echo(f"database: {at}")
    click.echo(f"this release: {now.head}" + ("" if now.up_to_date else " (upgrade needed)"))


@db.command("history")
def db_history():
    """List the schema revisions, oldest first."""
    from followup import migrate

    for revision, down, message in migrate.history():
        click.echo(f"{down or '<base>'} -> {revision}  {message}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- import --------------------------------------------------------------------


@cli.command("import")
@config_option
@click.argument(
    "kind", metavar="KIND", type=click.Choice(["staff", "participants", "partners", "events"])
)
@click.argument("file", type=click.Path(dir_okay=False))
def import_(config_path, kind, file):
    """Import a CSV file of staff, participants, partners or events (all rows or none)."""
    from followup.imports import import_csv

    ctx = open_context(config_path)
    with _progress() as progress:
        result = import_csv(ctx, kind, file, progress)
    click.echo(result.summary())


class _Bar:
    """A progress bar per stage on a terminal; silence when piped."""

    def __init__(self) -> None:
        self.bar = None
        self.enabled = sys.stderr.isatty()

    def stage(self, label: str, total: int) -> None:
        self.close()
        if self.enabled and total >= 1000:
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self.bar.__enter__()

    def advance(self, count: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _progress() -> _Bar:
    return _Bar()


# --- enrol ---------------------------------------------------------------------


@cli.command()
@config_option
@click.argument("case_id")
@click.option("--site", required=True, help="Site code from config.toml, e.g. BG.")
@click.option(
    "--referral-source",
    required=True,
    help="prosecutor, court, social_work_centre, police, self or other.",
)
@click.option(
    "--enrolled-on", type=DATE, default=None, help="Enrolment date. Default: today at the site."
)
@click.option(
    "--protocol", default=None, help="Protocol id. Default: protocols.default in config.toml."
)
@click.option("--facilitator", default=None, help="staff_id of the facilitator.")
def enrol(config_path, case_id, site, referral_source, enrolled_on, protocol, facilitator):
    """Enrol one participant into a follow-up protocol."""
    from followup.db import transaction
    from followup.enrol import enrol as do_enrol
    from followup.values import parse_identifier

    ctx = open_context(config_path)
    try:
        case_id = parse_identifier(case_id, "case id")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="CASE_ID") from None
    with transaction(ctx.engine) as session:
        ctx.sync_sites(session)
        person = do_enrol(
            session,
            ctx,
            case_id=case_id,
            site=site,
            referral_source=referral_source,
            enrolled_on=enrolled_on
            or (
                ctx.site_today(site)
                if site in ctx.config.sites
                else ctx.now().date()  # do_enrol refuses the unknown site
            ),
            protocol_id=protocol,
            facilitator=facilitator,
        )
    click.echo(
        f"Enrolled {person.case_id} at {person.site_code} on {person.enrolled_on} "
        f"({person.protocol_id}, revision {person.protocol_revision})."
    )


# --- record --------------------------------------------------------------------


@cli.group()
def record():
    """Record what happened: status changes, interviews, recidivism, checks, consent."""


def _violence_options(func):
    """--physical … --stalking, handed to the command as one `violence` dict."""
    kinds = ("physical", "sexual", "psychological", "economic", "coercive", "stalking")

    @wraps(func)
    def collect(*args, **kwargs):
        return func(*args, violence={kind: kwargs.pop(kind) for kind in kinds}, **kwargs)

    for kind in reversed(kinds):
        collect = click.option(
            f"--{kind}",
            type=YES_NO,
            default=None,
            help=f"{kind.capitalize()} violence since the last contact: yes or no (omit: not asked).",
        )(collect)
    return collect


def _in_transaction(config_path, operation):
    from followup.db import transaction

    ctx = open_context(config_path)
    with transaction(ctx.engine) as session:
        return operation(session, ctx)


@record.command("status")
@config_option
@click.argument("case_id")
@click.argument(
    "event",
    metavar="EVENT",
    type=click.Choice(
        ["admitted", "programme_start", "completed", "dropped_out", "excluded", "transferred"]
    ),
)
@click.option("--on", "on", type=DATE, required=True, help="Date of the change.")
def record_status(config_path, case_id, event, on):
    """Record admission, programme start, completion, dropout, exclusion or transfer."""
    from followup.record import record_status as do

    _in_transaction(config_path, lambda s, c: do(s, c, case_id=case_id, event=event, on=on))
    click.echo(f"Recorded {event} for {case_id} on {on}; follow-ups re-planned.")


@record.command("interview")
@config_option
@click.argument("case_id")
@click.option(
    "--informant",
    type=click.Choice(["participant", "partner"]),
    required=True,
    help="Whose account this is.",
)
@click.option(
    "--partner", "partner_id", default=None, help="partner_id, when the case has several partners."
)
@click.option(
    "--checkpoint",
    default=None,
    help="Checkpoint name; default: the follow-up whose window holds the date.",
)
@click.option("--on", "on", type=DATE, required=True, help="Date of the interview.")
@click.option("--by", default=None, help="staff_id of the interviewer.")
@click.option(
    "--mode",
    type=click.Choice(["in_person", "phone", "video"]),
    default=None,
    help="How it was held.",
)
@_violence_options
@click.option(
    "--felt-safety",
    type=click.IntRange(1, 5),
    default=None,
    help="1 (very unsafe) to 5 (very safe).",
)
@click.option(
    "--risk",
    type=click.Choice(["low", "medium", "high"]),
    default=None,
    help="Assessed risk level.",
)
@click.option(
    "--notes", default=None, help="Free text; stored encrypted. Use - to read from stdin."
)
def record_interview(
    config_path,
    case_id,
    informant,
    partner_id,
    checkpoint,
    on,
    by,
    mode,
    violence,
    felt_safety,
    risk,
    notes,
):
    """Record an interview and the violence reported since the last contact."""
    from followup.record import record_interview as do

    if notes == "-":
        notes = sys.stdin.read()
    notes = free_text(notes, "--notes")
    interview = _in_transaction(
        config_path,
        lambda s, c: do(
            s,
            c,
            case_id=case_id,
            informant=informant,
            partner_id=partner_id,
            checkpoint=checkpoint,
            on=on,
            by=by,
            mode=mode,
            violence=violence,
            felt_safety=felt_safety,
            risk_level=risk,
            notes=notes,
        ),
    )
    done = (
        f"; follow-up {interview.checkpoint} completed"
        if interview.followup_id
        else " (no pending follow-up matched)"
    )
    click.echo(f"Recorded the {informant} interview for {case_id} on {on}{done}.")


@record.command("recidivism")
@config_option
@click.argument("case_id")
@click.option("--on", "on", type=DATE, required=True, help="Date of the violence.")
@click.option("--reported-on", type=DATE, default=None, help="Date it was reported. Default: --on.")
@click.option(
    "--source",
    type=click.Choice(["partner", "participant", "police", "prosecutor", "social_services"]),
    required=True,
    help="Who reported it.",
)
@click.option(
    "--partner", "partner_id", default=None, help="partner_id of the partner concerned, if any."
)
@_violence_options
@click.option("--notes", default=None, help="Free text; stored encrypted.")
def record_recidivism(
    config_path,
    case_id,
    on,
    reported_on,
    source,
    partner_id,
    violence,
    notes,
):
    """Record a report of new violence."""
    from followup.record import record_recidivism as do

    notes = free_text(notes, "--notes")
    _in_transaction(
        config_path,
        lambda s, c: do(
            s,
            c,
            case_id=case_id,
            on=on,
            reported_on=reported_on,
            source=source,
            partner_id=partner_id,
            violence=violence,
            notes=notes,
        ),
    )
    click.echo(f"Recorded a recidivism report for {case_id} ({source}, {on}).")


@record.command("check")
@config_option
@click.argument("case_id")
@click.option("--on", "on", type=DATE, required=True, help="Date of the police record check.")
@click.option(
    "--new-offence/--no-new-offence", required=True, help="Whether the check found a new offence."
)
def record_check(config_path, case_id, on, new_offence):
    """Record a police record check (one that finds nothing is information too)."""
    from followup.record import record_check as do

    _in_transaction(
        config_path, lambda s, c: do(s, c, case_id=case_id, on=on, new_offence=new_offence)
    )
    click.echo(
        f"Recorded a record check for {case_id} on {on}: "
        f"{'new offence' if new_offence else 'no new offence'}."
    )


@record.command("consent")
@config_option
@click.argument("partner_id")
@click.option(
    "--withdrawn",
    "action",
    flag_value="withdrawn",
    help="She withdrew consent: every pending contact is cancelled.",
)
@click.option("--given", "action", flag_value="given", help="She gave consent.")
@click.option("--on", "on", type=DATE, required=True, help="Date of the decision.")
def record_consent(config_path, partner_id, action, on):
    """Record a partner's consent, or its withdrawal."""
    from followup.record import set_consent

    if action is None:
        raise click.UsageError("say --given or --withdrawn")
    _in_transaction(
        config_path,
        lambda s, c: set_consent(s, c, partner_id=partner_id, on=on, given=action == "given"),
    )
    if action == "withdrawn":
        click.echo(
            f"Consent withdrawn for {partner_id}; every pending contact with her is cancelled."
        )
    else:
        click.echo(f"Consent recorded for {partner_id}; her follow-ups are planned.")


@record.command("do-not-contact")
@config_option
@click.argument("partner_id")
@click.option("--lift", is_flag=True, help="Lift the flag instead of setting it.")
@click.option(
    "--on",
    "on",
    type=DATE,
    default=None,
    help="Date of the decision. Default: today at her centre.",
)
def record_do_not_contact(config_path, partner_id, lift, on):
    """Flag a partner as not to be contacted: every pending contact is cancelled at once."""
    from followup.record import set_do_not_contact

    _in_transaction(
        config_path,
        lambda s, c: set_do_not_contact(s, c, partner_id=partner_id, flag=not lift, on=on),
    )
    click.echo(
        f"{'Lifted the do-not-contact flag for' if lift else 'Do not contact:'} {partner_id}."
    )


@record.command("missed")
@config_option
@click.argument("case_id")
@click.option("--checkpoint", required=True, help="Checkpoint name.")
@click.option(
    "--informant",
    type=click.Choice(["participant", "partner"]),
    default="participant",
    help="Whose follow-up.",
)
@click.option(
    "--partner", "partner_id", default=None, help="partner_id, when the case has several partners."
)
@click.option("--on", "on", type=DATE, required=True, help="Date it was given up.")
def record_missed(config_path, case_id, checkpoint, informant, partner_id, on):
    """Close a follow-up that will not happen (unreachable, refused)."""
    from followup.record import record_missed as do

    _in_transaction(
        config_path,
        lambda s, c: do(
            s,
            c,
            case_id=case_id,
            checkpoint=checkpoint,
            informant=informant,
            partner_id=partner_id,
            on=on,
        ),
    )
    click.echo(f"Marked {case_id} {informant} {checkpoint} as missed.")


# --- due -----------------------------------------------------------------------


@cli.command()
@config_option
@click.option(
    "--as-of",
    type=DATE,
    default=None,
    help="Pretend today is this date. Default: today at each site.",
)
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=7,
    show_default=True,
    help="Include what falls due in the next N days (everything overdue is always included).",
)
@click.option("--site", default=None, help="Only this site.")
@click.option("--staff", default=None, help="Only follow-ups assigned to this staff_id.")
@format_option()
def due(config_path, as_of, days, site, staff, fmt):
    """List follow-ups that are overdue, due, or falling due in the next N days."""
    from followup.db import transaction
    from followup.operations.caseload import list_due
    from followup.operations.policy import operator

    ctx = open_context(config_path)
    if site and site not in ctx.config.sites:
        raise ConfigError(
            f"{ctx.config.path}: sites.{site}: no such site. Hint: one of {', '.join(ctx.config.sites)}"
        )
    with transaction(ctx.engine) as session:
        items = list_due(
            session,
            ctx,
            operator(ctx.actor.removeprefix("cli:")),
            as_of=as_of,
            days=days,
            site=site,
            staff=staff,
        )
    if fmt == "json":
        click.echo(json.dumps([item.to_json() for item in items], indent=2))
        return
    if not items:
        click.echo("Nothing due.")
        return
    header = ("STATUS", "DUE", "WINDOW", "CASE", "SUBJECT", "CHECKPOINT", "ASSIGNED", "SITE")
    rows = [
        (
            i.status,
            i.due_on.isoformat() + ("*" if i.provisional else ""),
            f"{i.window_opens_on}..{i.window_closes_on}",
            i.case_id,
            i.subject if i.partner_id is None else f"partner {i.partner_id}",
            i.checkpoint + (f" #{i.occurrence}" if i.occurrence > 1 else ""),
            i.assigned_to or "-",
            i.site,
        )
        for i in items
    ]
    _table(header, rows)
    if any(i.provisional for i in items):
        click.echo("* expected date: moves when the real programme dates are recorded")


def _table(header, rows) -> None:
    widths = [max(len(str(r[n])) for r in [header, *rows]) for n in range(len(header))]
    for r in [header, *rows]:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


# --- schedule ------------------------------------------------------------------


@cli.group()
def schedule():
    """Preview and apply changes to the protocol files."""


@schedule.command("plan")
@config_option
@format_option()
def schedule_plan(config_path, fmt):
    """Show, per person, which pending follow-ups the current protocol files would move, add or cancel."""
    from followup.schedule_change import plan_change, render_text

    ctx = open_context(config_path)
    result = plan_change(ctx, apply=False)
    click.echo(json.dumps(result.to_json(), indent=2) if fmt == "json" else render_text(result))


@schedule.command("apply")
@config_option
def schedule_apply(config_path):
    """Apply the current protocol files to every enrolment, in one transaction."""
    from followup.schedule_change import plan_change

    ctx = open_context(config_path)
    result = plan_change(ctx, apply=True)
    click.echo(f"Applied: {result.totals_text()}.")


# --- doctor --------------------------------------------------------------------


@cli.command()
@config_option
@format_option("text: one line per problem, `case_id: what: how to fix`; json: a list.")
def doctor(config_path, fmt):
    """Check the database against every rule the records keep; exit 1 if anything is wrong.

    Status dates out of order, follow-ups that differ from their protocol revision,
    rows that refer to nothing, sealed data the key cannot open, and messages held by a
    sender that stopped. Reads only (and writes one audit line)."""
    from followup.checks import doctor as check
    from followup.db import transaction

    # Without the key check: sealed data the key cannot open is one of its findings.
    ctx = open_context(config_path, need_key=False)
    with transaction(ctx.engine) as session:
        findings = check(session, ctx, now=ctx.now())
    if fmt == "json":
        click.echo(
            json.dumps(
                {"count": len(findings), "problems": [f.to_json() for f in findings]}, indent=2
            )
        )
    elif findings:
        for finding in findings:
            click.echo(finding.line())
        click.echo(f"{len(findings)} problem(s) found.", err=True)
    else:
        click.echo("No problems found.")
    if findings:
        sys.exit(1)


# --- commands of other packages ----------------------------------------------
# Each package keeps its commands in its own cli module (heavy imports inside the
# command functions, so `followup due` stays quick) and registers them here, one line each.

if __name__ == "__main__":
    # `python -m followup.cli`: this file runs as __main__, a second copy of the module; the
    # packages below import `followup.cli` itself, so run that one, with every command.
    from followup.cli import main as _main

    _main()
    raise SystemExit(0)

from followup.dispatch import cli as _dispatch_cli  # noqa: E402  (registration follows the group)

cli.add_command(_dispatch_cli.dispatch)
cli.add_command(_dispatch_cli.serve)
cli.add_command(_dispatch_cli.worker)

from followup.report import cli as _report_cli  # noqa: E402

cli.add_command(_report_cli.report)

from followup.web import cli as _web_cli  # noqa: E402

cli.add_command(_web_cli.user)
cli.add_command(_web_cli.audit)


# --- the edge ------------------------------------------------------------------


# Options whose value is free text: line breaks and tabs are kept there (other control
# characters are still refused). Every other argument is an id, a name, a choice, a date
# or a path, and holds no control character at all.
FREE_TEXT_OPTIONS = frozenset({"--notes"})


def refuse_control_characters(argv: list[str]) -> None:
    """The CLI's share of the one rule (followup.values.refuse_control): checked on the
    raw arguments, before any command (or click's own messages) can echo a value."""
    option = None
    for argument in argv:
        name, value = (option, argument) if option else (None, argument)
        if argument.startswith("--") and "=" in argument:
            name, value = argument.split("=", 1)
        allow = "\t\n\r" if name in FREE_TEXT_OPTIONS else ""
        try:
            refuse_control(value, name or f"argument {value!r}", allow=allow)
        except ValueError as problem:
            raise click.UsageError(str(problem)) from None
        option = (
            argument if argument[:1] == "-" and len(argument) > 1 and "=" not in argument else None
        )


def free_text(text: str | None, option: str) -> str | None:
    """A --notes value (or what stdin gave for it): line breaks allowed, a length limit."""
    if text is None:
        return None
    try:
        return limit_length(refuse_control(text, option, allow="\t\n\r"), option, MAX_NOTES)
    except ValueError as problem:
        raise click.BadParameter(str(problem), param_hint=option) from None


def main(argv: list[str] | None = None) -> None:
    previous_umask = os.umask(PRIVATE_UMASK)
    try:
        refuse_control_characters(sys.argv[1:] if argv is None else argv)
        cli.main(args=argv, prog_name="followup", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", 1)
    except click.ClickException as exc:
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see `{exc.ctx.command_path} --help`)"
        _fail(exc.format_message() + hint, exc.exit_code)
    except CsvRejected as exc:
        for line in exc.problems:
            click.echo(line, err=True)
        more = exc.total - len(exc.problems)
        if more > 0:
            click.echo(f"{exc.path}: … and {more} more problem(s)", err=True)
        _fail(f"{exc.path}: {exc.total} problem(s); nothing was imported", 1)
    except FollowupError as exc:
        for line in str(exc).splitlines():
            click.echo(f"Error: {line}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        _fail("interrupted; nothing half-written (the transaction was rolled back)", 130)
    except Exception as exc:
        if os.environ.get("FOLLOWUP_DEBUG"):
            raise
        if _database_unavailable(exc):
            # The start-up check found it reachable: it went away, or is locked, mid-command.
            reason = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0][:200]
            _fail(
                f"the database stopped answering ({reason}); the transaction was rolled back, "
                "nothing is half-written. Hint: check that it is running, then run the "
                "command again",
                1,
            )
        # Only the first line: a database error's later lines carry the row's values.
        first = (str(exc).splitlines() or [""])[0][:200]
        _fail(
            f"internal error ({type(exc).__name__}: {first}). This is a bug; "
            "run again with FOLLOWUP_DEBUG=1 for the traceback",
            70,
        )
    finally:
        os.umask(previous_umask)


def _database_unavailable(exc: Exception) -> bool:
    import sqlalchemy.exc

    return isinstance(exc, sqlalchemy.exc.OperationalError)


def _fail(message: str, status: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
