"""No message, outbox row or log line ever carries a survivor's contact details or words.

Her phone, e-mail and safe hours are planted in the partner file, and her words in the
notes of an interview and a recidivism report. Then every kind of message is made to go
out through every channel — reminders, digests, an escalation, safety alerts, a
delivery problem, catch-up digests — and everything that left is searched.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from freezegun import freeze_time

from followup.models import Outbox, Staff
from tests.dispatch.conftest import local

PLANTED = (
    "+381601234567",
    "381601234567",
    "601234567",
    "mirjana",
    "example.net",
    "07:15",
    "Bulevar",
    "sister",
    "passport",
    "Kralja",
    "door",
    "P-2",
)
STAFF = """\
staff_id,site,name,roles,phone,email,channel,language
F1,BG,Marko Petrović,facilitator,+381641111111,marko@example.org,sms,sr-Latn
PS1,BG,Ana Jovanović,partner_support,+381642222222,ana@example.org,sms,en
SV1,BG,Vesna Ilić,supervisor;partner_support,,vesna@example.org,email,sq
F2,NS,Ivan Ilić,facilitator,,ivan@example.org,console,en
"""
PARTNER = """\
partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker,safe_hours
P-2,BG-2,current,2026-03-10,phone,+381601234567,mirjana.p2@example.net,PS1,07:15-07:45
"""


def test_no_survivor_data_reaches_any_message_row_or_log(
    cohort, fake_twilio, smtp_server, driver_for, caplog
):
    assert cohort.run("import", "staff", str(cohort.csv("s.csv", STAFF))).exit_code == 0
    assert cohort.run("import", "partners", str(cohort.csv("p.csv", PARTNER))).exit_code == 0
    fake_twilio.reject("+381641111111", code=21610)  # F1 opted out: a delivery problem for SV1
    driver = driver_for(cohort, environ={**fake_twilio.env(), **smtp_server.env()})
    caplog.set_level(logging.DEBUG)
    actions = {
        local("2026-03-24 10:00"): (
            "record",
            "interview",
            "BG-2",
            "--informant",
            "partner",
            "--safe-to-talk",
            "yes",
            "--on",
            "2026-03-24",
            "--physical",
            "yes",
            "--notes",
            "she hides at Bulevar 12 with her sister; he took her passport",
        ),
        local("2026-03-25 10:00"): (
            "record",
            "recidivism",
            "BG-2",
            "--on",
            "2026-03-25",
            "--source",
            "partner",
            "--partner",
            "P-2",
            "--physical",
            "yes",
            "--notes",
            "he broke the door at Ulica Kralja Petra 7",
        ),
    }
    moment = local("2026-03-20 00:00")
    with freeze_time(moment) as frozen:
        while moment <= local("2026-03-31 12:00"):
            frozen.move_to(moment)
            if moment in actions:
                assert cohort.run(*actions[moment]).exit_code == 0
            if not local("2026-03-29 00:00") <= moment < local("2026-03-31 10:00"):  # an outage
                driver.at(moment)
            moment += timedelta(hours=2)

    with cohort.session() as session:
        rows = session.execute(sa.select(Outbox)).scalars().all()
        problems = session.execute(sa.select(Staff.channel_problem)).scalars().all()
    assert {r.kind for r in rows if r.status == "sent"} == {
        "reminder",
        "digest",
        "escalation",
        "alert",
        "delivery_problem",
        "catch_up",
    }
    left = (
        [m.body for m in fake_twilio.messages]
        + [m.as_string() for m in smtp_server.messages]
        + [driver.console.getvalue()]
        + [f"{r.key} {r.payload} {r.last_error}" for r in rows]
        + [str(p) for p in problems]
        + [record.getMessage() for record in caplog.records]
    )
    assert len(fake_twilio.messages) > 5 and len(smtp_server.messages) > 5
    for text in left:
        for secret in PLANTED:
            assert secret not in text, f"{secret!r} leaked into: {text[:200]}"


def test_a_supervisor_who_facilitates_him_is_not_sent_the_escalation_of_her_follow_up(
    cohort, driver_for
):
    """BG-2's facilitator is also a supervisor: his own call's escalation reaches him, hers
    (which would tell him she is still in follow-up) goes to the other supervisors only."""
    from tests.dispatch.conftest import csv

    with freeze_time("2026-03-20 07:00:00"):
        for kind, text in (
            (
                "staff",
                """\
                staff_id,site,name,roles,phone,email,channel,language
                FS1,BG,Goran Pavlović,facilitator;supervisor,,goran@example.org,console,en
                """,
            ),
            (
                "participants",
                """\
                case_id,site,referral_source,enrolled_on,protocol,facilitator
                BG-2,BG,court,2026-03-09,sim,FS1
                """,
            ),
        ):
            result = cohort.run("import", kind, str(cohort.csv(f"{kind}-fs1.csv", csv(text))))
            assert result.exit_code == 0, result.err
    driver = driver_for(cohort)
    moment = local("2026-03-28 07:00")
    with freeze_time(moment):
        driver.at(moment)
    moment = local("2026-03-28 08:00")
    with freeze_time(moment):
        driver.at(moment)
    from followup.models import FollowUp

    with cohort.session() as session:
        told = sorted(
            (staff_id, "his" if partner_id is None else "hers")
            for staff_id, partner_id in session.execute(
                sa.select(Staff.staff_id, FollowUp.partner_id)
                .join(Outbox, Outbox.staff_id == Staff.id)
                .join(FollowUp, FollowUp.id == Outbox.followup_id)
                .where(Outbox.kind == "escalation")
            )
        )
    assert told == [("FS1", "his"), ("SV1", "hers"), ("SV1", "his")]
