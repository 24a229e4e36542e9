"""What is due: pending follow-ups whose window is open or whose due date falls within
the next N days, plus everything overdue, as of each site's own today."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from followup.context import Context
from followup.models import FollowUp, Participant, Partner, Staff
from followup.schedule import PENDING


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
    status: str  # scheduled (window not open yet) | due (window open) | overdue (window closed)
    assigned_to: str | None
    site: str
    provisional: bool  # placed on an expected date; moves when the real date is recorded
    followup_id: int

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("due_on", "window_opens_on", "window_closes_on"):
            data[key] = data[key].isoformat()
        return data


def status_on(opens: date, closes: date, today: date) -> str:
    if today > closes:
        return "overdue"
    return "due" if today >= opens else "scheduled"


def list_due(
    session: Session,
    ctx: Context,
    *,
    as_of: date | None = None,
    days: int = 7,
    site: str | None = None,
    staff: str | None = None,
) -> list[DueItem]:
    sites = [site] if site else list(ctx.config.sites)
    today = {code: as_of or ctx.site_today(code) for code in sites}
    worker = aliased(Staff)
    per_site = [
        sa.and_(
            Participant.site_code == code,
            sa.or_(
                FollowUp.window_opens_on <= today[code],
                FollowUp.due_on <= today[code] + timedelta(days=days),
            ),
        )
        for code in sites
    ]
    query = (
        sa.select(
            FollowUp.id,
            Participant.case_id,
            Partner.partner_id,
            FollowUp.checkpoint,
            FollowUp.occurrence,
            FollowUp.due_on,
            FollowUp.window_opens_on,
            FollowUp.window_closes_on,
            worker.staff_id,
            Participant.site_code,
            FollowUp.provisional,
        )
        .join(Participant, Participant.id == FollowUp.participant_id)
        .outerjoin(Partner, Partner.id == FollowUp.partner_id)
        .outerjoin(worker, worker.id == FollowUp.assigned_staff_id)
        .where(FollowUp.status == PENDING, sa.or_(*per_site))
    )
    if staff:
        query = query.where(worker.staff_id == staff)
    items = [
        DueItem(
            case_id=r.case_id,
            subject="participant" if r.partner_id is None else "partner",
            partner_id=r.partner_id,
            checkpoint=r.checkpoint,
            occurrence=r.occurrence,
            due_on=r.due_on,
            window_opens_on=r.window_opens_on,
            window_closes_on=r.window_closes_on,
            status=status_on(r.window_opens_on, r.window_closes_on, today[r.site_code]),
            assigned_to=r.staff_id,
            site=r.site_code,
            provisional=bool(r.provisional),
            followup_id=r.id,
        )
        for r in session.execute(query)
    ]
    rank = {"overdue": 0, "due": 1, "scheduled": 2}
    items.sort(key=lambda i: (rank[i.status], i.due_on, i.case_id, i.subject, i.occurrence))
    return items
