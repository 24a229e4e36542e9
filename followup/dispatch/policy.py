"""The reminder policy from config.toml, and the date bounds the protocols imply.

The bounds keep every planning query a narrow range over the (status, due_on) index:
a window can open at most `window_before` days before its due date and close at most
`window_after` days after it, in any protocol revision anyone is enrolled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.config import Config
from followup.context import Context
from followup.dispatch.timing import QuietHours
from followup.models import ProtocolRevision


@dataclass(frozen=True)
class Policy:
    lead_days: tuple[int, ...]
    digest_time: time
    digest_days: int
    working_days: frozenset[str]
    quiet: QuietHours
    escalate_after_days: int
    catch_up_after_minutes: int

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
