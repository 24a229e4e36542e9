"""Delivery through the real channels: the twilio client against a Twilio-compatible server
on loopback, SMTP against aiosmtpd; successive `dispatch --once` passes, failures, fallback."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup.models import Staff
from tests.dispatch.conftest import local, outbox_rows

F1_PHONE, PS1_PHONE = "+381641111111", "+381642222222"
WIRED_STAFF = """\
staff_id,site,name,roles,phone,email,channel,language
F1,BG,Marko Petrović,facilitator,+381641111111,marko@example.org,sms,sr-Latn
PS1,BG,Ana Jovanović,partner_support,+381642222222,ana@example.org,sms,
SV1,BG,Vesna Ilić,supervisor;partner_support,,vesna@example.org,email,
F2,NS,Ivan Ilić,facilitator,,ivan@example.org,email,en
"""


@pytest.fixture
def wired(cohort, fake_twilio, smtp_server, monkeypatch):
    """The cohort with F1 and PS1 on SMS, SV1 and F2 on e-mail, channels from the environment."""
    result = cohort.run("import", "staff", str(cohort.csv("staff-wired.csv", WIRED_STAFF)))
    assert result.exit_code == 0, result.err
    for name, value in {**fake_twilio.env(), **smtp_server.env()}.items():
        monkeypatch.setenv(name, value)
    return cohort


def environ(fake_twilio, smtp_server) -> dict:
    return {**fake_twilio.env(), **smtp_server.env()}


def dispatch(deployment, at):
    result = deployment.run("dispatch", "--once", "--now", at.isoformat())
    assert result.exit_code == 0, result.err
    return result


def test_passes_at_successive_instants_deliver_every_message_exactly_once_by_sms_and_email(
    wired, fake_twilio, smtp_server
):
    moment, end = local("2026-03-20 00:00"), local("2026-03-29 00:00")
    while moment < end:
        dispatch(wired, moment)
        moment += timedelta(hours=2)

    rows = outbox_rows(wired)
    assert all(row.status == "sent" for row, _ in rows)
    by_channel = {(row.channel, staff) for row, staff in rows}
    assert by_channel == {("sms", "F1"), ("sms", "PS1"), ("email", "F2"), ("email", "SV1")}
    sms = [row for row, _ in rows if row.channel == "sms"]
    assert len(fake_twilio.messages) == len(sms) and fake_twilio.duplicates() == {}
    assert sorted(row.provider_id for row in sms) == sorted(m.sid for m in fake_twilio.messages)
    assert len(smtp_server.messages) == len(rows) - len(sms)
    subjects = sorted(m["Subject"] for m in smtp_server.messages)
    assert "Follow-up due in 7 days: case NS-1, Two-week call" in subjects  # F2 reads English
    assert any(s.startswith("Period istekao bez razgovora: predmet BG-2") for s in subjects)  # SV1
    # Two reminders, and a digest every working day from 20 to 27 March (BG-2 stays overdue).
    assert fake_twilio.count(to=F1_PHONE) == 2 + 6


@pytest.mark.parametrize("sim_extra", ["[channels]\nfallback_after_minutes = 120\n"])
def test_a_provider_down_for_an_hour_loses_nothing_and_sends_nothing_twice(
    wired, fake_twilio, smtp_server, driver_for
):
    driver = driver_for(wired, environ=environ(fake_twilio, smtp_server))
    fake_twilio.fail_until(local("2026-03-23 09:00"))
    moment = local("2026-03-23 07:55")
    with freeze_time(moment) as frozen:
        while moment <= local("2026-03-23 11:00"):
            frozen.move_to(moment)
            driver.at(moment)
            moment += timedelta(minutes=5)

    rows = outbox_rows(wired)
    assert sorted((row.kind, staff) for row, staff in rows) == [
        ("digest", "F1"),
        ("digest", "PS1"),
        ("reminder", "F1"),
        ("reminder", "PS1"),
    ]
    assert all(row.status == "sent" and row.sent_at >= local("2026-03-23 09:00") for row, _ in rows)
    assert all(row.attempts > 1 and row.last_error is None for row, _ in rows)  # retried, then sent
    assert len(fake_twilio.messages) == 4 and fake_twilio.duplicates() == {}
    assert fake_twilio.attempts > 4


def test_a_reminder_that_never_gets_through_is_tried_until_its_window_closes_then_given_up(
    wired, fake_twilio, smtp_server, driver_for
):
    """SMS down for days and no e-mail address to fall back on: BG-2's reminder (due 23
    March, window closing 26 March) keeps trying, by time not by count, and is given up
    when the window has closed; the supervisor hears in at most one notice an hour."""
    no_email = WIRED_STAFF.replace("marko@example.org", "")
    assert (
        wired.run("import", "staff", str(wired.csv("staff-no-mail.csv", no_email))).exit_code == 0
    )
    driver = driver_for(wired, environ=environ(fake_twilio, smtp_server))
    fake_twilio.go_down()
    moment = local("2026-03-23 08:00")
    with freeze_time(moment) as frozen:
        while moment <= local("2026-03-27 10:00"):
            frozen.move_to(moment)
            driver.at(moment)
            moment += timedelta(minutes=20)
    reminder = next(
        row
        for row, staff in outbox_rows(wired, kind="reminder")
        if staff == "F1" and "2026-03-23" in row.key
    )
    assert reminder.status == "dead" and reminder.attempts > 10
    assert reminder.updated_at == local("2026-03-27 08:00")  # the first try after the 26th
    assert reminder.failing_since == local("2026-03-23 08:00")
    told = [m for m in smtp_server.messages if m["To"].endswith("<vesna@example.org>")]
    notices = [m for m in told if m["Subject"].startswith("Problemi s isporukom")]
    sent_at = sorted(
        row.sent_at for row, _ in outbox_rows(wired, kind="delivery_problem", status="sent")
    )
    assert len(notices) == len(sent_at) >= 1
    assert all(b - a >= timedelta(hours=1) for a, b in zip(sent_at, sent_at[1:], strict=False))
    assert any(
        "odustato: 1, više nema svrhe slati" in m.get_body(("plain",)).get_content()
        for m in notices
    )
    assert fake_twilio.messages == []


def test_an_invalid_number_flags_the_channel_tells_the_supervisor_and_resends_by_email(
    wired, fake_twilio, smtp_server, driver_for
):
    fake_twilio.reject(F1_PHONE, code=21211)
    driver = driver_for(wired, environ=environ(fake_twilio, smtp_server))
    with freeze_time(local("2026-03-23 08:00")):
        driver.at(local("2026-03-23 08:00"))

    refused = [row for row, staff in outbox_rows(wired, status="failed") if staff == "F1"]
    assert {row.last_error for row in refused} == {"sms: Invalid phone number [21211]"}
    resent = {row.key: row for row, staff in outbox_rows(wired) if row.key.endswith(":after-sms")}
    assert {row.key.removesuffix(":after-sms") for row in resent.values()} == {
        row.key for row in refused
    }
    assert all(row.status == "sent" and row.channel == "email" for row in resent.values())
    with wired.session() as session:
        problem = session.execute(
            sa.select(Staff.channel_problem).where(Staff.staff_id == "F1")
        ).scalar_one()
    assert problem.startswith("sms: Invalid phone number (since 2026-03-23, ref ")
    assert F1_PHONE not in problem and F1_PHONE[1:] not in problem
    told = [m for m in smtp_server.messages if m["To"].endswith("<vesna@example.org>")]
    assert [m["Subject"] for m in told] == ["Problemi s isporukom: poruke za kolege (1)"]
    body = told[0].get_body(("plain",)).get_content()
    assert "Marko Petrović (F1)" in body and "sms: Invalid phone number [21211]" in body
    assert "trajno odbijeno: 1, poslato ponovo putem email" in body
    # His reminder, re-sent; his digest, which went straight by e-mail once the number was flagged.
    assert len(refused) == 1
    assert sum(1 for m in smtp_server.messages if m["To"].endswith("<marko@example.org>")) == 2

    # The next day's digest goes straight by e-mail: no more attempts at the bad number.
    attempts = fake_twilio.attempts
    with freeze_time(local("2026-03-24 08:00")):
        driver.at(local("2026-03-24 08:00"))
    [digest] = [
        row
        for row, staff in outbox_rows(wired, kind="digest")
        if staff == "F1" and "03-24" in row.key
    ]
    assert (digest.status, digest.channel) == ("sent", "email")
    assert fake_twilio.attempts == attempts + 1  # PS1's digest only

    # A corrected number clears the flag: SMS again.
    fixed = WIRED_STAFF.replace("+381641111111", "+381641111199")
    assert wired.run("import", "staff", str(wired.csv("staff-fixed.csv", fixed))).exit_code == 0
    with freeze_time(local("2026-03-25 08:00")):
        driver.at(local("2026-03-25 08:00"))
    [digest] = [
        row
        for row, staff in outbox_rows(wired, kind="digest")
        if staff == "F1" and "03-25" in row.key
    ]
    assert (digest.status, digest.channel) == ("sent", "sms")
    assert fake_twilio.count(to="+381641111199") == 1
    with wired.session() as session:
        assert (
            session.execute(
                sa.select(Staff.channel_problem).where(Staff.staff_id == "F1")
            ).scalar_one()
            is None
        )


def test_a_refused_email_address_falls_back_to_the_console(
    wired, fake_twilio, smtp_server, driver_for
):
    smtp_server.refuse("ivan@example.org")
    driver = driver_for(wired, environ=environ(fake_twilio, smtp_server))
    with freeze_time(local("2026-03-27 08:00")):
        driver.at(local("2026-03-27 08:00"))
    rows = [row for row, staff in outbox_rows(wired) if staff == "F2"]
    refused = [row for row in rows if row.status == "failed"]
    assert [(row.kind, row.channel, row.last_error) for row in refused] == [
        ("reminder", "email", "email: Recipient address rejected (recipient, SMTP 550) [550]")
    ]
    assert {(row.status, row.channel) for row in rows if row not in refused} == {
        ("sent", "console")
    }
    assert any(row.key == refused[0].key + ":after-email" for row in rows)
    assert driver.console.getvalue().count("To:      Ivan Ilić (F2)") == len(rows) - 1


def test_a_rate_limited_message_waits_as_long_as_twilio_asks(
    wired, fake_twilio, smtp_server, driver_for
):
    fake_twilio.fail_next(1, status=429, retry_after=600)
    driver = driver_for(wired, environ=environ(fake_twilio, smtp_server))
    at = local("2026-03-23 08:00")
    with freeze_time(at):
        driver.at(at)
    [waiting] = [row for row, _ in outbox_rows(wired, status="pending")]
    assert waiting.next_attempt_at == at + timedelta(seconds=600)
    assert waiting.last_error == "sms: Twilio rate limit reached [20429]"
    with freeze_time(at + timedelta(seconds=599)):
        driver.at(at + timedelta(seconds=599))
    assert outbox_rows(wired, status="pending") != []
    with freeze_time(at + timedelta(seconds=600)):
        driver.at(at + timedelta(seconds=600))
    assert outbox_rows(wired, status="pending") == [] and fake_twilio.duplicates() == {}


def test_a_reply_lost_after_twilio_took_the_message_is_asked_about_not_sent_again(
    wired, fake_twilio, smtp_server, driver_for
):
    """The connection breaks after Twilio accepted the first text: the retry asks Twilio,
    finds it, and records it as sent instead of sending a second copy."""
    driver = driver_for(wired, environ=environ(fake_twilio, smtp_server))
    fake_twilio.lose_next_replies(1)
    at = local("2026-03-23 08:00")
    with freeze_time(at):
        driver.at(at)
    [waiting] = [row for row, _ in outbox_rows(wired, status="pending")]
    assert (waiting.in_doubt, waiting.claimed_by) == (True, None)
    assert waiting.last_error == "sms: Twilio unreachable (connection failed) [connection]"
    later = waiting.next_attempt_at
    with freeze_time(later):
        driver.at(later)
    assert outbox_rows(wired, status="pending") == []
    assert fake_twilio.duplicates() == {}
    [row] = [row for row, _ in outbox_rows(wired) if row.id == waiting.id]
    assert row.status == "sent" and row.attempts == 2
    assert row.provider_id in {m.sid for m in fake_twilio.messages}
