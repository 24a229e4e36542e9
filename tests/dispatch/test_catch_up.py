"""After downtime, what fell due goes out as one catch-up digest per person, not a burst."""

from __future__ import annotations

import json
from datetime import timedelta

from freezegun import freeze_time

from tests.dispatch.conftest import local, outbox_rows


def run_passes(driver, start, end, every=timedelta(minutes=30)):
    moment = start
    with freeze_time(start) as frozen:
        while moment <= end:
            frozen.move_to(moment)
            driver.at(moment)
            moment += every


def test_a_three_day_outage_yields_one_catch_up_digest_per_person_and_nothing_else(
    cohort, driver_for
):
    driver = driver_for(cohort)
    run_passes(driver, local("2026-03-20 00:00"), local("2026-03-21 08:30"))
    before = {row.key for row, _ in outbox_rows(cohort)}
    # Down from Saturday 08:30 to Tuesday 10:00: Sunday's and Monday's reminders, and
    # Monday's and Tuesday's digests, all fell due while nothing was running.
    run_passes(driver, local("2026-03-24 10:00"), local("2026-03-24 12:00"))

    new = [(row, staff) for row, staff in outbox_rows(cohort) if row.key not in before]
    assert sorted((row.kind, staff) for row, staff in new) == [
        ("catch_up", "F1"),
        ("catch_up", "PS1"),
    ]
    folded = {staff: json.loads(row.payload) for row, staff in new}
    assert (folded["F1"]["reminders"], folded["F1"]["digests"]) == (
        2,
        2,
    )  # BG-1 7 days ahead, BG-2 due
    assert (folded["PS1"]["reminders"], folded["PS1"]["digests"]) == (1, 2)  # P-2 due
    assert all(row.status == "sent" and row.sent_at == local("2026-03-24 10:00") for row, _ in new)
    text = driver.console.getvalue()
    assert "Zadržano: podsetnika 2, dnevnih pregleda 2" in text  # F1 reads Serbian (sr-Latn)
    assert "od 2026-03-21 08:30 do 2026-03-24 10:00" in text


def test_a_supervisor_gets_the_escalations_missed_in_an_outage_in_their_catch_up(
    cohort, driver_for
):
    driver = driver_for(cohort)
    run_passes(driver, local("2026-03-27 00:00"), local("2026-03-27 09:00"))
    run_passes(driver, local("2026-03-30 10:00"), local("2026-03-30 10:00"))
    rows = {staff: row for row, staff in outbox_rows(cohort, kind="catch_up")}
    assert sorted(rows) == ["F1", "F2", "PS1", "SV1"]
    # BG-2's call and his partner's both closed on 26 March without an interview.
    assert json.loads(rows["SV1"].payload)["escalations_total"] == 2
    assert outbox_rows(cohort, kind="escalation") == []
    assert "Periodi istekli bez razgovora: 2" in driver.console.getvalue()


def test_a_short_gap_is_sent_late_as_it_was_rather_than_folded(cohort, driver_for):
    driver = driver_for(cohort)
    run_passes(driver, local("2026-03-23 07:00"), local("2026-03-23 07:30"))
    run_passes(driver, local("2026-03-23 08:45"), local("2026-03-23 08:45"))  # 45 minutes late
    kinds = sorted((row.kind, staff) for row, staff in outbox_rows(cohort))
    assert kinds == [("digest", "F1"), ("digest", "PS1"), ("reminder", "F1"), ("reminder", "PS1")]
