"""A staff member's follow-ups as an iCalendar feed.

Each pending follow-up assigned to them is an all-day event on its due date. An event
says the case id and the checkpoint, the window's dates and a link — nothing else:
calendars are synced to phones and shared screens, so a feed must be as bare as an SMS.
The partner wall holds here too: the feed lists only what followup.web.policy lets the
account see.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from followup.context import Context
from followup.models import FollowUp, Participant
from followup.schedule import PENDING
from followup.web import policy
from followup.web.policy import Principal

PAST_DAYS = 90  # overdue follow-ups stay in the feed this long


def feed(session: Session, ctx: Context, p: Principal, now: datetime) -> bytes:
    base = ctx.config.web.base_url.rstrip("/")
    host = base.split("://", 1)[-1].split("/", 1)[0] or "followup"
    calendar = Calendar()
    calendar.add("prodid", "-//followup//follow-ups//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "followup")
    earliest = now.date() - timedelta(days=PAST_DAYS)
    rows = session.execute(
        sa.select(
            FollowUp.id,
            FollowUp.checkpoint,
            FollowUp.occurrence,
            FollowUp.due_on,
            FollowUp.window_opens_on,
            FollowUp.window_closes_on,
            FollowUp.updated_at,
            Participant.case_id,
        )
        .join(Participant, Participant.id == FollowUp.participant_id)
        .where(
            FollowUp.assigned_staff_id == p.staff_pk,
            FollowUp.status == PENDING,
            FollowUp.window_closes_on >= earliest,
            policy.followup_scope(p),
        )
        .order_by(FollowUp.due_on, FollowUp.id)
    ).all()
    for r in rows:
        calendar.add_component(_event(r, base, host, now))
    return calendar.to_ical()


def _event(r, base: str, host: str, now: datetime) -> Event:
    name = r.checkpoint + (f" #{r.occurrence}" if r.occurrence > 1 else "")
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
        f"{r.case_id} {name}\nWindow {_day(r.window_opens_on)} to {_day(r.window_closes_on)}\n"
        f"{base}/followups/{r.id}",
    )
    event.add("url", f"{base}/followups/{r.id}")
    return event


def _day(day: date) -> str:
    return day.isoformat()
