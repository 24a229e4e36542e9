"""What to do after a send failed: a pure function of the failure, the rules and `now`.

The sender records what these functions decide (in one transaction) and decides
nothing itself. A permanent refusal (invalid number, opted out, address rejected) is
final on that channel and the same message goes again by the next one; a provider in
trouble is tried again later, with exponential backoff and jitter, never sooner than its
Retry-After, no later than the moment the message goes by the fallback channel, and
after the quiet hours; a message failing until it is no longer worth sending is given
up. Safety alerts are never given up and retry within minutes. The site supervisors
hear of what needs a person (an hourly digest, queued by the sender).

Jitter is an input (a number in [0, 1)), so the same inputs always give the same
decision: the sender draws it from its random source, which tests seed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from followup.dispatch.timing import QuietHours, out_of_quiet_hours

__all__ = [
    "ALERT_RETRY_CAP_SECONDS",
    "RECIPIENT_PROBLEMS",
    "RETRY_BASE_SECONDS",
    "RETRY_CAP_SECONDS",
    "Decision",
    "Failure",
    "Notice",
    "Outcome",
    "Rules",
    "backoff_delay",
    "by_fallback",
    "decide",
    "refusal",
    "still_in_doubt",
]

RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 3600
ALERT_RETRY_CAP_SECONDS = 300

# Permanent refusals that are about the recipient's address (so their channel is
# flagged), as opposed to the deployment's own settings or the message itself.
RECIPIENT_PROBLEMS = frozenset(
    {
        "21211",
        "21408",
        "21608",
        "21610",
        "21612",
        "21614",
        "21635",  # Twilio
        "30004",
        "30005",
        "30006",  # Twilio delivery reports (status callbacks)
        "550",
        "551",
        "553",
        "address",
        "no-address",  # SMTP
    }
)


class Outcome(enum.StrEnum):
    SEND = "send"  # send it now (a message in doubt that cannot or need not wait)
    RETRY = "retry"  # keep it, try again at Decision.at
    REFUSED = "refused"  # final on this channel; the same message goes by the next one
    GIVEN_UP = "given up"  # failing until it was no longer worth sending


class Notice(enum.StrEnum):
    """Whether the site supervisors hear of it, in their hourly delivery-problem digest."""

    NONE = "none"
    ALWAYS = "always"
    IF_NEWLY_FLAGGED = "if newly flagged"  # a flagged channel is news once


@dataclass(frozen=True)
class Rules:
    """The deployment's rules for one recipient."""

    fallback_after: timedelta  # channels.fallback_after_minutes
    in_doubt_resend_after: timedelta  # channels.in_doubt_resend_after_minutes
    zone: ZoneInfo  # the recipient's site
    quiet: QuietHours


@dataclass(frozen=True)
class Failure:
    """One failed attempt to send a message, as the sender saw it."""

    kind: str  # the message's kind: alert, reminder, digest, delivery_problem, …
    channel: str  # the channel it failed on
    route: tuple[str, ...]  # the channels it could go by, in order
    attempts: int  # attempts so far, this one included
    permanent: bool
    code: str | None = None
    retry_after: float | None = None  # seconds, when the provider said
    maybe_sent: bool = False  # the provider may have taken it after all
    failing_since: datetime | None = None
    useful_until: datetime | None = None  # None: never given up (safety alerts)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    at: datetime | None = None  # RETRY: the next attempt
    in_doubt: bool = False  # RETRY: ask the provider before sending it again
    next_channel: str | None = None  # REFUSED: the channel it goes by next
    flag_channel: bool = False  # REFUSED: the recipient's address on it was at fault
    notice: Notice = Notice.NONE


def decide(failure: Failure, rules: Rules, now: datetime, jitter: float) -> Decision:
    """Refused for good, given up, or tried again (and when)."""
    if failure.permanent:
        rest = [c for c in failure.route if c != failure.channel] or ["console"]
        return refusal(failure.kind, failure.channel, rest[0], failure.code)
    if failure.useful_until is not None and now >= failure.useful_until:
        return Decision(Outcome.GIVEN_UP, notice=_notice(failure.kind, Notice.ALWAYS))
    return Decision(
        Outcome.RETRY, at=_next_try(failure, rules, now, jitter), in_doubt=failure.maybe_sent
    )


