"""Contact attempts (`followup record attempt`, followup.operations.attempts), on SQLite and
PostgreSQL: the counters, the lost-to-follow-up rule at its edges, and her safe-contact
plan enforced — in her site's time zone, with an audited, sealed override.

The clock stands on Monday 7 December 2026 at 09:30 UTC: 10:30 in Belgrade (CET).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup import her_plan, lost
from followup.models import Audit, ContactAttempt, FollowUp, Partner
from followup.operations.accounts import principal_as
from followup.operations.attempts import record_attempt
from followup.operations.policy import NotVisible
from followup.safe_contact import SafeContactPlan, parse_safe_times
from tests.conftest import REPO
from tests.web.conftest import _quick_password_hashes, build_team  # noqa: F401
from tests.web.test_partner_wall import his_facilitator_holding

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
REASON = "She texted asking to be called now zebra-7731"
NOTE = "Line was busy, kestrel-5512"


@pytest.fixture
def clock():
    with freeze_time(NOW) as frozen:
        yield frozen


@pytest.fixture
def team(deployment, clock):
    return build_team(deployment)


def set_plan(team, partner_id: str, plan: SafeContactPlan | None) -> None:
    """Her plan written onto her row as the plan forms will (her_plan.seal_plan)."""
    with team.session() as session:
        her = session.execute(
            sa.select(Partner).where(Partner.partner_id == partner_id)
        ).scalar_one()
        if plan is None:
            her.plan_sealed, her.plan_confirmed_on, her.channel = None, None, None
            return
        for column, value in her_plan.seal_plan(team.ctx.vault, plan).items():
            setattr(her, column, value)


WEEKDAYS_PHONE = SafeContactPlan(
    channels={"phone": "+381601234567"}, windows=parse_safe_times("Mon-Fri 10:00-12:00")
)


def attempt(team, *args, who: str = "partner_support"):
    base = ["record", "attempt", "BG-1"]
    return team.deployment.run(*base, *args, "--as", who)


def hers(team, *args, who: str = "partner_support"):
    return attempt(team, "partner_first_contact", "--partner", "P-1", *args, who=who)


def her_followup(team) -> FollowUp:
    return team.followup(team.followup_id("BG-1", "partner_first_contact", partner=True))


def close_window(team, followup_id: int, days_ago: int = 1) -> None:
    today = team.ctx.site_today("BG")
    with team.session() as session:
        row = session.get(FollowUp, followup_id)
        row.window_closes_on = today - timedelta(days=days_ago)
        row.due_on = min(row.due_on, row.window_closes_on)
        row.window_opens_on = min(row.window_opens_on, row.due_on)


def due_ids(team, who: str = "partner_support") -> dict[int, dict]:
    result = team.deployment.run("due", "--format", "json", "--days", "30", "--as", who)
    assert result.exit_code == 0, result.err
    return {item["followup_id"]: item for item in json.loads(result.out)}


def audit_lines(team, action: str) -> list[dict]:
    with team.session() as session:
        return [
            json.loads(detail or "{}")
            for detail in session.execute(
                sa.select(Audit.detail).where(Audit.action == action).order_by(Audit.id)
            ).scalars()
        ]


# --- recording ---------------------------------------------------------------------------


def test_an_attempt_is_recorded_with_its_counters_and_an_audit_line_that_keeps_no_note(team):
    set_plan(team, "P-1", WEEKDAYS_PHONE)
    result = hers(team, "--outcome", "no_answer", "--channel", "phone", "--note", NOTE)
    assert result.exit_code == 0, result.err
    assert "attempts: 1" in result.out and "follow-up scheduled" in result.out
    followup = her_followup(team)
    assert (followup.attempts, followup.unreached_attempts) == (1, 1)
    assert followup.last_attempt_outcome == "no_answer"
    assert followup.last_attempt_at == NOW and followup.status == "scheduled"
    with team.session() as session:
        row = session.execute(sa.select(ContactAttempt)).scalar_one()
        assert (row.channel, row.outcome, row.override_sealed) == ("phone", "no_answer", None)
        assert team.ctx.vault.open(row.note_sealed) == NOTE
        assert row.conducted_by is not None  # PS1, the worker recording
    (line,) = audit_lines(team, "record_attempt")
    assert line == {
        "checkpoint": "partner_first_contact",
        "channel": "phone",
        "outcome": "no_answer",
        "status": "scheduled",
    }
    assert "kestrel" not in json.dumps(audit_lines(team, "record_attempt"))


def test_the_due_table_shows_the_attempts_so_far_and_how_the_last_went(team):
    set_plan(team, "P-1", WEEKDAYS_PHONE)
    assert hers(team, "--outcome", "no_answer", "--channel", "phone").exit_code == 0
    text = team.deployment.run("due", "--days", "30", "--as", "partner_support").out
    header, *rows = text.splitlines()
    assert header.split()[-1] == "ATTEMPTS"
    (row,) = [line for line in rows if "partner_first_contact" in line]
    assert row.endswith("1 (last: no_answer)")
    assert all(line.endswith(" -") for line in rows if "partner_first_contact" not in line)


def test_his_facilitator_records_attempts_on_his_follow_up_with_no_plan_rules(team):
    result = attempt(
        team, "intake_assessment", "--outcome", "no_answer", "--channel", "sms", who="facilitator"
    )
    assert result.exit_code == 0, result.err
    assert "no safe-contact plan" not in result.out
    assert team.followup(team.followup_id("BG-1", "intake_assessment")).attempts == 1


def test_the_third_unreached_attempt_makes_it_unreachable_and_it_leaves_due(team):
    set_plan(team, "P-1", WEEKDAYS_PHONE)
    followup_id = her_followup(team).id
    for n, outcome in enumerate(("no_answer", "wrong_number"), start=1):
        assert hers(team, "--outcome", outcome, "--channel", "phone").exit_code == 0
        assert due_ids(team)[followup_id]["attempts"] == n
    assert due_ids(team)[followup_id]["last_attempt_outcome"] == "wrong_number"
    third = hers(team, "--outcome", "someone_else_answered", "--channel", "phone")
    assert third.exit_code == 0, third.err
    assert "follow-up unreachable" in third.out
    assert her_followup(team).status == "unreachable"
    assert followup_id not in due_ids(team)
    again = hers(team, "--outcome", "no_answer", "--channel", "phone")
    assert again.exit_code == 1
    assert "unreachable; attempts are recorded only on a pending follow-up" in again.err


def test_unsafe_to_talk_and_reached_do_not_count_towards_the_three(team):
    set_plan(team, "P-1", WEEKDAYS_PHONE)
    for outcome in ("unsafe_to_talk", "unsafe_to_talk", "no_answer", "no_answer", "reached"):
        assert hers(team, "--outcome", outcome, "--channel", "phone").exit_code == 0
    followup = her_followup(team)
    assert (followup.attempts, followup.unreached_attempts) == (5, 2)
    assert followup.status == "scheduled"


def test_a_refusal_makes_it_refused_and_it_leaves_the_lists(team):
    set_plan(team, "P-1", WEEKDAYS_PHONE)
    followup_id = her_followup(team).id
    assert hers(team, "--outcome", "refused", "--channel", "phone").exit_code == 0
    assert her_followup(team).status == "refused"
    assert followup_id not in due_ids(team)
    page = team.browser("partner_support").get("/followups")
    assert f'href="/followups/{followup_id}"' not in page.text


def test_two_attempts_then_the_window_closing_reads_unreachable_and_leaves_due(team):
    set_plan(team, "P-1", WEEKDAYS_PHONE)
    followup_id = her_followup(team).id
    for _ in range(2):
        assert hers(team, "--outcome", "no_answer", "--channel", "phone").exit_code == 0
    close_window(team, followup_id)
    followup = her_followup(team)
    today = team.ctx.site_today("BG")
    assert followup.status == "scheduled"  # stored; the rule reads it
    assert lost.status_on(followup.status, followup.window_closes_on, 2, today) == "unreachable"
    assert followup_id not in due_ids(team)


def test_no_attempt_and_the_window_closed_stays_on_the_list_as_overdue_and_reads_missed(team):
    followup_id = her_followup(team).id
    close_window(team, followup_id)
    followup = her_followup(team)
    assert due_ids(team)[followup_id]["status"] == "overdue"
    assert due_ids(team)[followup_id]["attempts"] == 0
    today = team.ctx.site_today("BG")
    assert lost.status_on(followup.status, followup.window_closes_on, 0, today) == "missed"


def test_an_attempt_after_the_window_closed_takes_it_off_the_list_as_unreachable(team):
    set_plan(team, "P-1", SafeContactPlan(channels={"phone": "+381601234567"}))
    followup_id = her_followup(team).id
    close_window(team, followup_id)
    assert followup_id in due_ids(team)
    assert hers(team, "--outcome", "no_answer", "--channel", "phone").exit_code == 0
    assert followup_id not in due_ids(team)


@pytest.mark.parametrize("closed", [True, False])
def test_withdrawal_cancels_an_open_follow_up_but_not_one_whose_window_had_closed(
    team, clock, closed
):
    set_plan(team, "P-1", WEEKDAYS_PHONE)
    assert hers(team, "--outcome", "no_answer", "--channel", "phone").exit_code == 0
    assert her_followup(team).window_closes_on == date(2026, 12, 11)
    if closed:
        clock.move_to(datetime(2026, 12, 14, 9, 30, tzinfo=UTC))  # a week on: it has closed
    today = team.ctx.site_today("BG").isoformat()
    result = team.deployment.run("record", "consent", "P-1", "--withdrawn", "--on", today)
    assert result.exit_code == 0, result.err
    followup = her_followup(team)
    read = lost.status_on(
        followup.status, followup.window_closes_on, followup.attempts, team.ctx.site_today("BG")
    )
    assert read == ("unreachable" if closed else "cancelled")


def test_a_checkpoints_own_lost_after_attempts_overrides_the_protocols(tmp_path, database_url):
    from tests.conftest import Deployment

    folder = tmp_path / "schedules"
    shutil.copytree(REPO / "schedules", folder)
    path = folder / "undp-serbia.toml"
    text = path.read_text(encoding="utf-8")
    marker = 'name = "partner_first_contact"\n'
    path.write_text(text.replace(marker, marker + "lost_after_attempts = 1\n"), encoding="utf-8")
    with freeze_time(NOW):
        deployment = Deployment(tmp_path, database_url)
        deployment.protocols_dir = Path(folder)
        deployment.write_config()
        assert deployment.run("init").exit_code == 0
        team = build_team(deployment)
        set_plan(team, "P-1", WEEKDAYS_PHONE)
        assert hers(team, "--outcome", "no_answer", "--channel", "phone").exit_code == 0
        assert her_followup(team).status == "unreachable"
        his = attempt(
            team, "intake_assessment", "--outcome", "no_answer", "--channel", "phone", who="admin"
        )
        assert his.exit_code == 0, his.err
        assert team.followup(team.followup_id("BG-1", "intake_assessment")).status == "scheduled"
        deployment.ctx.engine.dispose()


# --- when an attempt is refused ----------------------------------------------------------


def test_an_attempt_in_the_future_or_before_the_window_opens_is_refused(team):
    later = hers(team, "--outcome", "no_answer", "--channel", "phone", "--at", "2026-12-07T11:00Z")
    assert later.exit_code == 1 and "is in the future" in later.err
    early = attempt(
        team, "followup_3m", "--outcome", "no_answer", "--channel", "phone", who="facilitator"
    )
    assert early.exit_code == 1 and "before the followup_3m window opens" in early.err
    bad = hers(team, "--outcome", "gone_fishing", "--channel", "phone")
    assert bad.exit_code == 2 and "gone_fishing" in bad.err
    assert her_followup(team).attempts == 0


def test_an_attempt_on_a_completed_follow_up_is_refused_with_a_clear_message(team):
    result = team.deployment.run(
        "record", "interview", "BG-1", "--informant", "participant", "--on", "2026-12-07",
        "--checkpoint", "intake_assessment", "--physical", "no",
    )  # fmt: skip
    assert result.exit_code == 0, result.err
    refused = attempt(
        team, "intake_assessment", "--outcome", "no_answer", "--channel", "phone", who="admin"
    )
    assert refused.exit_code == 1
    assert "intake_assessment is completed; attempts are recorded only on a pending" in refused.err


def test_his_facilitator_cannot_record_an_attempt_on_her_follow_up(team):
    result = hers(team, "--outcome", "no_answer", "--channel", "phone", who="facilitator")
    missing = attempt(
        team, "partner_first_contact", "--partner", "P-404", "--outcome", "no_answer",
        "--channel", "phone", who="facilitator",
    )  # fmt: skip
    assert (result.exit_code, missing.exit_code) == (1, 1)
    assert result.err == missing.err.replace("P-404", "P-1")  # nor learns she exists
    assert "may see" in result.err
    followup_id = her_followup(team).id
    with team.session() as session:
        p = principal_as(session, team.ctx, "facilitator", via="test")
        with pytest.raises(NotVisible):
            record_attempt(session, team.ctx, p, followup_id, outcome="no_answer", channel="phone")
    assert her_followup(team).attempts == 0


# --- her plan, enforced in her site's zone ----------------------------------------------


def test_inside_her_safe_window_in_belgrade_time_is_allowed_outside_it_is_refused(team):
    set_plan(team, "P-1", WEEKDAYS_PHONE)
    # 09:30 UTC in winter is 10:30 in Belgrade: inside Mon-Fri 10:00-12:00.
    inside = hers(team, "--outcome", "no_answer", "--channel", "phone", "--at", "2026-12-07T09:30Z")
    assert inside.exit_code == 0, inside.err
    # 11:30 UTC is 12:30 in Belgrade: outside. (The clock moves on to let it be the past.)
    with freeze_time(datetime(2026, 12, 7, 12, 0, tzinfo=UTC)):
        outside = hers(
            team, "--outcome", "no_answer", "--channel", "phone", "--at", "2026-12-07T11:30Z"
        )
        local = hers(
            team, "--outcome", "no_answer", "--channel", "phone", "--at", "2026-12-07T11:59"
        )  # a local time, read in Belgrade: inside
    assert outside.exit_code == 1
    assert "12:30 (her local time) is outside her safe times (Mon-Fri 10:00-12:00)" in outside.err
    assert "give a reason to record it anyway" in outside.err
    assert local.exit_code == 0, local.err
    assert her_followup(team).attempts == 2


def test_a_channel_her_plan_does_not_allow_is_refused(team):
    set_plan(team, "P-1", WEEKDAYS_PHONE)
    result = hers(team, "--outcome", "no_answer", "--channel", "sms")
    assert result.exit_code == 1
    assert "does not allow contact by sms (allowed: phone)" in result.err
    assert "give a reason to record it anyway" in result.err
    assert her_followup(team).attempts == 0


def test_with_a_reason_it_is_recorded_the_override_audited_and_the_reason_sealed(
    team, database_url
):
    set_plan(team, "P-1", WEEKDAYS_PHONE)
    result = hers(team, "--outcome", "reached", "--channel", "sms", "--override-reason", REASON)
    assert result.exit_code == 0, result.err
    assert "Outside her safe-contact plan" in result.out
    (line,) = audit_lines(team, "record_attempt")
    assert line["override"] is True and "zebra" not in json.dumps(line)
    with team.session() as session:
        row = session.execute(sa.select(ContactAttempt)).scalar_one()
        assert team.ctx.vault.open(row.override_sealed) == REASON
        stored = b"".join(
            bytes(value or b"")
            for value in session.execute(
                sa.select(ContactAttempt.override_sealed, ContactAttempt.note_sealed)
            ).one()
        )
    assert b"zebra-7731" not in stored
    if database_url.startswith("sqlite"):
        team.ctx.engine.dispose()
        path = Path(database_url.removeprefix("sqlite:///"))
        for name in (path, Path(f"{path}-wal")):
            if name.exists():
                assert b"zebra-7731" not in name.read_bytes()


def test_with_no_plan_at_all_the_attempt_is_allowed_and_says_she_has_none(team):
    set_plan(team, "P-1", None)
    result = hers(team, "--outcome", "no_answer", "--channel", "post")
    assert result.exit_code == 0, result.err
    assert "She has no safe-contact plan on record" in result.out


def test_a_reached_contact_re_confirms_her_plan_on_its_local_date(team):
    set_plan(team, "P-1", WEEKDAYS_PHONE)
    wrong = hers(team, "--outcome", "no_answer", "--channel", "phone", "--plan-confirmed")
    assert wrong.exit_code == 1 and "only at a contact that reached her" in wrong.err
    # 23:30 UTC on Sunday is Monday 00:30 in Belgrade: outside her times, with a reason.
    result = hers(
        team, "--outcome", "reached", "--channel", "phone", "--plan-confirmed",
        "--at", "2026-12-06T23:30Z", "--override-reason", "she called back",
    )  # fmt: skip
    assert result.exit_code == 0, result.err
    her = team.partner("P-1")
    assert her.plan_confirmed_on == date(2026, 12, 7)
    assert her_plan.plan_of(team.ctx.vault, her).confirmed_on == date(2026, 12, 7)
    assert her_plan.plan_of(team.ctx.vault, her).windows == WEEKDAYS_PHONE.windows
    assert audit_lines(team, "record_attempt")[-1]["plan_confirmed"] is True


def test_his_facilitator_holding_her_side_too_cannot_record_hers_nor_be_named_for_it(team):
    his_facilitator_holding(team, "facilitator;partner_support")
    result = team.deployment.run(
        "record", "attempt", "BG-2", "partner_first_contact", "--partner", "P-2",
        "--outcome", "no_answer", "--channel", "phone", "--as", "fx1",
    )  # fmt: skip
    assert result.exit_code == 1 and "may see" in result.err
    named = team.deployment.run(
        "record", "attempt", "BG-2", "partner_first_contact", "--partner", "P-2",
        "--outcome", "no_answer", "--channel", "phone", "--by", "FX1",
    )  # fmt: skip
    assert named.exit_code == 1 and "FX1 is the facilitator of case BG-2" in named.err
    assert (
        team.followup(team.followup_id("BG-2", "partner_first_contact", partner=True)).attempts == 0
    )


def test_of_her_check_ins_the_attempt_goes_to_the_one_whose_window_holds_its_date(team, clock):
    set_plan(team, "P-1", WEEKDAYS_PHONE)
    early = attempt(
        team, "partner_checkin", "--partner", "P-1", "--outcome", "no_answer", "--channel", "phone"
    )
    assert early.exit_code == 1 and "before the partner_checkin window opens" in early.err
    # Check-ins every 4 weeks from the expected programme start (25 December): windows
    # 19-29 January, 16-26 February. Wednesday 17 February, 10:30 in Belgrade:
    clock.move_to(datetime(2027, 2, 17, 9, 30, tzinfo=UTC))
    for at in ("2027-02-17T10:15", "2027-01-21T10:15"):  # the second check-in, the first
        hers_checkin = attempt(
            team, "partner_checkin", "--partner", "P-1", "--outcome", "no_answer",
            "--channel", "phone", "--at", at,
        )  # fmt: skip
        assert hers_checkin.exit_code == 0, hers_checkin.err
    with team.session() as session:
        tried = dict(
            session.execute(
                sa.select(FollowUp.occurrence, FollowUp.attempts).where(
                    FollowUp.checkpoint == "partner_checkin", FollowUp.attempts > 0
                )
            ).all()
        )
    assert tried == {1: 1, 2: 1}


# --- the pure rule (followup.attempt_rules), no database --------------------------------


@pytest.mark.parametrize(
    ("instant", "allowed"),
    [
        ("2026-12-07T09:30:00+00:00", True),  # winter, CET: 10:30
        ("2026-12-07T11:30:00+00:00", False),  # 12:30
        ("2026-07-06T08:30:00+00:00", True),  # summer, CEST: 10:30
        ("2026-07-06T09:30:00+00:00", True),  # 11:30
        ("2026-07-06T10:30:00+00:00", False),  # 12:30
        ("2026-12-05T09:30:00+00:00", False),  # a Saturday
    ],
)
def test_her_safe_times_are_read_in_her_sites_zone_on_both_sides_of_dst(instant, allowed):
    from zoneinfo import ZoneInfo

    from followup.attempt_rules import local_time, plan_problem

    local = local_time(datetime.fromisoformat(instant), ZoneInfo("Europe/Belgrade"))
    assert (plan_problem(WEEKDAYS_PHONE, "phone", local) is None) is allowed


def test_the_latest_attempt_is_the_last_whatever_order_they_come_in():
    from followup.attempt_rules import Counters, after_attempt

    late = datetime(2026, 12, 4, 9, tzinfo=UTC)
    early = datetime(2026, 12, 2, 9, tzinfo=UTC)
    counters = after_attempt(Counters("scheduled"), "no_answer", late, 3)
    counters = after_attempt(counters, "unsafe_to_talk", early, 3)
    assert (counters.attempts, counters.unreached_attempts) == (2, 1)
    assert (counters.last_attempt_at, counters.last_attempt_outcome) == (late, "no_answer")
    assert after_attempt(counters, "moved", early, 2).status == "unreachable"
    assert after_attempt(counters, "moved", early, None).status == "scheduled"  # 0: window only
