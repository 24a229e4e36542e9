"""Casework from the browser: enrol a man, add and edit his partners, record his status,
a report of new violence, a police record check — and what each form may offer.

The writes are the CLI's own (followup.operations.records, followup.enrol, followup.record),
so a page and a command cannot disagree on a rule, a date or an audit line; this module
adds what a page needs around them: the choices a form may offer this person (sites,
protocols, workers — never his facilitator as her worker), and which follow-ups a status
change moved, so the page can say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup import enrol as enrolment
from followup.context import Context
from followup.labels import CheckpointLabels
from followup.models import Event, FollowUp, Participant, Partner, SafetyAlert, Staff
from followup.operations import policy, records
from followup.operations.acting import acting
from followup.operations.caseload import FollowUpRow, followup_row, select_followups
from followup.operations.policy import Forbidden, NotVisible, Principal
from followup.schedule import CANCELLED, PENDING


@dataclass(frozen=True)
class Worker:
    staff_id: str
    name: str
    site: str


def _workers(session: Session, role: str, sites: list[str]) -> list[Worker]:
    rows = session.execute(
        sa.select(Staff).where(Staff.site_code.in_(sites), Staff.active.is_(True))
    ).scalars()
    return sorted(
        (Worker(s.staff_id, s.name, s.site_code) for s in rows if role in s.role_set),
        key=lambda w: (w.site, w.name, w.staff_id),
    )


# --- enrol -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrolmentChoices:
    sites: list[str]  # where this person may enrol
    protocols: list[str]
    default_protocol: str
    facilitators: list[Worker]
    today: date  # at the first of the sites: the form's default date


def enrolment_choices(session: Session, ctx: Context, p: Principal) -> EnrolmentChoices:
    sites = [code for code in ctx.config.sites if policy.enrol(p, code)]
    if not sites:
        raise Forbidden(f"{p.username} may not enrol participants")
    return EnrolmentChoices(
        sites=sites,
        protocols=list(ctx.protocols),
        default_protocol=ctx.config.protocols.default_id,
        facilitators=_workers(session, "facilitator", sites),
        today=ctx.site_today(sites[0]),
    )


def site_today(ctx: Context, site: str) -> date | None:
    return ctx.site_today(site) if site in ctx.config.sites else None


def enrol(session: Session, ctx: Context, p: Principal, **details) -> Participant:
    """followup.operations.records.enrol: the same rule and audit as `followup enrol`."""
    ctx.sync_sites(session)
    return records.enrol(session, ctx, p, **details)


# --- his partners --------------------------------------------------------------------------


def _case(session: Session, p: Principal, case_id: str) -> Participant:
    person = session.execute(
        sa.select(Participant).where(Participant.case_id == case_id)
    ).scalar_one_or_none()
    if person is None or not policy.view_participant(p, person.site_code):
        raise NotVisible()
    return person


@dataclass(frozen=True)
class PartnerForm:
    """What a partner form offers: her case, its site, the workers she may be given."""

    case_id: str
    site: str
    today: date
    workers: list[Worker]  # offered: partner-support at the site, his facilitator left out
    accepted: frozenset[str]  # any partner-support there: the wall itself refuses him
    partner_id: str | None = None  # editing her
    relationship: str | None = None
    support_worker: str | None = None


def _her_workers(session: Session, person: Participant) -> tuple[list[Worker], frozenset[str]]:
    his = (
        session.get(Staff, person.facilitator_id).staff_id
        if person.facilitator_id is not None
        else None
    )
    workers = _workers(session, "partner_support", [person.site_code])
    return [w for w in workers if w.staff_id != his], frozenset(w.staff_id for w in workers)


def new_partner_form(session: Session, ctx: Context, p: Principal, case_id: str) -> PartnerForm:
    person = _case(session, p, case_id)
    if not policy.add_partner(p, person.site_code, person.facilitator_id):
        # Her side: to anyone who may not add her, the page does not exist.
        raise NotVisible()
    return PartnerForm(
        person.case_id,
        person.site_code,
        ctx.site_today(person.site_code),
        *_her_workers(session, person),
    )


def add_partner(
    session: Session, ctx: Context, p: Principal, *, case_id: str, **details
) -> Partner:
    """A new partner of his, her contact details sealed (shown afterwards only through
    the audited reveal on her page). followup.enrol.add_partner refuses his facilitator
    as her worker and writes the audit line."""
    new_partner_form(session, ctx, p, case_id)
    return enrolment.add_partner(session, acting(ctx, p), case_id=case_id, **details)


def edit_partner_form(session: Session, ctx: Context, p: Principal, partner_id: str) -> PartnerForm:
    her, person = _her(session, p, partner_id)
    worker = session.get(Staff, her.support_worker_id) if her.support_worker_id else None
    return PartnerForm(
        person.case_id,
        person.site_code,
        ctx.site_today(person.site_code),
        *_her_workers(session, person),
        partner_id=her.partner_id,
        relationship=her.relationship,
        support_worker=worker.staff_id if worker else None,
    )


def _her(session: Session, p: Principal, partner_id: str) -> tuple[Partner, Participant]:
    found = session.execute(
        sa.select(Partner, Participant)
        .join(Participant, Participant.id == Partner.participant_id)
        .where(Partner.partner_id == partner_id)
    ).one_or_none()
    if found is None or not policy.change_partner(p, found[1].site_code, found[1].facilitator_id):
        raise NotVisible()
    return found[0], found[1]


def edit_partner(
    session: Session,
    ctx: Context,
    p: Principal,
    *,
    partner_id: str,
    relationship: str,
    support_worker: str | None,
) -> Partner:
    _her(session, p, partner_id)
    return enrolment.edit_partner(
        session,
        acting(ctx, p),
        partner_id=partner_id,
        relationship=relationship,
        support_worker=support_worker,
    )


# --- his status ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseForm:
    """A participant-page form's frame: his case, status and dates, the site's today, and
    (for a report) the partners this person may name."""

    case_id: str
    site: str
    status: str
    today: date
    enrolled_on: date
    dates: dict[str, date | None]
    partners: list[str]
    may_name_her: bool


def case_form(session: Session, ctx: Context, p: Principal, case_id: str, action: str) -> CaseForm:
    """`action`: status | recidivism | check (policy.participant_actions)."""
    person = _case(session, p, case_id)
    if action not in policy.participant_actions(p, person.site_code, person.facilitator_id):
        raise Forbidden(f"{p.username} may not record this here")
    hers = policy.view_partner(p, person.site_code, person.facilitator_id)
    partners = (
        sorted(
            session.execute(
                sa.select(Partner.partner_id).where(Partner.participant_id == person.id)
            ).scalars()
        )
        if hers
        else []
    )
    return CaseForm(
        case_id=person.case_id,
        site=person.site_code,
        status=person.status,
        today=ctx.site_today(person.site_code),
        enrolled_on=person.enrolled_on,
        dates={
            "admitted": person.admitted_on,
            "programme_start": person.programme_start_on,
            "completed": person.completed_on,
            "ended": person.ended_on,
        },
        partners=partners,
        may_name_her=hers,
    )


@dataclass(frozen=True)
class StatusChange:
    event: Event
    moved: list[int]  # follow-up ids whose dates changed
    cancelled: list[int]  # follow-up ids the change cancelled


def _pending_dates(session: Session, person_id: int) -> dict[int, tuple]:
    rows = session.execute(
        sa.select(
            FollowUp.id,
            FollowUp.status,
            FollowUp.due_on,
            FollowUp.window_opens_on,
            FollowUp.window_closes_on,
            FollowUp.provisional,
        ).where(FollowUp.participant_id == person_id)
    ).all()
    return {r.id: tuple(r[1:]) for r in rows}


def record_status(
    session: Session, ctx: Context, p: Principal, *, case_id: str, event: str, on: date
) -> StatusChange:
    """followup.operations.records.record_status (the CLI's `record status`: the same
    order rules and audit), and which follow-ups it moved or cancelled."""
    person = _case(session, p, case_id)
    before = _pending_dates(session, person.id)
    recorded = records.record_status(session, ctx, p, case_id=case_id, event=event, on=on)
    after = _pending_dates(session, person.id)
    moved, cancelled = [], []
    for followup_id, was in before.items():
        now = after.get(followup_id)
        if now is None or was[0] != PENDING:
            continue
        if now[0] == CANCELLED:
            cancelled.append(followup_id)
        elif now[0] == PENDING and now[1:] != was[1:]:
            moved.append(followup_id)
    added = [i for i, now in after.items() if i not in before and now[0] == PENDING]
    return StatusChange(recorded, sorted(moved + added), sorted(cancelled))


def followups_named(
    session: Session, ctx: Context, p: Principal, case_id: str, ids: list[int]
) -> list[FollowUpRow]:
    """Some of his follow-ups, as this person may see them (hers only to her side), with
    their checkpoint labels: what a status change moved, read back after the redirect."""
    person = _case(session, p, case_id)
    if not ids:
        return []
    today = ctx.site_today(person.site_code)
    labels = CheckpointLabels(session, ctx, p.language)
    shown = []
    for r in session.execute(
        select_followups()
        .where(FollowUp.participant_id == person.id, FollowUp.id.in_(ids))
        .order_by(FollowUp.due_on, FollowUp.id)
    ).all():
        subject = "participant" if r.partner_pk is None else "partner"
        if policy.view_followup(p, subject, person.site_code, person.facilitator_id):
            shown.append(followup_row(r, p, labels, today, ctx.config.partner.reconfirm_plan_days))
    return shown


# --- reports and checks --------------------------------------------------------------------


def record_recidivism(session: Session, ctx: Context, p: Principal, **details) -> int | None:
    """The CLI's `record recidivism` (a report raises the safety alert, followup.alerts).
    Returns the alert's id when this person may open it, so the page can link to it."""
    event = records.record_recidivism(session, ctx, p, **details)
    person = session.get(Participant, event.participant_id)
    if not policy.view_alert(p, person.site_code, person.facilitator_id):
        return None
    return session.execute(
        sa.select(SafetyAlert.id).where(SafetyAlert.event_id == event.id)
    ).scalar_one_or_none()


def record_check(session: Session, ctx: Context, p: Principal, **details) -> Event:
    return records.record_check(session, ctx, p, **details)
