"""Withdrawn consent or a do-not-contact flag stops every queued reminder about her at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from followup.dispatch.outbox import claim
from tests.dispatch.conftest import local, outbox_rows

PS1_PHONE, F1_PHONE = "+381642222222", "+381641111111"
SMS_STAFF = """\
staff_id,site,name,roles,phone,email,channel,language
F1,BG,Marko Petrović,facilitator,+381641111111,marko@example.org,sms,sr-Latn
PS1,BG,Ana Jovanović,partner_support,+381642222222,ana@example.org,sms,
SV1,BG,Vesna Ilić,supervisor;partner_support,,vesna@example.org,email,
F2,NS,Ivan Ilić,facilitator,,ivan@example.org,email,en
"""


@pytest.fixture
def stuck(cohort, fake_twilio, driver_for):
    """Monday 23 March 08:00: the SMS provider is down, so the morning's messages wait."""
    assert cohort.run("import", "staff", str(cohort.csv("sms.csv", SMS_STAFF))).exit_code == 0
    driver = driver_for(cohort, environ=fake_twilio.env())
    fake_twilio.go_down()
    with freeze_time(local("2026-03-23 08:00")):
        driver.at(local("2026-03-23 08:00"))
    waiting = {(row.kind, staff) for row, staff in outbox_rows(cohort, status="pending")}
    assert waiting == {("reminder", "F1"), ("reminder", "PS1"), ("digest", "F1"), ("digest", "PS1")}
    return cohort, driver


@pytest.mark.parametrize(
    "command",
    [
        ("record", "consent", "P-2", "--withdrawn", "--on", "2026-03-23"),
        ("record", "do-not-contact", "P-2", "--on", "2026-03-23"),
    ],
)
def test_her_queued_reminders_die_in_the_same_transaction_and_nothing_about_her_goes_out(
    stuck, fake_twilio, command
):
    cohort, driver = stuck
    with freeze_time(local("2026-03-23 09:00")):
        result = cohort.run(*command)
        assert result.exit_code == 0, result.err
    # Before any pass: the reminder about her follow-up is already cancelled.
    [reminder] = [row for row, staff in outbox_rows(cohort, kind="reminder") if staff == "PS1"]
    assert (reminder.status, reminder.last_error) == ("cancelled", "follow-up no longer pending")

    fake_twilio.recover()
    moment = local("2026-03-23 09:30")
    with freeze_time(moment) as frozen:
        for _ in range(6):
            frozen.move_to(moment)
            driver.at(moment)
            moment += timedelta(minutes=30)
    assert fake_twilio.count(to=PS1_PHONE) == 0  # her digest had nothing left to say either
    [digest] = [row for row, staff in outbox_rows(cohort, kind="digest") if staff == "PS1"]
    assert (digest.status, digest.last_error) == ("cancelled", "nothing left to say")
    assert fake_twilio.count(to=F1_PHONE) == 2  # his own reminder and digest are unaffected


def test_a_reminder_already_claimed_by_a_sender_is_not_sent_after_her_consent_is_withdrawn(
    stuck, fake_twilio
):
    cohort, driver = stuck
    fake_twilio.recover()
    later = local("2026-03-23 10:00")
    ids = claim(cohort.ctx.engine, driver.sender.worker, later, limit=10, lease_seconds=120)
    assert len(ids) == 4
    with freeze_time(local("2026-03-23 10:00")):
        assert (
            cohort.run("record", "consent", "P-2", "--withdrawn", "--on", "2026-03-23").exit_code
            == 0
        )
    driver.sender.send_claimed(ids, lambda: later, claimed_at=later)
    assert fake_twilio.count(to=PS1_PHONE) == 0 and fake_twilio.count(to=F1_PHONE) == 2
