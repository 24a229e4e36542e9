"""her safe-contact plan replaces safe_hours

Revision ID: 0009_plan
Revises: 0008_instruments
Create Date: 2026-11-30 08:00:00

A data migration: every partner's channel and safe hours (with the number or address
that channel uses, from her sealed contact details) are sealed into `plan_sealed`, then
`safe_hours` is dropped. Sealing needs the key: followup.migrate hands the vault over in
`config.attributes["vault"]`; with rows to seal and no key, the upgrade stops before
changing anything. An old overnight span such as "17:00-09:00" (the old rule let a span
end before it starts) becomes "17:00-24:00; 00:00-09:00", which means the same.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import context, op

from followup.errors import ConfigError
from followup.safe_contact import CHANNEL_DETAIL, PLAN_CHANNELS, SafeContactPlan, parse_safe_times

revision = "0009_plan"
down_revision = "0008_instruments"
branch_labels = None
depends_on = None

_partner = sa.table(
    "partner",
    sa.column("id", sa.Integer()),
    sa.column("partner_id", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("safe_hours", sa.String()),
    sa.column("contact_sealed", sa.LargeBinary()),
    sa.column("plan_sealed", sa.LargeBinary()),
    sa.column("plan_confirmed_on", sa.Date()),
)
_OLD_SPAN = re.compile(r"^(\d\d:\d\d)-(\d\d:\d\d)$")


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            _partner.c.id,
            _partner.c.partner_id,
            _partner.c.channel,
            _partner.c.safe_hours,
            _partner.c.contact_sealed,
        )
        .where(_partner.c.plan_sealed.is_(None))
        .where(sa.or_(_partner.c.channel.is_not(None), _partner.c.safe_hours.is_not(None)))
        .order_by(_partner.c.id)
    ).all()
    rows = [r for r in rows if r.channel or (r.safe_hours or "").strip()]
    if rows:
        vault = context.config.attributes.get("vault")
        if vault is None:
            raise ConfigError(
                f"0009_plan: {len(rows)} partner(s) have a channel or safe hours to seal into "
                "their safe-contact plan and no encryption key is configured; nothing was "
                "changed. Hint: set FOLLOWUP_SECRET_KEY or security.key_file, then upgrade again"
            )
        for row in rows:
            plan = _plan(vault, row)
            conn.execute(
                sa.update(_partner)
                .where(_partner.c.id == row.id)
                .values(plan_sealed=vault.seal(plan.to_json()))
            )
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.drop_column("safe_hours")


def _plan(vault, row) -> SafeContactPlan:
    try:
        windows = parse_safe_times(_old_safe_hours(row.safe_hours or ""))
    except ValueError as problem:
        raise ConfigError(
            f"0009_plan: partner {row.partner_id}: safe_hours: {problem}; nothing was changed. "
            "Hint: correct her safe hours (e.g. 10:00-12:00) with the release you are "
            "upgrading from, then upgrade again"
        ) from None
    contact = (vault.open(row.contact_sealed) or {}) if row.contact_sealed else {}
    channels = {}
    if row.channel in PLAN_CHANNELS:
        channels[row.channel] = str(contact.get(CHANNEL_DETAIL[row.channel]) or "")
    return SafeContactPlan(channels=channels, windows=windows)


def _old_safe_hours(text: str) -> str:
    """The old comma-separated spans, an overnight span split at midnight."""
    spans = []
    for span in (s.strip().replace(" ", "") for s in text.split(",")):
        found = _OLD_SPAN.match(span)
        if found and found[2] <= found[1] and found[2] != "24:00":
            spans += [f"{found[1]}-24:00", *([f"00:00-{found[2]}"] if found[2] != "00:00" else [])]
        elif span:
            spans.append(span)
    return "; ".join(spans)


def downgrade() -> None:
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("safe_hours", sa.String(), nullable=True))
    # The plan's safe times go back as the old free text, as far as the key allows.
    vault = context.config.attributes.get("vault")
    if vault is None:
        return
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_partner.c.id, _partner.c.plan_sealed).where(_partner.c.plan_sealed.is_not(None))
    ).all()
    for row in rows:
        plan = SafeContactPlan.from_json(vault.open(row.plan_sealed))
        text = ", ".join(f"{w.starts:%H:%M}-{w.ends:%H:%M}" for w in plan.windows) or None
        conn.execute(sa.update(_partner).where(_partner.c.id == row.id).values(safe_hours=text))
