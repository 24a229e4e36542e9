"""`followup doctor`: the database against every rule the records keep, on SQLite and
PostgreSQL. One line per finding, `case_id: what: how to fix`; exit 1 if any."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from freezegun import freeze_time

from followup.crypto import Vault
from followup.models import FollowUp, Interview, Outbox, Participant, Partner, Staff

pytestmark = pytest.mark.usefixtures("frozen")

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with freeze_time(NOW):
        yield


@pytest.fixture
def case(staffed):
    """BG-1, enrolled 5 January 2026, admitted 12 January, with partner P-1 (her contact
    details sealed) and an intake interview with sealed notes."""
    run = staffed.run
    assert (
        run(
            "enrol",
            *("BG-1", "--site", "BG", "--referral-source", "court"),
            *("--enrolled-on", "2026-01-05", "--facilitator", "F1"),
        ).exit_code
        == 0
    )
    partners = staffed.csv(
        "partners.csv",
        """\
        partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker
        P-1,BG-1,current,2026-01-09,phone,+381601234567,,PS1
        """,
    )
    assert run("import", "partners", str(partners)).exit_code == 0
    assert run("record", "status", "BG-1", "admitted", "--on", "2026-01-12").exit_code == 0
    interview = run(
        "record",
        *("interview", "BG-1", "--informant", "participant", "--on", "2026-01-15"),
        *("--notes", "came on time", "--physical", "no"),
    )
    assert interview.exit_code == 0, interview.err
    return staffed


def doctor(deployment, *args):
    result = deployment.run("doctor", *args)
    return result.exit_code, result.out.splitlines()


def edit(deployment, statement, **values):
    with deployment.session() as session:
        session.execute(statement.values(**values) if values else statement)


P = Participant.__table__


def test_a_sound_database_is_one_line_and_exit_zero(case):
    assert doctor(case) == (0, ["No problems found."])
    code, out = doctor(case, "--format", "json")
    assert (code, json.loads("\n".join(out))) == (0, {"count": 0, "problems": []})


def test_an_ending_before_the_admission_is_found_with_its_fix_and_counted_by_the_report(case):
    edit(
        case,
        P.update().where(P.c.case_id == "BG-1"),
        ended_on=date(2026, 1, 8),
        end_reason="dropped_out",
    )
    code, lines = doctor(case)
    assert code == 1
    assert lines[0] == (
        "BG-1: dropped_out on 2026-01-08 is before admission on 2026-01-12: record the right "
        "date with `followup record status CASE EVENT --on DATE` (enrolment: re-import the "
        "participants file); a man who comes back after leaving is a new enrolment"
    )
    # The edit went past the re-planning too: his follow-ups still run as if he were in.
    assert lines[1].startswith("BG-1: follow-ups differ from what protocol undp-serbia (revision ")
    report = json.loads(case.run("report", "--format", "json", "--no-suppress").out)
    assert report["data_quality"]["problems"]["status_order"]["case_ids"] == ["BG-1"]
    fixed = case.run("record", "status", "BG-1", "dropped_out", "--on", "2026-02-08")
    assert fixed.exit_code == 0, fixed.err
    assert doctor(case) == (0, ["No problems found."])


def test_a_follow_up_that_contradicts_its_protocol_revision_is_found(case):
    f = FollowUp.__table__
    edit(
        case,
        f.update().where(f.c.checkpoint == "partner_first_contact"),
        due_on=date(2026, 3, 1),
    )
    code, out = doctor(case, "--format", "json")
    (problem,) = json.loads("\n".join(out))["problems"]
    assert code == 1
    assert problem["case_id"] == "BG-1" and problem["check"] == "schedule_differs"
    assert problem["what"].endswith("gives for his dates: 1 to move")


def test_sealed_data_the_key_cannot_open_is_found_without_showing_it(case):
    other = Vault([Fernet.generate_key().decode()], "another key")
    edit(case, Partner.__table__.update(), contact_sealed=other.seal({"phone": "+38160999"}))
    edit(case, Interview.__table__.update(), notes_sealed=b"not a token")
    code, lines = doctor(case)
    assert code == 1
    assert lines[0].startswith(
        "BG-1: partner P-1's contact details: the configured key cannot open it: restore"
    )
    assert lines[1].startswith("BG-1: the notes of interview ")
    assert "+38160999" not in "\n".join(lines)


def test_a_message_held_past_its_lease_is_found(case):
    with case.session() as session:
        staff = session.execute(sa.select(Staff.id).where(Staff.staff_id == "F1")).scalar_one()
        intake = session.execute(
            sa.select(FollowUp.id).where(FollowUp.checkpoint == "intake_assessment")
        ).scalar_one()
        for key, lease in (("held", "2026-11-24 09:58:00"), ("still-leased", "2026-11-24 10:01")):
            session.add(
                Outbox(
                    key=key,
                    kind="reminder",
                    staff_id=staff,
                    channel="console",
                    followup_id=intake,
                    not_before=NOW,
                    next_attempt_at=NOW,
                    claimed_by="worker-1",
                    lease_until=datetime.fromisoformat(lease).replace(tzinfo=UTC),
                )
            )
    code, lines = doctor(case)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(
        "BG-1: outbox 1 (reminder) is still held by worker-1, whose lease ran out at "
        "2026-11-24T09:58:00+00:00: its sender stopped mid-send"
    )


def test_rows_that_refer_to_nothing_are_found(case, database_url):
    """A database copied or edited without its constraints."""
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.execute(Partner.__table__.update().values(support_worker_id=999))
        conn.execute(FollowUp.__table__.delete().where(FollowUp.checkpoint == "intake_assessment"))
    engine.dispose()
    code, out = doctor(case, "--format", "json")
    found = {(p["check"], p["record"], p["what"]) for p in json.loads("\n".join(out))["problems"]}
    assert code == 1
    assert (
        "orphan_row",
        "partner 1",
        "partner 1 refers to staff 999, which does not exist",
    ) in found
    assert any(
        check == "orphan_row" and what.startswith("interview 1 refers to followup ")
        for check, _, what in found
    )


def test_without_any_key_sealed_data_is_one_finding_per_table_not_one_per_row(case, monkeypatch):
    monkeypatch.delenv("FOLLOWUP_SECRET_KEY")
    code, lines = doctor(case)
    assert code == 1
    assert [line.split(":")[0] for line in lines] == ["partner", "interview"]
    assert lines[0].startswith("partner: 1 sealed contact_sealed value(s) in partner: ")
