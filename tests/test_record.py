"""Enrolment and recording, on SQLite and PostgreSQL: every event re-plans at once."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup.models import Audit, Event, FollowUp, Participant, Partner

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with freeze_time("2026-11-24 10:00:00"):
        yield


@pytest.fixture
def case(staffed):
    """BG-1, enrolled 5 January 2026 on the UNDP Serbia protocol, with partner P-1."""
    result = staffed.run(
        "enrol",
        "BG-1",
        "--site",
        "BG",
        "--referral-source",
        "court",
        "--enrolled-on",
        "2026-01-05",
        "--facilitator",
        "F1",
    )
    assert result.exit_code == 0, result.err
    partners = staffed.csv(
        "partners.csv",
        """\
        partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker
        P-1,BG-1,current,2026-01-09,phone,+381601234567,,PS1
        """,
    )
    assert staffed.run("import", "partners", str(partners)).exit_code == 0
    return staffed


def followups(deployment, **where) -> dict:
    with deployment.session() as session:
        query = sa.select(FollowUp)
        for key, value in where.items():
            query = query.where(getattr(FollowUp, key) == value)
        rows = session.execute(query).scalars().all()
    return {(f.subject, f.checkpoint, f.occurrence): f for f in rows}


def test_enrolment_plans_his_follow_ups_and_assigns_them_to_his_facilitator(case):
    mine = followups(case)
    intake = mine[("participant", "intake_assessment", 1)]
    assert intake.due_on == date(2026, 1, 5) and intake.status == "scheduled"
    with case.session() as session:
        f1 = session.execute(sa.text("select id from staff where staff_id='F1'")).scalar_one()
        ps1 = session.execute(sa.text("select id from staff where staff_id='PS1'")).scalar_one()
    assert intake.assigned_staff_id == f1
    assert mine[("partner", "followup_6m", 1)].assigned_staff_id == ps1


def test_completing_later_than_planned_moves_the_follow_ups_anchored_on_completion(case):
    for event, on in (("admitted", "2026-01-12"), ("programme_start", "2026-01-26")):
        assert case.run("record", "status", "BG-1", event, "--on", on).exit_code == 0
    assert followups(case)[("participant", "followup_3m", 1)].due_on == date(2026, 10, 13)
    result = case.run("record", "status", "BG-1", "completed", "--on", "2026-08-31")
    assert result.exit_code == 0, result.err
    after = followups(case)
    assert after[("participant", "end_of_programme", 1)].due_on == date(2026, 8, 31)
    assert after[("participant", "followup_3m", 1)].due_on == date(2026, 11, 30)
    assert after[("participant", "followup_6m", 1)].due_on == date(2027, 2, 28)
    assert after[("partner", "followup_3m", 1)].due_on == date(2026, 11, 30)
    assert not after[("participant", "followup_3m", 1)].provisional


def test_a_dropout_cancels_his_pending_follow_ups_and_hers_continue(case):
    for event, on in (
        ("admitted", "2026-01-12"),
        ("programme_start", "2026-01-26"),
        ("dropped_out", "2026-04-10"),
    ):
        assert case.run("record", "status", "BG-1", event, "--on", on).exit_code == 0
    after = followups(case)
    assert after[("participant", "followup_3m", 1)].status == "cancelled"
    assert (
        after[("participant", "followup_3m", 1)].cancelled_reason
        == "participant left the programme"
    )
    assert after[("partner", "followup_3m", 1)].status == "scheduled"
    assert after[("partner", "followup_3m", 1)].due_on == date(2026, 7, 10)
    assert after[("partner", "end_of_programme", 1)].due_on == date(2026, 4, 10)


def test_withdrawn_consent_cancels_every_pending_contact_with_her_at_once(case):
    interview = case.run(
        "record",
        "interview",
        "BG-1",
        "--informant",
        "partner",
        "--safe-to-talk",
        "yes",
        "--on",
        "2026-01-10",
        "--physical",
        "no",
    )
    assert interview.exit_code == 0, interview.err
    result = case.run("record", "consent", "P-1", "--withdrawn", "--on", "2026-03-01")
    assert result.exit_code == 0, result.err
    hers = {k: f for k, f in followups(case).items() if k[0] == "partner"}
    assert hers[("partner", "partner_first_contact", 1)].status == "completed"  # history stays
    pending = [f for f in hers.values() if f.status == "scheduled"]
    assert pending == []
    assert {f.cancelled_reason for f in hers.values() if f.status == "cancelled"} == {
        "consent withdrawn"
    }
    with case.session() as session:
        assert session.execute(
            sa.select(Event.kind).where(Event.kind == "consent_withdrawn")
        ).scalar_one()
        assert session.execute(
            sa.select(Audit.action).where(Audit.action == "consent_withdrawn")
        ).scalar_one()


def test_do_not_contact_cancels_and_lifting_it_reinstates(case):
    assert case.run("record", "do-not-contact", "P-1", "--on", "2026-02-01").exit_code == 0
    assert all(f.status == "cancelled" for k, f in followups(case).items() if k[0] == "partner")
    assert (
        case.run("record", "do-not-contact", "P-1", "--lift", "--on", "2026-02-02").exit_code == 0
    )
    assert all(f.status == "scheduled" for k, f in followups(case).items() if k[0] == "partner")


def test_an_interview_completes_the_follow_up_whose_window_holds_its_date(case):
    result = case.run(
        "record",
        "interview",
        "BG-1",
        "--informant",
        "participant",
        "--on",
        "2026-01-20",
        "--physical",
        "no",
        "--sexual",
        "no",
        "--psychological",
        "yes",
        "--notes",
        "private words",
    )
    assert result.exit_code == 0, result.err
    assert "follow-up intake_assessment completed" in result.out
    intake = followups(case)[("participant", "intake_assessment", 1)]
    assert (intake.status, intake.completed_on) == ("completed", date(2026, 1, 20))
    with case.session() as session:
        sealed = session.execute(sa.text("select notes_sealed from interview")).scalar_one()
    assert b"private words" not in bytes(sealed)
    assert case.ctx.vault.open(sealed) == "private words"


def test_an_interview_on_a_completed_checkpoint_is_refused(case):
    args = (
        "record",
        "interview",
        "BG-1",
        "--informant",
        "participant",
        "--checkpoint",
        "intake_assessment",
        "--physical",
        "no",
    )
    assert case.run(*args, "--on", "2026-01-20").exit_code == 0
    again = case.run(*args, "--on", "2026-01-25")
    assert again.exit_code == 1
    assert again.err == (
        "Error: case BG-1: the participant's intake_assessment was already recorded on 2026-01-20\n"
    )


def test_completed_follow_ups_never_move_when_dates_change(case):
    case.run("record", "status", "BG-1", "admitted", "--on", "2026-01-12")
    case.run("record", "status", "BG-1", "programme_start", "--on", "2026-01-26")
    done = case.run(
        "record",
        "interview",
        "BG-1",
        "--informant",
        "partner",
        "--safe-to-talk",
        "yes",
        "--checkpoint",
        "partner_checkin",
        "--on",
        "2026-02-23",
        "--felt-safety",
        "4",
    )
    assert done.exit_code == 0, done.err
    case.run("record", "status", "BG-1", "programme_start", "--on", "2026-02-02")  # a correction
    checkin = followups(case)[("partner", "partner_checkin", 1)]
    assert (checkin.status, checkin.due_on) == ("completed", date(2026, 2, 23))
    assert followups(case)[("partner", "partner_checkin", 2)].due_on == date(2026, 3, 30)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("status", "BG-1", "completed", "--on", "2026-01-01"),
            "Error: case BG-1: completed on 2026-01-01 is before enrolment on 2026-01-05\n",
        ),
        (
            ("status", "BG-1", "admitted", "--on", "2026-12-01"),
            "Error: case BG-1: admitted date 2026-12-01 is after today (2026-11-24 at BG)\n",
        ),
        (
            ("status", "BG-9", "admitted", "--on", "2026-02-01"),
            "Error: case 'BG-9' is not enrolled. Hint: check the case id, or enrol it first\n",
        ),
        (
            (
                "interview",
                "BG-1",
                "--informant",
                "partner",
                "--safe-to-talk",
                "yes",
                "--checkpoint",
                "followup_9m",
                "--on",
                "2026-02-01",
            ),
            "Error: protocol undp-serbia has no partner checkpoint 'followup_9m'; expected one of end_of_programme, "
            "followup_3m, followup_6m, partner_checkin, partner_first_contact\n",
        ),
        (
            ("consent", "P-404", "--withdrawn", "--on", "2026-02-01"),
            "Error: partner 'P-404' is not known. Hint: add her with `followup import partners`\n",
        ),
    ],
)
def test_a_record_that_contradicts_what_is_known_is_refused_in_one_line(case, args, message):
    result = case.run("record", *args)
    assert (result.exit_code, result.err) == (1, message)


def test_a_later_end_after_completion_is_refused(case):
    for event, on in (
        ("admitted", "2026-01-12"),
        ("programme_start", "2026-01-26"),
        ("completed", "2026-07-13"),
    ):
        case.run("record", "status", "BG-1", event, "--on", on)
    result = case.run("record", "status", "BG-1", "dropped_out", "--on", "2026-08-01")
    assert (
        result.err == "Error: case BG-1: completed on 2026-07-13 and dropped_out on 2026-08-01: "
        "a participation has one ending\n"
    )
    with case.session() as session:
        person = session.execute(sa.select(Participant)).scalar_one()
    assert person.status == "completed"


def test_partner_contact_details_are_sealed_at_rest(case):
    with case.session() as session:
        partner = session.execute(sa.select(Partner)).scalar_one()
    assert b"+381601234567" not in bytes(partner.contact_sealed)
    assert case.ctx.vault.open(partner.contact_sealed) == {"phone": "+381601234567"}
