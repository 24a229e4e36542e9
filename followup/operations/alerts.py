"""Safety alerts (new violence reported): list them, open one, acknowledge one.

An alert exists to protect her: it is never shown to the man's facilitator, whatever roles
he holds (followup.operations.policy.view_alert), what was reported is shown only to those
who may read her record, and showing her partner id is an audited read of partner data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from followup.audit import audit
from followup.context import Context
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

LIST_LIMIT = 200


@dataclass(frozen=True)
class AlertRow:
    id: int
    case_id: str
    site: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    kind: str  # interview (a partner interview) | report (a recidivism report)
    source: str | None  # who reported, for reports
    partner_id: str | None  # only for those who may open her record
    reported: tuple[str, ...]  # the types of violence: partner-support workers and admins
    may_open_case: bool
    may_acknowledge: bool


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


def _row(p: Principal, r) -> AlertRow:
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
        kind="interview" if alert.interview_id is not None else "report",
        source=r.Event.source if r.Event is not None else None,
        partner_id=r.partner_id if hers else None,
        reported=tuple(
            k for k in VIOLENCE_TYPES if record is not None and getattr(record, k) is True
        )
        if content
        else (),
        may_open_case=policy.view_participant(p, site),
        may_acknowledge=policy.acknowledge_alert(p, site, facilitator),
    )


def _one(session: Session, p: Principal, alert_id: int) -> AlertRow:
    if not policy.open_alerts(p):
        raise NotVisible()
    r = session.execute(_query().where(SafetyAlert.id == alert_id)).one_or_none()
    if r is None or not policy.view_alert(p, r.site_code, r.facilitator_id):
        raise NotVisible()
    return _row(p, r)


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


def open_alert(session: Session, p: Principal, alert_id: int) -> AlertRow:
    row = _one(session, p, alert_id)
    if row.partner_id is not None:
        audit(session, p.actor, "read_partner", "partner", row.partner_id, alert=alert_id)
    return row


def acknowledge(session: Session, ctx: Context, p: Principal, alert_id: int) -> bool:
    """Mark the alert seen by this person. False when someone already had: two people
    acknowledging at once leave the first one's name (a conditional update)."""
    row = _one(session, p, alert_id)
    if not row.may_acknowledge:
        raise NotVisible()
    done = session.execute(
        sa.update(SafetyAlert)
        .where(SafetyAlert.id == alert_id, SafetyAlert.acknowledged_at.is_(None))
        .values(acknowledged_at=ctx.now(), acknowledged_by=p.staff_id or p.actor)
    ).rowcount
    if done:
        audit(session, p.actor, "acknowledge_alert", "safety_alert", alert_id, case_id=row.case_id)
    return bool(done)
