"""`followup init`, `followup db …`, `followup import …`, `followup doctor`: the
deployment and its data."""

from __future__ import annotations

import json
import os
import sys

import click

from followup import vocab
from followup.cli.common import config_option, format_option, open_context

# --- init ----------------------------------------------------------------------


@click.command()
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
    before, after = create_or_upgrade(ctx.engine, vault=_vault_if_any(ctx))
    with transaction(ctx.engine) as session:
        ctx.sync_sites(session)
        ctx.register_protocols(session)
        ctx.check_key(session)
    if before.has_tables and before.current != after.current:
        was = before.current or f"{BASELINE} (made before migrations)"
        click.echo(f"Database schema upgraded from {was} to {after.current}.")
    from followup.db import safe_url

    click.echo(f"Database ready: {safe_url(ctx.config.database_url)}")
    if demo:
        from followup.db import open_session
        from followup.demo import load_demo

        with open_session(ctx.engine) as session:
            click.echo(load_demo(session, ctx))


# --- db ------------------------------------------------------------------------


@click.group()
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
    migrate.upgrade(ctx.engine, vault=_vault_if_any(ctx))
    was = before.current or f"{migrate.BASELINE} (made before migrations)"
    click.echo(f"Database schema upgraded from {was} to {migrate.state(ctx.engine).current}.")


def _vault_if_any(ctx):
    """The key when one is configured: a data migration may need it to seal partner data
    (it says so, naming the fix, when it does and there is none)."""
    return ctx._vault  # None when no key is configured; a key file others can read raises


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


# --- import --------------------------------------------------------------------


@click.command("import")
@config_option
@click.option(
    "--all",
    "folder",
    type=click.Path(file_okay=False),
    help="Import every file the folder holds (staff.csv, participants.csv, partners.csv, "
    "events.csv, answers.csv, attempts.csv) together.",
)
@click.argument("items", nargs=-1, metavar="[KIND FILE]...")
def import_(config_path, folder, items):
    """Import CSV files of staff, participants, partners, events, instrument answers or
    contact attempts (all rows or none).

    KIND is one of staff, participants, partners, events, answers, attempts. Several KIND
    FILE pairs, or --all FOLDER, import the files together in one transaction, each person planned once:
    the fast way to load a whole export."""
    from followup.imports import files_in, import_files

    if folder and items:
        raise click.UsageError("give --all FOLDER or KIND FILE pairs, not both")
    if folder:
        sources = files_in(folder)
    else:
        if not items or len(items) % 2:
            raise click.UsageError(
                "expected KIND FILE (or several KIND FILE pairs, or --all FOLDER); "
                f"KIND is one of {', '.join(vocab.IMPORT_KINDS)}"
            )
        sources = list(zip(items[::2], items[1::2], strict=True))
        for kind, _ in sources:
            if kind not in vocab.IMPORT_KINDS:
                kinds = ", ".join(repr(k) for k in vocab.IMPORT_KINDS)
                raise click.BadParameter(f"{kind!r} is not one of {kinds}.", param_hint="'KIND'")
    ctx = open_context(config_path)
    with _progress() as progress:
        results = import_files(ctx, sources, progress)
    for result in results:
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


# --- doctor --------------------------------------------------------------------


@click.command()
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
