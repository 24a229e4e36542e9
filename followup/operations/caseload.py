"""What is due: one query and one set of status words for every view of a caseload.

`followup due`, My follow-ups (and the site-wide list) and the calendar feed all read
pending follow-ups through `_pending` below, cut by the policy's `followup_scope`, and
say where each stands with `status_on`:

- `overdue`    its window has closed;
- `due`        its window is open;
- `scheduled`  its window has not opened yet.

A pending follow-up whose window has closed after at least one contact attempt is
`unreachable` (followup.lost.status_on): it leaves every list here. One whose window
closed with no attempt stays, as `overdue` (the report counts it as missed).

My follow-ups lays these out by date as well (`group_of`): overdue, window open (`today`:
due, whatever its due date), this week, upcoming — a layout of the same words, not a
second set.

The work lists (`work_list`) read the same query a page at a time: filters, LIMIT/OFFSET
and counts by one aggregate over at most COUNT_CAP rows, so a page costs the same at a
million participants as at ten thousand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from followup import her_plan
from followup.audit import audit
from followup.checks import is_late
from followup.context import Context
from followup.db import code_point_order
from followup.labels import CheckpointLabels
from followup.models import FollowUp, Participant, Partner, Staff
from followup.operations import alerts, policy
from followup.operations.policy import Principal
from followup.safe_contact import needs_confirming
from followup.schedule import PENDING

STATUSES = ("overdue", "due", "scheduled")
GROUPS = ("overdue", "today", "week", "upcoming")  # My follow-ups' sections
UPCOMING_DAYS = 42  # My follow-ups looks six weeks ahead
CALENDAR_PAST_DAYS = 90  # overdue follow-ups stay in the calendar feed this long


def status_on(opens: date, closes: date, today: date) -> str:
    """Where a pending follow-up stands on `today` (the site's own today)."""
    if today > closes:
        return "overdue"
    return "due" if today >= opens else "scheduled"


def group_of(status: str, due_on: date, today: date) -> str:
    """My follow-ups' section for a pending follow-up with this status. "today" holds
    every follow-up whose window is open (shown as "Window open"), whatever its due
    date: it can be held now."""
    if status == "overdue":
        return "overdue"
    if status == "due":
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
    # Her plan not confirmed with her for partner.reconfirm_plan_days (or never), from the
    # clear date beside the sealed plan: partner-support workers only.
    plan_needs_confirming: bool = False
    channel: str | None = None
    attempts: int = 0  # contact attempts so far (followup.operations.attempts)
    last_attempt_at: datetime | None = None  # UTC
    last_attempt_outcome: str | None = None
    # Her next safe window (naive local start, end in her site's zone), from her plan:
    # only for those who may see her plan; None for his follow-ups.
    next_safe_window: tuple[datetime, datetime] | None = None
    # The channel an attempt form offers first: her plan's first channel (those who may
    # see her), his phone otherwise.
    attempt_channel: str = "phone"

    @property
    def late(self) -> bool:
        """Completed after its window closed (followup.checks.is_late)."""
        return self.status == "completed" and is_late(self.completed_on, self.window_closes_on)


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
    FollowUp.attempts,
    FollowUp.last_attempt_at,
    FollowUp.last_attempt_outcome,
    Participant.case_id,
    Participant.site_code,
    Participant.protocol_revision,
    Participant.facilitator_id,
    Partner.partner_id,
    Partner.plan_confirmed_on,
    Partner.channel,
    Partner.plan_sealed,
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


def _subject(r) -> str:
    return "participant" if r.partner_pk is None else "partner"


def followup_row(
    r, p: Principal, labels: CheckpointLabels, today: date | None, reconfirm_days: int = 90
) -> FollowUpRow:
    subject = _subject(r)
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
        plan_needs_confirming=bool(hers and today is not None)
        and needs_confirming(r.plan_confirmed_on, today, reconfirm_days),
        channel=r.channel if hers else None,
        attempts=r.attempts or 0,
        last_attempt_at=r.last_attempt_at,
        last_attempt_outcome=r.last_attempt_outcome,
    )


