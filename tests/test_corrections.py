"""Corrections, never deletion, and interviews outside their window (issue 12, points 4
and 5): the rules at their edges, through `followup record` (the operations below it)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup.models import (
    Audit,
    Event,
    FollowUp,
    Interview,
    Participant,
    Partner,
    RecordVersion,
)

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with freeze_time("2026-11-24 10:00:00"):
        yield


@pytest.fixture
def case(staffed):
    """BG-1: enrolled 5 January 2026, admitted, started, completed on 1 May 2026."""
    assert (
        staffed.run(
            "enrol", "BG-1", "--site", "BG", "--referral-source", "court",
            "--enrolled-on", "2026-01-05", "--facilitator", "F1",
        ).exit_code
        == 0
    )  # fmt: skip
    for event, on in (
        ("admitted", "2026-01-12"),
        ("programme_start", "2026-01-26"),
        ("completed", "2026-05-01"),
    ):
        done = staffed.run("record", "status", "BG-1", event, "--on", on)
        assert done.exit_code == 0, done.err
    return staffed


def _followup(case, checkpoint: str) -> FollowUp:
    with case.session() as session:
        return session.execute(
            sa.select(FollowUp).where(
                FollowUp.checkpoint == checkpoint, FollowUp.partner_id.is_(None)
            )
        ).scalar_one()


def _interview(case, on: date, *extra: str, checkpoint: str = "followup_3m"):
    return case.run(
        "record", "interview", "BG-1", "--informant", "participant",
        "--checkpoint", checkpoint, "--on", on.isoformat(), *extra,
    )  # fmt: skip


# --- point 5: the window ------------------------------------------------------------------


def test_an_interview_the_day_before_the_window_opens_is_refused_and_kept_as_unscheduled(case):
    three = _followup(case, "followup_3m")
    day_before = three.window_opens_on - timedelta(days=1)
    refused = _interview(case, day_before, "--physical", "no")
    assert refused.exit_code == 1
    assert refused.err == (
        f"Error: case BG-1: the participant's interview on {day_before} is before the "
        f"followup_3m window opens "
        f"on {three.window_opens_on}: record it as an unscheduled contact instead\n"
    )
    assert _followup(case, "followup_3m").status == "scheduled"
    kept = case.run(
        "record", "interview", "BG-1", "--informant", "participant", "--unscheduled",
        "--on", day_before.isoformat(), "--physical", "no",
    )  # fmt: skip
    assert kept.exit_code == 0, kept.err
    assert "as an unscheduled contact" in kept.out
    with case.session() as session:
        row = session.execute(sa.select(Interview)).scalar_one()
    assert (row.followup_id, row.checkpoint) == (None, None)
    assert _followup(case, "followup_3m").status == "scheduled"


@pytest.mark.parametrize(
    ("edge", "late"), [("opens", False), ("closes", False), ("day_after", True)]
)
def test_the_first_and_last_day_are_in_window_and_the_day_after_is_late(case, edge, late):
    three = _followup(case, "followup_3m")
    on = {
        "opens": three.window_opens_on,
        "closes": three.window_closes_on,
        "day_after": three.window_closes_on + timedelta(days=1),
    }[edge]
    done = _interview(case, on, "--physical", "no")
    assert done.exit_code == 0, done.err
    assert ("late (after its window closed)" in done.out) is late
    after = _followup(case, "followup_3m")
    assert (after.status, after.completed_on) == ("completed", on)
    report = json.loads(
        case.run("report", "--format", "json", "--as-of", "2026-11-24", "--no-suppress").out
    )
    counts = report["followup"]["followup_3m"]["participant"]
    assert (counts["late"], counts["in_window"]) == ((1, 0) if late else (0, 1))


def test_a_form_with_nothing_asked_completes_the_follow_up_only_as_held_nothing_asked(case):
    on = _followup(case, "followup_3m").due_on
    refused = _interview(case, on)
    assert refused.exit_code == 1
    assert "nothing was asked, so this interview does not complete followup_3m" in refused.err
    assert _followup(case, "followup_3m").status == "scheduled"
    held = _interview(case, on, "--nothing-asked", "he left after five minutes")
    assert held.exit_code == 0, held.err
    assert _followup(case, "followup_3m").status == "completed"
    with case.session() as session:
        row = session.execute(sa.select(Interview)).scalar_one()
    assert row.nothing_asked_sealed and b"five minutes" not in row.nothing_asked_sealed


# --- point 4: corrections -----------------------------------------------------------------


def _only_interview(case) -> Interview:
    with case.session() as session:
        return session.execute(sa.select(Interview)).scalar_one()


def test_a_corrected_interview_keeps_its_earlier_version_and_the_report_reads_the_new(case):
    on = _followup(case, "followup_3m").due_on
    others = ("--sexual", "no", "--psychological", "no", "--economic", "no", "--coercive", "no")
    assert _interview(case, on, "--physical", "yes", *others).exit_code == 0
    interview = _only_interview(case)
    no_reason = case.run("record", "correct", "interview", str(interview.id), "--physical", "no")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.err
    fixed = case.run(
        "record", "correct", "interview", str(interview.id), "--physical", "no",
        "--on", (on + timedelta(days=1)).isoformat(), "--reason", "typed into the wrong column",
    )  # fmt: skip
    assert fixed.exit_code == 0, fixed.err
    now = _only_interview(case)
    assert (now.physical, now.conducted_on) == (False, on + timedelta(days=1))
    assert _followup(case, "followup_3m").completed_on == on + timedelta(days=1)
    with case.session() as session:
        (kept,) = session.execute(sa.select(RecordVersion)).scalars().all()
        audit = session.execute(
            sa.select(Audit).where(Audit.action == "correct_interview")
        ).scalar_one()
    assert (kept.version, kept.change, json.loads(kept.data)["physical"]) == (1, "corrected", True)
    assert json.loads(audit.detail) == {
        "changed": ["conducted_on", "physical"],
        "interview": interview.id,
        "version": 1,
    }
    history = case.run("record", "history", "interview", str(interview.id))
    assert "typed into the wrong column" in history.out and "physical=True" in history.out
    report = json.loads(
        case.run("report", "--format", "json", "--as-of", "2026-11-24", "--no-suppress").out
    )
    assert report["non_violence"]["followup_3m"]["participant"]["n"] == 1
    assert report["non_violence"]["followup_3m"]["participant"]["rate"] == 1.0


def test_a_correction_cannot_move_an_interview_before_its_window(case):
    three = _followup(case, "followup_3m")
    assert _interview(case, three.due_on, "--physical", "no").exit_code == 0
    moved = case.run(
        "record", "correct", "interview", str(_only_interview(case).id),
        "--on", (three.window_opens_on - timedelta(days=1)).isoformat(), "--reason", "date",
    )  # fmt: skip
    assert moved.exit_code == 1 and "record it as an unscheduled contact" in moved.err
    assert _only_interview(case).conducted_on == three.due_on


def test_a_voided_interview_reopens_its_follow_up_and_counts_nowhere(case):
    on = _followup(case, "followup_3m").due_on
    assert _interview(case, on, "--physical", "no").exit_code == 0
    interview = _only_interview(case)
    voided = case.run(
        "record", "void", "interview", str(interview.id), "--reason", "wrong man's file"
    )
    assert voided.exit_code == 0, voided.err
    assert _only_interview(case).voided_at is not None  # kept
    assert _followup(case, "followup_3m").status == "scheduled"
    report = json.loads(
        case.run("report", "--format", "json", "--as-of", "2026-11-24", "--no-suppress").out
    )
    assert report["followup"]["followup_3m"]["participant"]["in_window"] == 0
    again = case.run("record", "correct", "interview", str(interview.id), "--physical", "yes",
                     "--reason", "x")  # fmt: skip
    assert again.exit_code == 1 and "was voided" in again.err
    listed = case.run("record", "history", "BG-1").out
    assert "void, 1 earlier" in listed


def test_correcting_a_status_date_replans_and_keeps_the_programme_order(case):
    before = _followup(case, "followup_3m").due_on
    moved = case.run(
        "record", "correct", "status", "BG-1", "completed", "--on", "2026-05-08",
        "--reason", "the certificate says the 8th",
    )  # fmt: skip
    assert moved.exit_code == 0, moved.err
    assert _followup(case, "followup_3m").due_on == before + timedelta(days=7)
    with case.session() as session:
        person = session.execute(sa.select(Participant)).scalar_one()
        kept = session.execute(sa.select(RecordVersion)).scalar_one()
    assert person.completed_on == date(2026, 5, 8)
    assert json.loads(kept.data)["occurred_on"] == "2026-05-01"
    refused = case.run(
        "record", "correct", "status", "BG-1", "admitted", "--on", "2026-02-01", "--reason", "x"
    )
    assert refused.exit_code == 1
    assert "programme_start on 2026-01-26 is before admission on 2026-02-01" in refused.err


def test_voiding_a_status_goes_back_to_the_record_before_it_and_keeps_the_rules(case):
    refused = case.run("record", "void", "status", "BG-1", "admitted", "--reason", "x")
    assert refused.exit_code == 1 and "no admission on record" in refused.err
    voided = case.run("record", "void", "status", "BG-1", "completed", "--reason", "not yet")
    assert voided.exit_code == 0, voided.err
    with case.session() as session:
        person = session.execute(sa.select(Participant)).scalar_one()
        completed = session.execute(sa.select(Event).where(Event.kind == "completed")).scalar_one()
    assert person.completed_on is None and completed.voided_at is not None
    assert _followup(case, "followup_3m").provisional


def test_a_voided_record_check_no_longer_censors_the_survival_analysis(case):
    assert case.run("record", "check", "BG-1", "--on", "2026-10-01", "--new-offence").exit_code == 0
    with case.session() as session:
        check = session.execute(sa.select(Event).where(Event.kind == "record_check")).scalar_one()
    done = case.run("record", "void", "event", str(check.id), "--reason", "another man's record")
    assert done.exit_code == 0, done.err
    report = json.loads(
        case.run("report", "--format", "json", "--as-of", "2026-11-24", "--no-suppress").out
    )
    assert report["survival"]["recidivism"]["overall"]["events"] == 0


def test_a_pre_window_interview_row_of_the_events_import_is_a_file_row_error(case):
    three = _followup(case, "followup_3m")
    early = (three.window_opens_on - timedelta(days=1)).isoformat()
    events = case.csv(
        "events.csv",
        f"""\
        case_id,date,event,informant,checkpoint,source,physical,sexual,psychological,economic,coercive
        BG-1,{early},interview,participant,followup_3m,,no,no,no,no,no
        """,
    )
    result = case.run("import", "events", str(events))
    assert result.exit_code == 1
    assert (
        f"events.csv:2: checkpoint: interview on {early} is before the followup_3m window "
        f"opens on {three.window_opens_on}: record it as an unscheduled contact instead\n"
    ) in result.err


def test_an_import_row_with_nothing_asked_needs_its_reason_to_complete_the_follow_up(case):
    on = _followup(case, "followup_3m").due_on.isoformat()
    header = (
        "case_id,date,event,informant,checkpoint,source,physical,sexual,psychological,"
        "economic,coercive,nothing_asked"
    )
    untouched = case.csv(
        "events.csv", f"{header}\nBG-1,{on},interview,participant,followup_3m,,,,,,,\n"
    )
    refused = case.run("import", "events", str(untouched))
    assert refused.exit_code == 1
    assert "events.csv:2: physical:" in refused.err and "nothing was asked" in refused.err
    held = case.csv(
        "events.csv", f"{header}\nBG-1,{on},interview,participant,followup_3m,,,,,,,he left\n"
    )
    done = case.run("import", "events", str(held))
    assert done.exit_code == 0, done.err
    assert _followup(case, "followup_3m").status == "completed"


def test_voiding_a_consent_withdrawal_recorded_in_error_restores_her_follow_ups(staffed):
    assert staffed.run(
        "enrol", "BG-2", "--site", "BG", "--referral-source", "court",
        "--enrolled-on", "2026-11-01", "--facilitator", "F1",
    ).exit_code == 0  # fmt: skip
    partners = staffed.csv(
        "partners.csv",
        """\
        partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker
        P-2,BG-2,current,2026-11-02,phone,+381601234567,,PS1
        """,
    )
    assert staffed.run("import", "partners", str(partners)).exit_code == 0
    withdrawn = staffed.run("record", "consent", "P-2", "--withdrawn", "--on", "2026-11-20")
    assert withdrawn.exit_code == 0, withdrawn.err

    def hers(closed_before_withdrawal: bool = False) -> set[str]:
        with staffed.session() as session:
            rows = session.execute(
                sa.select(FollowUp.status, FollowUp.window_closes_on).where(
                    FollowUp.partner_id.is_not(None)
                )
            ).all()
        wanted = closed_before_withdrawal
        return {s for s, closes in rows if (closes < date(2026, 11, 20)) == wanted}

    # What was still to come is cancelled; a window that had closed stays (as missed).
    assert hers() == {"cancelled"}
    assert hers(closed_before_withdrawal=True) == {"scheduled"}
    with staffed.session() as session:
        event = session.execute(
            sa.select(Event).where(Event.kind == "consent_withdrawn")
        ).scalar_one()
    done = staffed.run(
        "record", "void", "event", str(event.id), "--reason", "it was another woman's file"
    )
    assert done.exit_code == 0, done.err
    with staffed.session() as session:
        her = session.execute(sa.select(Partner)).scalar_one()
    assert her.consent_withdrawn_on is None and her.consent_on == date(2026, 11, 2)
    assert "scheduled" in hers()


def test_doctor_finds_an_interview_counted_before_its_window_and_a_void_clears_it(case):
    three = _followup(case, "followup_3m")
    assert _interview(case, three.due_on, "--physical", "no").exit_code == 0
    interview = _only_interview(case)
    with case.session() as session:  # as it was possible before the rule: a direct edit
        session.get(Interview, interview.id).conducted_on = date(2026, 6, 1)
    found = case.run("doctor")
    assert found.exit_code == 1
    assert (
        f"BG-1: interview {interview.id} on 2026-06-01 completed followup_3m, whose window "
        f"opens on {three.window_opens_on}: correct the interview's date" in found.out
    )
    voided = case.run(
        "record", "void", "interview", str(interview.id), "--reason", "before the window"
    )
    assert voided.exit_code == 0, voided.err
    assert "interview_before_window" not in case.run("doctor", "--format", "json").out
