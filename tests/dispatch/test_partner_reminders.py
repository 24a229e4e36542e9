"""Her worker's due-day reminder goes before her first safe window that day, not at 08:00.

The timing is a pure function (followup.dispatch.timing.partner_reminder_at) checked on
both sides of both DST changes in Belgrade; then the dispatcher, driven at chosen
instants, queues and sends it `partner_lead_minutes` before her window and says only
that a partner contact is due, with the window's times and the link.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from followup.dispatch.timing import (
    QuietHours,
    morning_of,
    partner_reminder_at,
    partner_window,
    window_text,
)
from followup.safe_contact import SafeContactPlan, parse_safe_times
from tests.dispatch.conftest import csv, local, outbox_rows, run_passes
from tests.dispatch.her_data import give_her_a_plan

BELGRADE = ZoneInfo("Europe/Belgrade")
QUIET = QuietHours(time(20, 0), time(8, 0))
LEAD = timedelta(minutes=30)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def plan(safe_times: str) -> SafeContactPlan:
    return SafeContactPlan(
        channels={"phone": "+381600000000"}, windows=parse_safe_times(safe_times)
    )


@pytest.mark.parametrize(
    ("due_on", "expected"),
    [
        (date(2026, 3, 28), "2026-03-28 08:30"),  # Saturday, CET (UTC+1): 09:30 local
        (date(2026, 3, 29), "2026-03-29 07:30"),  # the clocks went forward: CEST (UTC+2)
        (date(2026, 10, 24), "2026-10-24 07:30"),  # Saturday, still CEST
        (date(2026, 10, 25), "2026-10-25 08:30"),  # the clocks went back: CET again
    ],
)
def test_the_reminder_goes_half_an_hour_before_her_window_in_local_time_across_dst(
    due_on, expected
):
    at = partner_reminder_at(due_on, plan("10:00-12:00"), BELGRADE, LEAD, QUIET)
    assert at == utc(expected)
    assert at.astimezone(BELGRADE).time() == time(9, 30)


def test_a_window_starting_early_is_reminded_at_the_end_of_the_quiet_hours_not_before():
    at = partner_reminder_at(date(2026, 3, 23), plan("08:15-09:00"), BELGRADE, LEAD, QUIET)
    assert at == morning_of(date(2026, 3, 23), BELGRADE, QUIET) == utc("2026-03-23 07:00")


def test_a_window_over_before_the_morning_is_skipped_for_her_next_window_that_day():
    her = plan("06:00-07:30; 14:00-15:00")
    at = partner_reminder_at(date(2026, 3, 23), her, BELGRADE, LEAD, QUIET)
    assert at == local("2026-03-23 13:30")
    assert window_text(partner_window(date(2026, 3, 23), her, BELGRADE, QUIET)) == "14:00–15:00"


def test_the_first_window_of_the_day_is_aimed_at_whatever_order_she_gave_them_in():
    her = plan("Mon 15:00-16:00; Mon 11:00-12:00")
    assert partner_reminder_at(date(2026, 3, 23), her, BELGRADE, LEAD, QUIET) == local(
        "2026-03-23 10:30"
    )


def test_no_window_that_day_or_no_plan_keeps_the_morning():
    weekdays = plan("Mon-Fri 10:00-12:00")
    saturday = date(2026, 3, 28)
    assert partner_reminder_at(saturday, weekdays, BELGRADE, LEAD, QUIET) == morning_of(
        saturday, BELGRADE, QUIET
    )
    assert partner_reminder_at(saturday, None, BELGRADE, LEAD, QUIET) == morning_of(
        saturday, BELGRADE, QUIET
    )
    assert partner_reminder_at(saturday, SafeContactPlan(), BELGRADE, LEAD, QUIET) == morning_of(
        saturday, BELGRADE, QUIET
    )
    assert partner_window(saturday, weekdays, BELGRADE, QUIET) is None


def test_a_reminder_that_would_fall_in_the_quiet_hours_goes_in_the_morning():
    late = plan("20:15-21:30")  # 19:45 is not quiet: before her window
    assert partner_reminder_at(date(2026, 3, 23), late, BELGRADE, LEAD, QUIET) == local(
        "2026-03-23 19:45"
    )
    later = plan("20:40-21:30")  # 20:10 is quiet: the morning instead
    assert partner_reminder_at(date(2026, 3, 23), later, BELGRADE, LEAD, QUIET) == local(
        "2026-03-23 08:00"
    )


def test_a_window_to_midnight_reads_24_00():
    her = plan("22:00-24:00")
    window = partner_window(date(2026, 3, 23), her, BELGRADE, QUIET)
    assert window_text(window) == "22:00–24:00"


# --- through the dispatcher ----------------------------------------------------------

# PS1 reads English and prints to the console, so the test reads what she was sent.
STAFF = csv(
    """\
    staff_id,site,name,roles,phone,email,channel,language
    PS1,BG,Ana Jovanović,partner_support,+381642222222,ana@example.org,console,en
    """
)


# Her worker's reminder is timed to her window: passes every 10 minutes see when.
run_passes = partial(run_passes, every=timedelta(minutes=10))


def her_due_day_reminders(deployment) -> list:
    return [
        row
        for row, staff in outbox_rows(deployment, kind="reminder")
        if staff == "PS1" and row.key.endswith(":0:2026-03-23")
    ]


@pytest.fixture
def her_worker_reads_english(cohort):
    assert cohort.run("import", "staff", str(cohort.csv("ps1.csv", STAFF))).exit_code == 0
    return cohort


def test_her_workers_due_day_reminder_arrives_half_an_hour_before_her_safe_window(
    her_worker_reads_english, driver_for
):
    cohort = her_worker_reads_english
    # P-2's call is due Monday 23 March (CET); her plan: weekdays 10:00-12:00.
    give_her_a_plan(cohort, plan("Mon-Fri 10:00-12:00; Sat 09:00-11:00"))
    driver = driver_for(cohort)
    run_passes(driver, local("2026-03-23 07:00"), local("2026-03-23 09:20"))
    (reminder,) = her_due_day_reminders(cohort)
    assert reminder.not_before == local("2026-03-23 09:30") == utc("2026-03-23 08:30")
    assert reminder.status == "pending"  # queued at 08:00, not sent at the morning
    assert "Partner contact due today" not in driver.console.getvalue()

    run_passes(driver, local("2026-03-23 09:30"), local("2026-03-23 09:40"))
    (sent,) = her_due_day_reminders(cohort)
    assert sent.status == "sent" and sent.sent_at == local("2026-03-23 09:30")
    text = driver.console.getvalue()
    assert "A partner contact is due today (2026-03-23) — safe window 10:00–12:00." in text
    assert f"/followups/{sent.followup_id}" in text


def test_her_reminder_seven_days_ahead_still_goes_in_the_morning_and_names_the_window(
    her_worker_reads_english, driver_for
):
    cohort = her_worker_reads_english
    give_her_a_plan(cohort, plan("Mon-Fri 10:00-12:00"))
    driver = driver_for(cohort)
    run_passes(driver, local("2026-03-16 07:50"), local("2026-03-16 08:10"))
    (ahead,) = [
        row
        for row, staff in outbox_rows(cohort, kind="reminder")
        if staff == "PS1" and row.key.endswith(":7:2026-03-23")
    ]
    assert ahead.not_before == local("2026-03-16 08:00") and ahead.status == "sent"
    assert (
        "A partner contact is due in 7 days (2026-03-23) — safe window 10:00–12:00."
        in driver.console.getvalue()
    )


def test_without_a_window_that_day_her_reminder_goes_at_the_morning_as_before(
    her_worker_reads_english, driver_for
):
    cohort = her_worker_reads_english
    give_her_a_plan(cohort, plan("Sat-Sun 10:00-12:00"))  # nothing on Monday
    driver = driver_for(cohort)
    run_passes(driver, local("2026-03-23 07:00"), local("2026-03-23 08:10"))
    (reminder,) = her_due_day_reminders(cohort)
    assert reminder.not_before == local("2026-03-23 08:00") and reminder.status == "sent"
    text = driver.console.getvalue()
    assert "A partner contact is due today (2026-03-23)." in text
    assert "safe window" not in text


@pytest.mark.parametrize("sim_extra", ["[reminders]\npartner_lead_minutes = 90\n"])
def test_the_lead_before_her_window_is_configurable(her_worker_reads_english, driver_for):
    cohort = her_worker_reads_english
    give_her_a_plan(cohort, plan("11:00-12:00"))
    driver = driver_for(cohort)
    run_passes(driver, local("2026-03-23 07:50"), local("2026-03-23 08:10"))
    (reminder,) = her_due_day_reminders(cohort)
    assert reminder.not_before == local("2026-03-23 09:30")


P1 = csv(
    """\
    partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker
    P-1,BG-1,current,2026-03-15,phone,+381605556677,jelena.p1@example.net,PS1
    """
)


def test_on_the_night_the_clocks_go_forward_her_reminder_is_still_half_an_hour_before(
    her_worker_reads_english, driver_for
):
    """BG-1's partner's call is due Sunday 29 March, the first day of summer time: her
    window 10:00-12:00 local is 08:00 UTC, so the reminder goes at 07:30 UTC."""
    cohort = her_worker_reads_english
    with freeze_time(local("2026-03-20 07:00")):
        assert cohort.run("import", "partners", str(cohort.csv("p1.csv", P1))).exit_code == 0
    give_her_a_plan(cohort, plan("Sun 10:00-12:00"), "P-1")
    driver = driver_for(cohort)
    run_passes(driver, local("2026-03-28 23:50"), local("2026-03-29 09:40"))
    (reminder,) = [
        row
        for row, staff in outbox_rows(cohort, kind="reminder")
        if staff == "PS1" and row.key.endswith(":0:2026-03-29")
    ]
    assert reminder.not_before == utc("2026-03-29 07:30") == local("2026-03-29 09:30")
    assert reminder.status == "sent" and reminder.sent_at == utc("2026-03-29 07:30")
    assert "due today (2026-03-29) — safe window 10:00–12:00" in driver.console.getvalue()
