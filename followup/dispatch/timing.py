"""When each kind of message is due: pure functions of dates, wall-clock times and a zone.

Every instant here is aware and returned in UTC; every local time is read in the
centre's own zone, so 08:00 in Belgrade is 07:00 UTC in winter and 06:00 UTC in summer.
A local time that does not exist (02:30 on the night clocks go forward) is read as the
same wall time an hour later; one that happens twice (the night they go back) as the
first of the two — the standard `zoneinfo` reading.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from followup.safe_contact import SafeContactPlan

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class QuietHours:
    """[start, end) in local time; across midnight when start > end; none when equal."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`at` o'clock on `day` at the centre, as a UTC instant."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def in_quiet_hours(instant: datetime, zone: ZoneInfo, quiet: QuietHours) -> bool:
    """Whether the centre's wall clock reads a quiet time at this instant."""
    return quiet.contains(instant.astimezone(zone).time().replace(tzinfo=None, fold=0))


def out_of_quiet_hours(instant: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime:
    """The instant itself, or the end of the quiet hours it falls in — never earlier.

    On the night the clocks go back a local end time happens twice: an instant in the
    second of the repeated hours (02:10 CET) must not be moved to the first reading of
    the end (02:30 CEST, which is before it), so the later reading is taken then. On the
    night they go forward an end the clocks skip is read an hour later, which may be
    quiet again (with very long quiet hours): then it moves on to the next end.
    """
    moved = instant.astimezone(UTC)
    for _ in range(3):
        if not in_quiet_hours(moved, zone, quiet):
            return moved
        moved = _end_of_quiet(moved, zone, quiet)
    return moved  # pragma: no cover - two moves always leave the quiet hours


def _end_of_quiet(instant: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime:
    """The first reading of the quiet hours' end after `instant` (which is in them)."""
    local = instant.astimezone(zone)
    day = local.date()
    if quiet.start > quiet.end and local.time().replace(tzinfo=None) >= quiet.start:
        day += timedelta(days=1)  # evening part of overnight quiet hours: ends tomorrow
    for fold in (0, 1):
        end = datetime.combine(day, quiet.end, tzinfo=zone).replace(fold=fold).astimezone(UTC)
        if end > instant:
            return end
    return end  # pragma: no cover - the wall clock reads `quiet.end` after a quiet instant


def morning_of(day: date, zone: ZoneInfo, quiet: QuietHours) -> datetime:
    """When a message about `day` may go: its local midnight, moved out of quiet hours
    (08:00 with the default quiet hours 20:00-08:00)."""
    return out_of_quiet_hours(local_instant(day, time(0, 0), zone), zone, quiet)


def local_days(since: datetime, until: datetime, zone: ZoneInfo) -> Iterator[date]:
    """Every local date from the day before `since` to the day after `until`: a superset
    of the days whose morning can fall between the two instants."""
    day = local_date(since, zone) - timedelta(days=1)
    last = local_date(until, zone) + timedelta(days=1)
    while day <= last:
        yield day
        day += timedelta(days=1)


def mornings_between(
    since: datetime, until: datetime, zone: ZoneInfo, quiet: QuietHours
) -> list[tuple[date, datetime]]:
    """(day, its morning instant) for each morning in (since, until]."""
    return [
        (day, at)
        for day in local_days(since, until, zone)
        if since < (at := morning_of(day, zone, quiet)) <= until
    ]


def digests_between(
    since: datetime,
    until: datetime,
    zone: ZoneInfo,
    quiet: QuietHours,
    digest_time: time,
    working_days: frozenset[str],
    holidays: frozenset[date],
) -> list[tuple[date, datetime]]:
    """(day, instant) of each daily digest in (since, until]: working days that are not
    the centre's holidays, at `digest_time`, moved out of quiet hours if need be."""
    found = []
    for day in local_days(since, until, zone):
        if WEEKDAYS[day.weekday()] not in working_days or day in holidays:
            continue
        at = out_of_quiet_hours(local_instant(day, digest_time, zone), zone, quiet)
        if since < at <= until:
            found.append((day, at))
    return found


def start_of_day(instant: datetime, zone: ZoneInfo) -> datetime:
    return local_instant(local_date(instant, zone), time(0, 0), zone)


# --- her worker's reminder, before her safe window ------------------------------------


def partner_window(
    due_on: date, plan: SafeContactPlan | None, zone: ZoneInfo, quiet: QuietHours
) -> tuple[datetime, datetime] | None:
    """Her first safe window on the due day (naive local start and end, her site's zone)
    that is still open when the day's reminders may go (the end of the quiet hours):
    a window over before the worker may be reminded cannot be aimed at. None when her
    plan has no window left that day, or there is no plan."""
    if plan is None:
        return None
    morning = morning_of(due_on, zone, quiet)
    for starts, ends in plan.windows_on(due_on):
        if _aware(ends, zone) > morning:
            return starts, ends
    return None


def partner_reminder_at(
    due_on: date,
    plan: SafeContactPlan | None,
    zone: ZoneInfo,
    lead: timedelta,
    quiet: QuietHours,
) -> datetime:
    """When her worker's due-day reminder goes (UTC): `lead` before her first safe window
    that day, so it arrives before she can be called — never before the day's morning
    (the end of the quiet hours, the existing rule) and never inside the quiet hours (a
    late-evening window is reminded in the morning). No window that day, or no plan:
    the morning, as for every other reminder."""
    morning = morning_of(due_on, zone, quiet)
    window = partner_window(due_on, plan, zone, quiet)
    if window is None:
        return morning
    at = max(_aware(window[0], zone) - lead, morning)
    return morning if in_quiet_hours(at, zone, quiet) else at


def window_text(window: tuple[datetime, datetime]) -> str:
    """ "10:00–12:00": the times of a window, nothing else of her plan."""
    starts, ends = window
    end = "24:00" if ends.time() == time(0, 0) and ends.date() > starts.date() else f"{ends:%H:%M}"
    return f"{starts:%H:%M}–{end}"


def _aware(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local time at the centre as a UTC instant (zoneinfo's reading of a skipped
    or repeated wall time, as everywhere in this module)."""
    return local.replace(tzinfo=zone).astimezone(UTC)
