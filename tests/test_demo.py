"""The demo cohort (`followup init --demo`) shows the work as it is: contact attempts made
inside her safe windows, some follow-ups lost to follow-up or refused, none by override."""

from __future__ import annotations

import json

import sqlalchemy as sa
from freezegun import freeze_time

from followup.demo import load_demo
from followup.models import Audit, ContactAttempt, FollowUp

AS_OF = "2026-11-24"


def test_the_demo_has_attempts_within_her_plan_and_lost_and_refused_follow_ups(make_deployment):
    deployment = make_deployment()
    with freeze_time(f"{AS_OF} 09:00:00"), deployment.session() as session:
        load_demo(session, deployment.ctx, size=30)
    with deployment.session() as session:
        outcomes = dict(
            session.execute(
                sa.select(ContactAttempt.outcome, sa.func.count()).group_by(ContactAttempt.outcome)
            ).all()
        )
        statuses = set(session.scalars(sa.select(FollowUp.status)))
        overrides = session.scalar(
            sa.select(sa.func.count())
            .select_from(ContactAttempt)
            .where(ContactAttempt.override_sealed.is_not(None))
        )
        hers = session.scalar(
            sa.select(sa.func.count())
            .select_from(ContactAttempt)
            .where(ContactAttempt.partner_id.is_not(None))
        )
        details = [json.loads(d) for d in session.scalars(sa.select(Audit.detail)) if d]
    assert {"no_answer", "refused", "unsafe_to_talk"} <= set(outcomes)
    assert {"unreachable", "refused"} <= statuses
    assert hers > 0 and overrides == 0
    assert not any(d.get("override") for d in details if isinstance(d, dict))
