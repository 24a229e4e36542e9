"""No detail of her safe-contact plan reaches any message, but her window's times.

Distinctive values are planted in two partners' plans (code word, a safe number, an
e-mail, what to do if someone else answers), in their contact details (her name, an
address) and in an attempt's note. Then twelve days of dispatch passes, with an outage,
send reminders (one timed before her window), digests (one after "not safe to talk"),
escalations, safety alerts and catch-up digests through the console, e-mail (the
loopback aiosmtpd server) and SMS (the local Twilio-compatible server); every body and
subject that left is searched for the planted values, in their GSM-7 spelling too.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup.channels.gsm import to_gsm7
from followup.models import Outbox, Partner
from followup.safe_contact import SafeContactPlan, parse_safe_times
from tests.dispatch.conftest import csv, local
from tests.dispatch.her_data import give_her_a_plan, her_followup_id, record_attempts

CODE_WORD = "Suncokret-Zebra-42"
SAFE_NUMBER = "+381639988776"
SAFE_EMAIL = "tajna.adresa@primer.rs"
SOMEONE_ELSE = "say you are from the Lipa pharmacy"
HER_NAME = "Mirjana Kostić"
HER_ADDRESS = "Cvijićeva 99"
NOTE = "her brother Dragomir was listening"
PLANTED = (
    CODE_WORD,
    "Suncokret",
    SAFE_NUMBER,
    "639988776",
    "9988776",
    SAFE_EMAIL,
    "tajna.adresa",
    "primer.rs",
    SOMEONE_ELSE,
    "Lipa pharmacy",
    HER_NAME,
    "Kostić",
    "Mirjana",
    HER_ADDRESS,
    "Cvijićeva",
    "Dragomir",
    # P-1's own safe number and e-mail, from the partners file.
    "+381605556677",
    "5556677",
    "jelena.p1@example.net",
)
SECRETS = sorted({*PLANTED, *(to_gsm7(p) for p in PLANTED)})

PARTNERS = csv(
    """\
    partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker
    P-1,BG-1,current,2026-03-15,phone,+381605556677,jelena.p1@example.net,PS1
    """
)


def staff(ps1: str, sv1: str) -> str:
    return csv(
        f"""\
        staff_id,site,name,roles,phone,email,channel,language
        F1,BG,Marko Petrović,facilitator,+381641111111,marko@example.org,console,sr-Latn
        PS1,BG,Ana Jovanović,partner_support,+381642222222,ana@example.org,{ps1},en
        SV1,BG,Vesna Ilić,supervisor;partner_support,+381643333333,vesna@example.org,{sv1},sq
        """
    )


def her_plan(windows: str) -> SafeContactPlan:
    return SafeContactPlan(
        channels={"phone": SAFE_NUMBER, "email": SAFE_EMAIL},
        windows=parse_safe_times(windows),
        voicemail_ok=False,
        may_name_organisation=False,
        code_word=CODE_WORD,
        if_someone_else_answers=SOMEONE_ELSE,
        confirmed_on=date(2026, 3, 1),
    )


def plant_her_contact_details(deployment, partner_id: str) -> None:
    vault = deployment.ctx.vault
    contact = {"name": HER_NAME, "phone": SAFE_NUMBER, "email": SAFE_EMAIL, "address": HER_ADDRESS}
    with deployment.session() as session:
        session.execute(
            sa.update(Partner)
            .where(Partner.partner_id == partner_id)
            .values(contact_sealed=vault.seal(contact))
        )
        session.commit()


def moments():
    """Each day at the morning, digest time, just before and in her window, and later;
    nothing from Sunday 29 March 00:00 to Tuesday 31 March 10:00 (an outage)."""
    day = date(2026, 3, 20)
    while day <= date(2026, 4, 3):
        for at in ("07:00", "08:00", "09:30", "10:00", "12:00", "16:00"):
            moment = local(f"{day} {at}")
            if not local("2026-03-29 00:00") <= moment < local("2026-03-31 10:00"):
                yield moment
        day += timedelta(days=1)


def sent_texts(driver, fake_twilio, smtp_server) -> list[str]:
    texts = [m.body for m in fake_twilio.messages]
    for mail in smtp_server.messages:
        texts.append(str(mail["Subject"]))
        for kind in ("plain", "html"):
            part = mail.get_body((kind,))
            if part is not None:
                texts.append(part.get_content())
    texts.append(driver.console.getvalue())
    return texts


@pytest.mark.parametrize(
    ("ps1", "sv1"), [("sms", "email"), ("email", "console"), ("console", "sms")]
)
def test_no_plan_detail_reaches_any_message_in_any_channel(
    cohort, fake_twilio, smtp_server, driver_for, ps1, sv1
):
    assert cohort.run("import", "staff", str(cohort.csv("s.csv", staff(ps1, sv1)))).exit_code == 0
    with freeze_time(local("2026-03-20 07:00")):
        result = cohort.run("import", "partners", str(cohort.csv("p1.csv", PARTNERS)))
        assert result.exit_code == 0, result.err
    give_her_a_plan(cohort, her_plan("Mon-Fri 10:00-12:00; Sun 14:00-15:00"), "P-2")
    give_her_a_plan(cohort, her_plan("Sat-Sun 11:00-13:00; Wed 16:00-17:00"), "P-1")
    plant_her_contact_details(cohort, "P-2")
    # "Not safe to talk" on Monday, with a note: the next digests say when to try again.
    record_attempts(
        cohort,
        her_followup_id(cohort, "P-2"),
        [(local("2026-03-23 10:15"), "unsafe_to_talk")],
        note=NOTE,
    )
    driver = driver_for(cohort, environ={**fake_twilio.env(), **smtp_server.env()})
    report = (
        "record", "recidivism", "BG-2", "--on", "2026-03-25", "--source", "partner",
        "--partner", "P-2", "--physical", "yes", "--notes", NOTE,
    )  # fmt: skip
    with freeze_time(local("2026-03-20 00:00")) as frozen:
        for moment in moments():
            frozen.move_to(moment)
            if moment == local("2026-03-25 12:00"):
                assert cohort.run(*report).exit_code == 0  # a safety alert
            driver.at(moment)

    with cohort.session() as session:
        rows = session.execute(sa.select(Outbox)).scalars().all()
    assert {r.kind for r in rows if r.status == "sent"} >= {
        "reminder",
        "digest",
        "escalation",
        "alert",
        "catch_up",
    }
    texts = sent_texts(driver, fake_twilio, smtp_server)
    assert fake_twilio.messages and smtp_server.messages and driver.console.getvalue()
    for text in texts + [f"{r.key} {r.payload} {r.last_error}" for r in rows]:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked into: {text[:300]}"

    everything = to_gsm7("\n".join(texts))  # SMS and the rest alike: "10:00-12:00"
    # Her window's times are in her worker's reminder (P-2: Monday 23 March, 10:00-12:00;
    # P-1: 7 days ahead of Sunday 29 March, 11:00-13:00), and her next safe time in the
    # digest after "not safe to talk" (an SMS digest gives counts only).
    assert "safe window 10:00-12:00" in everything
    assert "safe window 11:00-13:00" in everything
    if ps1 != "sms":
        assert "try again at her next safe time (2026-03-24 10:00)" in everything
    reminders = [
        r for r in rows if r.kind == "reminder" and r.followup_id == her_followup_id(cohort)
    ]
    due_day = [r for r in reminders if r.key.endswith(":0:2026-03-23")]
    assert due_day and all(r.not_before == local("2026-03-23 09:30") for r in due_day)
