"""The one real clock, and the simulated clock of drills.

"Now" comes from the context (`Context.now()`), whose clock the edges set: the CLI at
the start of a command, the web app per request, the service loop per tick, the Twilio
callback per request, `dispatch --once --now` and `serve`/`worker --now` explicitly.
Nothing else in the package asks the system for the time; a test greps for it
(tests/test_one_clock.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The real time, as an aware UTC datetime: the default clock of every context."""
    return datetime.now(UTC)


def written_at() -> datetime:
    """A row's write stamp where its writer gave none (an audit line's `at`, `created_at`):
    when it was really written, so an audit trail is never dated by a drill's simulated
    clock. Writers that decide anything by the time pass the context's `now` instead."""
    return utcnow()


def fixed(instant: datetime) -> Clock:
    """A clock that stays at `instant` (one dispatch pass "as if at" a given time)."""
    return lambda: instant


class RunningFrom:
    """A simulated now that starts at `start` and runs at the real pace (drills:
    `followup serve --now`, `followup worker --now`)."""

    def __init__(self, start: datetime) -> None:
        self.offset = start - utcnow()

    def __call__(self) -> datetime:
        return utcnow() + self.offset
