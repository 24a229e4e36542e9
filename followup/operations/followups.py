"""One follow-up: open it, record the interview that fulfils it, or mark it missed.

The web's Record interview page names the follow-up by its id and the operation takes
that id as it is (followup.record.record_interview(followup_id=…)); who may record
which follow-up is decided here (followup.operations.policy.record_followup).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup import lookup, record
from followup.audit import audit
from followup.context import Context
from followup.errors import FollowupError, InvalidRecord
from followup.labels import CheckpointLabels
from followup.lost import counts_towards_lost
from followup.models import ContactAttempt, FollowUp, Interview, Participant, Partner, SafetyAlert
from followup.operations import policy, safe_plan
from followup.operations.acting import acting
from followup.operations.caseload import FollowUpRow, followup_row, select_followups
from followup.operations.people import InterviewView, interview_view
from followup.operations.policy import Forbidden, NotVisible, Principal
from followup.operations.safe_plan import PlanView
from followup.schedule import PENDING
from followup.vocab import MISSED_REASONS


@dataclass(frozen=True)
class FollowUpDetail:
    row: FollowUpRow
    participant_status: str
    may_record: bool
    interview: InterviewView | None
    alert_id: int | None
    today: date
    # Her safe-contact plan, for those who may see her (None: not hers, or no plan).
    plan: PlanView | None = None
    zone: str | None = None  # her site's time zone, which the plan's times are in


def followup_detail(
    session: Session, ctx: Context, p: Principal, followup_id: int, *, reveal: bool = False
) -> FollowUpDetail:
    """The follow-up and, once done, its interview. Showing her partner id is an audited
    read of partner data."""
    r = session.execute(select_followups().where(FollowUp.id == followup_id)).one_or_none()
    if r is None:
        raise NotVisible()
    subject = "participant" if r.partner_pk is None else "partner"
    if not policy.view_followup(p, subject, r.site_code, r.facilitator_id):
        raise NotVisible()
    today = ctx.site_today(r.site_code)
    labels = CheckpointLabels(session, ctx, p.language)
    row = followup_row(r, p, labels, today, ctx.config.partner.reconfirm_plan_days)
    person = lookup.participant(session, r.case_id)
    interview = alert_id = None
    content = (
        policy.view_partner(p, r.site_code, r.facilitator_id)
        if subject == "partner"
        else policy.view_participant_content(p, r.site_code)
    )
    if row.status != PENDING and content:
        found = (
            session.execute(
                sa.select(Interview)
                .where(Interview.followup_id == followup_id, Interview.voided_at.is_(None))
                .order_by(Interview.id.desc())
            )
            .scalars()
            .first()
        )
        if found is not None:
            interview = interview_view(session, ctx, found, r.partner_id, labels)
            alert_id = session.execute(
                sa.select(SafetyAlert.id).where(SafetyAlert.interview_id == found.id)
            ).scalar_one_or_none()
    plan = None
    if row.partner_id is not None:
        audit(session, p.actor, "read_partner", "partner", row.partner_id, followup=followup_id)
        plan = safe_plan.read_safe_plan(
            session, ctx, p, row.partner_id, reveal=reveal, followup_id=followup_id
        )
    return FollowUpDetail(
        plan=plan,
        zone=ctx.config.sites[r.site_code].timezone if row.partner_id is not None else None,
        row=row,
        participant_status=person.status,
        may_record=policy.record_followup(p, subject, r.site_code, r.facilitator_id),
        interview=interview,
        alert_id=alert_id,
        today=today,
    )


@dataclass(frozen=True)
class Recordable:
    """A follow-up this person may record, with the dates a form is checked against."""

    id: int
    case_id: str
    site: str
    subject: str
    checkpoint: str
    status: str
    due_on: date
    enrolled_on: date
    partner_id: str | None
    today: date


def recordable(session: Session, ctx: Context, p: Principal, followup_id: int) -> Recordable:
    """The follow-up, if this person may record it (NotVisible when they may not even
    see it, Forbidden when they may see but not record it)."""
    found = session.get(FollowUp, followup_id)
    if found is None:
        raise NotVisible()
    person = session.get(Participant, found.participant_id)
    site, facilitator = person.site_code, person.facilitator_id
    if not policy.view_followup(p, found.subject, site, facilitator):
        raise NotVisible()
    if not policy.record_followup(p, found.subject, site, facilitator):
        raise Forbidden()
    partner_id = (
        session.get(Partner, found.partner_id).partner_id if found.partner_id is not None else None
    )
    return Recordable(
        id=found.id,
        case_id=person.case_id,
        site=site,
        subject=found.subject,
        checkpoint=found.checkpoint,
        status=found.status,
        due_on=found.due_on,
        enrolled_on=person.enrolled_on,
        partner_id=partner_id,
        today=ctx.site_today(site),
    )


def record_interview(
    session: Session, ctx: Context, p: Principal, followup_id: int, **answers
) -> Interview:
    """Record the interview that fulfils this follow-up (`answers`: on, mode, violence,
    felt_safety, risk_level, notes — see followup.record.record_interview)."""
    target = recordable(session, ctx, p, followup_id)
    # The interviewer is the person recording, when they do this work at the site
    # (an administrator entering someone else's interview is not the interviewer).
    role = policy.PARTNER_SUPPORT if target.subject == "partner" else policy.FACILITATOR
    by = p.staff_id if p.site == target.site and role in p.roles else None
    unscheduled = bool(answers.pop("unscheduled", False))
    plan_confirmed = bool(answers.pop("plan_confirmed", False))
    if plan_confirmed and target.partner_id is not None:
        safe_plan.confirm_safe_plan(session, ctx, p, target.partner_id, followup_id=target.id)
    return record.record_interview(
        session,
        acting(ctx, p),
        case_id=target.case_id,
        informant=target.subject,
        partner_id=target.partner_id,
        followup_id=None if unscheduled else target.id,
        unscheduled=unscheduled,
        by=by,
        **answers,
    )


def record_unsafe_to_talk(
    session: Session, ctx: Context, p: Principal, followup_id: int, *, channel: str | None = None
) -> ContactAttempt:
    """ "Was it safe to talk?" — no: no interview; an `unsafe_to_talk` attempt instead
    (it does not count towards lost to follow-up: followup.lost), so her worker tries
    again at her next safe time."""
    target = recordable(session, ctx, p, followup_id)
    if target.subject != "partner":
        raise InvalidRecord("safe_to_talk: asked only in an interview with her")
    found = session.get(FollowUp, followup_id)
    if channel is None and found.partner_id is not None:
        channel = session.get(Partner, found.partner_id).channel
    by = p.staff_pk if p.site == target.site and policy.PARTNER_SUPPORT in p.roles else None
    return _record_attempt_until_merge(
        session, ctx, p, found, outcome="unsafe_to_talk", channel=channel or "phone", by=by
    )


def _record_attempt_until_merge(
    session: Session,
    ctx: Context,
    p: Principal,
    found: FollowUp,
    *,
    outcome: str,
    channel: str,
    by: int | None,
) -> ContactAttempt:
    """PLACEHOLDER for followup.operations.attempts.record_attempt (the `attempts`
    branch of issue 13): the lead swaps this for
    `record_attempt(session, ctx, p, followup_id=found.id, outcome=outcome,
    channel=channel, attempted_at=ctx.now())` at merge. It writes the attempt and keeps
    the follow-up's counters in step; unsafe_to_talk does not count towards
    unreached_attempts (followup.lost.counts_towards_lost)."""
    now = ctx.now()
    attempt = ContactAttempt(
        followup_id=found.id,
        participant_id=found.participant_id,
        partner_id=found.partner_id,
        attempted_at=now,
        channel=channel,
        outcome=outcome,
        conducted_by=by,
    )
    session.add(attempt)
    found.attempts = (found.attempts or 0) + 1
    if counts_towards_lost(outcome):
        found.unreached_attempts = (found.unreached_attempts or 0) + 1
    found.last_attempt_at, found.last_attempt_outcome = now, outcome
    session.flush()
    audit(session, p.actor, "record_attempt", "followup", found.id, outcome=outcome)
    return attempt


def record_missed(
    session: Session, ctx: Context, p: Principal, followup_id: int, *, reason: str | None = None
) -> FollowUp:
    """Close a follow-up that will not happen (unreachable, refused): it counts as missed.
    `reason`: one of MISSED_REASONS, written to the audit line."""
    if reason is not None and reason not in MISSED_REASONS:
        raise FollowupError(f"reason {reason!r}: expected one of {', '.join(MISSED_REASONS)}")
    target = recordable(session, ctx, p, followup_id)
    if target.status != PENDING:
        raise FollowupError(f"{target.checkpoint} is already {target.status}")
    return record.record_missed(
        session,
        acting(ctx, p),
        case_id=target.case_id,
        checkpoint=target.checkpoint,
        informant=target.subject,
        partner_id=target.partner_id,
        on=target.due_on,
        followup_id=target.id,
        reason=reason,
    )


@dataclass(frozen=True)
class MissedMany:
    marked: list[int]
    refused: list[tuple[int, str]]  # follow-up id, why (never whether a hidden one exists)


def record_missed_many(
    session: Session, ctx: Context, p: Principal, followup_ids: list[int], *, reason: str
) -> MissedMany:
    """Mark several follow-ups missed with one reason, each through record_missed (its own
    rules and audit line) in its own savepoint: one refused leaves the others marked."""
    if reason not in MISSED_REASONS:
        raise FollowupError(f"reason {reason!r}: expected one of {', '.join(MISSED_REASONS)}")
    marked, refused = [], []
    for followup_id in dict.fromkeys(followup_ids):
        try:
            with session.begin_nested():
                record_missed(session, ctx, p, followup_id, reason=reason)
            marked.append(followup_id)
        except (NotVisible, Forbidden):
            refused.append((followup_id, "not yours to mark"))
        except FollowupError as problem:
            refused.append((followup_id, str(problem)))
    return MissedMany(marked, refused)
