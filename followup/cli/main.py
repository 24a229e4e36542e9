"""`followup …`: the command line. The group, every command registered on it (one
module per area in this package), and the edge: domain errors are turned into one clean
line on stderr here and nowhere else; the exit status is 1 for a refused operation, 2 for
a misused command."""

from __future__ import annotations

import os
import sys

import click

from followup.cli import accounts, alerts, casework, dispatch, report, schedule, setup
from followup.errors import CsvRejected, FollowupError, Forbidden, NotVisible
from followup.values import refuse_control

# Files this process creates (the SQLite database and its -wal/-shm files, reports
# written with --out, exports) hold case ids, violence answers, risk and audit: readable
# and writable by the owner only, whatever the shell's umask.
PRIVATE_UMASK = 0o077


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


for command in (
    setup.init,
    setup.db,
    setup.import_,
    setup.doctor,
    casework.enrol,
    casework.record,
    casework.due,
    schedule.schedule,
    dispatch.dispatch,
    dispatch.serve,
    dispatch.worker,
    report.report,
    report.codebook,
    accounts.user,
    accounts.staff,
    accounts.audit,
    alerts.alerts,
):
    cli.add_command(command)


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
    except (NotVisible, Forbidden) as exc:
        _fail(str(exc) or "not allowed", 1)
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
    from followup.db import database_unavailable

    return database_unavailable(exc)


def _fail(message: str, status: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(status)
