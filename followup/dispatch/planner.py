"""What goes out when: each pass queues every message whose time came since the last pass.

A pure function of `now` and the database. The watermark row says up to which instant
messages are already queued; a pass looks at the instants in (watermark, now] only —
the mornings and digest times that fell in it, per centre and in its own time zone —
and asks the database for the follow-ups due on exactly those days, through the
(status, due_on) index. The cost follows what is due, never who is enrolled.

- reminder: `lead_days` before the due date, on the morning of that day (local
  midnight, moved to the end of the quiet hours: 08:00 by default), to the assigned
  worker; to the site's supervisors when nobody is assigned. A partner follow-up's
  due-day reminder goes `partner_lead_minutes` before her first safe window that day
  (her plan, opened for the follow-ups due in the pass's mornings only), never earlier
  than the morning.
- digest: at `digest_time` on working days that are not the centre's holidays, to each
  member of staff with something overdue, due or coming up.
- escalation: on the morning `escalate_after_days` after the day a window closed,
  when the follow-up is still pending and nobody tried to reach the person (with an
  attempt it reads as unreachable, followup.lost), to the site's supervisors.
- catch-up: whatever of the above was due more than `catch_up_after_minutes` before
  `now` (the service was not running) becomes one catch-up digest per person instead
  of a burst.

Safety alerts are not planned here: they are queued with the record that raises them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from followup.context import Context
from followup.dispatch.outbox import Message, enqueue
from followup.dispatch.policy import Bounds, Policy, her_plan, protocol_bounds, site_zone
from followup.dispatch.routing import preferred
from followup.dispatch.timing import (
    digests_between,
    mornings_between,
    out_of_quiet_hours,
    partner_reminder_at,
    start_of_day,
)
from followup.models import DispatchWatermark, FollowUp, Participant, Partner, Staff
from followup.schedule import PENDING

PLANNER = "planner"
MAX_LISTED_ESCALATIONS = 50
MAX_LISTED_FOLLOWUPS = 200  # ids kept in a catch-up's payload; the digest lists 20


@dataclass
class Planned:
    since: datetime | None = None
    until: datetime | None = None
    reminders: int = 0
    digests: int = 0
    escalations: int = 0
    catch_ups: int = 0
    folded: int = 0  # reminders, digests and escalations folded into catch-up digests

    def summary(self) -> str:
        return (
            f"queued {self.reminders} reminder(s), {self.digests} digest(s), "
            f"{self.escalations} escalation(s), {self.catch_ups} catch-up digest(s)"
        )


@dataclass
class _CatchUp:
    reminders: int = 0
    digests: int = 0
    escalations: list[int] = field(default_factory=list)
    reminded: dict[int, None] = field(default_factory=dict)  # follow-ups, by due date, once

    @property
    def total(self) -> int:
        return self.reminders + self.digests + len(self.escalations)


class _Plan:
    """One pass's work: the messages to queue and what was folded, per person."""

    def __init__(self, ctx: Context, session: Session, since: datetime, now: datetime) -> None:
        self.ctx, self.session, self.since, self.now = ctx, session, since, now
        self.policy = Policy.from_config(ctx.config)
        self.late_before = now - timedelta(minutes=self.policy.catch_up_after_minutes)
        self.messages: list[Message] = []
        self.catch_up: dict[int, _CatchUp] = defaultdict(_CatchUp)
        self.result = Planned(since=since, until=now)
        self._staff: dict[str, list] = {}
        self._elsewhere: dict[int, object] = {}
        self._bounds: Bounds | None = None

    @property
    def bounds(self) -> Bounds:
        if self._bounds is None:
            self._bounds = protocol_bounds(self.session, self.ctx)
        return self._bounds

    def staff_at(self, site_code: str) -> list:
        if site_code not in self._staff:
            self._staff[site_code] = self.session.execute(
                sa.select(Staff.id, Staff.staff_id, Staff.site_code, Staff.roles, Staff.channel)
                .where(Staff.site_code == site_code, Staff.active.is_(True))
                .order_by(Staff.staff_id)
            ).all()
        return self._staff[site_code]

    def active_elsewhere(self, staff_id: int | None):
        """An active worker assigned across sites (rare): looked up one by one."""
        if staff_id is None:
            return None
        if staff_id not in self._elsewhere:
            self._elsewhere[staff_id] = self.session.execute(
                sa.select(
                    Staff.id, Staff.staff_id, Staff.site_code, Staff.roles, Staff.channel
                ).where(Staff.id == staff_id, Staff.active.is_(True))
            ).first()
        return self._elsewhere[staff_id]

    def supervisors(self, site_code: str) -> list:
        return [s for s in self.staff_at(site_code) if "supervisor" in s.roles.split(";")]

    def supervisors_for(self, row) -> list:
        """The site's supervisors for one follow-up; for hers, never the man's facilitator
        (the partner wall is by person, followup.operations.policy)."""
        everyone = self.supervisors(row.site_code)
        if row.partner_id is None:
            return everyone
        return [s for s in everyone if s.id != row.facilitator_id]

    def channel(self, staff) -> str:
        return preferred(staff, self.ctx.config.channels.default)

    def late(self, at: datetime) -> bool:
        return at <= self.late_before

    # --- the three kinds --------------------------------------------------------

    def reminders(self, sites: list[str], mornings: list[tuple[date, datetime]]) -> None:
        wanted: dict[date, list[tuple[int, datetime]]] = defaultdict(list)
        for day, at in mornings:
            for lead in self.policy.lead_days:
                wanted[day + timedelta(days=lead)].append((lead, at))
        rows = self.session.execute(
            sa.select(
                FollowUp.id,
                FollowUp.due_on,
                FollowUp.assigned_staff_id,
                FollowUp.partner_id,
                Participant.site_code,
                Participant.facilitator_id,
                Partner.plan_sealed,  # hers only, for the due day's safe window
            )
            .join(Participant, Participant.id == FollowUp.participant_id)
            .outerjoin(Partner, Partner.id == FollowUp.partner_id)
            .where(
                FollowUp.status == PENDING,
                FollowUp.due_on.in_(sorted(wanted)),
                Participant.site_code.in_(sites),
            )
            .order_by(FollowUp.due_on, FollowUp.id)
        ).all()
        staff = {s.id: s for site_code in sites for s in self.staff_at(site_code)}
        for row in rows:
            worker = staff.get(row.assigned_staff_id) or self.active_elsewhere(
                row.assigned_staff_id
            )
            recipients = [worker] if worker is not None else self.supervisors_for(row)
            for lead, at in wanted[row.due_on]:
                if lead == 0 and row.partner_id is not None:
                    at = self.before_her_window(row)
                for person in recipients:
                    if self.late(at):
                        folded = self.catch_up[person.id]
                        folded.reminders += 1
                        folded.reminded.setdefault(row.id)
                        continue
                    self.messages.append(
                        Message(
                            key=f"reminder:{row.id}:{lead}:{row.due_on.isoformat()}:{person.id}"
                            if worker is None
                            else f"reminder:{row.id}:{lead}:{row.due_on.isoformat()}",
                            kind="reminder",
                            staff_id=person.id,
                            channel=self.channel(person),
                            not_before=at,
                            followup_id=row.id,
                            payload={"lead_days": lead, "due_on": row.due_on},
                        )
                    )
                    self.result.reminders += 1

    def before_her_window(self, row) -> datetime:
        """Her worker's due-day reminder: `partner_lead_minutes` before her first safe
        window that day (followup.dispatch.timing.partner_reminder_at); the plan is
        opened only for the partner follow-ups due in this pass's mornings."""
        return partner_reminder_at(
            row.due_on,
            her_plan(self.ctx, row),
            site_zone(self.ctx.config, row.site_code),
            self.policy.partner_lead,
            self.policy.quiet,
        )

    def escalations(self, sites: list[str], mornings: list[tuple[date, datetime]]) -> None:
        closed = {
            day - timedelta(days=1 + self.policy.escalate_after_days): at for day, at in mornings
        }
        first, last = min(closed), max(closed)
        rows = self.session.execute(
            sa.select(
                FollowUp.id,
                FollowUp.window_closes_on,
                FollowUp.partner_id,
                Participant.site_code,
                Participant.facilitator_id,
            )
            .join(Participant, Participant.id == FollowUp.participant_id)
            .where(
                FollowUp.status == PENDING,
                # Tried at least once: it reads as unreachable (followup.lost.status_on),
                # not as "not done", so nobody is told it was left undone.
                FollowUp.attempts == 0,
                FollowUp.due_on.between(first - timedelta(days=self.bounds.window_after), last),
                FollowUp.window_closes_on.in_(sorted(closed)),
                Participant.site_code.in_(sites),
            )
            .order_by(FollowUp.window_closes_on, FollowUp.id)
        ).all()
        for row in rows:
            at = closed[row.window_closes_on]
            for person in self.supervisors_for(row):
                if self.late(at):
                    self.catch_up[person.id].escalations.append(row.id)
                    continue
                self.messages.append(
                    Message(
                        key=f"escalation:{row.id}:{row.window_closes_on.isoformat()}:{person.id}",
                        kind="escalation",
                        staff_id=person.id,
                        channel=self.channel(person),
                        not_before=at,
                        followup_id=row.id,
                        payload={"window_closes_on": row.window_closes_on},
                    )
                )
                self.result.escalations += 1

    def digests(self, site_code: str, digests: list[tuple[date, datetime]]) -> None:
        staff = self.staff_at(site_code)
        if not staff:
            return
        last = max(day for day, _ in digests)
        for day, at in digests:
            worth = self.worth_a_digest(site_code, day, last=last)
            for person in staff:
                if person.id not in worth:
                    continue
                if self.late(at):
                    self.catch_up[person.id].digests += 1
                    continue
                self.messages.append(
                    Message(
                        key=f"digest:{person.id}:{day.isoformat()}",
                        kind="digest",
                        staff_id=person.id,
                        channel=self.channel(person),
                        not_before=at,
                        payload={"on": day},
                    )
                )
                self.result.digests += 1

    def worth_a_digest(self, site_code: str, day: date, *, last: date) -> set[int]:
        """The site's active staff with something overdue, due (window open) or falling
        due within `digest_days` on `day`. One EXISTS per person on the (assigned_staff_id,
        status, due_on) index, which stops at the first such follow-up: the oldest
        pending one, when there is a backlog, so the cost follows the staff, not the
        backlog."""
        horizon = max(self.policy.digest_days, self.bounds.window_before)
        something = sa.exists().where(
            FollowUp.assigned_staff_id == Staff.id,
            FollowUp.status == PENDING,
            FollowUp.due_on <= last + timedelta(days=horizon),
            # Overdue only when nobody tried: closed after an attempt reads as unreachable.
            sa.or_(FollowUp.window_closes_on >= day, FollowUp.attempts == 0),
            sa.or_(
                FollowUp.window_opens_on <= day,
                FollowUp.due_on <= day + timedelta(days=self.policy.digest_days),
            ),
        )
        return set(
            self.session.execute(
                sa.select(Staff.id).where(
                    Staff.site_code == site_code, Staff.active.is_(True), something
                )
            ).scalars()
        )

    def catch_ups(self) -> None:
        if not self.catch_up:
            return
        people = self.session.execute(
            sa.select(Staff.id, Staff.site_code, Staff.channel).where(
                Staff.id.in_(sorted(self.catch_up))
            )
        ).all()
        for person in people:
            folded = self.catch_up[person.id]
            zone = site_zone(self.ctx.config, person.site_code)
            self.messages.append(
                Message(
                    key=f"catch_up:{person.id}:{self.since.isoformat()}",
                    kind="catch_up",
                    staff_id=person.id,
                    channel=self.channel(person),
                    not_before=out_of_quiet_hours(self.now, zone, self.policy.quiet),
                    payload={
                        "since": self.since,
                        "until": self.now,
                        "reminders": folded.reminders,
                        "digests": folded.digests,
                        "escalations": folded.escalations[:MAX_LISTED_ESCALATIONS],
                        "escalations_total": len(folded.escalations),
                        # Named in the digest, so a supervisor's reminders about follow-ups
                        # nobody is assigned to are not only a count.
                        "reminded": list(folded.reminded)[:MAX_LISTED_FOLLOWUPS],
                        "reminded_total": len(folded.reminded),
                    },
                )
            )
            self.result.catch_ups += 1
            self.result.folded += folded.total


