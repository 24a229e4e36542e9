"""The partner wall, by person: the man's facilitator is never his partner's worker.

DESIGN.md ("Survivor safety"): partner records are never shown to the participant's
facilitator, whatever roles he holds. followup.operations.policy denies him every read on her
side; this module refuses the assignments that would make him her worker in the first
place — a support worker who facilitates the man, a facilitator who supports one of his
partners, her interview conducted by him — and finds such pairs already recorded (data
from before this rule), so that the staff file and `followup user add` do not hand
partner_support to someone caught in one. Such a pair's follow-ups for her are left
unassigned when re-planned (followup.replan), so her reminders never go to him.

Each check returns the reason as one sentence naming the ids; the callers add the file,
row and column (imports) or raise it (CLI, operations).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.errors import InvalidRecord
from followup.models import Participant, Partner, Staff

# Roles that open her record (followup.operations.policy.view_partner).
HER_ROLES = frozenset({"partner_support", "admin"})
RULE = "the man's facilitator must never be his partner's worker"


class WallRefusal(InvalidRecord):
    """An assignment refused by the wall (the web shows it next to the worker field)."""


def support_worker_refusal(worker_id: str, case_id: str) -> str:
    """`worker_id` would support a partner of `case_id`, whom they facilitate."""
    return (
        f"{worker_id} is the facilitator of case {case_id}; {RULE}. "
        "Hint: choose another partner-support worker"
    )


def facilitator_refusal(worker_id: str, partner_ids: Iterable[str]) -> str:
    """`worker_id` would facilitate a man whose partner(s) they support."""
    hers = ", ".join(sorted(partner_ids))
    return (
        f"{worker_id} is the partner-support worker of {hers}, this man's partner; {RULE}. "
        "Hint: choose another facilitator, or give her another support worker first"
    )


def interviewer_refusal(worker_id: str, case_id: str) -> str:
    return (
        f"{worker_id} is the facilitator of case {case_id}; {RULE}, nor interview her. "
        "Hint: name her partner-support worker"
    )


def check_support_worker(worker: Staff, person: Participant) -> None:
    if person.facilitator_id is not None and person.facilitator_id == worker.id:
        raise WallRefusal(support_worker_refusal(worker.staff_id, person.case_id))


def check_interviewer(worker: Staff, person: Participant) -> None:
    """Her interview is never conducted (or recorded as conducted) by his facilitator."""
    if person.facilitator_id is not None and person.facilitator_id == worker.id:
        raise InvalidRecord(interviewer_refusal(worker.staff_id, person.case_id))


@dataclass(frozen=True)
class Breach:
    """A recorded pair that breaks the wall: one person, his facilitator and her worker."""

    staff_id: str
    case_id: str
    partner_id: str

    def __str__(self) -> str:
        return (
            f"{self.staff_id} is both the facilitator of case {self.case_id} and the "
            f"partner-support worker of his partner {self.partner_id}; {RULE}"
        )


def recorded_breaches(session: Session, staff_ids: Iterable[str] | None = None) -> list[Breach]:
    """Cases whose facilitator is also the support worker of one of his partners."""
    query = (
        sa.select(Staff.staff_id, Participant.case_id, Partner.partner_id)
        .join(Participant, Participant.facilitator_id == Staff.id)
        .join(
            Partner,
            sa.and_(
                Partner.participant_id == Participant.id, Partner.support_worker_id == Staff.id
            ),
        )
        .order_by(Staff.staff_id, Participant.case_id, Partner.partner_id)
    )
    if staff_ids is not None:
        query = query.where(Staff.staff_id.in_(list(staff_ids)))
    return [Breach(*row) for row in session.execute(query)]


def check_her_roles(session: Session, staff_id: str, roles: Iterable[str]) -> None:
    """Refuse a role that opens her record to someone caught in a recorded breach."""
    if HER_ROLES.isdisjoint(roles):
        return
    breaches = recorded_breaches(session, [staff_id])
    if breaches:
        raise InvalidRecord(
            f"{breaches[0]}, so they may not hold {' or '.join(sorted(HER_ROLES & set(roles)))}. "
            "Hint: give her another partner-support worker (partners file) first"
        )
