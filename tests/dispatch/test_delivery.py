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


def _lose_one_reply_at(driver, fake_twilio, wired, at):
    fake_twilio.lose_next_replies(1)
    with freeze_time(at):
        driver.at(at)
    [waiting] = [row for row, _ in outbox_rows(wired, status="pending")]
    # Twilio has all four of the morning's texts, the one whose reply was lost too.
    assert waiting.in_doubt and len(fake_twilio.messages) == 4
    return waiting


def test_an_interrupted_text_twilio_cannot_be_asked_about_waits_in_doubt_instead_of_going_twice(
    wired, fake_twilio, smtp_server, driver_for
):
    """Twilio took the text but the reply was lost, and its message list is failing: the
    text is held in doubt and asked about again, and found there once Twilio answers."""
    driver = driver_for(wired, environ=environ(fake_twilio, smtp_server))
    at = local("2026-03-23 08:00")
    waiting = _lose_one_reply_at(driver, fake_twilio, wired, at)
    fake_twilio.fail_lookups()
    moment = waiting.next_attempt_at
    with freeze_time(moment) as frozen:
        for _ in range(6):  # asks, cannot get an answer, waits: never sends a second copy
            [row] = [row for row, _ in outbox_rows(wired) if row.id == waiting.id]
            moment = max(moment, row.next_attempt_at)
            frozen.move_to(moment)
            driver.at(moment)
    [row] = [row for row, _ in outbox_rows(wired) if row.id == waiting.id]
    assert (row.status, row.in_doubt, row.in_doubt_since) == ("pending", True, at)
    assert row.last_error.startswith("sms: in doubt, not sent again yet: ")
    assert fake_twilio.lookups >= 6 and len(fake_twilio.messages) == 4
    assert fake_twilio.duplicates() == {}

    fake_twilio.answer_lookups()
    with freeze_time(row.next_attempt_at):
        driver.at(row.next_attempt_at)
    [row] = [row for row, _ in outbox_rows(wired) if row.id == waiting.id]
    assert row.status == "sent" and row.provider_id in {m.sid for m in fake_twilio.messages}
    assert len(fake_twilio.messages) == 4 and fake_twilio.duplicates() == {}


@pytest.mark.parametrize(
    "sim_extra", ["[channels]\nin_doubt_resend_after_minutes = 45\nfallback_after_minutes = 120\n"]
)
def test_a_text_still_in_doubt_after_the_set_minutes_is_sent_again_without_an_answer(
    wired, fake_twilio, smtp_server, driver_for
):
    driver = driver_for(wired, environ=environ(fake_twilio, smtp_server))
    at = local("2026-03-23 08:00")
    waiting = _lose_one_reply_at(driver, fake_twilio, wired, at)
    fake_twilio.fail_lookups()
    moment, tried = waiting.next_attempt_at, []
    with freeze_time(moment) as frozen:
        while moment <= at + timedelta(minutes=50):
            frozen.move_to(moment)
            driver.at(moment)
            tried.append((moment, len(fake_twilio.messages)))
            moment += timedelta(minutes=1)
    before = [n for when, n in tried if when < at + timedelta(minutes=45)]
    assert set(before) == {4}  # held while in doubt
    [row] = [row for row, _ in outbox_rows(wired) if row.id == waiting.id]
    assert row.status == "sent"
    assert at + timedelta(minutes=45) <= row.sent_at < at + timedelta(minutes=46)
    assert len(fake_twilio.messages) == 5  # the documented price: one duplicate, not a loss


def test_a_message_left_by_a_crashed_sender_is_held_while_twilio_cannot_be_asked(
    wired, fake_twilio, smtp_server, driver_for
):
    """A sender claimed the morning's texts and died: whether it reached Twilio is unknown.
    With the message list failing, the next sender holds them rather than send blindly."""
    from followup.dispatch import outbox
    from followup.dispatch.planner import plan

    at = local("2026-03-23 08:00")
    with freeze_time(at), wired.session() as session:
        plan(session, wired.ctx, at, by="crashed")
        session.commit()
        claimed = outbox.claim(wired.ctx.engine, "crashed", at, limit=100, lease_seconds=120)
    assert len(claimed) == 4
    fake_twilio.fail_lookups()
    driver = driver_for(wired, environ=environ(fake_twilio, smtp_server))
    later = at + timedelta(minutes=3)
    with freeze_time(later):
        outcome = driver.at(later)
    assert outcome.sent.in_doubt == 4 and fake_twilio.attempts == 0
    rows = [row for row, _ in outbox_rows(wired)]
    assert {(row.status, row.in_doubt, row.in_doubt_since) for row in rows} == {
        ("pending", True, later)
    }
    fake_twilio.answer_lookups()  # Twilio answers: not there, so they go now, once each
    moment = max(row.next_attempt_at for row in rows)
    with freeze_time(moment):
        driver.at(moment)
    assert {row.status for row, _ in outbox_rows(wired)} == {"sent"}
    assert len(fake_twilio.messages) == 4 and fake_twilio.duplicates() == {}


def test_a_three_hour_sms_outage_delivers_every_reminder_once_and_tells_the_supervisor_rarely(
    wired, fake_twilio, smtp_server, driver_for
):
    """Twilio fails from 08:00 to 11:00 on a Monday with the morning's reminders due, and
    passes run every five minutes: after `fallback_after_minutes` (30) the texts go by
    e-mail, none is given up, none goes twice, and the supervisor gets a digest, not one
    e-mail per message."""
    rows = ["case_id,site,referral_source,enrolled_on,protocol,facilitator"]
    for n in range(60):  # due today (reminder today) or in a week (reminder 7 days ahead)
        enrolled = "2026-03-09" if n % 2 else "2026-03-16"
        rows.append(f"BG-{100 + n},BG,court,{enrolled},sim,F1")
    with freeze_time(local("2026-03-20 09:00")):
        imported = wired.run("import", "participants", str(wired.csv("more.csv", "\n".join(rows))))
    assert imported.exit_code == 0, imported.err
    driver = driver_for(wired, environ=environ(fake_twilio, smtp_server))
    fake_twilio.fail_until(local("2026-03-23 11:00"))
    moment = local("2026-03-23 07:55")
    with freeze_time(moment) as frozen:
        while moment <= local("2026-03-23 14:00"):
            frozen.move_to(moment)
            driver.at(moment)
            moment += timedelta(minutes=5)

    reminders = [(row, staff) for row, staff in outbox_rows(wired, kind="reminder")]
    assert len(reminders) == 62  # the 60, BG-2's and P-2's
    assert {row.status for row, _ in reminders} == {"sent"}
    assert {row.channel for row, staff in reminders if staff == "F1"} == {"email"}
    assert all(row.sent_at == local("2026-03-23 08:30") for row, _ in reminders)
    # Exactly once: one e-mail per reminder to F1, and no text got through in the outage.
    to_marko = [m["Subject"] for m in smtp_server.messages if "marko@example.org" in m["To"]]
    f1_rows = [row for row, staff in reminders if staff == "F1"]
    assert len(to_marko) == len(set(to_marko)) == len(f1_rows) + 1  # and his digest
    assert fake_twilio.messages == [] and fake_twilio.attempts > len(reminders)
    notices = [m for m in smtp_server.messages if m["To"].endswith("<vesna@example.org>")]
    notices = [m for m in notices if m["Subject"].startswith("Problemi s isporukom")]
    assert 1 <= len(notices) <= 3
    body = notices[0].get_body(("plain",)).get_content()
    assert "Marko Petrović (F1)" in body and "Ana Jovanović (PS1)" in body
    assert outbox_rows(wired, status="dead") == []
