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

from followup import answer_store, instrument_store, lookup, record
from followup.audit import audit
from followup.context import Context
from followup.errors import FollowupError
from followup.instruments import DEFAULT_INSTRUMENT, Instrument, label_in
from followup.labels import CheckpointLabels
from followup.models import FollowUp, Interview, Participant, Partner, SafetyAlert
from followup.operations import policy, safe_plan
from followup.operations.acting import acting
from followup.operations.caseload import (
    FollowUpRow,
    followup_row,
    select_followups,
    with_her_plan,
)
from followup.operations.people import InterviewView, interview_view
from followup.operations.policy import Forbidden, NotVisible, Principal
from followup.operations.safe_plan import PlanView
from followup.schedule import PENDING
from followup.vocab import MISSED_REASONS


@dataclass(frozen=True)
class ScoreView:
    """One score of a recorded interview, as those who may read the interview see it."""

    score: str
    label: str
    value: float | None
    band: str | None  # as computed
    override_band: str | None  # a professional's judgement, when given (both are kept)
    withheld: str | None

    @property
    def shown_band(self) -> str | None:
        return self.override_band or self.band


@dataclass(frozen=True)
class FollowUpDetail:
    row: FollowUpRow
    participant_status: str
    may_record: bool
    interview: InterviewView | None
    alert_id: int | None
    today: date
    # The instrument the Record interview form asks, when it is not `core` (core keeps the
    # built-in form), and the recorded interview's scores (empty when none, or not hers).
    instrument: Instrument | None = None
    scores: tuple[ScoreView, ...] = ()
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
    reconfirm = ctx.config.partner.reconfirm_plan_days
    row = with_her_plan(followup_row(r, p, labels, today, reconfirm), r, ctx)
    person = lookup.participant(session, r.case_id)
    interview = alert_id = None
    score_views: tuple[ScoreView, ...] = ()
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
            score_views = interview_scores(session, found, p.language)
    may_record = policy.record_followup(p, subject, r.site_code, r.facilitator_id)
    instrument = None
    if may_record and row.status == PENDING:
        asked = record.instrument_for(session, ctx, person, row.checkpoint, subject)
        instrument = None if asked.id == DEFAULT_INSTRUMENT else asked
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
        may_record=may_record,
        interview=interview,
        alert_id=alert_id,
        today=today,
        instrument=instrument,
        scores=score_views,
    )


def interview_scores(session: Session, found: Interview, language: str) -> tuple[ScoreView, ...]:
    """A recorded interview's scores and bands. Call only for a reader the policy lets see
    the interview (her worker for hers: followup.operations.policy.view_partner)."""
    if found.instrument_revision is None:
        return ()
    instrument = instrument_store.at_revision(session, found.instrument_revision)
    views = []
    for row in answer_store.scores_of(session, found.id):
        definition = instrument.score(row.score)
        label = definition.label if definition is not None else None
        views.append(
            ScoreView(
                score=row.score,
                label=label_in(label, language, row.score.replace("_", " ").capitalize()),
                value=row.value,
                band=row.band,
                override_band=row.override_band,
                withheld=row.withheld,
            )
        )
    return tuple(views)


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


def asked_instrument(session: Session, ctx: Context, target: Recordable) -> Instrument | None:
    """The instrument the follow-up's checkpoint asks, at the revision in force; None for
    `core`, which the Record interview page asks through its own built-in fields."""
    person = lookup.participant(session, target.case_id)
    asked = record.instrument_for(session, ctx, person, target.checkpoint, target.subject)
    return None if asked.id == DEFAULT_INSTRUMENT else asked


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
