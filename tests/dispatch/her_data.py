"""Test helpers: her safe-contact plan and contact attempts, written straight to the rows.

Until the attempts operation is on main, attempts are written as it will write them:
the follow-up's counters kept in step with the contact_attempt rows.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from followup.her_plan import seal_plan
from followup.lost import counts_towards_lost
from followup.models import ContactAttempt, FollowUp, Partner
from followup.safe_contact import SafeContactPlan


def give_her_a_plan(deployment, plan: SafeContactPlan, partner_id: str = "P-2") -> None:
    with deployment.session() as session:
        session.execute(
            sa.update(Partner)
            .where(Partner.partner_id == partner_id)
            .values(**seal_plan(deployment.ctx.vault, plan))
        )
        session.commit()


def her_followup_id(deployment, partner_id: str = "P-2") -> int:
    with deployment.session() as session:
        return (
            session.execute(
                sa.select(FollowUp.id)
                .join(Partner, Partner.id == FollowUp.partner_id)
                .where(Partner.partner_id == partner_id)
                .order_by(FollowUp.due_on)
            )
            .scalars()
            .first()
        )


def record_attempts(
    deployment,
    followup_id: int,
    attempts: list[tuple[datetime, str]],
    *,
    note: str | None = None,
) -> None:
    """(when, outcome) attempts on one follow-up, by phone, each with `note` sealed."""
    vault = deployment.ctx.vault
    with deployment.session() as session:
        f = session.get(FollowUp, followup_id)
        for when, outcome in attempts:
            session.add(
                ContactAttempt(
                    followup_id=f.id,
                    participant_id=f.participant_id,
                    partner_id=f.partner_id,
                    attempted_at=when,
                    channel="phone",
                    outcome=outcome,
                    note_sealed=vault.seal(note) if note else None,
                )
            )
            f.attempts += 1
            f.unreached_attempts += 1 if counts_towards_lost(outcome) else 0
            f.last_attempt_at = when
            f.last_attempt_outcome = outcome
        session.commit()
