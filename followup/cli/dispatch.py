"""`followup dispatch`, `followup serve`, `followup worker`."""

from __future__ import annotations

from datetime import datetime

import click

from followup.cli.common import config_option, open_context


class InstantType(click.ParamType):
    name = "ISO-INSTANT"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            self.fail(
                f"expected an instant such as 2026-03-29T08:00:00+02:00, got {value!r}", param, ctx
            )
        if instant.tzinfo is None or instant.utcoffset() is None:
            self.fail(
                f"{value!r} has no time zone; add one, e.g. {value}+02:00 or {value}Z", param, ctx
            )
        return instant


INSTANT = InstantType()


@click.command()
@config_option
@click.option(
    "--once",
    is_flag=True,
    help="Run one dispatch pass and exit (the only mode; `followup worker` keeps dispatching).",
)
@click.option(
    "--now",
    "now",
    type=INSTANT,
    default=None,
    help="Run the pass as if at this instant (drills and tests), e.g. 2026-03-30T08:00:00+02:00. "
    "Default: the real time.",
)
def dispatch(config_path, once, now):
    """Queue the reminders, digests and escalations that fell due, and send what is queued."""
    from followup.clock import fixed
    from followup.dispatch.run import run_pass
    from followup.dispatch.sender import ChannelSet, Sender

    if not once:
        raise click.UsageError("say --once for one pass; `followup worker` dispatches continuously")
    ctx = open_context(config_path)
    ctx.clock = fixed(now or ctx.now())  # the whole pass happens at one instant
    channels = ChannelSet(ctx)
    try:
        outcome = run_pass(ctx, Sender(ctx, channels), clock=ctx.clock)
    finally:
        channels.close()
    click.echo(outcome.summary())


@click.command()
@config_option
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Serve HTTP only; run `followup worker` elsewhere to send reminders.",
)
@click.option(
    "--now",
    "start",
    type=INSTANT,
    default=None,
    help="Start the service's clock at this instant (drills): the dispatcher and the web app "
    "both run on it, at the real pace.",
)
def serve(config_path, no_scheduler, start):
    """Run the service: the web app and Twilio status callbacks, and the reminder dispatcher."""
    from followup.service import run

    ctx = open_context(config_path, private_file=True)
    run(ctx, http=True, scheduler=not no_scheduler, start=start)


@click.command()
@config_option
@click.option(
    "--now",
    "start",
    type=INSTANT,
    default=None,
    help="Start the dispatcher's clock at this instant (drills); it then runs at the real pace.",
)
def worker(config_path, start):
    """Run the reminder dispatcher only (no HTTP); several may run against one PostgreSQL."""
    from followup.service import run

    run(open_context(config_path, private_file=True), http=False, scheduler=True, start=start)
