"""Her safe-contact plan, the pure core: safe times as people write them, and whether a
moment is safe, in her site's zone, across a daylight-saving change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from followup.errors import InvalidRecord
from followup.her_plan import PlanInput, build_plan, needs_confirming, plan_from_file
from followup.operations.safe_plan import plan_at
from followup.safe_contact import SafeContactPlan, parse_channels, parse_safe_times

BELGRADE = ZoneInfo("Europe/Belgrade")


def plan(text: str, **kwargs) -> SafeContactPlan:
    return SafeContactPlan(
        channels={"phone": "+381601234567"}, windows=parse_safe_times(text), **kwargs
    )


# --- reading what people write -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("Mon-Fri 10:00-12:00; Sat 09:00-11:00", "Mon-Fri 10:00-12:00; Sat 09:00-11:00"),
        ("10:00-12:00", "10:00-12:00"),
        ("09:00-10:00, 17:00-18:00", "09:00-10:00; 17:00-18:00"),  # the old safe_hours form
        (" 09:00 - 10:00 ", "09:00-10:00"),  # old files had spaces around the dash
        ("mon - wed 08:00-09:00", "Mon-Wed 08:00-09:00"),
        ("Mon+Wed 08:00-09:00", "Mon+Wed 08:00-09:00"),
        ("22:00-24:00", "22:00-24:00"),
        ("", ""),
    ],
)
def test_safe_times_are_read_and_written_back_the_same_way(text, written):
    assert SafeContactPlan(windows=parse_safe_times(text)).safe_times_text == written


def test_a_day_range_that_wraps_over_the_weekend_holds_each_day_in_it():
    (window,) = parse_safe_times("Fri-Mon 10:00-12:00")
    assert window.days == frozenset({4, 5, 6, 0})
    assert str(window) == "Mon+Fri-Sun 10:00-12:00"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("whenever", "expected safe times such as 'Mon-Fri 10:00-12:00'"),
        ("25:00-26:00", "expected safe times such as"),
        ("12:00-10:00", "a safe window ends after it starts"),
        ("10:00-10:00", "a safe window ends after it starts"),
        ("24:00-24:00", "expected safe times such as"),
        ("22:00-24:30", "a window ends at 24:00 at the latest"),
        ("Moo-Fri 10:00-12:00", "expected days such as Mon-Fri"),
        ("10:00-12:00\nX", "control character"),
    ],
)
def test_safe_times_that_cannot_be_read_are_refused_with_what_was_expected(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_safe_times(text)


def test_channels_are_read_in_her_order_and_an_unknown_one_is_refused():
    assert parse_channels("sms; phone;sms") == ("sms", "phone")
    with pytest.raises(ValueError, match="unknown channel 'pigeon'"):
        parse_channels("phone;pigeon")


# --- is it safe now? ----------------------------------------------------------------------


def test_a_window_holds_from_its_first_minute_to_just_before_its_end():
    weekdays = plan("Mon-Fri 10:00-12:00")
    monday = date(2026, 11, 30)
    assert not weekdays.is_safe_at(datetime.combine(monday, time(9, 59)))
    assert weekdays.is_safe_at(datetime.combine(monday, time(10, 0)))
    assert weekdays.is_safe_at(datetime.combine(monday, time(11, 59)))
    assert not weekdays.is_safe_at(datetime.combine(monday, time(12, 0)))
    assert not weekdays.is_safe_at(datetime(2026, 12, 5, 10, 30))  # a Saturday


def test_a_window_ending_at_24_00_holds_until_midnight():
    late = plan("Fri 22:00-24:00")
    assert late.is_safe_at(datetime(2026, 12, 4, 23, 59))
    assert not late.is_safe_at(datetime(2026, 12, 5, 0, 0))
    assert late.next_window(datetime(2026, 12, 4, 23, 0)) == (
        datetime(2026, 12, 4, 22, 0),
        datetime(2026, 12, 5, 0, 0),
    )


def test_the_next_window_after_friday_afternoon_is_mondays():
    weekdays = plan("Mon-Fri 10:00-12:00")
    assert weekdays.next_window(datetime(2026, 12, 4, 12, 0)) == (
        datetime(2026, 12, 7, 10, 0),
        datetime(2026, 12, 7, 12, 0),
    )


def test_a_plan_with_no_safe_times_refuses_nothing_on_time_and_says_what_is_missing():
    open_plan = SafeContactPlan()
    assert open_plan.is_safe_at(datetime(2026, 12, 5, 3, 0))
    assert open_plan.next_window(datetime(2026, 12, 5, 3, 0)) is None
    assert open_plan.missing == ("channels", "safe_times")


def test_her_windows_follow_her_sites_clock_across_the_autumn_daylight_saving_change():
    """Belgrade leaves summer time on Sunday 25 October 2026 (03:00 CEST → 02:00 CET):
    the same UTC hour is inside her window on the Friday before and outside it on the
    Monday after."""
    weekdays = plan("Mon-Fri 10:00-12:00")
    friday = plan_at(
        weekdays, datetime(2026, 10, 23, 8, 30, tzinfo=UTC), BELGRADE, 90, reveal=False
    )
    monday = plan_at(
        weekdays, datetime(2026, 10, 26, 8, 30, tzinfo=UTC), BELGRADE, 90, reveal=False
    )
    assert friday.safe_now and friday.until == datetime(2026, 10, 23, 12, 0)  # 10:30 CEST
    assert not monday.safe_now  # 09:30 CET
    assert monday.next_window == (datetime(2026, 10, 26, 10, 0), datetime(2026, 10, 26, 12, 0))
    later = plan_at(weekdays, datetime(2026, 10, 26, 9, 0, tzinfo=UTC), BELGRADE, 90, reveal=False)
    assert later.safe_now and later.until == datetime(2026, 10, 26, 12, 0)  # 10:00 CET


def test_her_windows_follow_her_sites_clock_across_the_spring_change():
    """Summer time starts on Sunday 29 March 2026 at 02:00 CET: a Sunday 09:00-10:00 window
    opens at 07:00 UTC that day, not 08:00."""
    sundays = plan("Sun 09:00-10:00")
    at_seven = plan_at(sundays, datetime(2026, 3, 29, 7, 0, tzinfo=UTC), BELGRADE, 90, reveal=False)
    week_before = plan_at(
        sundays, datetime(2026, 3, 22, 7, 0, tzinfo=UTC), BELGRADE, 90, reveal=False
    )
    assert at_seven.safe_now
    assert not week_before.safe_now  # 08:00 CET
    assert week_before.next_window[0] == datetime(2026, 3, 22, 9, 0)


def test_numbers_are_in_the_view_only_when_revealed():
    weekdays = plan("Mon-Fri 10:00-12:00")
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert plan_at(weekdays, now, BELGRADE, 90, reveal=False).channels == (("phone", None),)
    assert plan_at(weekdays, now, BELGRADE, 90, reveal=True).channels == (
        ("phone", "+381601234567"),
    )


# --- confirming it with her ---------------------------------------------------------------


def test_a_plan_needs_confirming_from_exactly_reconfirm_plan_days_after_it_was_confirmed():
    confirmed = date(2026, 9, 1)
    assert not needs_confirming(confirmed, date(2026, 11, 29), 90)  # 89 days
    assert needs_confirming(confirmed, date(2026, 11, 30), 90)  # 90 days
    assert needs_confirming(None, date(2026, 11, 30), 90)
    sealed = plan("10:00-12:00", confirmed_on=confirmed)
    assert not sealed.needs_confirming(date(2026, 11, 29), 90)
    assert sealed.needs_confirming(date(2026, 11, 30), 90)


# --- building it from a form or a file row ------------------------------------------------


def test_a_channel_takes_her_number_on_file_unless_another_is_typed():
    given = PlanInput(channels=("sms", "email"), details={"sms": "+381 60 765 4321"})
    built = build_plan(given, {"phone": "+381601234567", "email": "her@example.net"})
    assert built.channels == {"sms": "+381607654321", "email": "her@example.net"}
    assert not built.voicemail_ok and not built.may_name_organisation  # the safe defaults


def test_a_channel_with_no_number_anywhere_is_refused_naming_the_field():
    with pytest.raises(
        InvalidRecord, match="allowed_channels: sms is allowed but she has no phone"
    ):
        build_plan(PlanInput(channels=("sms",)), {})
    with pytest.raises(InvalidRecord, match="^safe_times: "):
        build_plan(PlanInput(channels=(), safe_times="noon"), {})


def test_the_sealed_form_round_trips():
    full = SafeContactPlan(
        channels={"phone": "+381601234567", "post": ""},
        windows=parse_safe_times("Mon-Fri 10:00-12:00; Sat 09:00-11:00"),
        voicemail_ok=True,
        may_name_organisation=False,
        code_word="plava ruža",
        if_someone_else_answers="say wrong number",
        confirmed_on=date(2026, 11, 2),
    )
    assert SafeContactPlan.from_json(full.to_json()) == full


# --- which plan a partners-file row leaves (her_plan.plan_from_file) -------------------

OLD = SafeContactPlan(
    channels={"sms": "+381601234567"}, windows=parse_safe_times("Mon 10:00-11:00")
)
NEW = SafeContactPlan(channels={"email": "a@b.org"}, windows=parse_safe_times("Tue 14:00-15:00"))
D = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("stored", "row", "says", "expected", "kept"),
    [
        (None, NEW, True, NEW, False),  # a first plan
        (OLD, None, False, OLD, False),  # the row says nothing
        (OLD, NEW, False, OLD, False),  # only its channel column: not her plan
        (OLD, NEW, True, NEW, False),  # no change of her worker's: the file is the record
        (OLD.confirmed(D), NEW, True, NEW.confirmed(D), False),  # no date: keeps the date
        (OLD.confirmed_by_worker(D), NEW, True, OLD.confirmed_by_worker(D), True),
        (OLD.confirmed_by_worker(D), NEW.confirmed(D), True, OLD.confirmed_by_worker(D), True),
        (OLD.confirmed_by_worker(D), NEW.confirmed(date(2026, 11, 21)), True,
         NEW.confirmed(date(2026, 11, 21)), False),  # dated after: replaces
        (OLD.confirmed_by_worker(D), OLD.confirmed(date(2026, 11, 1)), True,
         OLD.confirmed_by_worker(D), False),  # the same plan: nothing kept, nothing lost
        (OLD.confirmed(D), OLD.confirmed(date(2026, 11, 25)), True,
         OLD.confirmed(date(2026, 11, 25)), False),  # the same plan, confirmed later
    ],
)  # fmt: skip
def test_a_file_row_never_replaces_a_plan_her_worker_changed_after_its_date(
    stored, row, says, expected, kept
):
    outcome = plan_from_file(stored, row, says)
    assert (outcome.plan, outcome.kept_worker_change) == (expected, kept)


def test_plans_sealed_before_worker_changed_on_existed_still_open():
    data = OLD.confirmed(D).to_json()
    del data["worker_changed_on"]
    assert SafeContactPlan.from_json(data) == OLD.confirmed(D)
    assert SafeContactPlan.from_json(OLD.confirmed_by_worker(D).to_json()).worker_changed_on == D