def plan(session: Session, ctx: Context, now: datetime, *, by: str) -> Planned:
    """Queue everything whose time came in (watermark, now], in the caller's transaction."""
    since = _take_watermark(session, ctx, now, by)
    if since >= now:
        return Planned(since=since, until=since)
    work = _Plan(ctx, session, since, now)
    by_zone: dict[str, list[str]] = defaultdict(list)
    for site_code, site in ctx.config.sites.items():
        by_zone[site.timezone].append(site_code)
    for codes in by_zone.values():  # centres in one zone share their mornings
        mornings = mornings_between(since, now, site_zone(ctx.config, codes[0]), work.policy.quiet)
        if mornings:
            work.reminders(codes, mornings)
            work.escalations(codes, mornings)
    for site_code, site in ctx.config.sites.items():
        digests = digests_between(
            since,
            now,
            site.zone,
            work.policy.quiet,
            work.policy.digest_time,
            work.policy.working_days,
            frozenset(site.holidays),
        )
        if digests:
            work.digests(site_code, digests)
    work.catch_ups()
    enqueue(session, work.messages, now=now)
    session.execute(
        sa.update(DispatchWatermark)
        .where(DispatchWatermark.name == PLANNER)
        .values(planned_until=now)
    )
    return work.result


def _take_watermark(session: Session, ctx: Context, now: datetime, by: str) -> datetime:
    """Lock the planner's row (so planners on several instances take turns) and read it.

    The first pass ever starts from the beginning of the current day at the centres, so a
    new deployment sends today's catch-up at once rather than waiting for tomorrow.
    """
    table = DispatchWatermark.__table__
    conn = session.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(table).values(name=PLANNER).on_conflict_do_nothing(index_elements=["name"])
    )
    since = conn.execute(
        table.update()
        .where(table.c.name == PLANNER)
        .values(planned_by=by, planned_at=now)
        .returning(table.c.planned_until)
    ).scalar_one()
    if since is None:
        # Just before local midnight, so a message due at 00:00 (no quiet hours) counts.
        day_starts = [start_of_day(now, site.zone) for site in ctx.config.sites.values()]
        since = min(day_starts) - timedelta(microseconds=1)
    return since.astimezone(UTC)