def refusal(kind: str, failed_channel: str, next_channel: str, code: str | None) -> Decision:
    """A permanent refusal on one channel (by the provider at once, or in a delivery
    report later): the channel is flagged when the recipient's address was at fault, and
    the supervisors are told once per flagged channel, or every time for any other
    refusal (the deployment's sender number, say)."""
    about_recipient = code in RECIPIENT_PROBLEMS
    return Decision(
        Outcome.REFUSED,
        next_channel=next_channel,
        flag_channel=failed_channel != "console" and about_recipient,
        notice=_notice(kind, Notice.IF_NEWLY_FLAGGED if about_recipient else Notice.ALWAYS),
    )


def still_in_doubt(
    kind: str,
    attempts: int,
    in_doubt_since: datetime | None,
    rules: Rules,
    now: datetime,
    jitter: float,
) -> Decision:
    """A message whose last send may have reached the provider, which cannot be asked
    now. A safety alert goes again at once (a duplicate is the lesser harm); anything
    else waits, asking again, until in_doubt_resend_after, then goes again."""
    since = in_doubt_since or now
    resend_at = since + rules.in_doubt_resend_after
    if kind == "alert" or now >= resend_at:
        return Decision(Outcome.SEND)
    at = min(now + backoff_delay(attempts, None, jitter), resend_at)
    return Decision(Outcome.RETRY, at=at, in_doubt=True)


def by_fallback(
    kind: str,
    failing_since: datetime | None,
    route: list[str],
    fallback: str,
    rules: Rules,
    now: datetime,
) -> tuple[list[str], Notice]:
    """The route for a message failing on its own channel: after `fallback_after` it
    goes by the fallback channel (never the console: that is nobody's phone), and the
    supervisors hear of it. Safety alerts have their own rule (see routing)."""
    if kind == "alert" or failing_since is None or len(route) < 2:
        return route, Notice.NONE
    if route[1] == "console" or route[0] == fallback:
        return route, Notice.NONE
    if now - failing_since < rules.fallback_after:
        return route, Notice.NONE
    return route[1:], _notice(kind, Notice.ALWAYS)


def backoff_delay(
    attempts: int, retry_after: float | None, jitter: float, *, cap: float = RETRY_CAP_SECONDS
) -> timedelta:
    """30 s, 1 min, 2 min, … up to `cap`, each in its upper half by `jitter` (0 ≤ jitter
    < 1, so retries of many messages spread out, yet never come sooner than half the
    step), and never sooner than the provider's Retry-After."""
    step = min(cap, RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    delay = step / 2 + jitter * step / 2
    if retry_after:
        delay = max(delay, retry_after)
    return timedelta(seconds=delay)


def _next_try(failure: Failure, rules: Rules, now: datetime, jitter: float) -> datetime:
    """Backoff with jitter; no later than the moment the fallback channel is due, nor
    than the message stops being worth sending (its last try); after the quiet hours."""
    alert = failure.kind == "alert"
    cap = ALERT_RETRY_CAP_SECONDS if alert else RETRY_CAP_SECONDS
    at = now + backoff_delay(failure.attempts, failure.retry_after, jitter, cap=cap)
    if alert:
        return at
    switch = (failure.failing_since or now) + rules.fallback_after
    if now < switch and not failure.retry_after:
        at = min(at, switch)
    if failure.useful_until is not None:
        at = min(at, max(failure.useful_until, now))
    return out_of_quiet_hours(at, rules.zone, rules.quiet)


def _notice(kind: str, notice: Notice) -> Notice:
    # A delivery-problem digest that fails does not announce itself.
    return Notice.NONE if kind == "delivery_problem" else notice
