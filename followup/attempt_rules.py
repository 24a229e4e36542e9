"""Contact attempts, pure: what one attempt does to its follow-up, and whether her
safe-contact plan allows it.

Shared by every path that records attempts (followup.operations.attempts for the CLI
and the web, followup.imports.attempts for CSV), so a command, a page and a file
cannot disagree on a count, a status or a refusal. No database, no clock, no key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from followup import lost
from followup.errors import InvalidRecord
from followup.safe_contact import SafeContactPlan
from followup.schedule import PENDING

OVERRIDE_HINT = "give a reason to record it anyway"


class OutsidePlan(InvalidRecord):
    """An attempt her plan does not allow; recorded only with an override reason."""


@dataclass(frozen=True)
class Counters:
    """A follow-up's stored status and its denormalised attempt counters."""

    status: str
    attempts: int = 0
    unreached_attempts: int = 0
    last_attempt_at: datetime | None = None
    last_attempt_outcome: str | None = None


def after_attempt(
    counters: Counters, outcome: str, attempted_at: datetime, lost_after: int | None
) -> Counters:
    """The counters once an attempt is recorded (followup.lost decides the status). The
    "last" attempt is the latest by `attempted_at`, whatever order they are recorded in."""
    unreached = counters.unreached_attempts + (1 if lost.counts_towards_lost(outcome) else 0)
    latest = counters.last_attempt_at is None or attempted_at >= counters.last_attempt_at
    return replace(
        counters,
        status=lost.status_after_attempt(counters.status, outcome, unreached, lost_after),
        attempts=counters.attempts + 1,
        unreached_attempts=unreached,
        last_attempt_at=attempted_at if latest else counters.last_attempt_at,
        last_attempt_outcome=outcome if latest else counters.last_attempt_outcome,
    )


def status_problem(status: str, checkpoint: str) -> str | None:
    """Only a pending follow-up takes attempts."""
    if status == PENDING:
        return None
    return (
        f"{checkpoint} is {status}; attempts are recorded only on a pending follow-up "
        "(one that is still scheduled)"
    )


def window_problem(on: date, checkpoint: str, opens_on: date) -> str | None:
    """No attempt before the follow-up's window opens (as no interview)."""
    if on < opens_on:
        return f"an attempt on {on} is before the {checkpoint} window opens on {opens_on}"
    return None


def future_problem(attempted_at: datetime, now: datetime) -> str | None:
    if attempted_at > now:
        return f"{attempted_at:%Y-%m-%dT%H:%M}Z is in the future"
    return None


def parse_attempted_at(text: str) -> datetime:
    """An ISO instant with its offset (2026-11-30T10:05+01:00, or Z), or a local
    YYYY-MM-DDTHH:MM (naive: read in the case's site zone by `to_utc`)."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            f"expected an ISO instant (2026-11-30T10:05+01:00) or a local "
            f"YYYY-MM-DDTHH:MM, got {text!r}"
        ) from None
    if "T" not in value.upper() and " " not in value:
        raise ValueError(f"expected a date and a time (YYYY-MM-DDTHH:MM), got {text!r}")
    return parsed


def local_time(attempted_at: datetime, zone: ZoneInfo) -> datetime:
    """The attempt's time as a naive local time in her site's zone (what a plan reads)."""
    return attempted_at.astimezone(zone).replace(tzinfo=None)


def to_utc(attempted_at: datetime, zone: ZoneInfo) -> datetime:
    """An instant with an offset as it is, a naive one read in the site's zone; in UTC."""
    if attempted_at.tzinfo is None:
        attempted_at = attempted_at.replace(tzinfo=zone)
    return attempted_at.astimezone(UTC)


def plan_problem(
    plan: SafeContactPlan | None, channel: str, local: datetime, *, show_plan: bool = True
) -> str | None:
    """Which rule of her plan an attempt by `channel` at `local` breaks, or None. No plan
    at all breaks none (the pages flag a partner with no plan). `show_plan`: name her
    allowed channels and safe times — only to her worker recording the attempt; an
    import's error list goes to whoever runs it and into tickets, so it says which rule
    and not what her plan holds."""
    if plan is None:
        return None
    if not plan.allows_channel(channel):
        allowed = ", ".join(sorted(plan.channels)) or "none recorded"
        shown = f" (allowed: {allowed})" if show_plan else ""
        return f"her safe-contact plan does not allow contact by {channel}{shown}; {OVERRIDE_HINT}"
    if not plan.is_safe_at(local):
        shown = f" ({plan.safe_times_text})" if show_plan else " (her worker sees them on her page)"
        return (
            f"{local:%a %d %b %H:%M} (her local time) is outside her safe times"
            f"{shown}; {OVERRIDE_HINT}"
        )
    return None
