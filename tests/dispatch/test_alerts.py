"""Safety alerts: new violence reported reaches her worker and the supervisors at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup.models import Audit, SafetyAlert, Staff
from tests.dispatch.conftest import local, outbox_rows

PS1_PHONE = "+381642222222"


@pytest.fixture
def wired_driver(cohort, fake_twilio, smtp_server, driver_for):
    return driver_for(cohort, environ={**fake_twilio.env(), **smtp_server.env()})


def alerts(deployment) -> list[SafetyAlert]:
    with deployment.session() as session:
        return session.execute(sa.select(SafetyAlert).order_by(SafetyAlert.id)).scalars().all()


def test_a_partner_interview_reporting_violence_alerts_her_worker_and_the_supervisor_at_once_at_night(
    cohort, wired_driver, fake_twilio, smtp_server
):
    night = local("2026-03-23 22:30")  # quiet hours: reminders wait, alerts do not
    with freeze_time(night):
        result = cohort.run(
            "record",
            "interview",
            "BG-2",
            "--informant",
            "partner",
            "--safe-to-talk",
            "yes",
            "--on",
            "2026-03-23",
            "--psychological",
            "yes",
            "--physical",
            "no",
            "--notes",
            "He took her passport; she stays at her sister's on Bulevar 12",
        )
        assert result.exit_code == 0, result.err
        [alert] = alerts(cohort)
        queued = outbox_rows(cohort, kind="alert")
        assert sorted(staff for _, staff in queued) == ["PS1", "SV1"]  # in the same transaction
        wired_driver.at(night)

    assert (alert.interview_id is not None, alert.event_id, alert.acknowledged_at) == (
        True,
        None,
        None,
    )
    sent = {staff: row for row, staff in outbox_rows(cohort, kind="alert")}
    assert {staff: (row.status, row.channel, row.sent_at) for staff, row in sent.items()} == {
        "PS1": ("sent", "sms", night),
        "SV1": ("sent", "email", night),
    }  # fastest each has
    [sms] = fake_twilio.messages
    assert sms.to == PS1_PHONE
    assert sms.body.startswith("BEZBEDNOSNO UPOZORENJE: prijavljeno novo nasilje u predmetu BG-2 ")
    assert sms.body.endswith(f"http://127.0.0.1:8000/alerts/{alert.id}")
    [mail] = smtp_server.messages
    assert mail["Subject"] == "BEZBEDNOSNO UPOZORENJE: prijavljeno novo nasilje u predmetu BG-2"
    for text in (sms.body, mail.as_string()):
        for secret in (
            "passport",
            "Bulevar",
            "sister",
            "psiholo",
            "psycholog",
            "+381601234567",
            "mirjana",
        ):
            assert secret not in text


@pytest.mark.parametrize(
    "args",
    [
        (
            "--informant",
            "partner",
            "--safe-to-talk",
            "yes",
            "--physical",
            "no",
            "--psychological",
            "no",
        ),
        (
            "--informant",
            "partner",
            "--safe-to-talk",
            "yes",
            "--nothing-asked",
            "she could not talk",
        ),  # nothing asked
        ("--informant", "participant", "--physical", "yes"),
    ],
)
def test_no_alert_without_a_partner_report_of_violence(cohort, args):
    with freeze_time(local("2026-03-23 12:00")):
        result = cohort.run("record", "interview", "BG-2", *args, "--on", "2026-03-23")
        assert result.exit_code == 0, result.err
    assert alerts(cohort) == [] and outbox_rows(cohort, kind="alert") == []


def test_a_recidivism_report_naming_no_partner_alerts_the_workers_of_all_his_partners(cohort):
    with freeze_time(local("2026-03-23 12:00")):
        result = cohort.run(
            "record",
            "recidivism",
            "BG-2",
            "--on",
            "2026-03-21",
            "--source",
            "police",
            "--physical",
            "yes",
        )
        assert result.exit_code == 0, result.err
    [alert] = alerts(cohort)
    assert (alert.partner_id, alert.interview_id, alert.event_id is not None) == (None, None, True)
    assert sorted(staff for _, staff in outbox_rows(cohort, kind="alert")) == ["PS1", "SV1"]
    with cohort.session() as session:
        detail = session.execute(
            sa.select(Audit.detail).where(Audit.action == "safety_alert")
        ).scalar_one()
    assert '"told": ["PS1", "SV1"]' in detail


def test_staff_who_have_left_are_not_alerted(cohort):
    with cohort.session() as session:
        session.execute(sa.update(Staff).where(Staff.staff_id == "SV1").values(active=False))
        session.commit()
    with freeze_time(local("2026-03-23 12:00")):
        result = cohort.run(
            "record", "recidivism", "BG-2", "--on", "2026-03-21", "--source", "police"
        )
        assert result.exit_code == 0, result.err
    assert [staff for _, staff in outbox_rows(cohort, kind="alert")] == ["PS1"]


def test_a_recidivism_report_is_refused_whole_so_no_alert_is_left_without_it(cohort):
    with freeze_time(local("2026-03-23 12:00")):
        result = cohort.run(
            "record", "recidivism", "BG-2", "--on", "2026-03-25", "--source", "police"
        )
    assert result.exit_code == 1 and alerts(cohort) == [] and outbox_rows(cohort) == []


def test_importing_events_alerts_only_for_reports_of_the_last_fourteen_days(cohort):
    events = cohort.csv(
        "events.csv",
        """\
        case_id,date,event,informant,checkpoint,source,physical,sexual,psychological,economic,coercive,partner_id,reported_on
        BG-2,2026-04-05,interview,partner,,,yes,,,,,P-2,
        BG-2,2026-03-12,interview,partner,,,yes,,,,,P-2,
        BG-2,2026-03-01,recidivism,,,police,yes,,,,,,2026-04-01
        BG-2,2026-02-01,recidivism,,,police,yes,,,,,,2026-03-20
        BG-1,2026-04-08,interview,participant,,,yes,,,,,,
        """,
    )
    # BG-2 was enrolled on 2026-03-09: an interview cannot be older than that, so the
    # import is run later for the old ones to be more than fourteen days old.
    with freeze_time(local("2026-04-10 12:00")):
        result = cohort.run("import", "events", str(events))
        assert result.exit_code == 0, result.err
    raised = alerts(cohort)
    assert [(a.interview_id is not None, a.event_id is not None) for a in raised] == [
        (False, True),
        (True, False),
    ]
    assert len(outbox_rows(cohort, kind="alert")) == 2 * 2  # PS1 and SV1 for each


def test_an_alert_whose_fast_channel_keeps_failing_moves_to_the_next_one(
    cohort, wired_driver, fake_twilio, smtp_server
):
    fake_twilio.go_down()
    moment = local("2026-03-23 12:00")
    with freeze_time(moment) as frozen:
        cohort.run(
            "record",
            "recidivism",
            "BG-2",
            "--on",
            "2026-03-22",
            "--source",
            "partner",
            "--partner",
            "P-2",
            "--sexual",
            "yes",
        )
        for _ in range(20):
            frozen.move_to(moment)
            wired_driver.at(moment)
            moment += timedelta(seconds=30)
    ps1 = next(row for row, staff in outbox_rows(cohort, kind="alert") if staff == "PS1")
    assert (ps1.status, ps1.channel, ps1.attempts) == (
        "sent",
        "email",
        4,
    )  # three tries by SMS first
    assert [m["To"] for m in smtp_server.messages].count("Ana Jovanović <ana@example.org>") == 1
