"""`followup alerts …`: safety alerts (new violence reported), the same operation as the
Safety alerts page (followup.operations.alerts), under the same rules."""

from __future__ import annotations

import json

import click

from followup.cli.common import as_option, config_option, format_option, in_transaction, table
from followup.vocab import ALERT_ACTIONS


@click.group()
def alerts():
    """Safety alerts: list them, acknowledge one."""


@alerts.command("list")
@config_option
@as_option
@click.option("--all", "show_all", is_flag=True, help="Acknowledged ones too.")
@format_option()
def alerts_list(config_path, as_user, show_all, fmt):
    """The newest safety alerts this person may see (unacknowledged ones unless --all)."""
    from followup.operations.alerts import list_alerts

    rows = in_transaction(
        config_path, as_user, lambda s, c, p: list_alerts(s, p, show_all=show_all)
    )
    if fmt == "json":
        click.echo(json.dumps([_json(row) for row in rows], indent=2))
        return
    if not rows:
        click.echo("No safety alerts.")
        return
    table(
        ("ID", "RAISED", "CASE", "SITE", "KIND", "PARTNER", "REPORTED", "ACKNOWLEDGED"),
        [
            (
                row.id,
                row.raised_at.isoformat(timespec="minutes"),
                row.case_id,
                row.site,
                row.kind,
                row.partner_id or "-",
                ",".join(row.reported) or "-",
                row.acknowledged_by or "-" if row.acknowledged_at else "no",
            )
            for row in rows
        ],
    )


def _json(row) -> dict:
    return {
        "id": row.id,
        "case_id": row.case_id,
        "site": row.site,
        "raised_at": row.raised_at.isoformat(),
        "acknowledged_at": row.acknowledged_at.isoformat() if row.acknowledged_at else None,
        "acknowledged_by": row.acknowledged_by,
        "kind": row.kind,
        "source": row.source,
        "partner_id": row.partner_id,
        "reported": list(row.reported),
        "action": row.action,
    }


@alerts.command("acknowledge")
@config_option
@as_option
@click.argument("alert_id", type=int)
@click.option(
    "--action",
    type=click.Choice(ALERT_ACTIONS),
    default=None,
    help="what was done (the web asks for it too)",
)
@click.option("--note", default=None, help="a short note, stored encrypted")
def alerts_acknowledge(config_path, as_user, alert_id, action, note):
    """Mark a safety alert as seen (the first person to do so is kept), with what was done."""
    from followup.operations.alerts import acknowledge

    done = in_transaction(
        config_path,
        as_user,
        lambda s, c, p: acknowledge(s, c, p, alert_id, action=action, note=note),
    )
    click.echo(
        f"Acknowledged alert {alert_id}." if done else f"Alert {alert_id} was already acknowledged."
    )
