"""Her safe-contact plan through the partners file, the operations and the CLI: the
columns round-trip, a re-import of the same plan writes nothing, nothing of it is stored
in clear, the unconfirmed flag, and "Was it safe to talk? no" writes an attempt and no
interview."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup.errors import InvalidRecord, NotVisible
from followup.her_plan import PlanInput, plan_of
from followup.models import Audit, ContactAttempt, FollowUp, Interview, Partner, Staff
from followup.operations.caseload import followup_row, select_followups
from followup.operations.policy import Principal, operator
from followup.operations.safe_plan import confirm_safe_plan, edit_safe_plan, read_safe_plan
from tests.test_imports import PARTICIPANTS, imported

pytestmark = pytest.mark.usefixtures("frozen")

CODE_WORD = "plava-ruza-4711"
HER_PLAN = f"""\
    partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker,allowed_channels,safe_times,voicemail_ok,may_name_organisation,code_word,if_someone_else_answers,plan_confirmed_on
    P-1,BG-1,current,2026-01-09,phone,+381601234567,her@example.org,PS1,sms;email,Mon-Fri 10:00-12:00; Sat 09:00-11:00,yes,no,{CODE_WORD},say wrong number,2026-11-02
    P-2,BG-2,ex,,email,,p2@example.org,PS1,,,,,,,
    """


@pytest.fixture
def frozen():
    with freeze_time("2026-11-24 10:00:00"):
        yield


@pytest.fixture
def planned(staffed):
    imported(staffed, "participants", "participants.csv", PARTICIPANTS)
    imported(staffed, "partners", "partners.csv", HER_PLAN)
    return staffed


def her(deployment, partner_id: str = "P-1") -> Partner:
    with deployment.session() as session:
        return session.execute(
            sa.select(Partner).where(Partner.partner_id == partner_id)
        ).scalar_one()


def test_every_plan_column_of_the_partners_file_comes_back_from_her_sealed_plan(planned):
    plan = plan_of(planned.ctx.vault, her(planned))
    assert plan.channels == {"sms": "+381601234567", "email": "her@example.org"}
    assert plan.safe_times_text == "Mon-Fri 10:00-12:00; Sat 09:00-11:00"
    assert plan.voicemail_ok and not plan.may_name_organisation
    assert plan.code_word == CODE_WORD and plan.if_someone_else_answers == "say wrong number"
    assert plan.confirmed_on == date(2026, 11, 2) == her(planned).plan_confirmed_on
    # No plan column: her channel is her plan, with the safe defaults.
    second = plan_of(planned.ctx.vault, her(planned, "P-2"))
    assert second.channels == {"email": "p2@example.org"} and second.windows == ()
    assert not second.voicemail_ok and not second.may_name_organisation


def test_re_importing_the_same_plan_writes_nothing_and_an_empty_date_keeps_the_confirmation(
    planned,
):
    sealed = her(planned).plan_sealed
    again = imported(planned, "partners", "partners.csv", HER_PLAN)
    assert "0 updated" in again.out or "unchanged" in again.out
    assert her(planned).plan_sealed == sealed  # not sealed again
    undated = HER_PLAN.replace(",2026-11-02", ",")
    imported(planned, "partners", "partners.csv", undated)
    assert her(planned).plan_sealed == sealed
    assert plan_of(planned.ctx.vault, her(planned)).confirmed_on == date(2026, 11, 2)


def test_a_changed_plan_is_written(planned):
    imported(
        planned, "partners", "partners.csv", HER_PLAN.replace("Sat 09:00-11:00", "Sun 18:00-20:00")
    )
    plan = plan_of(planned.ctx.vault, her(planned))
    assert plan.safe_times_text == "Mon-Fri 10:00-12:00; Sun 18:00-20:00"


# --- a file must not put back a plan her worker has changed since -------------------

WORKER_TIMES = "Tue 14:00-15:00"  # what she told her worker after the file was made


def _worker_changes_her_plan(deployment) -> None:
    given = PlanInput(channels=("email",), safe_times=WORKER_TIMES, code_word="new-word-88")
    with deployment.session() as session:
        edit_safe_plan(session, deployment.ctx, operator("ops"), "P-1", given)


def _stored_plan(deployment):
    return plan_of(deployment.ctx.vault, her(deployment))


def test_an_older_partners_file_does_not_put_back_a_plan_her_worker_changed(planned):
    _worker_changes_her_plan(planned)  # on 2026-11-24, after the file's 2026-11-02
    assert _stored_plan(planned).worker_changed_on == date(2026, 11, 24)
    again = imported(planned, "partners", "partners.csv", HER_PLAN)
    plan = _stored_plan(planned)
    assert plan.safe_times_text == WORKER_TIMES and plan.code_word == "new-word-88"
    assert plan.channels == {"email": "her@example.org"} and her(planned).channel == "email"
    shown = again.out.replace(str(planned.folder / "partners.csv"), "FILE")
    assert (
        "FILE:2: plan_confirmed_on: partner P-1: her worker changed or confirmed her plan on "
        "2026-11-24, on or after this row's date (2026-11-02); her worker's plan was kept."
    ) in shown
    for secret in (CODE_WORD, "new-word-88", WORKER_TIMES, "Mon-Fri 10:00-12:00", "+38160"):
        assert secret not in again.out  # the note names the rule, never her plan
    with planned.session() as session:
        detail = (
            session.execute(
                sa.select(Audit.detail).where(Audit.action == "import").order_by(Audit.id.desc())
            )
            .scalars()
            .first()
        )
    assert '"noted": 1' in detail
    # A row without a date is older than any change of her worker's.
    imported(planned, "partners", "partners.csv", HER_PLAN.replace(",2026-11-02", ","))
    assert _stored_plan(planned).code_word == "new-word-88"


def test_a_file_dated_after_her_workers_change_replaces_the_plan(planned):
    _worker_changes_her_plan(planned)
    later = imported(
        planned, "partners", "partners.csv", HER_PLAN.replace("2026-11-02", "2026-11-25")
    )
    assert "was kept" not in later.out
    plan = _stored_plan(planned)
    assert plan.code_word == CODE_WORD and plan.confirmed_on == date(2026, 11, 25)
    assert plan.worker_changed_on is None  # the file is the record again


def test_a_partners_file_without_plan_columns_leaves_her_plan_as_it_is(planned):
    before, channel = her(planned).plan_sealed, her(planned).channel
    old_format = "\n".join(",".join(line.split(",")[:7]) for line in HER_PLAN.strip().splitlines())
    result = imported(planned, "partners", "partners.csv", old_format)
    assert result.exit_code == 0, result.err
    assert her(planned).plan_sealed == before and her(planned).channel == channel
    assert _stored_plan(planned).code_word == CODE_WORD


def test_a_plan_her_worker_confirmed_with_her_is_kept_over_an_older_file(planned):
    with freeze_time("2026-11-20 10:00:00"), planned.session() as session:
        confirm_safe_plan(session, planned.ctx, operator("ops"), "P-1")
    changed = HER_PLAN.replace("Sat 09:00-11:00", "Sun 18:00-20:00")
    imported(planned, "partners", "partners.csv", changed.replace("2026-11-02", "2026-11-19"))
    assert _stored_plan(planned).safe_times_text == "Mon-Fri 10:00-12:00; Sat 09:00-11:00"
    imported(planned, "partners", "partners.csv", changed.replace("2026-11-02", "2026-11-21"))
    assert _stored_plan(planned).safe_times_text == "Mon-Fri 10:00-12:00; Sun 18:00-20:00"


def test_a_channel_she_allows_without_its_number_is_a_row_error(staffed):
    imported(staffed, "participants", "participants.csv", PARTICIPANTS)
    path = staffed.csv(
        "partners.csv",
        """\
        partner_id,case_id,relationship,consent_on,channel,phone,email,allowed_channels,safe_times,voicemail_ok
        P-1,BG-1,current,,email,,her@example.org,email;sms,,
        P-2,BG-2,ex,,email,,p2@example.org,email,Mon-Fri 25:00-26:00,
        P-3,BG-2,ex,,email,,p3@example.org,pigeon,,maybe
        """,
    )
    result = staffed.run("import", "partners", str(path))
    assert result.exit_code == 1
    lines = result.err.replace(str(path), "FILE").splitlines()
    assert lines[:4] == [
        "FILE:2: phone: needed for the sms channel",
        "FILE:3: safe_times: expected safe times such as 'Mon-Fri 10:00-12:00' or "
        "'10:00-12:00', got 'mon-fri 25:00-26:00'",
        "FILE:4: allowed_channels: unknown channel 'pigeon'; expected one or more of "
        "phone, sms, email, in_person, post separated by ;",
        "FILE:4: voicemail_ok: expected yes or no, got 'maybe'",
    ]
    with staffed.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Partner)).scalar_one() == 0


def test_nothing_of_her_plan_is_in_the_database_file_in_clear(planned):
    path = planned.database_url.removeprefix("sqlite:///")
    if planned.database_url.startswith("postgresql"):
        pytest.skip("the bytes of the SQLite file; PostgreSQL stores the same sealed column")
    data = open(path, "rb").read()  # noqa: SIM115
    for planted in (CODE_WORD, "say wrong number", "Sat 09:00-11:00", "+381601234567"):
        assert planted.encode() not in data, planted


# --- the operations ---------------------------------------------------------------------


def his_facilitator(deployment) -> Principal:
    """F1, who facilitates BG-1 (her partner's case)."""
    with deployment.session() as session:
        pk = session.execute(sa.select(Staff.id).where(Staff.staff_id == "F1")).scalar_one()
    return replace(
        operator("f1"), staff_pk=pk, staff_id="F1", site="BG", roles=frozenset({"facilitator"})
    )


def test_reading_her_plan_is_audited_without_its_contents(planned):
    with planned.session() as session:
        view = read_safe_plan(session, planned.ctx, operator("ops"), "P-1")
    assert view.plan.code_word == CODE_WORD and view.channels == (("sms", None), ("email", None))
    with planned.session() as session:
        rows = session.execute(sa.select(Audit).where(Audit.action == "read_safe_plan")).all()
    assert len(rows) == 1 and CODE_WORD not in (rows[0][0].detail or "")


def test_his_facilitator_cannot_read_or_confirm_her_plan(planned):
    facilitator = his_facilitator(planned)
    with planned.session() as session, pytest.raises(NotVisible):
        read_safe_plan(session, planned.ctx, facilitator, "P-1")
    with planned.session() as session, pytest.raises(NotVisible):
        confirm_safe_plan(session, planned.ctx, facilitator, "P-1")


def test_confirming_her_plan_dates_it_her_sites_today(planned):
    with freeze_time("2026-11-24 23:30:00"), planned.session() as session:  # 00:30 in Belgrade
        on = confirm_safe_plan(session, planned.ctx, operator("ops"), "P-1")
    assert on == date(2026, 11, 25) == her(planned).plan_confirmed_on
    assert plan_of(planned.ctx.vault, her(planned)).confirmed_on == date(2026, 11, 25)


def test_a_plan_can_only_be_confirmed_once_it_exists(planned):
    with planned.session() as session:
        session.execute(sa.update(Partner).values(plan_sealed=None, plan_confirmed_on=None))
    with planned.session() as session, pytest.raises(InvalidRecord, match="no safe-contact plan"):
        confirm_safe_plan(session, planned.ctx, operator("ops"), "P-1")


@pytest.mark.parametrize(("days", "flagged"), [(89, False), (90, True)])
def test_her_follow_ups_in_the_lists_are_flagged_from_exactly_reconfirm_plan_days(
    planned, days, flagged
):
    today = date(2026, 11, 24)
    with planned.session() as session:
        session.execute(
            sa.update(Partner)
            .where(Partner.partner_id == "P-1")
            .values(plan_confirmed_on=today - timedelta(days=days))
        )
        r = session.execute(
            select_followups().where(FollowUp.partner_id.is_not(None)).limit(1)
        ).one()
    from followup.labels import CheckpointLabels

    facilitator = his_facilitator(planned)
    with planned.session() as session:
        labels = CheckpointLabels(session, planned.ctx, "en")
        row = followup_row(r, operator("ops"), labels, today, 90)
        his_side = followup_row(
            r,
            facilitator,
            labels,
            today,
            90,
        )
    assert row.plan_needs_confirming is flagged
    assert his_side.plan_needs_confirming is False  # nothing of hers on his side


# --- "Was it safe to talk?" on the command line -------------------------------------------


def _interview(deployment, *extra: str):
    return deployment.run(
        "record", "interview", "BG-1", "--informant", "partner", "--on", "2026-01-20", *extra
    )


def test_an_interview_with_her_needs_the_safe_to_talk_answer(planned):
    result = _interview(planned, "--physical", "no")
    assert result.exit_code != 0 and "--safe-to-talk: required" in result.err
    assert _count(planned, Interview) == 0


def test_not_safe_to_talk_records_an_attempt_and_no_interview(planned):
    result = _interview(
        planned, "--safe-to-talk", "no", "--mode", "phone", "--checkpoint", "partner_first_contact"
    )
    assert result.exit_code == 0, result.err
    assert "no interview recorded" in result.out
    assert _count(planned, Interview) == 0
    with planned.session() as session:
        attempt = session.execute(sa.select(ContactAttempt)).scalar_one()
        followup = session.get(FollowUp, attempt.followup_id)
    assert attempt.outcome == "unsafe_to_talk" and attempt.channel == "phone"
    assert followup.status == "scheduled" and followup.attempts == 1
    assert followup.unreached_attempts == 0  # not counted towards lost to follow-up
    assert followup.last_attempt_outcome == "unsafe_to_talk"


def test_safe_to_talk_records_the_interview_and_can_confirm_her_plan(planned):
    result = _interview(planned, "--safe-to-talk", "yes", "--physical", "no", "--plan-confirmed")
    assert result.exit_code == 0, result.err
    assert _count(planned, Interview) == 1 and _count(planned, ContactAttempt) == 0
    assert her(planned).plan_confirmed_on == date(2026, 11, 24)


def _count(deployment, model) -> int:
    with deployment.session() as session:
        return session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
