"""The schedule engine as a pure function of a protocol and a person's dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from followup.protocol import load_protocol
from followup.schedule import (
    CANCELLED,
    COMPLETED,
    PENDING,
    ParticipantDates,
    PartnerState,
    Stored,
    anchor_dates,
    plan,
    reconcile,
)

SCHEDULES = Path(__file__).resolve().parents[1] / "schedules"
HER = 7  # her database id in these tests


@pytest.fixture(scope="module")
def undp():
    return load_protocol(SCHEDULES / "undp-serbia.toml")


def by_slot(items):
    return {
        (("partner" if i.partner_key else "participant"), i.checkpoint, i.occurrence): i
        for i in items
    }


def test_a_new_enrolment_gets_the_whole_undp_serbia_plan_from_expected_dates(undp):
    dates = ParticipantDates(enrolled_on=date(2026, 1, 5))
    planned = by_slot(plan(undp, dates, [PartnerState(HER, consent_on=date(2026, 1, 9))]))
    # expected: admission 2 weeks after enrolment, start 2 weeks later, 24 weeks of groups
    assert planned[("participant", "intake_assessment", 1)].due_on == date(2026, 1, 5)
    assert planned[("participant", "intake_assessment", 1)].provisional is False
    assert planned[("partner", "partner_first_contact", 1)].due_on == date(2026, 1, 5)
    start, completion = date(2026, 2, 2), date(2026, 7, 20)
    assert planned[("partner", "partner_checkin", 1)].due_on == date(2026, 3, 2)  # start + 4 weeks
    checkins = sorted(i.occurrence for k, i in planned.items() if k[1] == "partner_checkin")
    assert checkins == [
        1,
        2,
        3,
        4,
        5,
    ]  # every 4 weeks while the programme runs, not on its last day
    assert planned[("participant", "end_of_programme", 1)].due_on == completion
    assert planned[("partner", "end_of_programme", 1)].due_on == completion
    assert planned[("participant", "followup_3m", 1)].due_on == date(2026, 10, 20)
    assert planned[("partner", "followup_6m", 1)].due_on == date(2027, 1, 20)
    assert planned[("participant", "followup_6m", 1)].provisional is True
    window = planned[("participant", "followup_3m", 1)]
    assert (window.window_opens_on, window.window_closes_on) == (
        date(2026, 10, 6),
        date(2026, 11, 17),
    )
    assert start < completion


def test_recorded_dates_replace_expected_ones(undp):
    dates = ParticipantDates(
        enrolled_on=date(2026, 1, 5),
        admitted_on=date(2026, 1, 12),
        programme_start_on=date(2026, 1, 26),
    )
    planned = by_slot(plan(undp, dates))
    assert planned[("participant", "end_of_programme", 1)].due_on == date(2026, 7, 13)


def test_a_completion_later_than_planned_moves_the_three_and_six_month_follow_ups(undp):
    on_time = ParticipantDates(date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 26))
    late = ParticipantDates(
        date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 26), completed_on=date(2026, 8, 31)
    )
    before = by_slot(plan(undp, on_time))
    after = by_slot(plan(undp, late))
    assert before[("participant", "followup_3m", 1)].due_on == date(2026, 10, 13)
    assert after[("participant", "followup_3m", 1)].due_on == date(
        2026, 11, 30
    )  # 31 Aug + 3 months, clamped
    assert after[("participant", "followup_6m", 1)].due_on == date(
        2027, 2, 28
    )  # 31 Aug + 6 months, clamped
    assert after[("participant", "followup_3m", 1)].provisional is False

    stored = [
        Stored(
            n,
            None,
            i.checkpoint,
            i.occurrence,
            i.due_on,
            i.window_opens_on,
            i.window_closes_on,
            PENDING,
            True,
        )
        for n, i in enumerate(plan(undp, on_time))
    ]
    changes = reconcile(stored, plan(undp, late))
    moved = {row.checkpoint: (row.due_on, item.due_on) for row, item in changes.move}
    assert moved["followup_3m"] == (date(2026, 10, 13), date(2026, 11, 30))
    assert moved["end_of_programme"] == (date(2026, 7, 13), date(2026, 8, 31))
    assert not changes.add and not changes.cancel


def test_a_dropout_stops_his_follow_ups_and_hers_continue_from_the_day_he_left(undp):
    consent = PartnerState(HER, consent_on=date(2026, 1, 9))
    dates = ParticipantDates(
        date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 26), ended_on=date(2026, 4, 10)
    )
    planned = by_slot(plan(undp, dates, [consent]))
    assert ("participant", "end_of_programme", 1) not in planned
    assert ("participant", "followup_3m", 1) not in planned
    assert planned[("participant", "intake_assessment", 1)].due_on == date(2026, 1, 5)
    assert planned[("partner", "end_of_programme", 1)].due_on == date(2026, 4, 10)
    assert planned[("partner", "followup_3m", 1)].due_on == date(2026, 7, 10)
    assert planned[("partner", "followup_6m", 1)].due_on == date(2026, 10, 10)
    assert all(
        not i.provisional
        for k, i in planned.items()
        if k[0] == "partner" and k[1] != "partner_checkin"
    )
    checkins = sorted(i.due_on for k, i in planned.items() if k[1] == "partner_checkin")
    assert checkins == [date(2026, 2, 23), date(2026, 3, 23)]  # only while he was in the programme


def test_an_exclusion_or_transfer_stops_his_follow_ups_like_a_dropout(undp):
    for reason_date in (date(2026, 3, 1),):
        dates = ParticipantDates(
            date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 26), ended_on=reason_date
        )
        names = {i.checkpoint for i in plan(undp, dates) if i.partner_key is None}
        assert names == {"intake_assessment"}


def test_withdrawn_consent_or_do_not_contact_means_no_contact_with_her_from_then_on(undp):
    dates = ParticipantDates(date(2026, 1, 5))
    withdrawn = PartnerState(
        HER, consent_on=date(2026, 1, 9), consent_withdrawn_on=date(2026, 2, 1)
    )
    flagged = PartnerState(HER + 1, consent_on=date(2026, 1, 9), do_not_contact=True)
    planned = plan(undp, dates, [withdrawn, flagged])
    hers = [i for i in planned if i.partner_key is not None]
    # Only what had closed before she withdrew stays (to read as missed or unreachable);
    # nothing whose window was open or still to come on 1 February.
    assert hers and all(i.window_closes_on < date(2026, 2, 1) for i in hers)
    assert {i.partner_key for i in hers} == {HER}
    unwithdrawn = PartnerState(HER, consent_on=date(2026, 1, 9))
    everything = [i for i in plan(undp, dates, [unwithdrawn]) if i.partner_key is not None]
    assert hers == [i for i in everything if i.window_closes_on < date(2026, 2, 1)]
    assert {i.checkpoint for i in planned} >= {"intake_assessment", "followup_6m"}


def test_without_consent_only_the_first_contact_is_planned(undp):
    planned = plan(undp, ParticipantDates(date(2026, 1, 5)), [PartnerState(HER)])
    assert {i.checkpoint for i in planned if i.partner_key} == {"partner_first_contact"}


def test_consent_given_late_plans_only_windows_that_close_after_it(undp):
    dates = ParticipantDates(date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 26))
    planned = plan(undp, dates, [PartnerState(HER, consent_on=date(2026, 4, 1))])
    checkins = sorted(i.window_closes_on for i in planned if i.checkpoint == "partner_checkin")
    assert checkins and checkins[0] >= date(2026, 4, 1)


def test_reconcile_never_touches_completed_or_missed_follow_ups(undp):
    early = ParticipantDates(date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 26))
    items = plan(undp, early)
    stored = []
    for n, item in enumerate(items):
        status = COMPLETED if item.checkpoint == "end_of_programme" else PENDING
        stored.append(
            Stored(
                n,
                None,
                item.checkpoint,
                item.occurrence,
                item.due_on,
                item.window_opens_on,
                item.window_closes_on,
                status,
            )
        )
    dropped = ParticipantDates(
        date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 26), ended_on=date(2026, 2, 1)
    )
    changes = reconcile(stored, plan(undp, dropped))
    cancelled = {row.checkpoint for row in changes.cancel}
    assert cancelled == {"followup_3m", "followup_6m"}  # end_of_programme was done: it stays done
    assert all(row.status != COMPLETED for row in changes.cancel)
    assert not changes.move


def test_a_cancelled_follow_up_planned_again_is_reinstated_not_duplicated(undp):
    dates = ParticipantDates(date(2026, 1, 5))
    item = next(i for i in plan(undp, dates, [PartnerState(HER)]) if i.partner_key == HER)
    row = Stored(
        1,
        HER,
        item.checkpoint,
        1,
        item.due_on,
        item.window_opens_on,
        item.window_closes_on,
        CANCELLED,
    )
    changes = reconcile([row], plan(undp, dates, [PartnerState(HER)]))
    assert [r.id for r, _ in changes.reinstate] == [1]
    assert all(a.partner_key != HER for a in changes.add)


def test_a_man_who_leaves_before_admission_has_no_programme_anchors(undp):
    anchors = anchor_dates(
        undp.programme, ParticipantDates(date(2026, 1, 5), ended_on=date(2026, 1, 10))
    )
    assert anchors["admission"] is None and anchors["completion"] is None
    assert anchors["end_of_participation"].on == date(2026, 1, 10)
