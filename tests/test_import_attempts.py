"""`followup import attempts FILE` (followup.imports.attempts), on SQLite and PostgreSQL:
all or nothing with FILE:ROW errors, idempotent, in time order per follow-up, the same
rule and plan enforcement as `followup record attempt`.

The clock stands on Monday 7 December 2026 at 09:30 UTC (10:30 in Belgrade).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup.models import Audit, ContactAttempt
from tests.test_attempts import (
    NOW,
    WEEKDAYS_PHONE,
    attempt,
    due_ids,
    her_followup,
    set_plan,
)
from tests.web.conftest import _quick_password_hashes, build_team  # noqa: F401

HEADER = "case_id,partner_id,checkpoint,attempted_at,channel,outcome,conducted_by"


@pytest.fixture
def team(deployment):
    with freeze_time(NOW):
        built = build_team(deployment)
        set_plan(built, "P-1", WEEKDAYS_PHONE)
        yield built


def load(team, text: str, name: str = "attempts.csv"):
    path = team.deployment.csv(name, text)
    return team.deployment.run("import", "attempts", str(path))


def attempts_stored(team) -> list[ContactAttempt]:
    with team.session() as session:
        return list(
            session.execute(sa.select(ContactAttempt).order_by(ContactAttempt.id)).scalars()
        )


def test_a_file_of_attempts_in_any_order_is_applied_in_time_order_and_re_imports_as_nothing(team):
    text = f"""\
    {HEADER}
    BG-1,P-1,partner_first_contact,2026-12-04T10:00+01:00,phone,no_answer,PS1
    BG-1,P-1,partner_first_contact,2026-12-02T09:15Z,phone,wrong_number,
    BG-1,,intake_assessment,2026-12-03T14:00,sms,unsafe_to_talk,F1
    BG-1,P-1,partner_first_contact,2026-12-03T10:00,phone,someone_else_answered,PS1
    """
    result = load(team, text)
    assert result.exit_code == 0, result.err
    assert "4 attempts row(s): 4 new" in result.out
    hers = her_followup(team)
    assert (hers.attempts, hers.unreached_attempts, hers.status) == (3, 3, "unreachable")
    assert hers.last_attempt_at == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    assert hers.last_attempt_outcome == "no_answer"
    his = team.followup(team.followup_id("BG-1", "intake_assessment"))
    assert (his.attempts, his.unreached_attempts, his.status) == (1, 0, "scheduled")
    assert his.last_attempt_at == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # local, Belgrade
    assert hers.id not in due_ids(team) and his.id in due_ids(team)
    again = load(team, text)
    assert again.exit_code == 0, again.err
    assert "0 new, 0 updated, 4 already present" in again.out
    assert len(attempts_stored(team)) == 4


def test_every_problem_is_reported_by_row_and_column_and_nothing_is_written(team):
    team.deployment.run(
        "record", "interview", "BG-1", "--informant", "participant", "--on", "2026-12-07",
        "--checkpoint", "intake_assessment", "--physical", "no",
    )  # fmt: skip
    result = load(
        team,
        f"""\
        {HEADER}
        BG-404,,intake_assessment,2026-12-07T10:00,phone,no_answer,
        BG-1,P-404,partner_first_contact,2026-12-07T10:00,phone,no_answer,
        BG-1,P-1,no_such_checkpoint,2026-12-07T10:00,phone,no_answer,
        BG-1,P-1,partner_first_contact,2026-12-07T10:00,phone,no_answer,XX9
        BG-1,P-1,partner_first_contact,2026-12-07T10:00,phone,gone,PS1
        BG-1,P-1,partner_first_contact,2026-12-07T10:00,pigeon,no_answer,PS1
        BG-1,P-1,partner_first_contact,2026-12-08T10:00,phone,no_answer,PS1
        BG-1,P-1,partner_first_contact,2026-12-07T08:00,phone,no_answer,PS1
        BG-1,P-1,partner_first_contact,2026-12-07T10:05,sms,no_answer,PS1
        BG-1,,intake_assessment,2026-12-07T10:00,phone,no_answer,F1
        BG-1,P-1,partner_first_contact,2026-12-07T10:10,phone,no_answer,F1
        BG-1,P-1,partner_first_contact,2026-12-07T10:15,phone,no_answer,PS1
        """,
    )
    assert result.exit_code == 1
    path = team.deployment.folder / "attempts.csv"
    expected = [
        f"{path}:2: case_id: case 'BG-404' is not enrolled",
        f"{path}:3: partner_id: partner 'P-404' is not linked to case BG-1",
        f"{path}:4: checkpoint: the partner's follow-ups have no checkpoint 'no_such_checkpoint'",
        f"{path}:5: conducted_by: unknown staff id 'XX9'",
        f"{path}:6: outcome: unknown outcome 'gone'",
        f"{path}:7: channel: unknown channel 'pigeon'",
        f"{path}:8: attempted_at: 2026-12-08T09:00Z is in the future",
        f"{path}:9: attempted_at: Mon 07 Dec 08:00 (her local time) is outside her safe times",
        f"{path}:10: channel: her safe-contact plan does not allow contact by sms",
        f"{path}:11: checkpoint: intake_assessment is completed; attempts are recorded only",
        f"{path}:12: conducted_by: staff member 'F1' does not have the partner_support role",
    ]
    for line in expected:
        assert line in result.err, line
    assert "give an override_reason to record it anyway" in result.err
    # Whoever runs the import (and whatever ticket its errors are pasted into) learns which
    # rule of her plan a row breaks, never her safe times or allowed channels.
    assert "10:00-12:00" not in result.err and "allowed: phone" not in result.err
    assert f"{path}:13:" not in result.err  # a good row, rolled back with the rest
    assert attempts_stored(team) == []
    assert her_followup(team).attempts == 0


def test_a_row_after_the_attempt_that_made_it_unreachable_is_refused(team):
    result = load(
        team,
        f"""\
        {HEADER}
        BG-1,P-1,partner_first_contact,2026-12-07T10:20,phone,no_answer,PS1
        BG-1,P-1,partner_first_contact,2026-12-04T10:00,phone,no_answer,PS1
        BG-1,P-1,partner_first_contact,2026-12-03T10:00,phone,refused,PS1
        """,
    )
    assert result.exit_code == 1
    assert "attempts.csv:2: outcome: partner_first_contact is refused" in result.err
    assert "(it became refused at row 4)" in result.err
    assert attempts_stored(team) == []


def test_an_override_reason_records_it_sealed_and_audited(team):
    reason = "she asked for texts this week heron-4471"
    result = load(
        team,
        f"""\
        {HEADER},override_reason,note
        BG-1,P-1,partner_first_contact,2026-12-07T08:00,sms,reached,PS1,{reason},fine
        """,
    )
    assert result.exit_code == 0, result.err
    (row,) = attempts_stored(team)
    assert team.ctx.vault.open(row.override_sealed) == reason
    assert team.ctx.vault.open(row.note_sealed) == "fine"
    with team.session() as session:
        (detail,) = session.execute(
            sa.select(Audit.detail).where(Audit.action == "record_attempt")
        ).scalars()
    assert json.loads(detail)["override"] is True and "heron" not in detail


def test_import_all_applies_attempts_after_the_people_it_enrols(team):
    folder = team.deployment.folder / "export"
    folder.mkdir()
    (folder / "participants.csv").write_text(
        "case_id,site,referral_source,enrolled_on,protocol,facilitator\n"
        "BG-9,BG,court,2026-12-01,undp-serbia,F1\n",
        encoding="utf-8",
    )
    (folder / "attempts.csv").write_text(
        f"{HEADER}\nBG-9,,intake_assessment,2026-12-05T11:00,phone,no_answer,F1\n",
        encoding="utf-8",
    )
    result = team.deployment.run("import", "--all", str(folder))
    assert result.exit_code == 0, result.err
    followup = team.followup(team.followup_id("BG-9", "intake_assessment"))
    assert (followup.attempts, followup.last_attempt_outcome) == (1, "no_answer")


def test_the_csv_and_the_command_give_the_same_counters(team):
    assert (
        attempt(
            team,
            "intake_assessment",
            "--outcome",
            "no_answer",
            "--channel",
            "phone",
            who="facilitator",
        ).exit_code
        == 0
    )
    by_command = team.followup(team.followup_id("BG-1", "intake_assessment"))
    result = load(
        team,
        f"{HEADER}\nBG-1,,intake_assessment,2026-12-07T10:29,phone,moved,F1\n",
    )
    assert result.exit_code == 0, result.err
    after = team.followup(team.followup_id("BG-1", "intake_assessment"))
    assert (after.attempts, after.unreached_attempts) == (2, 2)
    assert after.last_attempt_at == by_command.last_attempt_at  # 09:30Z is the later one
    assert after.last_attempt_outcome == "no_answer"
