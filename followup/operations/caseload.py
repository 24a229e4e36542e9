"""What is due: one query and one set of status words for every view of a caseload.

`followup due`, My follow-ups (and the site-wide list) and the calendar feed all read
pending follow-ups through `_pending` below, cut by the policy's `followup_scope`, and
say where each stands with `status_on`:

- `overdue`    its window has closed;
- `due`        its window is open;
- `scheduled`  its window has not opened yet.

My follow-ups lays these out by date as well (`group_of`): overdue, today (due, and its
due date has come), this week, upcoming — a layout of the same words, not a second set.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from followup.audit import audit
from followup.context import Context
from followup.db import code_point_order
from followup.models import FollowUp, Participant, Partner, Staff
from followup.operations import policy
from followup.operations.policy import Principal
from followup.schedule import PENDING

STATUSES = ("overdue", "due", "scheduled")
GROUPS = ("overdue", "today", "week", "upcoming")  # My follow-ups' sections
UPCOMING_DAYS = 42  # My follow-ups looks six weeks ahead
SITE_LIST_LIMIT = 500
CALENDAR_PAST_DAYS = 90  # overdue follow-ups stay in the calendar feed this long


def status_on(opens: date, closes: date, today: date) -> str:
    """Where a pending follow-up stands on `today` (the site's own today)."""
    if today > closes:
        return "overdue"
    return "due" if today >= opens else "scheduled"


def group_of(status: str, due_on: date, today: date) -> str:
    """My follow-ups' section for a pending follow-up with this status."""
    if status == "overdue":
        return "overdue"
    if status == "due" and due_on <= today:
        return "today"
    if due_on <= today + timedelta(days=6):
        return "week"
    return "upcoming"


# --- the rows every view reads -----------------------------------------------------------


@dataclass(frozen=True)
class FollowUpRow:
    id: int
    case_id: str
    site: str
    subject: str  # participant | partner
    partner_id: str | None  # only when this person may open her record
    checkpoint: str
    label: str
    occurrence: int
    due_on: date
    window_opens_on: date
    window_closes_on: date
    provisional: bool
    status: str  # scheduled | completed | missed | cancelled (the stored status)
    timing: str | None  # pending ones: their section of My follow-ups (GROUPS)
    completed_on: date | None = None
    assigned_to: str | None = None
    safe_hours: str | None = None  # her safe-contact rules: partner-support workers only
    channel: str | None = None


class Labels:
    """Checkpoint titles from each enrolment's own protocol revision."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx, self.cache = session, ctx, {}

    def __call__(self, revision: str, name: str, subject: str) -> str:
        key = (revision, name, subject)
        if key not in self.cache:
            checkpoint = self.ctx.protocol_at(self.session, revision).checkpoint(name, subject)
            self.cache[key] = checkpoint.title if checkpoint else name.replace("_", " ")
        return self.cache[key]


_WORKER = aliased(Staff)
_COLUMNS = (
    FollowUp.id,
    FollowUp.partner_id.label("partner_pk"),
    FollowUp.checkpoint,
    FollowUp.occurrence,
    FollowUp.due_on,
    FollowUp.window_opens_on,
    FollowUp.window_closes_on,
    FollowUp.provisional,
    FollowUp.status,
    FollowUp.completed_on,
    FollowUp.updated_at,
    Participant.case_id,
    Participant.site_code,
    Participant.protocol_revision,
    Participant.facilitator_id,
    Partner.partner_id,
    Partner.safe_hours,
    Partner.channel,
    _WORKER.name.label("worker"),
    _WORKER.staff_id.label("worker_id"),
)


def select_followups():
    """Follow-ups with their case, partner and assigned worker (no policy applied)."""
    return (
        sa.select(*_COLUMNS)
        .join(Participant, Participant.id == FollowUp.participant_id)
        .outerjoin(Partner, Partner.id == FollowUp.partner_id)
        .outerjoin(_WORKER, _WORKER.id == FollowUp.assigned_staff_id)
    )


def followup_row(r, p: Principal, labels: Labels, today: date | None) -> FollowUpRow:
    subject = "participant" if r.partner_pk is None else "partner"
    hers = subject == "partner" and policy.view_partner(p, r.site_code, r.facilitator_id)
    pending = r.status == PENDING and today is not None
    status = status_on(r.window_opens_on, r.window_closes_on, today) if pending else None
    return FollowUpRow(
        id=r.id,
        case_id=r.case_id,
        site=r.site_code,
        subject=subject,
        partner_id=r.partner_id if hers else None,
        checkpoint=r.checkpoint,
        label=labels(r.protocol_revision, r.checkpoint, subject),
        occurrence=r.occurrence,
        due_on=r.due_on,
        window_opens_on=r.window_opens_on,
        window_closes_on=r.window_closes_on,
        provisional=bool(r.provisional),
        status=r.status,
        timing=group_of(status, r.due_on, today) if pending else None,
        completed_on=r.completed_on,
        assigned_to=r.worker,
        safe_hours=r.safe_hours if hers else None,
        channel=r.channel if hers else None,
    )


def _pending(
    p: Principal,
    todays: dict[str, date],
    *,
    days: int | None,
    mine: bool = False,
    staff: str | None = None,
    closed_since: date | None = None,
):
    """THE caseload query: pending follow-ups this person may see at these sites (keys of
    `todays`, each with its own today), whose window is open or whose due date falls
    within `days` (None: no limit), plus everything overdue (since `closed_since`)."""
    per_site = [
        sa.and_(
            Participant.site_code == code,
            sa.true()
            if days is None
            else sa.or_(
                FollowUp.window_opens_on <= today,
                FollowUp.due_on <= today + timedelta(days=days),
            ),
        )
        for code, today in todays.items()
    ]
    query = select_followups().where(
        FollowUp.status == PENDING, sa.or_(*per_site), policy.followup_scope(p)
    )
    if mine:
        query = query.where(FollowUp.assigned_staff_id == p.staff_pk)
    if staff:
        query = query.where(_WORKER.staff_id == staff)
    if closed_since is not None:
        query = query.where(FollowUp.window_closes_on >= closed_since)
    return query


# --- `followup due` ------------------------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
    case_id: str
    subject: str  # participant | partner
    partner_id: str | None  # pseudonymous id, never her name or contact details
    checkpoint: str
    occurrence: int
    due_on: date
    window_opens_on: date
    window_closes_on: date
    status: str  # STATUSES
    assigned_to: str | None
    site: str
    provisional: bool  # placed on an expected date; moves when the real date is recorded
    followup_id: int

    def to_json(self) -> dict:
        # Field by field, in order (what `asdict` gives, without its deep copies: a
        # long `due` spends more on those than on reading the rows).
        data = {name: getattr(self, name) for name in _DUE_FIELDS}
        for key in ("due_on", "window_opens_on", "window_closes_on"):
            data[key] = data[key].isoformat()
        return data


_DUE_FIELDS = tuple(f.name for f in fields(DueItem))


def list_due(
    session: Session,
    ctx: Context,
    p: Principal,
    *,
    as_of: date | None = None,
    days: int = 7,
    site: str | None = None,
    staff: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[DueItem]:
    """Overdue, due, and falling due in the next `days` days, as of each site's today
    (or `as_of`); the partner's id only to those who may open her record. In DUE_ORDER;
    `limit` and `offset` cut a page of it (see `due_items`)."""
    return list(
        due_items(
            session,
            ctx,
            p,
            as_of=as_of,
            days=days,
            site=site,
            staff=staff,
            limit=limit,
            offset=offset,
        )
    )


DUE_ORDER = (
    "status (overdue, due, scheduled), due date, case id, participant before partner, occurrence"
)
FETCH_BATCH = 500  # rows a streaming read holds at once


def due_items(
    session: Session,
    ctx: Context,
    p: Principal,
    *,
    as_of: date | None = None,
    days: int = 7,
    site: str | None = None,
    staff: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Iterator[DueItem]:
    """`list_due`, yielded as the rows are read (memory flat in the size of the list),
    within the caller's session.

    Ordered in SQL (DUE_ORDER, then the follow-up's id so ties are stable): one query
    per status, each walking the (status, due_on) index, so a page (`limit`, `offset`)
    costs what it shows (and an `offset` the rows it skips), not the backlog. An
    `offset` past a whole status counts that status's rows (an aggregate) to skip it."""
    sites = [site] if site else list(ctx.config.sites)
    todays = {code: as_of or ctx.site_today(code) for code in sites}
    pending = _pending(p, todays, days=days, staff=staff)
    dialect = session.get_bind().dialect.name
    order = (
        FollowUp.due_on,
        code_point_order(Participant.case_id, dialect),
        FollowUp.partner_id.is_not(None),  # "participant" sorts before "partner"
        FollowUp.occurrence,
        FollowUp.id,
    )
    left = limit
    skip = max(offset, 0)
    for status in STATUSES:
        if left is not None and left <= 0:
            return
        query = pending.where(_status_is(status, todays))
        page = query.order_by(*order).offset(skip or None).limit(left)
        found = False
        for r in session.execute(page.execution_options(yield_per=FETCH_BATCH)):
            found = True
            subject = "participant" if r.partner_pk is None else "partner"
            hers = subject == "partner" and policy.view_partner(p, r.site_code, r.facilitator_id)
            if left is not None:
                left -= 1
            yield DueItem(
                case_id=r.case_id,
                subject=subject,
                partner_id=r.partner_id if hers else None,
                checkpoint=r.checkpoint,
                occurrence=r.occurrence,
                due_on=r.due_on,
                window_opens_on=r.window_opens_on,
                window_closes_on=r.window_closes_on,
                status=status,
                assigned_to=r.worker_id,
                site=r.site_code,
                provisional=bool(r.provisional),
                followup_id=r.id,
            )
        if found or not skip:
            skip = 0
        else:  # the offset is past this status: count it (one aggregate) to skip it
            skip -= session.execute(
                sa.select(sa.func.count()).select_from(query.subquery())
            ).scalar_one()
            skip = max(skip, 0)


def _status_is(status: str, todays: dict[str, date]) -> sa.ColumnElement[bool]:
    """`status_on` as a condition: pending follow-ups with this status at their site."""

    def at(today: date) -> sa.ColumnElement[bool]:
        if status == "overdue":
            return FollowUp.window_closes_on < today
        if status == "due":
            return sa.and_(FollowUp.window_closes_on >= today, FollowUp.window_opens_on <= today)
        return sa.and_(FollowUp.window_closes_on >= today, FollowUp.window_opens_on > today)

    days = set(todays.values())
    if len(days) == 1:  # every site on the same day (`as_of`, or one zone): no per-site OR
        return at(days.pop())
    return sa.or_(
        *(sa.and_(Participant.site_code == code, at(today)) for code, today in todays.items())
    )


# --- My follow-ups -------------------------------------------------------------------------


@dataclass
class FollowUpList:
    groups: dict[str, list[FollowUpRow]]
    truncated: bool = False
    partners_shown: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(self.groups.values())


def followup_list(
    session: Session, ctx: Context, p: Principal, *, site_wide: bool = False
) -> FollowUpList:
    """Pending follow-ups: overdue, due today, this week, the next six weeks.

    Mine: those assigned to this person — one index range (assigned worker, status, due
    date), so the page costs the same with ten thousand or a million enrolled. Site-wide
    (supervisors, administrators): everyone's at their site, the first SITE_LIST_LIMIT.
    Her safe hours and channel are partner data: showing them is an audited read.
    """
    if not policy.list_followups(p) or (site_wide and not policy.list_site_followups(p)):
        raise policy.Forbidden()
    codes = policy.followup_sites(p, ctx.config.sites) if site_wide else ctx.config.sites
    todays = {code: ctx.site_today(code) for code in codes}
    query = _pending(p, todays, days=UPCOMING_DAYS, mine=not site_wide)
    if site_wide:
        query = query.order_by(FollowUp.due_on, FollowUp.id).limit(SITE_LIST_LIMIT + 1)
    rows = session.execute(query).all()
    truncated = site_wide and len(rows) > SITE_LIST_LIMIT
    labels = Labels(session, ctx)
    groups: dict[str, list[FollowUpRow]] = {name: [] for name in GROUPS}
    for r in rows[:SITE_LIST_LIMIT]:
        row = followup_row(r, p, labels, todays[r.site_code])
        groups[row.timing].append(row)
    for rows_in_group in groups.values():
        rows_in_group.sort(key=lambda f: (f.due_on, f.case_id, f.subject, f.occurrence))
    shown = sorted({f.partner_id for g in groups.values() for f in g if f.partner_id})
    if shown:
        audit(session, p.actor, "read_partner", "followups", None, partners=shown[:200])
    return FollowUpList(groups=groups, truncated=truncated, partners_shown=shown)


# --- the calendar feed ---------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEntry:
    id: int
    case_id: str
    checkpoint: str
    occurrence: int
    due_on: date
    window_opens_on: date
    window_closes_on: date
    updated_at: datetime


def calendar_entries(
    session: Session, ctx: Context, p: Principal, sites: Iterable[str] | None = None
) -> list[CalendarEntry]:
    """Every pending follow-up assigned to this person (overdue ones for
    CALENDAR_PAST_DAYS), with no more than a calendar may carry."""
    now = ctx.now()
    todays = {code: ctx.site_today(code) for code in (sites or ctx.config.sites)}
    earliest = now.date() - timedelta(days=CALENDAR_PAST_DAYS)
    query = _pending(p, todays, days=None, mine=True, closed_since=earliest)
    return [
        CalendarEntry(
            id=r.id,
            case_id=r.case_id,
            checkpoint=r.checkpoint,
            occurrence=r.occurrence,
            due_on=r.due_on,
            window_opens_on=r.window_opens_on,
            window_closes_on=r.window_closes_on,
            updated_at=r.updated_at,
        )
        for r in session.execute(query.order_by(FollowUp.due_on, FollowUp.id))
    ]
