"""`followup schedule plan|apply`: preview and apply changes to the protocol files."""

from __future__ import annotations

import json

import click

from followup.cli.common import config_option, format_option, open_context

# --- schedule ------------------------------------------------------------------


@click.group()
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