def with_her_plan(row: FollowUpRow, r, ctx: Context) -> FollowUpRow:
    """`row` with her next safe window after now and her plan's first channel, when the
    row may show her (its partner_id is set only for those who may open her record)."""
    if row.partner_id is None or row.status != PENDING:
        return row
    her = SimpleNamespace(
        plan_sealed=r.plan_sealed,
        channel=getattr(r, "channel", None),
        contact_sealed=None,
    )
    plan = her_plan.plan_of(ctx.vault, her)
    if plan is None:
        return replace(row, attempt_channel=row.channel or "phone")
    local = ctx.now().astimezone(ctx.config.sites[row.site].zone).replace(tzinfo=None)
    return replace(
        row,
        next_safe_window=plan.next_window(local),
        attempt_channel=next(iter(plan.channels), row.channel or "phone"),
    )


def _pending(
    p: Principal,
    todays: dict[str, date],
    *,
    days: int | None,
    mine: bool = False,
    staff: str | None = None,
    closed_since: date | None = None,
    columns: tuple | None = None,
):
    """THE caseload query: pending follow-ups this person may see at these sites (keys of
    `todays`, each with its own today), whose window is open or whose due date falls
    within `days` (None: no limit), plus everything overdue (since `closed_since`) that
    nobody tried: tried and closed is unreachable (followup.lost.status_on)."""
    per_site = [
        sa.and_(
            Participant.site_code == code,
            sa.true()
            if days is None
            else sa.or_(
                FollowUp.window_opens_on <= today,
                FollowUp.due_on <= today + timedelta(days=days),
            ),
            # Tried, and the window has closed: unreachable (followup.lost), off the list.
            sa.or_(FollowUp.attempts == 0, FollowUp.window_closes_on >= today),
        )
        for code, today in todays.items()
    ]
    base = (
        select_followups()
        if columns is None  # counting needs no partner or worker columns: no outer joins
        else sa.select(*columns).join(Participant, Participant.id == FollowUp.participant_id)
    )
    query = base.where(FollowUp.status == PENDING, sa.or_(*per_site), policy.followup_scope(p))
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
    attempts: int = 0  # contact attempts so far
    last_attempt_at: datetime | None = None  # UTC
    last_attempt_outcome: str | None = None

    def to_json(self) -> dict:
        # Field by field, in order (what `asdict` gives, without its deep copies: a
        # long `due` spends more on those than on reading the rows).
        data = {name: getattr(self, name) for name in _DUE_FIELDS}
        for key in ("due_on", "window_opens_on", "window_closes_on"):
            data[key] = data[key].isoformat()
        if self.last_attempt_at is not None:
            data["last_attempt_at"] = self.last_attempt_at.isoformat()
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
                attempts=r.attempts or 0,
                last_attempt_at=r.last_attempt_at,
                last_attempt_outcome=r.last_attempt_outcome,
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


# --- the calendar feed ---------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEntry:
    id: int
    case_id: str
    checkpoint: str
    label: str  # the checkpoint as the account's owner reads it, in their language
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
    labels = CheckpointLabels(session, ctx, p.language)
    return [
        CalendarEntry(
            id=r.id,
            case_id=r.case_id,
            checkpoint=r.checkpoint,
            label=labels(r.protocol_revision, r.checkpoint, _subject(r)),
            occurrence=r.occurrence,
            due_on=r.due_on,
            window_opens_on=r.window_opens_on,
            window_closes_on=r.window_closes_on,
            updated_at=r.updated_at,
        )
        for r in session.execute(query.order_by(FollowUp.due_on, FollowUp.id))
    ]


# --- the work lists: filtered, counted and paged in SQL -----------------------------------

PAGE_SIZE = 50
COUNT_CAP = 10_000  # a work list's counts read at most this many rows ("10000+" beyond)
MAX_PAGE_SIZE = 500
UNASSIGNED = "-"  # the worker filter's value for follow-ups assigned to no one
INFORMANTS = ("participant", "partner")


@dataclass(frozen=True)
class WorkFilters:
    """What a work list is cut to; every field None: everything the list holds."""

    worker: str | None = None  # a staff id, or UNASSIGNED
    checkpoint: str | None = None
    informant: str | None = None  # participant | partner
    status: str | None = None  # STATUSES
    site: str | None = None


@dataclass(frozen=True)
class WorkerCount:
    staff_id: str | None  # None: assigned to no one
    name: str | None
    count: int


