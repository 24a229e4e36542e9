"""A digest reads what it shows (the first 20 per section, counts by aggregate) and says
exactly what it said when it loaded a worker's whole backlog."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from followup.dispatch.content import MAX_LISTED, ContentBuilder
from followup.dispatch.render import Templates
from followup.models import FollowUp, Participant, Staff
from followup.schedule import PENDING

DAY = date(2026, 3, 23)
NOW = datetime(2026, 3, 23, 7, 0, tzinfo=UTC)


def backlog_row(participant: int, checkpoint: str, due: date, worker: int, status=PENDING):
    return FollowUp(
        participant_id=participant,
        checkpoint=checkpoint,
        due_on=due,
        window_opens_on=due - timedelta(days=2),
        window_closes_on=due + timedelta(days=3),
        assigned_staff_id=worker,
        status=status,
        completed_on=due if status == "completed" else None,
    )


@pytest.fixture
def backlog(sim):
    """F1 with 100 overdue follow-ups (due dates tied in groups, case ids out of order),
    7 due, 4 coming up, 3 beyond the digest's horizon and 2 completed; F2 with some too."""
    rng = random.Random(15)
    with sim.session() as session:
        sim.ctx.register_protocols(session)
        revision = sim.ctx.protocol("sim").revision
        staff = dict(session.execute(sa.select(Staff.staff_id, Staff.id)).all())
        cases = rng.sample(range(1, 1000), 130)
        people = [
            Participant(
                case_id=f"BG-{n}",
                site_code="BG",
                referral_source="court",
                enrolled_on=DAY - timedelta(days=200),
                facilitator_id=staff["F1"],
                protocol_id="sim",
                protocol_revision=revision,
            )
            for n in cases
        ]
        session.add_all(people)
        session.flush()
        ids = [p.id for p in people]
        rows = []
        for n in range(100):
            overdue = DAY - timedelta(days=4 + rng.randint(0, 12))
            rows.append(backlog_row(ids[n], "call", overdue, staff["F1"]))
        for n in range(100, 107):
            rows.append(backlog_row(ids[n], "call", DAY + timedelta(days=n % 3), staff["F1"]))
        for n in range(107, 111):
            rows.append(backlog_row(ids[n], "call", DAY + timedelta(days=4), staff["F1"]))
        for n in range(111, 114):
            rows.append(backlog_row(ids[n], "call", DAY + timedelta(days=60), staff["F1"]))
        for n in range(114, 116):
            rows.append(
                backlog_row(ids[n], "call", DAY - timedelta(days=9), staff["F1"], "completed")
            )
        for n in range(116, 130):
            rows.append(backlog_row(ids[n], "call", DAY - timedelta(days=n % 5), staff["F2"]))
        session.add_all(rows)
    return sim


def whole_backlog_worklist(builder, person, day, language, pick=lambda f: False) -> dict:
    """The worklist as it was built before: every pending follow-up of the person
    loaded, sorted in Python, the first MAX_LISTED of each section shown."""
    horizon = max(builder.policy.digest_days, builder.bounds.window_before)
    ids = builder.session.execute(
        sa.select(FollowUp.id).where(
            FollowUp.assigned_staff_id == person.id,
            FollowUp.status == PENDING,
            FollowUp.due_on <= day + timedelta(days=horizon),
        )
    ).scalars()
    rows = sorted(
        builder.followups(set(ids)).values(),
        key=lambda f: (not pick(f), f.due_on, f.case_id, f.id),
    )
    sections: dict[str, list] = {"overdue": [], "due": [], "upcoming": []}
    for f in rows:
        if f.window_closes_on < day:
            sections["overdue"].append(f)
        elif f.window_opens_on <= day:
            sections["due"].append(f)
        elif f.due_on <= day + timedelta(days=builder.policy.digest_days):
            sections["upcoming"].append(f)
    return {
        "on": day,
        "upcoming_days": builder.policy.digest_days,
        "link": builder.link("/followups"),
        "counts": {name: len(items) for name, items in sections.items()},
        **{
            name: [builder.item(f, language) for f in items[:MAX_LISTED]]
            for name, items in sections.items()
        },
    }


def builder_and_worker(deployment, session, staff_id: str):
    builder = ContentBuilder(session, deployment.ctx, Templates(), NOW)
    worker = builder.staff(
        {session.execute(sa.select(Staff.id).where(Staff.staff_id == staff_id)).scalar_one()}
    )
    return builder, next(iter(worker.values()))


def test_a_digest_for_a_worker_with_100_overdue_lists_the_same_first_20_and_totals(backlog):
    with backlog.session() as session:
        builder, f1 = builder_and_worker(backlog, session, "F1")
        shown = builder.worklist(f1, DAY, "sr-Latn")
        assert shown == whole_backlog_worklist(builder, f1, DAY, "sr-Latn")
    assert shown["counts"] == {"overdue": 100, "due": 7, "upcoming": 4}
    assert len(shown["overdue"]) == MAX_LISTED


def test_a_catch_up_lists_what_fell_due_in_the_gap_first_as_before(backlog):
    gap = (DAY - timedelta(days=9), DAY - timedelta(days=7))
    with backlog.session() as session:
        builder, f1 = builder_and_worker(backlog, session, "F1")
        reminded = {
            session.execute(
                sa.select(FollowUp.id)
                .where(FollowUp.assigned_staff_id == f1.id, FollowUp.status == PENDING)
                .order_by(FollowUp.due_on.desc())
                .limit(1)
            ).scalar_one()
        }
        first = sa.or_(
            FollowUp.id.in_(sorted(reminded)),
            *(c.between(*gap) for c in (FollowUp.due_on, FollowUp.window_closes_on)),
        )

        def pick(f) -> bool:
            return f.id in reminded or any(
                gap[0] <= d <= gap[1] for d in (f.due_on, f.window_closes_on)
            )

        shown = builder.worklist(f1, DAY, "en", first=first)
        assert shown == whole_backlog_worklist(builder, f1, DAY, "en", pick)
        # Picked ones lead: the oldest overdue (16 days) comes after those of the gap.
        assert shown["overdue"][0]["due_on"] >= gap[0] - timedelta(days=3)


def test_a_worker_with_nothing_pending_gets_no_digest(backlog):
    from followup.dispatch.planner import _Plan

    with backlog.session() as session:
        plan = _Plan(backlog.ctx, session, NOW - timedelta(hours=1), NOW)
        worth = plan.worth_a_digest("BG", DAY, last=DAY)
        names = set(session.execute(sa.select(Staff.staff_id).where(Staff.id.in_(worth))).scalars())
    assert names == {"F1"}  # PS1 and SV1 at BG have nothing pending
