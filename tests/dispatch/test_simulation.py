"""Two weeks of a small cohort in Belgrade across the March clock change, day by day.

Passes run every 30 minutes of local time from Friday 20 March to Friday 3 April 2026
(clocks go forward on Sunday 29 March), with interviews recorded in between. The test
asserts exactly which messages went out, to whom, and at which local time.

The cohort, on the `sim` protocol (a call 14 days after enrolment, window -2/+3 days):
  BG-1  F1   enrolled 15 Mar: call due Sun 29 Mar (the DST day); interview on 30 Mar
  BG-2  F1   enrolled  9 Mar: call due Mon 23 Mar; interview on 24 Mar
  P-2   PS1  BG-2's partner: call due Mon 23 Mar; never reached (escalated on Sat 28 Mar)
  NS-1  F2   enrolled 20 Mar: call due Fri 3 Apr
"""

from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time

from tests.dispatch.conftest import BELGRADE, local, outbox_rows

WORKING_DAYS = [
    "03-20",
    "03-23",
    "03-24",
    "03-25",
    "03-26",
    "03-27",
    "03-30",
    "03-31",
    "04-01",
    "04-02",
    "04-03",
]
EXPECTED = sorted(
    [
        ("2026-03-22 08:00", "reminder", "F1", "BG-1 call, 7 days ahead"),
        ("2026-03-23 08:00", "reminder", "F1", "BG-2 call, due today"),
        ("2026-03-23 08:00", "reminder", "PS1", "BG-2 partner call, due today"),
        ("2026-03-27 08:00", "reminder", "F2", "NS-1 call, 7 days ahead"),
        ("2026-03-28 08:00", "escalation", "SV1", "BG-2 partner call, window closed 26 Mar"),
        ("2026-03-29 08:00", "reminder", "F1", "BG-1 call, due today (first day of summer time)"),
        ("2026-04-03 08:00", "reminder", "F2", "NS-1 call, due today"),
    ]
    # F1: BG-2 coming up and due until its interview on the 24th, then BG-1 until the 30th.
    + [(f"2026-{d} 08:00", "digest", "F1", "") for d in WORKING_DAYS[:7]]
    # PS1: her call, coming up, due, then overdue every working day.
    + [(f"2026-{d} 08:00", "digest", "PS1", "") for d in WORKING_DAYS]
    # F2: NS-1 is within 7 days from the 27th.
    + [(f"2026-{d} 08:00", "digest", "F2", "") for d in WORKING_DAYS[5:]]
)


def test_two_weeks_across_the_clock_change_send_exactly_the_expected_messages_at_local_08_00(
    cohort, driver_for
):
    driver = driver_for(cohort)
    start, end = local("2026-03-20 00:00"), local("2026-04-04 00:00")
    interviews = {
        local("2026-03-24 10:00"): ("BG-2", "2026-03-24"),
        local("2026-03-30 10:00"): ("BG-1", "2026-03-30"),
    }
    with freeze_time(start) as frozen:
        moment = start
        while moment < end:
            frozen.move_to(moment)
            if moment in interviews:
                case, on = interviews[moment]
                result = cohort.run(
                    "record", "interview", case, "--informant", "participant", "--on", on,
                    "--physical", "no",
                )  # fmt: skip
                assert result.exit_code == 0, result.err
            driver.at(moment)
            moment += timedelta(minutes=30)

    sent = outbox_rows(cohort)
    assert all(row.status == "sent" for row, _ in sent), [
        (r.key, r.status, r.last_error) for r, _ in sent
    ]
    got = sorted(
        (row.sent_at.astimezone(BELGRADE).strftime("%Y-%m-%d %H:%M"), row.kind, staff_id)
        for row, staff_id in sent
    )
    assert got == [(when, kind, who) for when, kind, who, _ in EXPECTED]
    # 08:00 local is 07:00 UTC before the change and 06:00 UTC after it.
    reminders = {row.key: row.sent_at for row, _ in sent if row.kind == "reminder"}
    assert [at.strftime("%m-%d %H:%M") for at in sorted(reminders.values())] == [
        "03-22 07:00",
        "03-23 07:00",
        "03-23 07:00",
        "03-27 07:00",
        "03-29 06:00",
        "04-03 06:00",
    ]
    assert driver.console.getvalue().count("----- message ") == len(EXPECTED)


def test_a_reminder_is_not_sent_again_by_a_second_pass_or_a_second_dispatcher(cohort, driver_for):
    first, second = driver_for(cohort), driver_for(cohort)
    for moment in (local("2026-03-23 08:00"), local("2026-03-23 08:00"), local("2026-03-23 08:30")):
        with freeze_time(moment):
            first.at(moment)
            second.at(moment)
    keys = [row.key for row, _ in outbox_rows(cohort, kind="reminder")]
    assert len(keys) == len(set(keys)) == 2
    assert first.console.getvalue().count("----- message ") + second.console.getvalue().count(
        "----- message "
    ) == len(outbox_rows(cohort))
