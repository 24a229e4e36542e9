"""My follow-ups and Record interview."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from followup.models import Audit, FollowUp, Interview, SafetyAlert, Staff
from tests.web.conftest import HER_PHONE


def words(html: str) -> str:
    """The page with runs of white space as one space, as a reader sees it."""
    return re.sub(r"\s+", " ", html)


def move(team, followup_id: int, due_in_days: int, before: int = 0, after: int = 7) -> None:
    today = team.ctx.site_today("BG")
    with team.session() as session:
        row = session.get(FollowUp, followup_id)
        row.due_on = today + timedelta(days=due_in_days)
        row.window_opens_on = row.due_on - timedelta(days=before)
        row.window_closes_on = row.due_on + timedelta(days=after)


def test_my_follow_ups_lists_overdue_first_then_due_today_this_week_and_upcoming(team):
    today = team.ctx.site_today("BG")
    result = team.deployment.run(
        "enrol",
        "BG-2",
        "--site",
        "BG",
        "--referral-source",
        "court",
        "--enrolled-on",
        (today - timedelta(days=40)).isoformat(),
        "--facilitator",
        "F1",
    )
    assert result.exit_code == 0, result.err
    move(team, team.followup_id("BG-1", "end_of_programme"), 3, before=1)
    move(team, team.followup_id("BG-1", "followup_3m"), 20)
    page = team.browser("facilitator").get("/followups").text
    headings = [
        page.index(h) for h in ("Overdue (1)", "Window open (1)", "This week (1)", "Upcoming (1)")
    ]
    assert headings == sorted(headings)
    overdue, due, week, upcoming = (
        page[a:b] for a, b in zip(headings, [*headings[1:], len(page)], strict=True)
    )
    assert "BG-2 · Intake" in overdue and "BG-1 · Intake" in due
    assert "BG-1 · End of programme" in week and "BG-1 · Three months" in upcoming
    assert f"window {_day(today - timedelta(days=10))}" in due


def _day(day) -> str:
    return f"{day:%a} {day.isoformat()}"


def test_a_partner_support_worker_sees_her_channel_and_plan_flag_in_the_list_audited(team):
    page = words(team.browser("partner_support").get("/followups").text)
    assert "BG-1 · First partner contact" in page
    assert "Contact by: Phone call" in page and "plan-flag" in page
    assert "10:00-12:00" not in page  # her safe times stay sealed: on her follow-up's page
    assert HER_PHONE not in page  # contact details only on her page, after an audited reveal
    with team.session() as session:
        row = session.execute(sa.select(Audit).where(Audit.action == "read_partner")).scalar_one()
    assert row.actor == "web:partner_support" and '"P-1"' in row.detail


def test_recording_an_interview_marks_the_follow_up_done(team):
    browser = team.browser("facilitator")
    followup_id = team.followup_id("BG-1", "intake_assessment")
    assert "Save the interview" in browser.get(f"/followups/{followup_id}").text
    today = team.ctx.site_today("BG").isoformat()
    response = browser.post(
        f"/followups/{followup_id}",
        {
            "conducted_on": today,
            "mode": "in_person",
            "violence_physical": "no",
            "violence_psychological": "yes",
            "felt_safety": "",
            "risk_level": "medium",
            "notes": "Talked about the group sessions.",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/followups/{followup_id}?saved=interview"
    page = browser.get(response.headers["location"]).text
    assert "The interview is recorded and this follow-up is done." in page
    assert re.search(r'id="status">Done</span>', page)
    assert "Save the interview" not in page and "Talked about the group sessions." in page
    done = team.followup(followup_id)
    assert done.status == "completed" and done.completed_on.isoformat() == today
    with team.session() as session:
        interview = session.execute(
            sa.select(Interview).where(Interview.followup_id == followup_id)
        ).scalar_one()
        f1 = session.execute(sa.select(Staff.id).where(Staff.staff_id == "F1")).scalar_one()
        actors = (
            session.execute(sa.select(Audit.actor).where(Audit.action == "record_interview"))
            .scalars()
            .all()
        )
    assert (
        interview.conducted_by == f1
        and interview.psychological is True
        and interview.physical is False
    )
    assert interview.sexual is None  # not asked stays not asked
    assert b"group sessions" not in interview.notes_sealed  # sealed at rest
    assert actors == ["web:facilitator"]


def test_a_date_in_the_future_is_refused_next_to_the_field_and_what_was_typed_is_kept(team):
    browser = team.browser("facilitator")
    followup_id = team.followup_id("BG-1", "intake_assessment")
    tomorrow = (team.ctx.site_today("BG") + timedelta(days=1)).isoformat()
    response = browser.post(
        f"/followups/{followup_id}",
        {
            "conducted_on": tomorrow,
            "violence_physical": "maybe",
            "felt_safety": "9",
            "notes": "keep me",
        },
    )
    assert response.status_code == 422
    page = response.text
    assert re.search(r'id="conducted_on-error">This date is in the future.<', page)
    assert re.search(r'id="violence_physical-error">Choose one of the options.<', page)
    assert re.search(r'id="felt_safety-error">Choose 1 to 5, or leave it empty.<', page)
    assert f'value="{tomorrow}"' in page and ">keep me</textarea>" in page
    assert team.followup(followup_id).status == "scheduled"


def test_a_partner_reporting_new_violence_raises_a_safety_alert(team):
    browser = team.browser("partner_support")
    followup_id = team.followup_id("BG-1", "partner_first_contact", partner=True)
    response = browser.post(
        f"/followups/{followup_id}",
        {
            "safe_to_talk": "yes",
            "conducted_on": team.ctx.site_today("BG").isoformat(),
            "violence_physical": "yes",
            "felt_safety": "2",
        },
    )
    assert response.status_code == 303
    page = browser.get(response.headers["location"]).text
    assert "a safety alert has gone to her partner-support worker and the supervisors" in page
    with team.session() as session:
        alert = session.execute(sa.select(SafetyAlert)).scalar_one()
        interview = session.execute(
            sa.select(Interview).where(Interview.followup_id == followup_id)
        ).scalar_one()
    assert alert.interview_id == interview.id
    assert f'href="/alerts/{alert.id}"' in page


def test_the_interview_completes_the_follow_up_that_was_opened_even_if_another_window_holds_the_date(
    team,
):
    """A repeating check-in: the worker opens the overdue one and records it today, when the
    next one's window is open too. The one opened is the one done."""
    first = team.followup_id("BG-1", "partner_first_contact", partner=True)
    move(team, first, -20, after=5)  # overdue
    browser = team.browser("partner_support")
    response = browser.post(
        f"/followups/{first}",
        {
            "safe_to_talk": "yes",
            "conducted_on": team.ctx.site_today("BG").isoformat(),
            "felt_safety": "4",
        },
    )
    assert response.status_code == 303
    assert team.followup(first).status == "completed"


