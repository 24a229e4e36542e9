"""Enrolling participants and their partners into a protocol."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy.orm import Session

from followup import lookup, wall
from followup.audit import audit
from followup.context import Context
from followup.errors import AlreadyRecorded, InvalidRecord, NotFound
from followup.her_plan import PlanInput, build_plan, seal_plan
from followup.models import REFERRAL_SOURCES, RELATIONSHIPS, Participant, Partner, Staff
from followup.replan import replan
from followup.values import parse_identifier


def protocol_for_enrolment(ctx: Context, session: Session):
    """Day-to-day re-planning uses the revision each person was enrolled into."""
    return lambda _protocol_id, revision: ctx.protocol_at(session, revision)


def _valid(parse, *args):
    """A value checked by the rule every path shares (followup.values)."""
    try:
        return parse(*args)
    except ValueError as problem:
        raise InvalidRecord(str(problem)) from None


def check_worker(worker: Staff, role: str, site: str) -> None:
    if role not in worker.role_set:
        raise InvalidRecord(
            f"staff member {worker.staff_id!r} does not have the {role} role. "
            f"Hint: give them the role in the staff file, or choose someone who has it"
        )
    if worker.site_code != site:
        raise InvalidRecord(
            f"staff member {worker.staff_id!r} works at site {worker.site_code}, not {site}"
        )


def enrol(
    session: Session,
    ctx: Context,
    *,
    case_id: str,
    site: str,
    referral_source: str,
    enrolled_on: date,
    protocol_id: str | None = None,
    facilitator: str | None = None,
) -> Participant:
    case_id = _valid(parse_identifier, case_id, "case id")
    if site not in ctx.config.sites:
        raise NotFound(
            f"site {site!r} is not in {ctx.config.path}. Hint: one of {', '.join(ctx.config.sites)}"
        )
    if referral_source not in REFERRAL_SOURCES:
        raise InvalidRecord(
            f"unknown referral source {referral_source!r}; expected one of {', '.join(REFERRAL_SOURCES)}"
        )
    if enrolled_on > ctx.site_today(site):
        raise InvalidRecord(f"case {case_id}: enrolment date {enrolled_on} is in the future")
    if session.query(Participant.id).filter_by(case_id=case_id).first():
        raise AlreadyRecorded(
            f"case {case_id!r} is already enrolled. Hint: use `followup record` to add to it"
        )
    protocol = ctx.protocol(protocol_id)
    ctx.register_protocols(session)
    worker = None
    if facilitator:
        worker = lookup.staff(session, facilitator)
        check_worker(worker, "facilitator", site)
    person = Participant(
        case_id=case_id,
        site_code=site,
        referral_source=referral_source,
        enrolled_on=enrolled_on,
        protocol_id=protocol.id,
        protocol_revision=protocol.revision,
        facilitator_id=worker.id if worker else None,
    )
    session.add(person)
    session.flush()
    replan(
        session, [person.id], protocol_for_enrolment(ctx, session), reason="enrolled", now=ctx.now()
    )
    audit(
        session,
        ctx.actor,
        "enrol",
        "participant",
        case_id,
        protocol=protocol.id,
        revision=protocol.revision,
    )
    return person


def add_partner(
    session: Session,
    ctx: Context,
    *,
    partner_id: str,
    case_id: str,
    relationship: str = "current",
    consent_on: date | None = None,
    channel: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    support_worker: str | None = None,
    plan: PlanInput | None = None,
) -> Partner:
    """`plan`: her safe-contact plan (channels default to `channel` with her phone or
    e-mail); none and no channel: no plan is recorded."""
    partner_id = _valid(parse_identifier, partner_id, "partner id")
    person = lookup.participant(session, case_id)
    if relationship not in RELATIONSHIPS:
        raise InvalidRecord(
            f"unknown relationship {relationship!r}; expected one of {', '.join(RELATIONSHIPS)}"
        )
    if session.query(Partner.id).filter_by(partner_id=partner_id).first():
        raise AlreadyRecorded(f"partner {partner_id!r} already exists")
    worker = None
    if support_worker:
        worker = lookup.staff(session, support_worker)
        check_worker(worker, "partner_support", person.site_code)
        wall.check_support_worker(worker, person)
    contact = {k: v for k, v in {"phone": phone, "email": email}.items() if v}
    if plan is None and channel:
        plan = PlanInput(channels=(channel,))
    if plan is not None and not plan.channels and channel:
        plan = replace(plan, channels=(channel,))
    sealed_plan = {}
    if plan is not None:
        # Recorded by her worker today: a partners file dated before does not replace it.
        made = replace(
            build_plan(plan, contact), worker_changed_on=ctx.site_today(person.site_code)
        )
        sealed_plan = seal_plan(ctx.vault, made)
    if plan is not None and plan.channels:
        channel = plan.channels[0]
    partner = Partner(
        partner_id=partner_id,
        participant_id=person.id,
        relationship=relationship,
        consent_on=consent_on,
        channel=channel,
        **sealed_plan,
        support_worker_id=worker.id if worker else None,
        contact_sealed=ctx.vault.seal(contact) if contact else None,
    )
    session.add(partner)
    session.flush()
    replan(
        session,
        [person.id],
        protocol_for_enrolment(ctx, session),
        reason="partner added",
        now=ctx.now(),
    )
    audit(session, ctx.actor, "add_partner", "partner", partner_id, case_id=case_id)
    return partner


def edit_partner(
    session: Session,
    ctx: Context,
    *,
    partner_id: str,
    relationship: str,
    support_worker: str | None,
) -> Partner:
    """Change her relationship to him and her partner-support worker (never his
    facilitator: followup.wall). Her pending follow-ups move to the new worker at once.
    Consent and contact rules have their own operations (followup.record, people)."""
    partner = lookup.partner(session, partner_id)
    person = session.get(Participant, partner.participant_id)
    if relationship not in RELATIONSHIPS:
        raise InvalidRecord(
            f"unknown relationship {relationship!r}; expected one of {', '.join(RELATIONSHIPS)}"
        )
    worker = None
    if support_worker:
        worker = lookup.staff(session, support_worker)
        check_worker(worker, "partner_support", person.site_code)
        wall.check_support_worker(worker, person)
    changed = []
    if partner.relationship != relationship:
        changed.append("relationship")
    if partner.support_worker_id != (worker.id if worker else None):
        changed.append("support_worker")
    partner.relationship = relationship
    partner.support_worker_id = worker.id if worker else None
    session.flush()
    replan(
        session,
        [person.id],
        protocol_for_enrolment(ctx, session),
        reason="partner changed",
        now=ctx.now(),
    )
    audit(session, ctx.actor, "edit_partner", "partner", partner_id, changed=changed)
    return partner
