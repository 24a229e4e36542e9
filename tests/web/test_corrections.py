"""Corrections and interviews outside their window, on the web (issue 12, points 4 and 5):
the same operations as `followup record correct|void`, the same rules."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from followup.models import Audit, FollowUp, Interview, RecordVersion
from tests.web.test_followups import move


def _record_intake(team, **answers) -> int:
    """The facilitator records BG-1's intake on the web; returns the interview id."""
    followup_id = team.followup_id("BG-1", "intake_assessment")
    today = team.ctx.site_today("BG").isoformat()
    done = team.browser("facilitator").post(
        f"/followups/{followup_id}", {"conducted_on": today, **answers}
    )
    assert done.status_code == 303, done.text
    with team.session() as session:
        return session.execute(
            sa.select(Interview.id).where(Interview.followup_id == followup_id)
        ).scalar_one()


NO_OTHER_VIOLENCE = {
    f"violence_{kind}": "no" for kind in ("sexual", "psychological", "economic", "coercive")
}


def _intake_rate(team) -> float:
    report = team.deployment.run("report", "--format", "json", "--no-suppress")
    assert report.exit_code == 0, report.err
    return json.loads(report.out)["non_violence"]["intake_assessment"]["participant"]["rate"]


def test_an_interview_is_corrected_from_its_page_and_the_earlier_version_is_shown(team):
    interview_id = _record_intake(team, violence_physical="yes", **NO_OTHER_VIOLENCE)
    assert _intake_rate(team) == 0.0
    browser = team.browser("facilitator")
    page = browser.get(f"/records/interview/{interview_id}")
    assert page.status_code == 200 and "Save the correction" in page.text
    today = team.ctx.site_today("BG").isoformat()
    refused = browser.post(
        f"/records/interview/{interview_id}/correct",
        {"on": today, "violence_physical": "no"},
    )
    assert refused.status_code == 422 and "Say why." in refused.text
    fixed = browser.post(
        f"/records/interview/{interview_id}/correct",
        {
            "on": today,
            "violence_physical": "no",
            **NO_OTHER_VIOLENCE,
            "reason": "ticked the wrong box",
        },
    )
    assert fixed.status_code == 303
    assert fixed.headers["location"] == f"/records/interview/{interview_id}?saved=corrected"
    with team.session() as session:
        now = session.get(Interview, interview_id)
        kept = session.execute(sa.select(RecordVersion)).scalar_one()
        audit = session.execute(
            sa.select(Audit).where(Audit.action == "correct_interview")
        ).scalar_one()
    assert now.physical is False and '"physical": true' in kept.data
    assert audit.actor == "web:facilitator"
    shown = browser.get(f"/records/interview/{interview_id}?saved=corrected").text
    assert "Version 1, corrected by web:facilitator" in shown
    assert "ticked the wrong box" in shown
    timeline = browser.get("/participants/BG-1").text
    assert "corrected (1 earlier)" in timeline
    assert _intake_rate(team) == 1.0  # the report reads the current version


def test_a_voided_interview_is_kept_marked_void_and_its_follow_up_is_open_again(team):
    interview_id = _record_intake(team, felt_safety="4")
    browser = team.browser("facilitator")
    voided = browser.post(
        f"/records/interview/{interview_id}/void", {"reason": "recorded on the wrong case"}
    )
    assert voided.status_code == 303
    followup_id = team.followup_id("BG-1", "intake_assessment")
    assert team.followup(followup_id).status == "scheduled"
    page = browser.get(f"/records/interview/{interview_id}").text
    assert 'id="record-state">Void' in page and "Save the correction" not in page
    assert "Void" in browser.get("/participants/BG-1").text
    followup_page = browser.get(f"/followups/{followup_id}").text
    assert "Save the interview" in followup_page  # it can be recorded again


def test_his_facilitator_cannot_correct_her_interview_nor_see_that_it_exists(team):
    today = team.ctx.site_today("BG").isoformat()
    hers = team.followup_id("BG-1", "partner_first_contact", partner=True)
    done = team.browser("partner_support").post(
        f"/followups/{hers}",
        {"safe_to_talk": "yes", "conducted_on": today, "violence_physical": "no"},
    )
    assert done.status_code == 303
    with team.session() as session:
        interview_id = session.execute(
            sa.select(Interview.id).where(Interview.followup_id == hers)
        ).scalar_one()
    facilitator = team.browser("facilitator")
    assert facilitator.get(f"/records/interview/{interview_id}").status_code == 404
    assert (
        facilitator.post(f"/records/interview/{interview_id}/void", {"reason": "x"}).status_code
        == 404
    )


