"""Safety alerts (new violence reported): list them, open one, acknowledge one.

An alert exists to protect her: it is never shown to the man's facilitator, whatever roles
he holds (followup.operations.policy.view_alert), what was reported is shown only to those
who may read her record, and showing her partner id is an audited read of partner data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from followup.audit import audit
from followup.context import Context
from followup.errors import InvalidRecord
from followup.models import (
    VIOLENCE_TYPES,
    Event,
    Interview,
    Participant,
    Partner,
    SafetyAlert,
    Staff,
)
from followup.operations import policy
from followup.operations.policy import Forbidden, NotVisible, Principal
from followup.values import MAX_NOTES, refuse_control
from followup.vocab import ALERT_ACTIONS

LIST_LIMIT = 200
ACTIONS = ALERT_ACTIONS  # what was done on acknowledging: a short list, so they count


@dataclass(frozen=True)
class AlertRow:
    id: int
    case_id: str
    site: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    kind: str  # interview (a partner interview) | interview_band (its score) | report
    source: str | None  # who reported, for reports
    partner_id: str | None  # only for those who may open her record
    reported: tuple[str, ...]  # the types of violence: partner-support workers and admins
    may_open_case: bool
    may_acknowledge: bool
    # From the interview behind it, for those who may read what was reported:
    risk_level: str | None = None
    felt_safety: int | None = None
    followup_id: int | None = None  # the follow-up the interview fulfilled (its page)
    action: str | None = None  # ACTIONS: what was done on acknowledging
    action_note: str | None = None  # for those who may read what was reported


def _query():
    acker = aliased(Staff)
    return (
        sa.select(
            SafetyAlert,
            Participant.case_id,
            Participant.site_code,
            Participant.facilitator_id,
            Partner.partner_id,
            Interview,
            Event,
            acker.name.label("acker"),
        )
        .join(Participant, Participant.id == SafetyAlert.participant_id)
        .outerjoin(Partner, Partner.id == SafetyAlert.partner_id)
        .outerjoin(Interview, Interview.id == SafetyAlert.interview_id)
        .outerjoin(Event, Event.id == SafetyAlert.event_id)
        .outerjoin(acker, acker.staff_id == SafetyAlert.acknowledged_by)
    )


def _row(p: Principal, r, vault=None) -> AlertRow:
    alert, site, facilitator = r.SafetyAlert, r.site_code, r.facilitator_id
    record = r.Interview if alert.interview_id is not None else r.Event
    hers = policy.view_partner(p, site, facilitator)
    # What was reported is her account (or about her): only for those who may read her record.
    about_her = (
        alert.partner_id is not None
        or alert.interview_id is not None
        or (r.Event is not None and r.Event.source == "partner")
    )
    content = hers if about_her else policy.view_participant_content(p, site)
    return AlertRow(
        id=alert.id,
        case_id=r.case_id,
        site=site,
        raised_at=alert.raised_at,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=r.acker or alert.acknowledged_by,
        kind=_kind(alert, r.Interview),
        source=r.Event.source if r.Event is not None else None,
        partner_id=r.partner_id if hers else None,
        reported=tuple(
            k for k in VIOLENCE_TYPES if record is not None and getattr(record, k) is True
        )
        if content
        else (),
        may_open_case=policy.view_participant(p, site),
        may_acknowledge=policy.acknowledge_alert(p, site, facilitator),
        risk_level=r.Interview.risk_level if content and r.Interview is not None else None,
        felt_safety=r.Interview.felt_safety if content and r.Interview is not None else None,
        followup_id=r.Interview.followup_id if content and r.Interview is not None else None,
        action=alert.action,
        action_note=vault.open(alert.action_note_sealed)
        if content and vault is not None and alert.action_note_sealed
        else None,
    )


def _kind(alert: SafetyAlert, interview: Interview | None) -> str:
    """report | interview (violence in her interview) | interview_band (no violence: a
    score of her interview's instrument reached its alert band, followup.record)."""
    if alert.interview_id is None:
        return "report"
    violence = interview is None or any(getattr(interview, k) is True for k in VIOLENCE_TYPES)
    banded = interview is not None and interview.instrument_revision is not None
    return "interview_band" if banded and not violence else "interview"


def _one(session: Session, p: Principal, alert_id: int, vault=None) -> AlertRow:
    if not policy.open_alerts(p):
        raise NotVisible()
    r = session.execute(_query().where(SafetyAlert.id == alert_id)).one_or_none()
    if r is None or not policy.view_alert(p, r.site_code, r.facilitator_id):
        raise NotVisible()
    return _row(p, r, vault)


def list_alerts(session: Session, p: Principal, *, show_all: bool = False) -> list[AlertRow]:
    """The newest LIST_LIMIT alerts this person may see (unacknowledged ones unless
    `show_all`)."""
    if not policy.open_alerts(p):
        raise Forbidden(f"{p.username} may not read safety alerts")
    query = (
        _query()
        .where(policy.alert_scope(p))
        .order_by(SafetyAlert.raised_at.desc())
        .limit(LIST_LIMIT)
    )
    if not show_all:
        query = query.where(SafetyAlert.acknowledged_at.is_(None))
    rows = [_row(p, r) for r in session.execute(query).all()]
    shown = sorted({row.partner_id for row in rows if row.partner_id})
    if shown:
        audit(session, p.actor, "read_partner", "alerts", None, partners=shown)
    return rows


def open_alert(
    session: Session, p: Principal, alert_id: int, ctx: Context | None = None
) -> AlertRow:
    """One alert; with `ctx`, the note of what was done is opened for those who may
    read what was reported."""
    row = _one(session, p, alert_id, ctx.vault if ctx is not None else None)
    if row.partner_id is not None:
        audit(session, p.actor, "read_partner", "partner", row.partner_id, alert=alert_id)
    return row


def acknowledge(
    session: Session,
    ctx: Context,
    p: Principal,
    alert_id: int,
    *,
    action: str | None = None,
    note: str | None = None,
) -> bool:
    """Mark the alert seen by this person, with what was done (`action`, one of ACTIONS,
    and a short `note`, sealed). False when someone already had: two people
    acknowledging at once leave the first one's name (a conditional update)."""
    row = _one(session, p, alert_id)
    if not row.may_acknowledge:
        raise NotVisible()
    if action is not None and action not in ACTIONS:
        raise InvalidRecord(f"action {action!r}: expected one of {', '.join(ACTIONS)}")
    note = (note or "").strip() or None
    if note is not None:
        if len(note) > MAX_NOTES:
            raise InvalidRecord(f"note: longer than {MAX_NOTES} characters; shorten it")
        try:  # a note keeps its line breaks, but no NUL, escape or other control
            refuse_control(note, "note", allow="\t\n\r")
        except ValueError as problem:
            raise InvalidRecord(str(problem)) from None
    done = session.execute(
        sa.update(SafetyAlert)
        .where(SafetyAlert.id == alert_id, SafetyAlert.acknowledged_at.is_(None))
        .values(
            acknowledged_at=ctx.now(),
            acknowledged_by=p.staff_id or p.actor,
            action=action,
            action_note_sealed=ctx.vault.seal(note) if note else None,
        )
    ).rowcount
    if done:
        audit(
            session,
            p.actor,
            "acknowledge_alert",
            "safety_alert",
            alert_id,
            case_id=row.case_id,
            done=action,
        )
    return bool(done)


# --- where she is: banners, flags and the navigation's count -------------------------------


def open_count(session: Session, p: Principal) -> int:
    """Open alerts this person may see (the navigation's count): one aggregate over the
    open-alert index, 0 for those who may not read alerts."""
    if not policy.open_alerts(p):
        return 0
    return session.execute(
        sa.select(sa.func.count())
        .select_from(SafetyAlert)
        .where(SafetyAlert.acknowledged_at.is_(None), _visible(p))
    ).scalar_one()


def _visible(p: Principal):
    """The alert's case is one this person may see alerts of, as a correlated EXISTS: the
    open alerts are read first (the partial index), never every participant of a site
    (which a join lets SQLite's planner choose)."""
    return sa.exists().where(Participant.id == SafetyAlert.participant_id, policy.alert_scope(p))


@dataclass(frozen=True)
class Banner:
    """An open alert as a banner: its id and when it was raised, nothing of what was said."""

    id: int
    raised_at: datetime


def open_banners(
    session: Session, p: Principal, *, case_id: str | None = None, partner_id: str | None = None
) -> list[Banner]:
    """Open alerts on this case (or about this partner) that this person may see."""
    if not policy.open_alerts(p):
        return []
    query = (
        sa.select(SafetyAlert.id, SafetyAlert.raised_at)
        .join(Participant, Participant.id == SafetyAlert.participant_id)
        .where(SafetyAlert.acknowledged_at.is_(None), policy.alert_scope(p))
        .order_by(SafetyAlert.raised_at.desc())
        .limit(LIST_LIMIT)
    )
    if case_id is not None:
        query = query.where(Participant.case_id == case_id)
    if partner_id is not None:
        query = query.join(Partner, Partner.id == SafetyAlert.partner_id).where(
            Partner.partner_id == partner_id
        )
    return [Banner(r.id, r.raised_at) for r in session.execute(query)]


def flagged_partners(session: Session, p: Principal, partner_pks: Iterable[int]) -> set[int]:
    """Which of these partners (database ids) have an open alert this person may see: the
    flag on her follow-ups in a list, read for one page of it."""
    wanted = sorted(set(partner_pks))
    if not wanted or not policy.open_alerts(p):
        return set()
    return set(
        session.execute(
            sa.select(SafetyAlert.partner_id)
            .where(
                SafetyAlert.acknowledged_at.is_(None),
                SafetyAlert.partner_id.in_(wanted),
                _visible(p),
            )
            .distinct()
        ).scalars()
    )
