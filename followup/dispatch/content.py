"""What a claimed message says, read from the database as it is now.

Each claimed row becomes `Ready` (the template data and the recipient) or `Gone` (no
longer worth sending: the follow-up was completed, moved, reassigned or cancelled — as
when she withdrew consent — or a digest has nothing left to say).

The template data holds case ids, checkpoint labels, dates, counts, attempt counts and
outcomes, staff names and links only. Nothing here selects a partner's contact details,
interview answers or notes: the queries below never touch those columns, so no template
can show them. Her safe-contact plan is opened (followup.dispatch.policy.her_plan) for
two things only — her due-day reminder's safe window and, after "not safe to talk", her
next safe time — and only the times of her windows leave it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from followup.context import Context
from followup.db import code_point_order
from followup.dispatch.outbox import payload_of
from followup.dispatch.policy import Bounds, Policy, her_plan, protocol_bounds, site_zone
from followup.dispatch.render import Templates
from followup.dispatch.timing import local_instant, partner_window, window_text
from followup.labels import CheckpointLabels
from followup.lost import UNSAFE_TO_TALK
from followup.models import (
    Event,
    FollowUp,
    Interview,
    Outbox,
    Participant,
    Partner,
    SafetyAlert,
    Staff,
)
from followup.safe_contact import SafeContactPlan
from followup.schedule import PENDING
from followup.vocab import VIOLENCE_TYPES

log = logging.getLogger("followup.dispatch")

MAX_LISTED = 20  # per section of a digest; the rest are counted and on the web page
# How long a failing message other than a reminder or an alert is worth retrying.
STALE_AFTER = {"escalation": timedelta(days=7)}

STAFF_COLUMNS = (
    Staff.id,
    Staff.staff_id,
    Staff.name,
    Staff.phone,
    Staff.email,
    Staff.channel,
    Staff.language,
    Staff.site_code,
    Staff.channel_problem,
    Staff.active,
    Staff.roles,
)


def _followup_query() -> sa.Select:
    worker = aliased(Staff)
    return (
        sa.select(
            FollowUp.id,
            FollowUp.checkpoint,
            FollowUp.occurrence,
            FollowUp.partner_id,
            FollowUp.due_on,
            FollowUp.window_opens_on,
            FollowUp.window_closes_on,
            FollowUp.status,
            FollowUp.assigned_staff_id,
            FollowUp.attempts,
            FollowUp.last_attempt_outcome,
            Participant.case_id,
            Participant.site_code,
            Participant.protocol_revision,
            worker.staff_id.label("assigned_to"),
            worker.active.label("assigned_active"),
        )
        .join(Participant, Participant.id == FollowUp.participant_id)
        .outerjoin(worker, worker.id == FollowUp.assigned_staff_id)
    )


# Built once: building it (an aliased worker, labels) costs more than running it.
_FOLLOWUP_QUERY = _followup_query()


@dataclass(frozen=True)
class _Worklist:
    """A worklist's statements, built once with bound parameters (`person`, `day`,
    `until`: the end of the horizon, `soon`: the end of `digest_days`): building and
    keying a statement costs more than running it on a person's index range."""

    counts: sa.Select
    lists: dict[str, sa.Select]
    order: tuple  # of each list


def _worklist_statements(dialect: str) -> _Worklist:
    day = sa.bindparam("day", type_=sa.Date)
    mine = sa.and_(
        FollowUp.assigned_staff_id == sa.bindparam("person", type_=sa.Integer),
        FollowUp.status == PENDING,
        FollowUp.due_on <= sa.bindparam("until", type_=sa.Date),
    )
    still_open = FollowUp.window_closes_on >= day
    sections = {
        # Closed after an attempt reads as unreachable (followup.lost.status_on): not
        # overdue, off the list.
        "overdue": sa.and_(FollowUp.window_closes_on < day, FollowUp.attempts == 0),
        "due": sa.and_(still_open, FollowUp.window_opens_on <= day),
        "upcoming": sa.and_(
            still_open,
            FollowUp.window_opens_on > day,
            FollowUp.due_on <= sa.bindparam("soon", type_=sa.Date),
        ),
    }
    counts = sa.select(
        *(sa.func.count(sa.case((where, 1))).label(name) for name, where in sections.items())
    ).where(mine)
    order = (FollowUp.due_on, code_point_order(Participant.case_id, dialect), FollowUp.id)
    lists = {
        name: _FOLLOWUP_QUERY.where(mine, where).order_by(*order).limit(MAX_LISTED)
        for name, where in sections.items()
    }
    return _Worklist(counts, lists, order)