def test_the_web_refuses_an_interview_before_its_window_and_one_with_nothing_asked(team):
    browser = team.browser("facilitator")
    today = team.ctx.site_today("BG").isoformat()
    later = team.followup_id("BG-1", "end_of_programme")
    early = browser.post(f"/followups/{later}", {"conducted_on": today, "felt_safety": "3"})
    assert early.status_code == 422
    assert "record it as an unscheduled contact instead" in early.text
    intake = team.followup_id("BG-1", "intake_assessment")
    untouched = browser.post(f"/followups/{intake}", {"conducted_on": today})
    assert untouched.status_code == 422 and "nothing was asked" in untouched.text
    assert team.followup(intake).status == "scheduled"
    no_reason = browser.post(
        f"/followups/{intake}", {"conducted_on": today, "held_nothing_asked": "yes"}
    )
    assert no_reason.status_code == 422 and "Say why." in no_reason.text
    held = browser.post(
        f"/followups/{intake}",
        {
            "conducted_on": today,
            "held_nothing_asked": "yes",
            "nothing_asked_reason": "he was not sober",
        },
    )
    assert held.status_code == 303
    assert team.followup(intake).status == "completed"


def test_an_interview_after_the_window_closed_is_marked_late(team):
    intake = team.followup_id("BG-1", "intake_assessment")
    move(team, intake, -20, after=5)
    today = team.ctx.site_today("BG").isoformat()
    browser = team.browser("facilitator")
    done = browser.post(f"/followups/{intake}", {"conducted_on": today, "felt_safety": "4"})
    assert done.status_code == 303
    assert 'id="late">Late' in browser.get(f"/followups/{intake}").text
    with team.session() as session:
        row = session.get(FollowUp, intake)
    assert row.completed_on > row.window_closes_on
    assert row.window_closes_on == team.ctx.site_today("BG") - timedelta(days=15)


def test_a_contact_before_the_window_is_kept_on_the_web_as_an_unscheduled_contact(team):
    browser = team.browser("facilitator")
    today = team.ctx.site_today("BG").isoformat()
    later = team.followup_id("BG-1", "end_of_programme")
    kept = browser.post(
        f"/followups/{later}", {"conducted_on": today, "felt_safety": "3", "unscheduled": "yes"}
    )
    assert kept.status_code == 303 and kept.headers["location"].endswith("saved=unscheduled")
    assert team.followup(later).status == "scheduled"
    with team.session() as session:
        row = session.execute(sa.select(Interview)).scalar_one()
    assert (row.followup_id, row.checkpoint) == (None, None)
    assert "Unscheduled contact" in browser.get("/participants/BG-1").text


def test_the_command_line_acting_as_the_facilitator_gets_the_same_answers_as_the_web(team):
    """`followup record void|correct --as` goes through the same operation: her interview
    is refused as if it did not exist, his is corrected and audited as the login acting
    as him."""
    today = team.ctx.site_today("BG").isoformat()
    hers = team.followup_id("BG-1", "partner_first_contact", partner=True)
    team.browser("partner_support").post(
        f"/followups/{hers}",
        {"safe_to_talk": "yes", "conducted_on": today, "violence_physical": "no"},
    )
    his = _record_intake(team, violence_physical="no")
    with team.session() as session:
        her_interview = session.execute(
            sa.select(Interview.id).where(Interview.followup_id == hers)
        ).scalar_one()
    run = team.deployment.run
    refused = run("record", "void", "interview", str(her_interview), "--reason", "x",
                  "--as", "facilitator")  # fmt: skip
    missing = run("record", "void", "interview", "99999", "--reason", "x", "--as", "facilitator")
    assert refused.exit_code == missing.exit_code == 1
    assert refused.err == f"Error: no interview {her_interview} that facilitator may see\n"
    assert missing.err == "Error: no interview 99999 that facilitator may see\n"
    fixed = run("record", "correct", "interview", str(his), "--physical", "yes",
                "--reason", "he told me later", "--as", "facilitator")  # fmt: skip
    assert fixed.exit_code == 0, fixed.err
    with team.session() as session:
        actor = session.execute(
            sa.select(Audit.actor).where(Audit.action == "correct_interview")
        ).scalar_one()
    assert actor.endswith(" as facilitator") and actor.startswith("cli:")
    page = team.browser("facilitator").get(f"/records/interview/{his}").text
    assert "he told me later" in page