@dataclass
class WorkPage:
    rows: list[FollowUpRow]
    total: int  # every follow-up the filters let through, on every page
    counts: dict[str, int]  # per STATUSES word, before the status filter
    limit: int
    offset: int
    flagged: frozenset[int] = frozenset()  # follow-up ids: her open safety alert
    workers: list[WorkerCount] | None = None  # grouped by worker: the count per worker
    partners_shown: list[str] = field(default_factory=list)
    markable: frozenset[int] = frozenset()  # follow-up ids this person may mark missed
    capped: bool = False  # more than COUNT_CAP: the counts are "at least"

    @property
    def has_next(self) -> bool:
        if self.capped and len(self.rows) == self.limit:  # counted only so far: go on
            return True
        return self.offset + len(self.rows) < self.total

    def rows_by_worker(self) -> list[tuple[str | None, list[FollowUpRow]]]:
        """The page's rows under their assigned workers (by name, nobody last), each
        worker's in the page's order (by due date)."""
        runs: dict[str | None, list[FollowUpRow]] = {}
        for row in self.rows:
            runs.setdefault(row.assigned_to, []).append(row)
        return sorted(runs.items(), key=lambda run: (run[0] is None, run[0] or ""))


def status_expression(todays: dict[str, date]):
    """STATUSES as SQL for a pending follow-up at these sites (each with its own today),
    so lists filter and count by it in the database (`status_on` in SQL)."""
    closed = [
        (sa.and_(Participant.site_code == code, FollowUp.window_closes_on < today), "overdue")
        for code, today in todays.items()
    ]
    open_now = [
        (sa.and_(Participant.site_code == code, FollowUp.window_opens_on <= today), "due")
        for code, today in todays.items()
    ]
    return sa.case(*closed, *open_now, else_="scheduled")


def filtered(query, filters: WorkFilters, todays: dict[str, date]):
    """`query` (a caseload query joining Participant and the worker) cut by `filters`."""
    if filters.worker == UNASSIGNED:
        query = query.where(FollowUp.assigned_staff_id.is_(None))
    elif filters.worker:
        worker = sa.select(Staff.id).where(Staff.staff_id == filters.worker).scalar_subquery()
        query = query.where(FollowUp.assigned_staff_id == worker)
    if filters.checkpoint:
        query = query.where(FollowUp.checkpoint == filters.checkpoint)
    if filters.informant == "participant":
        query = query.where(FollowUp.partner_id.is_(None))
    elif filters.informant == "partner":
        query = query.where(FollowUp.partner_id.is_not(None))
    if filters.status:
        query = query.where(status_expression(todays) == filters.status)
        if filters.status == "overdue":  # due_on <= window_closes_on: lets the index bound it
            query = query.where(FollowUp.due_on < max(todays.values()))
    return query


def work_sites(ctx: Context, p: Principal, *, site_wide: bool) -> list[str]:
    """The sites a work list covers for this person: a site-wide list, the sites it may
    cover (one's own; every site for administrators); one's own list, every site."""
    return policy.followup_sites(p, ctx.config.sites) if site_wide else list(ctx.config.sites)


def work_list(
    session: Session,
    ctx: Context,
    p: Principal,
    *,
    site_wide: bool = False,
    filters: WorkFilters | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
    by_worker: bool = False,
    days: int | None = UPCOMING_DAYS,
) -> WorkPage:
    """One page of pending follow-ups: mine (assigned to me) or everyone's at my site
    (supervisors, administrators), cut by `filters`, ordered by due date, `limit` rows
    from `offset` (`by_worker`: the page's rows under their workers, and a count per
    worker). Counts come from one aggregate; only
    the page's rows are read, so a page costs the same however long the list is.
    Her safe hours and channel on the page are an audited read of partner data."""
    if not policy.list_followups(p) or (site_wide and not policy.list_site_followups(p)):
        raise policy.Forbidden()
    filters = filters or WorkFilters()
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    offset = max(0, offset)
    codes = work_sites(ctx, p, site_wide=site_wide)
    if filters.site:
        codes = [code for code in codes if code == filters.site]
    todays = {code: ctx.site_today(code) for code in codes}
    if not todays:
        return WorkPage([], 0, dict.fromkeys(STATUSES, 0), limit, offset)
    base = _pending(p, todays, days=days, mine=not site_wide)
    bare = _pending(p, todays, days=days, mine=not site_wide, columns=(FollowUp.assigned_staff_id,))
    unstated = filtered(bare, WorkFilters(**{**asdict(filters), "status": None}), todays)
    counts = _status_counts(session, unstated, todays)
    total = counts[filters.status] if filters.status else sum(counts.values())
    capped = sum(counts.values()) > COUNT_CAP
    query = filtered(base, filters, todays)
    order = [FollowUp.due_on, FollowUp.id]
    workers = None
    if by_worker:
        # The page stays the next `limit` by due date (an index walk, no sort of the whole
        # site's list, which ordering by worker in SQL cost: 5.9x CPU from 10k to 100k
        # enrolled); its rows are shown under their workers (rows_by_worker), and the
        # count per worker comes from the aggregate.
        workers = _worker_counts(session, filtered(bare, filters, todays))
    found = session.execute(query.order_by(*order).limit(limit).offset(offset)).all()
    labels = CheckpointLabels(session, ctx, p.language)
    reconfirm = ctx.config.partner.reconfirm_plan_days
    rows = [
        with_her_plan(followup_row(r, p, labels, todays[r.site_code], reconfirm), r, ctx)
        for r in found
    ]
    hers = alerts.flagged_partners(
        session, p, [r.partner_pk for r in found if r.partner_pk is not None]
    )
    flagged = frozenset(r.id for r in found if r.partner_pk in hers)
    shown = sorted({row.partner_id for row in rows if row.partner_id})
    if shown:
        audit(session, p.actor, "read_partner", "followups", None, partners=shown[:200])
    markable = frozenset(
        r.id
        for r in found
        if policy.record_followup(
            p, "participant" if r.partner_pk is None else "partner", r.site_code, r.facilitator_id
        )
    )
    return WorkPage(rows, total, counts, limit, offset, flagged, workers, shown, markable, capped)