_WORKLISTS: dict[str, _Worklist] = {}


@dataclass(frozen=True)
class Recipient:
    """A member of staff as the sender needs them (their own data, not survivors')."""

    id: int
    staff_id: str
    name: str
    phone: str | None
    email: str | None
    channel: str | None
    language: str | None
    site_code: str
    channel_problem: str | None
    active: bool
    roles: str

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(";") if r)


def recipient(row) -> Recipient:
    return Recipient(**row._mapping)


@dataclass(frozen=True)
class Ready:
    id: int
    key: str
    kind: str
    channel: str
    attempts: int
    in_doubt: bool
    not_before: datetime
    followup_id: int | None
    staff: Recipient
    language: str
    data: dict
    in_doubt_since: datetime | None = None
    failing_since: datetime | None = None
    useful_until: datetime | None = None  # None: never given up (safety alerts)


@dataclass(frozen=True)
class Gone:
    id: int
    reason: str


@dataclass(frozen=True)
class Broken:
    """Building the message failed (a bug, a damaged row): retried, then given up."""

    id: int
    key: str
    kind: str
    attempts: int
    staff: Recipient
    error: str
    failing_since: datetime | None = None
    useful_until: datetime | None = None


class NotWorthSending(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ContentBuilder:
    def __init__(self, session: Session, ctx: Context, templates: Templates, now: datetime) -> None:
        self.session, self.ctx, self.templates, self.now = session, ctx, templates, now
        self.policy = Policy.from_config(ctx.config)
        self.base = ctx.config.web.base_url.rstrip("/")
        self._bounds: Bounds | None = None
        self._labels: dict[str, CheckpointLabels] = {}

    @property
    def bounds(self) -> Bounds:
        if self._bounds is None:
            self._bounds = protocol_bounds(self.session, self.ctx)
        return self._bounds

    def link(self, path: str) -> str:
        return self.base + path

    # --- loading ----------------------------------------------------------------

    def prepare(self, ids: list[int]) -> list[Ready | Gone | Broken]:
        rows = (
            self.session.execute(sa.select(Outbox).where(Outbox.id.in_(ids)).order_by(Outbox.id))
            .scalars()
            .all()
        )
        staff = self.staff({r.staff_id for r in rows})
        followup_ids = {r.followup_id for r in rows if r.followup_id}
        for r in rows:
            if r.kind == "catch_up":
                followup_ids.update(payload_of(r).get("escalations", []))
                followup_ids.update(payload_of(r).get("reminded", []))
        followups = self.followups(followup_ids)
        out: list[Ready | Gone | Broken] = []
        for row in rows:
            if row.status != "pending":
                continue  # settled by someone else since the claim
            person = staff.get(row.staff_id)
            if person is None or not person.active:
                out.append(Gone(row.id, "recipient no longer active"))
                continue
            language = self.language(person)
            useful_until = self.useful_until(row, person, followups)
            try:
                data = self.build(row, person, language, followups, staff)
            except NotWorthSending as gone:
                out.append(Gone(row.id, gone.reason))
                continue
            except Exception as error:  # one broken message must not stop the others
                log.exception("outbox %s: could not build the message", row.key)
                out.append(
                    Broken(
                        row.id,
                        row.key,
                        row.kind,
                        row.attempts,
                        person,
                        f"internal error ({type(error).__name__})",
                        failing_since=row.failing_since,
                        useful_until=useful_until,
                    )
                )
                continue
            out.append(
                Ready(
                    id=row.id,
                    key=row.key,
                    kind=row.kind,
                    channel=row.channel,
                    attempts=row.attempts,
                    in_doubt=row.in_doubt,
                    not_before=row.not_before,
                    followup_id=row.followup_id,
                    staff=person,
                    language=language,
                    data=data,
                    in_doubt_since=row.in_doubt_since,
                    failing_since=row.failing_since,
                    useful_until=useful_until,
                )
            )
        return out

    def useful_until(self, row, person, followups: dict) -> datetime | None:
        """Until when a message is worth retrying: a reminder until its follow-up's window
        closes (the end of that day at the centre), a safety alert for ever, the others
        until they are stale (the next digest, a week for an escalation)."""
        if row.kind == "alert":
            return None
        f = followups.get(row.followup_id) if row.kind == "reminder" else None
        if f is not None:
            zone = site_zone(self.ctx.config, f.site_code)
            return local_instant(f.window_closes_on + timedelta(days=1), time(0, 0), zone)
        return row.not_before + STALE_AFTER.get(row.kind, timedelta(days=1))

    def staff(self, ids: set[int]) -> dict[int, object]:
        if not ids:
            return {}
        rows = self.session.execute(sa.select(*STAFF_COLUMNS).where(Staff.id.in_(sorted(ids))))
        return {r.id: recipient(r) for r in rows}

    def followups(self, ids: set[int]) -> dict[int, object]:
        if not ids:
            return {}
        query = self.followup_query()
        found = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), 1000):
            for row in self.session.execute(
                query.where(FollowUp.id.in_(ordered[start : start + 1000]))
            ):
                found[row.id] = row
        return found

    @staticmethod
    def followup_query() -> sa.Select:
        """A follow-up with what a message shows of it: its case and assigned worker."""
        return _FOLLOWUP_QUERY

    def language(self, person) -> str:
        if person.language:
            return person.language
        site = self.ctx.config.sites.get(person.site_code)
        return site.language if site else "en"

    # --- per kind -------------------------------------------------------------------

    def build(self, row, person, language: str, followups: dict, staff: dict) -> dict:
        site = self.ctx.config.sites.get(person.site_code)
        common = {
            "staff_name": person.name,
            "staff_id": person.staff_id,
            "site_name": site.name if site else person.site_code,
            "base_url": self.base,
        }
        payload = payload_of(row)
        builder = getattr(self, f"_{row.kind}")
        return {**common, **builder(row, person, language, payload, followups, staff)}

    def _reminder(self, row, person, language, payload, followups, staff) -> dict:
        f = self._pending(followups.get(row.followup_id))
        if f.due_on.isoformat() != payload["due_on"]:
            raise NotWorthSending("follow-up moved to another date")
        if f.assigned_staff_id not in (None, person.id) and f.assigned_active:
            raise NotWorthSending("follow-up reassigned")
        return {
            **self.item(f, language),
            "lead_days": payload["lead_days"],
            "safe_window": self.safe_window(f),
        }

    def _escalation(self, row, person, language, payload, followups, staff) -> dict:
        f = self._pending(followups.get(row.followup_id))
        if f.window_closes_on.isoformat() != payload["window_closes_on"]:
            raise NotWorthSending("follow-up window moved")
        if f.attempts:
            raise NotWorthSending("follow-up unreachable (tried, window closed)")
        return self.item(f, language, with_worker=True)

    def _digest(self, row, person, language, payload, followups, staff) -> dict:
        data = self.worklist(person, date.fromisoformat(payload["on"]), language)
        if not any(data["counts"].values()):
            raise NotWorthSending("nothing left to say")
        return data

    def _catch_up(self, row, person, language, payload, followups, staff) -> dict:
        zone = site_zone(self.ctx.config, person.site_code)
        today = self.now.astimezone(zone).date()
        escalations = [
            self.item(f, language, with_worker=True)
            for i in payload.get("escalations", [])
            if (f := followups.get(i)) is not None and f.status == PENDING and not f.attempts
        ]
        reminded = [
            f
            for i in payload.get("reminded", [])
            if (f := followups.get(i)) is not None and f.status == PENDING
        ]
        gap = (
            datetime.fromisoformat(payload["since"]).astimezone(zone).date(),
            datetime.fromisoformat(payload["until"]).astimezone(zone).date(),
        )
        # Reminded in the gap, or its due date or a window edge fell in it.
        fell_due_in_the_gap = sa.or_(
            FollowUp.id.in_(sorted({f.id for f in reminded})),
            *(
                column.between(*gap)
                for column in (
                    FollowUp.due_on,
                    FollowUp.window_opens_on,
                    FollowUp.window_closes_on,
                )
            ),
        )
        worklist = self.worklist(person, today, language, first=fell_due_in_the_gap)
        # Reminders about follow-ups not on the person's own list (a supervisor's, for
        # follow-ups nobody active is assigned to) are named here, not only counted.
        others = [f for f in reminded if not self.on_worklist(f, person, today)]
        held = {
            "reminders": payload["reminders"],
            "digests": payload["digests"],
            "escalations": payload["escalations_total"],
        }

        def local(
            text: str,
        ) -> str:  # to the nearest minute: the first pass starts at 23:59:59.999999
            moment = datetime.fromisoformat(text).astimezone(zone) + timedelta(seconds=30)
            return moment.strftime("%Y-%m-%d %H:%M")

        return {
            **worklist,
            "reminded": [self.item(f, language, with_worker=True) for f in others[:MAX_LISTED]],
            "reminded_total": len(others),
            "site_link": self.link("/followups?scope=site"),
            "since": local(payload["since"]),
            "until": local(payload["until"]),
            "held": held,
            "held_total": sum(held.values()),
            "escalations": escalations,
            "escalations_total": len(escalations),
        }

    def _alert(self, row, person, language, payload, followups, staff) -> dict:
        alert = self.session.execute(
            sa.select(
                SafetyAlert.id,
                SafetyAlert.interview_id,
                SafetyAlert.event_id,
                SafetyAlert.raised_at,
                Participant.case_id,
            )
            .join(Participant, Participant.id == SafetyAlert.participant_id)
            .where(SafetyAlert.id == row.alert_id)
        ).one()
        what = "violence"
        if alert.interview_id is not None:
            source, reported_by = "partner_interview", "partner"
            interview = self.session.execute(
                sa.select(Interview).where(Interview.id == alert.interview_id)
            ).scalar_one()
            reported_on = interview.conducted_on
            # No violence reported, an instrument's score in its alert band raised it
            # (followup.record): say so, not "new violence" (never which items).
            if interview.instrument_revision is not None and not any(
                getattr(interview, kind) is True for kind in VIOLENCE_TYPES
            ):
                what = "risk_band"
        else:
            event = self.session.execute(
                sa.select(Event.reported_on, Event.occurred_on, Event.source).where(
                    Event.id == alert.event_id
                )
            ).one()
            source, reported_by = "recidivism", event.source
            reported_on = event.reported_on or event.occurred_on
        return {
            "case_id": alert.case_id,
            "what": what,
            "source": source,
            "reported_by": reported_by,
            "reported_on": reported_on,
            "link": self.link(f"/alerts/{alert.id}"),
            "alerts_link": self.link("/alerts"),
        }

    def _delivery_problem(self, row, person, language, payload, followups, staff) -> dict:
        """What is affected at the supervisor's site since their last notice: messages
        still failing, given up, refused for good (re-sent by the fallback channel), or
        that got through after trouble — per colleague, with the latest reason."""
        zone = site_zone(self.ctx.config, person.site_code)
        since = self.session.execute(
            sa.select(sa.func.max(Outbox.sent_at)).where(
                Outbox.kind == "delivery_problem",
                Outbox.staff_id == person.id,
                Outbox.id != row.id,
            )
        ).scalar() or row.not_before - timedelta(days=1)
        found = self.session.execute(
            sa.select(
                Outbox.staff_id,
                Outbox.status,
                Outbox.channel,
                Outbox.last_error,
                Outbox.failing_since,
                Staff.name,
                Staff.staff_id.label("code"),
            )
            .join(Staff, Staff.id == Outbox.staff_id)
            .where(
                Outbox.failing_since.is_not(None),
                Outbox.kind != "delivery_problem",
                Staff.site_code == person.site_code,
                sa.or_(Outbox.status == "pending", Outbox.updated_at > since),
            )
            .order_by(Outbox.failing_since, Outbox.id)
        ).all()
        colleagues: dict[int, dict] = {}
        for r in found:
            entry = colleagues.setdefault(
                r.staff_id,
                {
                    "about_name": r.name,
                    "about_staff_id": r.code,
                    "since": r.failing_since.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    "retrying": 0,
                    "gave_up": 0,
                    "refused": 0,
                    "late": 0,
                    "late_by": [],
                    "reason": None,
                },
            )
            state = {"pending": "retrying", "dead": "gave_up", "failed": "refused"}.get(
                r.status, "late"
            )
            entry[state] += 1
            if state == "late" and r.channel not in entry["late_by"]:
                entry["late_by"].append(r.channel)
            if r.last_error and state != "late":
                entry["reason"] = r.last_error
        if not colleagues:
            raise NotWorthSending("nothing left to say")
        entries = list(colleagues.values())
        return {
            **{
                f"{state}_total": sum(e[state] for e in entries)
                for state in ("retrying", "gave_up", "refused", "late")
            },
            "entries": entries[:MAX_LISTED],
            "entries_total": len(entries),
            "messages_total": len(found),
            "fallback": self.ctx.config.channels.fallback,
            "link": self.link("/followups"),
        }

    # --- pieces -----------------------------------------------------------------------

    @staticmethod
    def _pending(f):
        if f is None:
            raise NotWorthSending("follow-up no longer exists")
        if f.status != PENDING:
            raise NotWorthSending(f"follow-up {f.status}")
        return f

    def item(self, f, language: str, *, with_worker: bool = False) -> dict:
        subject = "participant" if f.partner_id is None else "partner"
        return {
            "attempts": f.attempts,
            "last_attempt_outcome": f.last_attempt_outcome,
            # She said it was not safe to talk: her worker tries again at her next safe
            # time (`retry_at`, set on her worker's own list), nobody is told it was undone.
            "unsafe_to_talk": f.last_attempt_outcome == UNSAFE_TO_TALK,
            "retry_at": None,
            "case_id": f.case_id,
            "subject": subject,
            "checkpoint": self.label(language, f.protocol_revision, f.checkpoint, subject),
            "occurrence": f.occurrence,
            "due_on": f.due_on,
            "window_opens_on": f.window_opens_on,
            "window_closes_on": f.window_closes_on,
            "assigned_to": f.assigned_to if with_worker else None,
            "link": self.link(f"/followups/{f.id}"),
        }

    def label(self, language: str, revision: str, name: str, subject: str) -> str:
        """The checkpoint's label from its protocol, as the web pages show it."""
        if language not in self._labels:
            self._labels[language] = CheckpointLabels(self.session, self.ctx, language)
        return self._labels[language](revision, name, subject)

    def worklist(
        self,
        person,
        day: date,
        language: str,
        *,
        first: sa.ColumnElement[bool] | None = None,
    ) -> dict:
        """A person's pending follow-ups on `day`: overdue, due (window open), upcoming.
        Each section lists by due date, those `first` picks out ahead of the rest.

        Reads what the message shows, whatever the backlog: the counts by one aggregate,
        then the first MAX_LISTED of each non-empty section (LIMIT), each on the assigned
        worker's (assigned_staff_id, status, due_on) index range."""
        dialect = self.session.get_bind().dialect.name
        if dialect not in _WORKLISTS:
            _WORKLISTS[dialect] = _worklist_statements(dialect)
        statements = _WORKLISTS[dialect]
        horizon = max(self.policy.digest_days, self.bounds.window_before)
        params = {
            "person": person.id,
            "day": day,
            "until": day + timedelta(days=horizon),
            "soon": day + timedelta(days=self.policy.digest_days),
        }
        counts = dict(self.session.execute(statements.counts, params).one()._mapping)
        listed: dict[str, list] = {}
        for name, query in statements.lists.items():
            if first is not None:
                query = query.order_by(None).order_by(
                    sa.case((first, 0), else_=1), *statements.order
                )
            listed[name] = self.session.execute(query, params).all() if counts[name] else []
        return {
            "on": day,
            "upcoming_days": self.policy.digest_days,
            "link": self.link("/followups"),
            "counts": counts,
            **{name: [self.own_item(f, language) for f in rows] for name, rows in listed.items()},
        }

    def own_item(self, f, language: str) -> dict:
        """An item of the person's own list: for her follow-up after "not safe to talk",
        with the time of her next safe window (her worker's list: she is assigned)."""
        shown = self.item(f, language)
        if shown["unsafe_to_talk"] and f.partner_id is not None:
            shown["retry_at"] = self.next_safe_time(f)
        return shown

    # --- her plan: the times of her safe windows, nothing else ------------------------

    def her_plan(self, f) -> SafeContactPlan | None:
        row = self.session.execute(
            sa.select(Partner.id.label("partner_id"), Partner.plan_sealed).where(
                Partner.id == f.partner_id
            )
        ).first()
        return her_plan(self.ctx, row) if row is not None else None

    def safe_window(self, f) -> str | None:
        """ "10:00–12:00": her first safe window on the due day that her worker can still
        be reminded of (the window the reminder was timed for), or None."""
        if f.partner_id is None:
            return None
        zone = site_zone(self.ctx.config, f.site_code)
        window = partner_window(f.due_on, self.her_plan(f), zone, self.policy.quiet)
        return window_text(window) if window is not None else None

    def next_safe_time(self, f) -> str | None:
        """When her next safe window opens (now, if one is open), at her site: the time
        only ("2026-03-24 10:00"); None when her plan records no safe times."""
        zone = site_zone(self.ctx.config, f.site_code)
        plan = self.her_plan(f)
        local_now = self.now.astimezone(zone).replace(tzinfo=None)
        window = plan.next_window(local_now) if plan is not None else None
        if window is None:
            return None
        return max(window[0], local_now).strftime("%Y-%m-%d %H:%M")

    def on_worklist(self, f, person, day: date) -> bool:
        """Whether a pending follow-up (a `followups` row) is in one of the person's
        worklist sections on `day` — the Python twin of `_worklist_statements`."""
        horizon = max(self.policy.digest_days, self.bounds.window_before)
        return (
            f.assigned_staff_id == person.id
            and f.due_on <= day + timedelta(days=horizon)
            and not (f.window_closes_on < day and f.attempts)  # unreachable, off the list
            and (
                f.window_opens_on <= day
                or f.window_closes_on < day
                or f.due_on <= day + timedelta(days=self.policy.digest_days)
            )
        )
