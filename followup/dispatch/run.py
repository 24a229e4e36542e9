"""One dispatch pass: queue what fell due since the last pass, then send what is due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from followup.context import Context
from followup.db import transaction
from followup.dispatch.planner import Planned, plan
from followup.dispatch.sender import Sender, SendResult


@dataclass
class PassOutcome:
    at: datetime
    planned: Planned
    sent: SendResult

    def summary(self) -> str:
        return (
            f"Dispatch pass at {self.at.isoformat()}: {self.planned.summary()}; "
            f"{self.sent.summary()}."
        )


def run_pass(ctx: Context, sender: Sender, *, clock: Callable[[], datetime]) -> PassOutcome:
    now = clock()
    with transaction(ctx.engine) as session:
        planned = plan(session, ctx, now, by=sender.worker)
    return PassOutcome(now, planned, sender.send_due(clock))
