"""Lost to follow-up is a rule, not a guess: what a pending follow-up has become, given
its contact attempts, its window and the protocol's `lost_after_attempts`.

A pure core (no database, no clock). The words:

- `unreachable`  tried and could not reach the person: `lost_after_attempts` attempts
                 that did not reach them, or the window closed after at least one attempt;
- `missed`       the window closed and nobody tried (or staff marked it missed);
- `refused`      the person said no to this follow-up (an attempt with outcome `refused`);
- `cancelled`    consent withdrawn, do-not-contact, a dropout or a protocol change,
                 before the window closed (a window that had already closed stays
                 `missed`/`unreachable`, so the follow-up rate's denominator cannot
                 shrink after the fact).

Which attempts count towards `lost_after_attempts`: every outcome that did not reach the
person for the interview, except `unsafe_to_talk` (she was reached and said "not now":
she is reachable, and her worker tries again at her next safe time) and `reached`.
"""

from __future__ import annotations

from datetime import date

from followup.schedule import CANCELLED, COMPLETED, MISSED, PENDING, REFUSED, UNREACHABLE

REACHED = "reached"
UNSAFE_TO_TALK = "unsafe_to_talk"
REFUSED_OUTCOME = "refused"
# Outcomes that count towards lost_after_attempts.
UNREACHED_OUTCOMES = frozenset(
    {"no_answer", "someone_else_answered", "wrong_number", "moved", "other"}
)
DEFAULT_LOST_AFTER_ATTEMPTS = 3


def counts_towards_lost(outcome: str) -> bool:
    return outcome in UNREACHED_OUTCOMES


def status_after_attempt(
    status: str, outcome: str, unreached_attempts: int, lost_after: int | None
) -> str:
    """The follow-up's status once an attempt with `outcome` is recorded;
    `unreached_attempts` already includes this attempt. Only a pending follow-up moves."""
    if status != PENDING:
        return status
    if outcome == REFUSED_OUTCOME:
        return REFUSED
    if lost_after and unreached_attempts >= lost_after:
        return UNREACHABLE
    return PENDING


def status_on(status: str, window_closes_on: date, attempts: int, today: date) -> str:
    """What a stored status reads as on `today`: a pending follow-up whose window has
    closed is `unreachable` after at least one attempt, `missed` after none. Every reader
    (work lists, `due`, the report, digests) goes through this rule or its SQL twin
    (`followup.report.queries`, `followup.operations.caseload`)."""
    if status == PENDING and window_closes_on < today:
        return UNREACHABLE if attempts > 0 else MISSED
    return status


def status_on_withdrawal(status: str, window_closes_on: date, attempts: int, on: date) -> str:
    """Consent withdrawn (or do-not-contact) on `on`: a pending follow-up whose window is
    still open (or not yet open) is cancelled; one whose window had already closed keeps
    what it had become (missed or unreachable)."""
    if status != PENDING:
        return status
    if window_closes_on < on:
        return UNREACHABLE if attempts > 0 else MISSED
    return CANCELLED


# The statuses a follow-up ends in; none of them is ever changed by a plan.
ENDED = (COMPLETED, MISSED, UNREACHABLE, REFUSED, CANCELLED)
