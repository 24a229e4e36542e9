"""Contact attempts: one try to reach a person for a follow-up, recorded from the work
list, the follow-up page (followup.web.routes.worklists) or `followup record attempt`.

Who may record an attempt is who may record the follow-up's interview
(followup.operations.followups.recordable): for her follow-ups, her side only, never
his facilitator. Her safe-contact plan is enforced here: an attempt by a channel she
did not allow, or outside her safe times (in her site's zone), is refused unless the
worker gives a reason, which is sealed and audited as an override. What an attempt does
to the follow-up's counters and status is followup.attempt_rules (and followup.lost),
which the CSV import shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup import her_plan, lookup
from followup.attempt_rules import (
    Counters,
    OutsidePlan,
    after_attempt,
    future_problem,
    local_time,
    plan_problem,
    status_problem,
    to_utc,
    window_problem,
)
from followup.audit import audit
from followup.context import Context
from followup.dispatch.outbox import cancel_stale
from followup.enrol import check_worker
from followup.errors import InvalidRecord, NotFound
from followup.models import ContactAttempt, FollowUp, Participant, Partner
from followup.operations import policy
from followup.operations.followups import recordable
from followup.operations.policy import NotVisible, Principal
from followup.record import pick_followup
from followup.safe_contact import PLAN_CHANNELS
from followup.schedule import PENDING
from followup.values import MAX_NOTES, limit_length, parse_choice, refuse_control
from followup.vocab import ATTEMPT_OUTCOMES
from followup.wall import check_interviewer

__all__ = [
    "OutsidePlan",
    "RecordedAttempt",
    "attempt_followup",
    "record_attempt",
    "record_unsafe_to_talk",
]


@dataclass(frozen=True)
class RecordedAttempt:
    id: int
    followup_id: int
    case_id: str
    subject: str  # participant | partner
    partner_id: str | None
    checkpoint: str
    outcome: str
    channel: str
    attempted_at: datetime  # UTC
    status: str  # the follow-up's stored status after it (scheduled, unreachable, refused)
    attempts: int
    unreached_attempts: int
    override: bool  # outside her plan, recorded with a reason
    no_plan: bool  # a partner follow-up whose partner has no safe-contact plan
    plan_confirmed_on: date | None  # set when this attempt re-confirmed her plan


def _free_text(text: str | None, what: str) -> str | None:
    if text is None or not text.strip():
        return None
    try:
        return limit_length(refuse_control(text, what, allow="\t\n\r"), what, MAX_NOTES)
    except ValueError as problem:
        raise InvalidRecord(str(problem)) from None


def _choice(text: str, choices, what: str) -> str:
    try:
        return parse_choice(text, choices, what)
    except ValueError as problem:
        raise InvalidRecord(str(problem)) from None


def record_attempt(
    session: Session,
    ctx: Context,
    p: Principal,
    followup_id: int,
    *,
    outcome: str,
    channel: str,
    attempted_at: datetime | None = None,
    by: str | None = None,
    note: str | None = None,
    override_reason: str | None = None,
    plan_confirmed: bool = False,
) -> RecordedAttempt:
    """Record one attempt on a pending follow-up whose window has opened.

    `attempted_at` (default now; a naive time is read in the case's site zone) may not be
    in the future. Raises OutsidePlan (an InvalidRecord) when her plan does not allow it
    and no `override_reason` is given; NotVisible / Forbidden as `recordable` does."""
    target = recordable(session, ctx, p, followup_id)
    outcome = _choice(outcome, ATTEMPT_OUTCOMES, "outcome")
    channel = _choice(channel, PLAN_CHANNELS, "channel")
    note = _free_text(note, "note")
    override_reason = _free_text(override_reason, "override reason")
    now = ctx.now()
    # The row locked: two attempts recorded at once must not both count from the same
    # counters (PostgreSQL; SQLite has one writer at a time).
    followup = session.get(FollowUp, target.id, with_for_update=True, populate_existing=True)
    at, local = _when(ctx, target, followup, attempted_at, now)
    person = session.get(Participant, followup.participant_id)
    worker_id = _conducted_by(session, p, person, target.subject, by)
    partner = session.get(Partner, followup.partner_id) if followup.partner_id else None
    plan = her_plan.plan_of(ctx.vault, partner) if partner is not None else None
    broken = plan_problem(plan, channel, local) if partner is not None else None
    if broken and not override_reason:
        raise OutsidePlan(f"case {target.case_id}: {broken}")
    override = bool(broken)
    confirmed_on = None
    if plan_confirmed:
        confirmed_on = _confirm_plan(ctx, partner, plan, outcome, local.date())
    protocol = ctx.protocol_at(session, person.protocol_revision)
    counters = after_attempt(
        Counters(
            followup.status,
            followup.attempts or 0,
            followup.unreached_attempts or 0,
            followup.last_attempt_at,
            followup.last_attempt_outcome,
        ),
        outcome,
        at,
        protocol.lost_after(followup.checkpoint, target.subject),
    )
    attempt = ContactAttempt(
        followup_id=followup.id,
        participant_id=person.id,
        partner_id=followup.partner_id,
        attempted_at=at,
        channel=channel,
        outcome=outcome,
        conducted_by=worker_id,
        note_sealed=ctx.vault.seal(note) if note else None,
        override_sealed=ctx.vault.seal(override_reason) if override else None,
    )
    session.add(attempt)
    followup.status = counters.status
    followup.attempts = counters.attempts
    followup.unreached_attempts = counters.unreached_attempts
    followup.last_attempt_at = counters.last_attempt_at
    followup.last_attempt_outcome = counters.last_attempt_outcome
    followup.updated_at = now
    session.flush()
    if counters.status != target.status:
        # Queued reminders about a follow-up that is no longer pending die with it.
        cancel_stale(session, person.id, now=now)
    audit(
        session,
        p.actor,
        "record_attempt",
        "followup",
        followup.id,
        checkpoint=followup.checkpoint,
        outcome=outcome,
        channel=channel,
        status=counters.status,
        **({"override": True} if override else {}),
        **({"plan_confirmed": True} if confirmed_on else {}),
    )
    return RecordedAttempt(
        id=attempt.id,
        followup_id=followup.id,
        case_id=target.case_id,
        subject=target.subject,
        partner_id=target.partner_id,
        checkpoint=followup.checkpoint,
        outcome=outcome,
        channel=channel,
        attempted_at=at,
        status=counters.status,
        attempts=counters.attempts,
        unreached_attempts=counters.unreached_attempts,
        override=override,
        no_plan=partner is not None and plan is None,
        plan_confirmed_on=confirmed_on,
    )


def _when(
    ctx: Context, target, followup: FollowUp, attempted_at: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The attempt's instant (UTC) and local time at the case's site, once it is known
    that the follow-up may take it then: pending, its window open, not in the future."""
    zone = ctx.config.sites[target.site].zone
    # A naive time is local to the case's site (what a worker reads off her own clock).
    at = now if attempted_at is None else to_utc(attempted_at, zone)
    local = local_time(at, zone)
    for problem in (
        future_problem(at, now),
        status_problem(followup.status, followup.checkpoint),
        window_problem(local.date(), followup.checkpoint, followup.window_opens_on),
    ):
        if problem:
            raise InvalidRecord(f"case {target.case_id}: {problem}")
    return at, local


def _conducted_by(
    session: Session, p: Principal, person: Participant, subject: str, by: str | None
) -> int | None:
    """Who made the attempt: `by` (checked as an interviewer is), else the person
    recording when they do this work at the site (an administrator is not)."""
    role = policy.PARTNER_SUPPORT if subject == "partner" else policy.FACILITATOR
    if by is None:
        return p.staff_pk if p.site == person.site_code and role in p.roles else None
    worker = lookup.staff(session, by)
    check_worker(worker, role, person.site_code)
    if subject == "partner":
        check_interviewer(worker, person)
    return worker.id


def _confirm_plan(ctx: Context, partner, plan, outcome: str, day: date) -> date:
    """She re-confirmed her plan at this contact: the plan's confirmed_on is the day."""
    if partner is None:
        raise InvalidRecord("only a partner's follow-up has a safe-contact plan to re-confirm")
    if outcome != "reached":
        raise InvalidRecord(
            f"her plan can be re-confirmed only at a contact that reached her, not {outcome}"
        )
    if plan is None:
        raise InvalidRecord(
            f"partner {partner.partner_id} has no safe-contact plan to re-confirm; record it first"
        )
    for column, value in her_plan.seal_plan(ctx.vault, plan.confirmed_by_worker(day)).items():
        setattr(partner, column, value)
    return day


def attempt_followup(
    session: Session,
    ctx: Context,
    p: Principal,
    *,
    case_id: str,
    checkpoint: str,
    partner_id: str | None = None,
    attempted_at: datetime | None = None,
) -> int:
    """The follow-up an attempt names by case, checkpoint and (her follow-ups) partner:
    the pending one of that checkpoint, picked as `record interview` picks (the one whose
    window holds the attempt's local date, else the one due nearest it whose window has
    opened). `attempted_at` as record_attempt takes it (default now)."""
    try:
        person = lookup.participant(session, case_id)
    except NotFound:
        if p.account_id is None:  # the operator: the plain message
            raise
        person = None
    if person is None or not policy.view_participant(p, person.site_code):
        raise NotVisible(f"no case {case_id!r} that {p.username} may see")
    partner = None
    if partner_id is not None:
        partner = session.execute(
            sa.select(Partner).where(Partner.partner_id == partner_id)
        ).scalar_one_or_none()
        visible = policy.view_partner_status(p, person.site_code, person.facilitator_id)
        if not visible:
            raise NotVisible(f"no partner {partner_id!r} that {p.username} may see")
        if partner is None or partner.participant_id != person.id:
            raise InvalidRecord(f"partner {partner_id!r} is not linked to case {case_id}")
    rows = (
        session.execute(
            sa.select(FollowUp).where(
                FollowUp.participant_id == person.id,
                FollowUp.checkpoint == checkpoint,
                FollowUp.partner_id == partner.id if partner else FollowUp.partner_id.is_(None),
            )
        )
        .scalars()
        .all()
    )
    who = f"partner {partner_id}'s" if partner else "the participant's"
    if not rows:
        raise InvalidRecord(f"case {case_id}: {who} follow-ups have no checkpoint {checkpoint!r}")
    pending = [f for f in rows if f.status == PENDING]
    if not pending:
        ended = " / ".join(sorted({f.status for f in rows}))
        raise InvalidRecord(
            f"case {case_id}: {who} {checkpoint} is {ended}; "
            "attempts are recorded only on a pending follow-up"
        )
    zone = ctx.config.sites[person.site_code].zone
    on = local_time(to_utc(attempted_at or ctx.now(), zone), zone).date()
    try:
        found = pick_followup(pending, on, checkpoint)
    except InvalidRecord:
        found = None  # not open yet: record_attempt says when it opens
    return (found or min(pending, key=lambda f: f.window_opens_on)).id


def record_unsafe_to_talk(
    session: Session, ctx: Context, p: Principal, followup_id: int, *, channel: str | None = None
):
    """ "Was it safe to talk?" — no: no interview; an `unsafe_to_talk` attempt instead
    (it does not count towards lost to follow-up: followup.lost), so her worker tries
    again at her next safe time. The contact has happened: if it was outside her plan
    the attempt is still recorded (losing it would hide the contact), with the override
    written and audited as such, so her worker's supervisor sees it."""
    target = recordable(session, ctx, p, followup_id)
    if target.subject != "partner":
        raise InvalidRecord("safe_to_talk: asked only in an interview with her")
    found = session.get(FollowUp, followup_id)
    if channel is None and found.partner_id is not None:
        channel = session.get(Partner, found.partner_id).channel
    channel = channel or "phone"
    try:
        return record_attempt(
            session, ctx, p, followup_id, outcome="unsafe_to_talk", channel=channel
        )
    except OutsidePlan:
        return record_attempt(
            session,
            ctx,
            p,
            followup_id,
            outcome="unsafe_to_talk",
            channel=channel,
            override_reason="recorded from the interview form: she was reached outside her "
            "plan and said it was not safe to talk",
        )