def _status_counts(session: Session, query, todays: dict[str, date]) -> dict[str, int]:
    """Per status, by one aggregate over at most COUNT_CAP + 1 rows: a list longer than
    that says "at least", so counting never costs more than COUNT_CAP rows."""
    word = status_expression(todays).label("word")
    inner = query.with_only_columns(word).order_by(None).limit(COUNT_CAP + 1).subquery()
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in session.execute(
        sa.select(inner.c.word, sa.func.count()).group_by(inner.c.word)
    ):
        counts[status] = count
    return counts


def _worker_counts(session: Session, query) -> list[WorkerCount]:
    """Per assigned worker, one aggregate (over at most COUNT_CAP + 1 rows, like the
    status counts), then the names of the few workers counted."""
    inner = (
        query.with_only_columns(FollowUp.assigned_staff_id.label("pk"))
        .order_by(None)
        .limit(COUNT_CAP + 1)
        .subquery()
    )
    counted = dict(
        session.execute(sa.select(inner.c.pk, sa.func.count()).group_by(inner.c.pk)).all()
    )
    names = {
        r.id: (r.staff_id, r.name)
        for r in session.execute(
            sa.select(Staff.id, Staff.staff_id, Staff.name).where(
                Staff.id.in_([pk for pk in counted if pk is not None])
            )
        )
    }
    rows = [WorkerCount(*names.get(pk, (None, None)), count) for pk, count in counted.items()]
    return sorted(rows, key=lambda w: (w.name is None, w.name or "", w.staff_id or ""))


@dataclass(frozen=True)
class Choices:
    """What a work list's filters offer this person."""

    sites: list[str]
    workers: list[tuple[str, str]]  # staff id, name
    checkpoints: list[tuple[str, str]]  # name, title
    informants: tuple[str, ...]  # her side only for those who may see her follow-ups


def work_choices(session: Session, ctx: Context, p: Principal, *, site_wide: bool) -> Choices:
    codes = work_sites(ctx, p, site_wide=site_wide)
    workers = []
    if site_wide:
        workers = [
            (r.staff_id, r.name)
            for r in session.execute(
                sa.select(Staff.staff_id, Staff.name)
                .where(Staff.site_code.in_(codes), Staff.active.is_(True))
                .order_by(Staff.name, Staff.staff_id)
            )
        ]
    # A facilitator is offered his side only: not even the names of her checkpoints.
    hers = p.is_admin or p.has(policy.PARTNER_SUPPORT, policy.SUPERVISOR)
    informants = INFORMANTS if hers else ("participant",)
    checkpoints: dict[str, str] = {}
    for protocol in ctx.protocols.values():
        for checkpoint in protocol.checkpoints:
            if checkpoint.subject in informants:
                checkpoints.setdefault(checkpoint.name, checkpoint.title)
    ordered = sorted(checkpoints.items(), key=lambda item: item[1])
    return Choices(codes, workers, ordered, informants)
