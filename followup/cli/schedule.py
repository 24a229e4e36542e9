"""`followup schedule plan|apply`: preview and apply changes to the protocol files."""

from __future__ import annotations

import json

import click

from followup.cli.common import as_option, config_option, format_option, open_context, principal

# --- schedule ------------------------------------------------------------------


@click.group()
def schedule():
    """Preview and apply changes to the protocol files."""


@schedule.command("plan")
@config_option
@as_option
@format_option()
def schedule_plan(config_path, fmt, as_user):
    """Show, per person, which pending follow-ups the current protocol files would move, add or cancel."""
    from followup.operations import schedules
    from followup.schedule_change import render_text

    ctx = open_context(config_path)
    result = schedules.plan(ctx, _principal(ctx, as_user))
    click.echo(json.dumps(result.to_json(), indent=2) if fmt == "json" else render_text(result))


@schedule.command("apply")
@config_option
@as_option
def schedule_apply(config_path, as_user):
    """Apply the current protocol files to every enrolment, in one transaction."""
    from followup.operations import schedules

    ctx = open_context(config_path)
    result = schedules.apply(ctx, _principal(ctx, as_user))
    click.echo(f"Applied: {result.totals_text()}.")


def _principal(ctx, as_user):
    from followup.db import transaction

    with transaction(ctx.engine) as session:
        return principal(session, ctx, as_user)
