"""The sender: backoff, and stopping after the message in hand."""

from __future__ import annotations

import io
import random
from datetime import UTC, timedelta

import pytest
from freezegun import freeze_time

from followup.channels.console import ConsoleChannel
from followup.dispatch.sender import backoff
from tests.dispatch.conftest import local, outbox_rows


@pytest.mark.parametrize(
    ("attempts", "low", "high"), [(1, 15, 30), (2, 30, 60), (3, 60, 120), (20, 1800, 3600)]
)
def test_backoff_doubles_with_jitter_in_the_upper_half_and_is_capped(attempts, low, high):
    rng = random.Random(7)
    delays = [backoff(attempts, None, rng).total_seconds() for _ in range(200)]
    assert low <= min(delays) and max(delays) <= high
    assert max(delays) - min(delays) > (high - low) / 2  # spread out, not all at once


def test_backoff_never_retries_sooner_than_the_provider_asked():
    assert backoff(1, 600, random.Random(1)) == timedelta(seconds=600)


class StopsAfterOneMessage(io.StringIO):
    """The console's stream; asks the sender to stop (as SIGTERM does) once a message is written."""

    def __init__(self, stop) -> None:
        super().__init__()
        self.stop = stop

    def write(self, text: str) -> int:
        written = super().write(text)
        self.stop.set()
        return written


def test_a_stop_request_finishes_the_message_in_hand_and_hands_the_rest_back(cohort, driver_for):
    driver = driver_for(cohort)
    stream = StopsAfterOneMessage(driver.sender.stop)
    driver.channels.channels["console"] = ConsoleChannel(stream)
    at = local("2026-03-23 08:00")
    with freeze_time(at):
        outcome = driver.at(at)
    assert outcome.sent.sent == 1 and stream.getvalue().count("----- message ") == 1
    rows = [row for row, _ in outbox_rows(cohort)]
    assert sorted(row.status for row in rows) == ["pending", "pending", "pending", "sent"]
    assert all(
        (row.claimed_by, row.lease_until, row.attempts) == (None, None, 0)
        for row in rows
        if row.status == "pending"
    )

    driver.sender.stop.clear()
    driver.channels.channels["console"] = ConsoleChannel(driver.console)
    with freeze_time(at + timedelta(seconds=1)):
        driver.at(at + timedelta(seconds=1))
    assert [row.status for row, _ in outbox_rows(cohort)] == ["sent"] * 4
    assert driver.console.getvalue().count("----- message ") == 3


def test_a_message_that_cannot_be_built_is_retried_until_stale_then_given_up_and_the_others_still_go(
    cohort, driver_for
):
    import sqlalchemy as sa

    from followup.dispatch.outbox import Message, enqueue
    from followup.models import FollowUp, Staff

    at = local("2026-03-23 08:00")
    with cohort.session() as session:
        f1 = session.execute(sa.select(Staff.id).where(Staff.staff_id == "F1")).scalar_one()
        followup = session.execute(sa.select(FollowUp).order_by(FollowUp.id)).scalars().first()
        enqueue(
            session,
            [
                Message(
                    key="reminder:damaged",
                    kind="reminder",
                    staff_id=f1,
                    channel="console",
                    not_before=at,
                    followup_id=followup.id,
                    payload={"lead_days": 0},
                )
            ],
            now=at,
        )
        closes = followup.window_closes_on
    stale = local(f"{closes.isoformat()} 08:00") + timedelta(days=1)  # the morning after
    driver = driver_for(cohort)
    for moment in (at, at + timedelta(minutes=10)):
        with freeze_time(moment):
            driver.at(moment)
    [damaged] = [row for row, _ in outbox_rows(cohort) if row.key == "reminder:damaged"]
    assert (damaged.status, damaged.attempts) == ("pending", 2)  # retried by time, not count
    with freeze_time(stale):
        driver.at(stale)
    rows = {row.key: row for row, _ in outbox_rows(cohort)}
    damaged = rows.pop("reminder:damaged")
    assert (damaged.status, damaged.attempts, damaged.last_error) == (
        "dead",
        3,
        "console: internal error (KeyError) [internal]",
    )
    told = [row for key, row in rows.items() if key.startswith("delivery_problem:")]
    assert [(row.kind, row.status) for row in told] == [("delivery_problem", "sent")]  # SV1
    assert {row.status for key, row in rows.items()} == {"sent"}
    assert "Marko Petrović (F1)" in driver.console.getvalue()


@pytest.mark.parametrize(
    "sim_extra", ['[reminders]\nquiet_hours = { start = "20:00", end = "02:30" }\n']
)
def test_a_late_pass_in_the_repeated_hour_holds_a_reminder_until_the_quiet_hours_really_end(
    cohort, driver_for
):
    """The night the clocks go back the quiet hours end at the first 02:30 (CEST); a
    pass that runs only at the second 02:10 (CET) is inside them again, and waits."""
    import sqlalchemy as sa

    from followup.dispatch.outbox import Message, enqueue
    from followup.models import FollowUp, Staff

    first_0230 = local("2026-10-25 02:30")  # CEST: 00:30 UTC
    second_0210 = first_0230 + timedelta(minutes=40)  # 01:10 UTC, reads 02:10 CET
    # 01:10 UTC is the second 02:10 (CET). Checked in UTC: under a frozen clock freezegun's
    # datetime drops `fold`, so its astimezone would print the first 02:10 (CEST).
    assert second_0210.astimezone(UTC).strftime("%H:%M") == "01:10"
    with cohort.session() as session:
        f1 = session.execute(sa.select(Staff.id).where(Staff.staff_id == "F1")).scalar_one()
        followup = session.execute(sa.select(FollowUp)).scalars().first()
        enqueue(
            session,
            [
                Message(
                    key="reminder:held",
                    kind="reminder",
                    staff_id=f1,
                    channel="console",
                    not_before=first_0230,
                    followup_id=followup.id,
                    payload={"lead_days": 0, "due_on": followup.due_on},
                )
            ],
            now=first_0230,
        )
        session.commit()
    driver = driver_for(cohort)
    with freeze_time(second_0210):
        outcome = driver.at(second_0210)
    [held] = [row for row, _ in outbox_rows(cohort) if row.key == "reminder:held"]
    assert (held.status, held.attempts, held.next_attempt_at) == (
        "pending",
        0,
        local("2026-10-25 02:30") + timedelta(hours=1),  # the second 02:30, CET
    )
    assert outcome.sent.postponed == 1 and "----- message " not in driver.console.getvalue()
    later = held.next_attempt_at
    with freeze_time(later):
        driver.at(later)
    [held] = [row for row, _ in outbox_rows(cohort) if row.key == "reminder:held"]
    assert (held.status, held.sent_at) == ("sent", later)
