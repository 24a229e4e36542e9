"""A staff member's follow-ups as an iCalendar feed.

Each pending follow-up assigned to them is an all-day event on its due date. An event
says the case id and the checkpoint, the window's dates and a link — nothing else:
calendars are synced to phones and shared screens, so a feed must be as bare as an SMS.
The partner wall holds here too: the entries come from the caseload operation, cut to
what followup.operations.policy lets the account see.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

from followup.context import Context
from followup.operations.caseload import CalendarEntry
from followup.web.i18n import translator


def feed(ctx: Context, entries: list[CalendarEntry], now: datetime, language: str = "en") -> bytes:
    """The entries of followup.operations.caseload.calendar_entries as iCalendar, in the
    language of the feed's owner (the checkpoint labels come in it already)."""
    t = translator(language)
    base = ctx.config.web.base_url.rstrip("/")
    host = base.split("://", 1)[-1].split("/", 1)[0] or "followup"
    calendar = Calendar()
    calendar.add("prodid", "-//followup//follow-ups//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "followup")
    for entry in entries:
        calendar.add_component(_event(entry, base, host, now, t))
    return calendar.to_ical()


def _event(r: CalendarEntry, base: str, host: str, now: datetime, t: Callable[..., str]) -> Event:
    name = r.label + (f" #{r.occurrence}" if r.occurrence > 1 else "")
    event = Event()
    event.add("uid", f"followup-{r.id}@{host}")
    event.add("dtstamp", now)
    event.add("last-modified", r.updated_at)
    event.add("summary", f"{r.case_id} {name}")
    event.add("dtstart", r.due_on)
    event.add("dtend", r.due_on + timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    event.add(
        "description",
        f"{r.case_id} {name}\n"
        + t("calendar.window", opens=_day(r.window_opens_on), closes=_day(r.window_closes_on))
        + f"\n{base}/followups/{r.id}",
    )
    event.add("url", f"{base}/followups/{r.id}")
    return event


def _day(day: date) -> str:
    return day.isoformat()
