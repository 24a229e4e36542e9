"""Digests and escalations count contact attempts; tried follow-ups are not "not done".

The cohort (tests/dispatch/conftest.py): BG-2's two-week call and his partner P-2's are
due Monday 23 March (window 21 to 26 March) — his with F1, hers with PS1; escalations
for windows closed on the 26th go to SV1 on the morning of the 28th.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup.models import FollowUp, Outbox
from followup.safe_contact import SafeContactPlan, parse_safe_times
from tests.dispatch.conftest import csv, local, outbox_rows, run_passes
from tests.dispatch.her_data import give_her_a_plan, her_followup_id, record_attempts

# Everyone reads English on the console, so the tests read what each was sent.
STAFF = csv(
    """\
    staff_id,site,name,roles,phone,email,channel,language
    F1,BG,Marko Petrović,facilitator,+381641111111,marko@example.org,console,en
    PS1,BG,Ana Jovanović,partner_support,+381642222222,ana@example.org,console,en
    SV1,BG,Vesna Ilić,supervisor;partner_support,,vesna@example.org,console,en
    """
)


@pytest.fixture
def team(cohort):
    assert cohort.run("import", "staff", str(cohort.csv("team.csv", STAFF))).exit_code == 0
    return cohort


def escalated(deployment) -> list[tuple[str, str]]:
    with deployment.session() as session:
        return sorted(
            (staff, "his" if partner_id is None else "hers")
            for staff, partner_id in session.execute(
                sa.select(Outbox.staff_id, FollowUp.partner_id)
                .join(FollowUp, FollowUp.id == Outbox.followup_id)
                .where(Outbox.kind == "escalation")
            )
        )


def test_her_workers_digest_says_how_many_attempts_and_the_last_outcome(team, driver_for):
    hers = her_followup_id(team)
    record_attempts(
        team,
        hers,
        [(local("2026-03-21 10:05"), "no_answer"), (local("2026-03-21 11:30"), "no_answer")],
    )
    driver = driver_for(team)
    run_passes(driver, local("2026-03-23 07:30"), local("2026-03-23 08:00"))
    text = driver.console.getvalue()
    assert "due 2026-03-23 (2 attempts, last: no answer)" in text
    # His call, with no attempt, is listed as before: no attempt count on it.
    assert "BG-2, participant: Two-week call, due 2026-03-23\n" in text


def test_a_follow_up_tried_before_its_window_closed_is_not_overdue_nor_escalated(team, driver_for):
    record_attempts(team, her_followup_id(team), [(local("2026-03-24 10:10"), "no_answer")])
    driver = driver_for(team)
    run_passes(driver, local("2026-03-27 07:00"), local("2026-03-28 09:00"))
    # His call closed untried: escalated to the supervisor. Hers was tried: it reads as
    # unreachable (followup.lost.status_on), so nobody is told it was left undone.
    assert escalated(team) == [(_id(team, "SV1"), "his")]
    text = driver.console.getvalue()
    assert "Overdue (window closed, no interview recorded): 1" in text  # F1's, his
    assert "Two-week call (partner)" not in text
    # Her worker has nothing left to do: no digest at all.
    assert [row for row, staff in outbox_rows(team, kind="digest") if staff == "PS1"] == []


def test_an_escalation_says_no_attempt_was_made(team, driver_for):
    driver = driver_for(team)
    run_passes(driver, local("2026-03-28 07:30"), local("2026-03-28 08:00"))
    text = driver.console.getvalue()
    assert "The window for this follow-up closed on 2026-03-26" in text
    assert "Attempts:     no contact attempt yet" in text


def test_not_safe_to_talk_is_shown_to_her_worker_as_try_again_at_her_next_safe_time(
    team, driver_for
):
    give_her_a_plan(
        team,
        SafeContactPlan(
            channels={"phone": "+381601234567"},
            windows=parse_safe_times("Mon-Fri 10:00-12:00"),
            code_word="lavender",
        ),
    )
    record_attempts(team, her_followup_id(team), [(local("2026-03-23 10:15"), "unsafe_to_talk")])
    driver = driver_for(team)
    run_passes(driver, local("2026-03-24 07:30"), local("2026-03-24 08:00"))
    text = driver.console.getvalue()
    assert (
        "due 2026-03-23 (1 attempt, last: not safe to talk): "
        "try again at her next safe time (2026-03-24 10:00)" in text
    )
    assert "lavender" not in text and "601234567" not in text
    # And it is not escalated as "not done" when her window closes.
    run_passes(driver, local("2026-03-28 07:30"), local("2026-03-28 08:00"))
    assert escalated(team) == [(_id(team, "SV1"), "his")]


def test_not_safe_to_talk_without_safe_times_still_says_try_again(team, driver_for):
    record_attempts(team, her_followup_id(team), [(local("2026-03-23 10:15"), "unsafe_to_talk")])
    driver = driver_for(team)
    run_passes(driver, local("2026-03-24 07:30"), local("2026-03-24 08:00"))
    assert (
        "(1 attempt, last: not safe to talk): try again at her next safe time\n"
        in driver.console.getvalue()
    )


def test_a_catch_up_digest_does_not_count_tried_follow_ups_among_the_escalations(team, driver_for):
    record_attempts(team, her_followup_id(team), [(local("2026-03-25 16:00"), "wrong_number")])
    driver = driver_for(team)
    run_passes(driver, local("2026-03-27 00:00"), local("2026-03-27 09:00"))
    run_passes(driver, local("2026-03-30 10:00"), local("2026-03-30 10:00"))
    (row,) = [row for row, staff in outbox_rows(team, kind="catch_up") if staff == "SV1"]
    assert json.loads(row.payload)["escalations_total"] == 1  # his; hers was tried


def test_an_attempt_recorded_after_the_escalation_was_queued_stops_it(team, driver_for):
    """The escalation is read again when sent: tried since, it is no longer news."""
    from followup.dispatch.content import ContentBuilder
    from followup.dispatch.render import Templates

    driver = driver_for(team)
    with freeze_time(local("2026-03-28 07:59")):
        driver.at(local("2026-03-28 07:59"))
    with team.session() as session:
        from followup.dispatch.planner import plan

        plan(session, team.ctx, local("2026-03-28 08:00"), by="test")
        session.commit()
    with team.session() as session:
        escalations = sa.select(Outbox.id).where(Outbox.kind == "escalation")
        ids = list(session.execute(escalations).scalars())
    assert len(ids) == 2
    record_attempts(team, her_followup_id(team), [(local("2026-03-26 11:00"), "no_answer")])
    with team.session() as session:
        built = ContentBuilder(session, team.ctx, Templates(), local("2026-03-28 08:00")).prepare(
            ids
        )
    reasons = sorted(getattr(b, "reason", "ready") for b in built)
    assert reasons == ["follow-up unreachable (tried, window closed)", "ready"]


def _id(deployment, staff_id: str) -> int:
    from followup.models import Staff

    with deployment.session() as session:
        return session.execute(sa.select(Staff.id).where(Staff.staff_id == staff_id)).scalar_one()
