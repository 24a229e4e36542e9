"""The reminder policy from config.toml, and the date bounds the protocols imply.

The bounds keep every planning query a narrow range over the (status, due_on) index:
a window can open at most `window_before` days before its due date and close at most
`window_after` days after it, in any protocol revision anyone is enrolled in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.config import Config
from followup.context import Context
from followup.dispatch.timing import QuietHours
from followup.her_plan import plan_of
from followup.models import ProtocolRevision
from followup.safe_contact import SafeContactPlan

log = logging.getLogger("followup.dispatch")


@dataclass(frozen=True)
class Policy:
    lead_days: tuple[int, ...]
    digest_time: time
    digest_days: int
    working_days: frozenset[str]
    quiet: QuietHours
    escalate_after_days: int
    catch_up_after_minutes: int
    partner_lead: timedelta  # before her first safe window on the due day

    @classmethod
    def from_config(cls, config: Config) -> Policy:
        r = config.reminders
        return cls(
            lead_days=tuple(r.lead_days),
            digest_time=r.digest_time,
            digest_days=r.digest_days,
            working_days=frozenset(r.working_days),
            quiet=QuietHours(r.quiet_hours.start, r.quiet_hours.end),
            escalate_after_days=r.escalate_after_days,
            catch_up_after_minutes=r.catch_up_after_minutes,
            partner_lead=timedelta(minutes=r.partner_lead_minutes),
        )


@dataclass(frozen=True)
class Bounds:
    window_before: int  # the most days any window opens before its due date
    window_after: int  # the most days any window closes after its due date


def protocol_bounds(session: Session, ctx: Context) -> Bounds:
    revisions = session.execute(sa.select(ProtocolRevision.revision)).scalars().all()
    protocols = [ctx.protocol_at(session, revision) for revision in revisions]
    protocols += list(ctx.protocols.values())
    checkpoints = [c for p in protocols for c in p.checkpoints]
    return Bounds(
        window_before=max((c.window_before_days for c in checkpoints), default=0),
        window_after=max((c.window_after_days for c in checkpoints), default=0),
    )


def site_zone(config: Config, site_code: str) -> ZoneInfo:
    site = config.sites.get(site_code)
    return site.zone if site is not None else ZoneInfo("UTC")


def her_plan(ctx: Context, row) -> SafeContactPlan | None:
    """Her safe-contact plan, from a row carrying `plan_sealed` only (her contact details
    are never read here), or None. The dispatcher runs with the key; it opens the plans
    of the partner follow-ups a pass is about, and takes nothing from them but the times
    of her safe windows. A plan that does not open (a damaged row) reads as no plan — the
    reminder goes at the morning, as before — rather than stopping every pass."""
    if getattr(row, "plan_sealed", None) is None:
        return None
    try:
        return plan_of(ctx.vault, row)
    except Exception:  # never the plan's content in the log: only which partner row
        log.warning("partner %s: her safe-contact plan could not be opened", row.partner_id)
        return None
