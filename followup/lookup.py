"""Finding people by the ids staff use, with errors that say what to do."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.errors import NotFound
from followup.models import Participant, Partner, Staff


def participant(session: Session, case_id: str) -> Participant:
    found = session.execute(
        sa.select(Participant).where(Participant.case_id == case_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(
            f"case {case_id!r} is not enrolled. Hint: check the case id, or enrol it first"
        )
    return found


def partner(session: Session, partner_id: str) -> Partner:
    found = session.execute(
        sa.select(Partner).where(Partner.partner_id == partner_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(
            f"partner {partner_id!r} is not known. Hint: add her with `followup import partners`"
        )
    return found


def staff(session: Session, staff_id: str) -> Staff:
    found = session.execute(sa.select(Staff).where(Staff.staff_id == staff_id)).scalar_one_or_none()
    if found is None:
        raise NotFound(
            f"staff member {staff_id!r} is not known. Hint: add them with `followup import staff`"
        )
    return found