def test_a_follow_up_that_cannot_be_held_can_be_marked_missed(team):
    browser = team.browser("facilitator")
    followup_id = team.followup_id("BG-1", "intake_assessment")
    response = browser.post(f"/followups/{followup_id}/missed")
    assert response.headers["location"] == f"/followups/{followup_id}?saved=missed"
    assert team.followup(followup_id).status == "missed"
    again = browser.post(f"/followups/{followup_id}/missed")
    assert again.status_code == 422 and "already missed" in again.text


def test_a_supervisor_sees_the_status_of_her_follow_up_but_nothing_of_hers_and_no_form(team):
    followup_id = team.followup_id("BG-1", "partner_first_contact", partner=True)
    page = team.browser("supervisor").get(f"/followups/{followup_id}").text
    assert "Partner" in page and "Window open" in page
    for hers in ("P-1", "10:00-12:00", "Phone call", HER_PHONE, "Save the interview"):
        assert hers not in page
    assert "Recording this follow-up is for another role." in page


def test_an_administrator_records_without_being_named_the_interviewer(team):
    followup_id = team.followup_id("BG-1", "intake_assessment")
    response = team.browser("admin").post(
        f"/followups/{followup_id}",
        {"conducted_on": team.ctx.site_today("BG").isoformat(), "violence_physical": "no"},
    )
    assert response.status_code == 303
    with team.session() as session:
        interview = session.execute(
            sa.select(Interview).where(Interview.followup_id == followup_id)
        ).scalar_one()
    assert interview.conducted_by is None


def test_the_supervisors_site_view_lists_everyones_follow_ups_with_who_is_assigned(team):
    page = team.browser("supervisor").get("/followups?scope=site").text
    assert "Follow-ups at my site" in page
    assert "BG-1 · Intake" in page and "Assigned to: Marko Petrović" in page
    assert "NS-1" not in page
    assert (
        "Assigned to: Ana Jovanović" in page
    )  # her follow-up's status, on the other side of the wall
    assert "10:00-12:00" not in page
    mine = team.browser("facilitator").get("/followups?scope=site").text
    assert "My follow-ups" in mine and "Assigned to" not in mine


def test_notes_with_a_nul_or_an_escape_sequence_are_refused_next_to_the_field(team):
    browser = team.browser("facilitator")
    followup_id = team.followup_id("BG-1", "intake_assessment")
    today = team.ctx.site_today("BG").isoformat()
    response = browser.post(
        f"/followups/{followup_id}", {"conducted_on": today, "notes": "line one\x00\x1b[2J"}
    )
    assert response.status_code == 422
    assert re.search(r'id="notes-error">Remove the control character', response.text)
    assert team.followup(followup_id).status == "scheduled"
    kept = browser.post(
        f"/followups/{followup_id}",
        {"conducted_on": today, "notes": "line one\r\nline two", "violence_physical": "no"},
    )
    assert kept.status_code == 303
