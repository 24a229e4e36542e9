"""Who hears about what, and by which channel.

Reminders and digests go by the staff member's own channel. When that channel failed
permanently for them (invalid number, opted out), `Staff.channel_problem` says so and
their messages go by `channels.fallback` until the contact details change. Safety
alerts go by the fastest channel the person can be reached on — sms, then e-mail,
then the console — whatever the quiet hours, and move down that list if a channel keeps
failing. A channel the deployment has not set up is skipped; the console is always there.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from email.utils import formataddr

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.models import Staff

FASTEST_FIRST = ("sms", "email", "console")
ALERT_ATTEMPTS_PER_CHANNEL = 3

_REF = re.compile(
    r"^(?P<channel>[a-z]+): .* \(since (?P<since>[0-9-]+), ref (?P<ref>[0-9a-f]{8})\)$"
)


def address(staff, channel: str) -> str | None:
    """Where a channel reaches a staff member: a phone number, an e-mail address, or for
    the console a label saying whom the message is for."""
    if channel == "sms":
        return staff.phone or None
    if channel == "email":
        return formataddr((staff.name, staff.email)) if staff.email else None
    return f"{staff.name} ({staff.staff_id})"


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def problem_text(channel: str, staff, meaning: str, on: date) -> str:
    """What `Staff.channel_problem` says: readable, plus a fingerprint of the address
    that failed (never the address), so a corrected number or e-mail clears it."""
    return f"{channel}: {meaning} (since {on.isoformat()}, ref {_fingerprint(address(staff, channel) or '')})"


def problem_channel(staff) -> str | None:
    """The channel that failed permanently for this person, if it still applies: the
    problem no longer applies once the address it was about has been changed."""
    if not staff.channel_problem:
        return None
    match = _REF.match(staff.channel_problem)
    if match is None:
        return None
    channel = match["channel"]
    if match["ref"] != _fingerprint(address(staff, channel) or ""):
        return None
    return channel


def preferred(staff, default: str) -> str:
    return staff.channel or default


def fastest(staff, available: frozenset[str]) -> str:
    """The fastest channel that reaches this person in this deployment."""
    return next(
        c for c in FASTEST_FIRST if c == "console" or (c in available and address(staff, c))
    )


def candidates(
    kind: str, channel: str, attempts: int, staff, available: frozenset[str], fallback: str
) -> list[str]:
    """The channels to try for one message, best first."""
    broken = problem_channel(staff)
    if kind == "alert":
        usable = [
            c
            for c in FASTEST_FIRST
            if c == "console" or (c in available and address(staff, c) and c != broken)
        ]
        # A fast channel that keeps failing must not hold a safety alert back.
        skip = min(max(attempts - 1, 0) // ALERT_ATTEMPTS_PER_CHANNEL, len(usable) - 1)
        return usable[skip:]
    order = [channel, fallback, "console"]
    seen: list[str] = []
    for c in order:
        if c in seen or (c == broken and c != "console"):
            continue
        if c != "console" and (c not in available or not address(staff, c)):
            continue
        seen.append(c)
    return seen


def supervisors(session: Session, site_code: str) -> list[Staff]:
    rows = (
        session.execute(
            sa.select(Staff)
            .where(Staff.site_code == site_code, Staff.active.is_(True))
            .order_by(Staff.staff_id)
        )
        .scalars()
        .all()
    )
    return [s for s in rows if "supervisor" in s.role_set]
