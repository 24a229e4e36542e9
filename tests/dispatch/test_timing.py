"""When messages are due, as pure functions: local mornings, quiet hours, DST, working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from followup.dispatch.timing import (
    QuietHours,
    digests_between,
    in_quiet_hours,
    local_instant,
    morning_of,
    mornings_between,
    out_of_quiet_hours,
)

BELGRADE = ZoneInfo("Europe/Belgrade")
QUIET = QuietHours(time(20, 0), time(8, 0))
NO_QUIET = QuietHours(time(0, 0), time(0, 0))
WEEKDAYS = frozenset({"mon", "tue", "wed", "thu", "fri"})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_morning_is_the_end_of_the_quiet_hours_in_local_time_on_both_sides_of_dst():
    assert morning_of(date(2026, 3, 28), BELGRADE, QUIET) == utc("2026-03-28 07:00")  # CET
    assert morning_of(date(2026, 3, 29), BELGRADE, QUIET) == utc("2026-03-29 06:00")  # CEST
    assert morning_of(date(2026, 10, 25), BELGRADE, QUIET) == utc("2026-10-25 07:00")  # back to CET


def test_without_quiet_hours_the_morning_is_local_midnight():
    assert morning_of(date(2026, 3, 29), BELGRADE, NO_QUIET) == utc("2026-03-28 23:00")


def test_quiet_hours_move_an_evening_instant_to_the_next_morning_and_a_night_one_to_this_morning():
    assert out_of_quiet_hours(utc("2026-03-10 20:30"), BELGRADE, QUIET) == utc("2026-03-11 07:00")
    assert out_of_quiet_hours(utc("2026-03-10 02:00"), BELGRADE, QUIET) == utc("2026-03-10 07:00")
    assert out_of_quiet_hours(utc("2026-03-10 12:00"), BELGRADE, QUIET) == utc("2026-03-10 12:00")


def test_the_last_quiet_minute_is_quiet_and_the_end_is_not():
    assert out_of_quiet_hours(utc("2026-03-10 06:59"), BELGRADE, QUIET) == utc("2026-03-10 07:00")
    assert out_of_quiet_hours(utc("2026-03-10 07:00"), BELGRADE, QUIET) == utc("2026-03-10 07:00")
    assert out_of_quiet_hours(utc("2026-03-10 18:59"), BELGRADE, QUIET) == utc("2026-03-10 18:59")
    assert out_of_quiet_hours(utc("2026-03-10 19:00"), BELGRADE, QUIET) == utc("2026-03-11 07:00")


def test_daytime_quiet_hours_end_the_same_day():
    lunch = QuietHours(time(12, 0), time(13, 0))
    assert out_of_quiet_hours(utc("2026-03-10 11:30"), BELGRADE, lunch) == utc("2026-03-10 12:00")


def test_a_local_time_the_clocks_skip_is_read_an_hour_later():
    assert local_instant(date(2026, 3, 29), time(2, 30), BELGRADE) == utc("2026-03-29 01:30")
    assert local_instant(date(2026, 3, 29), time(2, 30), BELGRADE).astimezone(BELGRADE).hour == 3


def test_each_morning_between_two_instants_is_found_once_and_the_bounds_are_half_open():
    mornings = mornings_between(utc("2026-03-27 07:00"), utc("2026-03-30 06:00"), BELGRADE, QUIET)
    assert mornings == [
        (date(2026, 3, 28), utc("2026-03-28 07:00")),
        (date(2026, 3, 29), utc("2026-03-29 06:00")),
        (date(2026, 3, 30), utc("2026-03-30 06:00")),
    ]


def test_digests_skip_weekends_and_holidays():
    found = digests_between(
        utc("2026-03-26 00:00"),
        utc("2026-04-01 00:00"),
        BELGRADE,
        QUIET,
        time(8, 0),
        WEEKDAYS,
        frozenset({date(2026, 3, 30)}),
    )
    assert [day for day, _ in found] == [date(2026, 3, 26), date(2026, 3, 27), date(2026, 3, 31)]
    assert found[-1][1] == utc("2026-03-31 06:00")


def test_a_digest_time_inside_the_quiet_hours_waits_for_their_end():
    found = digests_between(
        utc("2026-03-26 00:00"),
        utc("2026-03-27 00:00"),
        BELGRADE,
        QUIET,
        time(6, 30),
        WEEKDAYS,
        frozenset(),
    )
    assert found == [(date(2026, 3, 26), utc("2026-03-26 07:00"))]


def test_an_instant_in_the_repeated_hour_is_never_moved_back_to_the_first_reading_of_the_end():
    ends_in_the_repeated_hour = QuietHours(time(20, 0), time(2, 30))
    second_0210 = utc("2026-10-25 01:10")  # 02:10 CET, the second time the clock reads 02:10
    moved = out_of_quiet_hours(second_0210, BELGRADE, ends_in_the_repeated_hour)
    assert moved == utc("2026-10-25 01:30")  # 02:30 CET, not 02:30 CEST (00:30 UTC)


def _transitions(zone: ZoneInfo, first: int, last: int) -> list[datetime]:
    """Every instant (to the hour) at which the zone's UTC offset changes in these years."""
    found, moment = [], datetime(first, 1, 1, tzinfo=UTC)
    end = datetime(last + 1, 1, 1, tzinfo=UTC)
    offset = moment.astimezone(zone).utcoffset()
    while moment < end:
        moment += timedelta(hours=1)
        now = moment.astimezone(zone).utcoffset()
        if now != offset:
            found.append(moment)
            offset = now
    return found


ISTANBUL = ZoneInfo("Europe/Istanbul")
# Istanbul has kept one offset since 2016; it is tried at Belgrade's transitions too, so a
# zone without clock changes is held to the same rule on the same nights.
TRANSITIONS = sorted(set(_transitions(BELGRADE, 2024, 2030) + _transitions(ISTANBUL, 2024, 2030)))
assert len(TRANSITIONS) == 14  # March and October, 2024-2030


def _quiet_hours(draw_minutes: tuple[int, int]) -> QuietHours:
    start, end = draw_minutes
    return QuietHours(time(start // 60, start % 60), time(end // 60, end % 60))


# Quarter hours, with the hours around the clock changes (01:00-04:00) drawn often.
_minute = st.one_of(
    st.integers(0, 95).map(lambda q: q * 15),
    st.integers(60, 240),
)


@settings(max_examples=600, deadline=None)
@given(
    zone=st.sampled_from([BELGRADE, ISTANBUL]),
    transition=st.sampled_from(TRANSITIONS),
    offset_minutes=st.one_of(st.integers(-150, 150), st.integers(-26 * 60, 26 * 60)),
    bounds=st.tuples(_minute, _minute),
)
def test_moving_out_of_quiet_hours_never_goes_back_and_always_lands_outside_them(
    zone, transition, offset_minutes, bounds
):
    quiet = _quiet_hours(bounds)
    instant = transition + timedelta(minutes=offset_minutes)
    moved = out_of_quiet_hours(instant, zone, quiet)
    assert moved >= instant
    assert not in_quiet_hours(moved, zone, quiet)
    if not in_quiet_hours(instant, zone, quiet):
        assert moved == instant
    # At most a day, or two when the clocks skip the only time of a day that is not quiet.
    assert moved - instant <= timedelta(hours=48)
