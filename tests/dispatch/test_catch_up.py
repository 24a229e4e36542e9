"""After downtime, what fell due goes out as one catch-up digest per person, not a burst."""

from __future__ import annotations

import json

from freezegun import freeze_time

from tests.dispatch.conftest import local, outbox_rows, run_passes


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


def catch_up_for(driver, staff_id: str) -> str:
    """The console text of the catch-up digest addressed to this member of staff."""
    blocks = driver.console.getvalue().split("----- message ")
    [block] = [b for b in blocks if b.startswith("catch_up:") and f"({staff_id})" in b]
    return block


def test_a_supervisors_catch_up_names_the_unassigned_follow_ups_they_would_have_been_reminded_of(
    cohort, driver_for
):
    with freeze_time(local("2026-03-20 09:00")):
        result = cohort.run(
            "enrol", "BG-9", "--site", "BG", "--referral-source", "court", "--enrolled-on",
            "2026-03-09",
        )  # fmt: skip
    assert result.exit_code == 0, result.err
    driver = driver_for(cohort)
    run_passes(driver, local("2026-03-20 00:00"), local("2026-03-21 08:30"))
    run_passes(driver, local("2026-03-24 10:00"), local("2026-03-24 10:00"))

    text = catch_up_for(driver, "SV1")
    assert "Zadržano: podsetnika 1" in text  # BG-9's call, due 23 March, nobody assigned
    assert "Zadržani podsetnici za praćenja koja nisu na vašem spisku: 1" in text
    assert "BG-9, učesnik" in text and "/followups/" in text


def test_what_fell_due_in_the_gap_is_listed_before_older_items_and_the_rest_is_counted_with_a_link(
    cohort, driver_for
):
    rows = ["case_id,site,referral_source,enrolled_on,protocol,facilitator"]
    rows += [f"BG-OLD{n:02d},BG,court,2026-01-{n + 1:02d},sim,F1" for n in range(25)]
    # Due 19 March, window closing 22 March: it closed while the service was down.
    rows += [f"BG-GAP{n},BG,court,2026-03-05,sim,F1" for n in range(3)]
    with freeze_time(local("2026-03-20 09:00")):
        imported = cohort.run("import", "participants", str(cohort.csv("p.csv", "\n".join(rows))))
    assert imported.exit_code == 0, imported.err
    driver = driver_for(cohort)
    run_passes(driver, local("2026-03-20 00:00"), local("2026-03-21 08:30"))
    run_passes(driver, local("2026-03-24 10:00"), local("2026-03-24 10:00"))

    text = catch_up_for(driver, "F1")
    overdue = text[text.index("Zakasnela: 28") :]
    assert [f"BG-GAP{n}" in overdue for n in range(3)] == [True] * 3
    assert overdue.index("BG-GAP2") < overdue.index("BG-OLD00")
    assert "i još 8: pogledajte veb stranicu (http://127.0.0.1:8000/followups)" in overdue
