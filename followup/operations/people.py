"""People and their follow-ups: one follow-up, a participant's timeline, a partner's
record (open, reveal her contact details, her contact rules), search — each already cut
to what followup.operations.policy lets this person see, and each audited here.

Queries return plain records, never ORM rows, so a template cannot reach past the wall
by following a relationship. A record this person may not see raises NotVisible, the
same as one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup import record
from followup.audit import audit
from followup.checks import is_late
from followup.context import Context
from followup.labels import CheckpointLabels
from followup.models import (
    STATUS_EVENTS,
    VIOLENCE_TYPES,
    Event,
    FollowUp,
    Interview,
    Participant,
    Partner,
    RecordVersion,
    Staff,
)
from followup.operations import alerts, policy
from followup.operations.acting import acting
from followup.operations.alerts import Banner
from followup.operations.caseload import FollowUpRow, followup_row, select_followups
from followup.operations.policy import NotVisible, Principal
from followup.schedule import PENDING

PARTNER_EVENTS = frozenset(
    {"consent_given", "consent_withdrawn", "do_not_contact", "contact_allowed"}
)


# --- one follow-up ---------------------------------------------------------------------


@dataclass(frozen=True)
class InterviewView:
    id: int
    informant: str
    checkpoint: str | None
    label: str | None  # the checkpoint as staff read it, in their language
    conducted_on: date
    conducted_by: str | None
    mode: str | None
    violence: dict[str, bool | None]
    felt_safety: int | None
    risk_level: str | None
    notes: str | None
    partner_id: str | None
    # Corrections (followup.operations.corrections) and the window (followup.checks).
    voided: bool = False
    late: bool = False
    unscheduled: bool = False
    nothing_asked: bool = False
    versions: int = 0

    @property
    def reported(self) -> list[str]:
        return [kind for kind in VIOLENCE_TYPES if self.violence.get(kind) is True]


def interview_view(
    session: Session,
    ctx: Context,
    found: Interview,
    partner_id: str | None,
    labels: CheckpointLabels,
    versions: dict[tuple[str, int], int] | None = None,
) -> InterviewView:
    by = (
        session.execute(
            sa.select(Staff.name).where(Staff.id == found.conducted_by)
        ).scalar_one_or_none()
        if found.conducted_by
        else None
    )
    closes = (
        session.execute(
            sa.select(FollowUp.window_closes_on).where(FollowUp.id == found.followup_id)
        ).scalar_one_or_none()
        if found.followup_id
        else None
    )
    late = closes is not None and is_late(found.conducted_on, closes)
    return InterviewView(
        id=found.id,
        informant=found.informant,
        checkpoint=found.checkpoint,
        label=_interview_label(session, found, labels),
        conducted_on=found.conducted_on,
        conducted_by=by,
        mode=found.mode,
        violence={kind: getattr(found, kind) for kind in VIOLENCE_TYPES},
        felt_safety=found.felt_safety,
        risk_level=found.risk_level,
        notes=ctx.vault.open(found.notes_sealed) if found.notes_sealed else None,
        partner_id=partner_id,
        voided=found.voided_at is not None,
        late=late,
        unscheduled=found.followup_id is None,
        nothing_asked=found.nothing_asked_sealed is not None,
        versions=(versions or {}).get(("interview", found.id), 0),
    )


def _interview_label(session: Session, found: Interview, labels: CheckpointLabels) -> str | None:
    if not found.checkpoint:
        return None
    revision = session.execute(
        sa.select(Participant.protocol_revision).where(Participant.id == found.participant_id)
    ).scalar_one()
    return labels(revision, found.checkpoint, found.informant)


def version_counts(session: Session, participant_id: int) -> dict[tuple[str, int], int]:
    """How many earlier versions each of a person's interviews and events has."""
    return {
        (record_kind, record_id): n
        for record_kind, record_id, n in session.execute(
            sa.select(RecordVersion.record, RecordVersion.record_id, sa.func.count())
            .where(RecordVersion.participant_id == participant_id)
            .group_by(RecordVersion.record, RecordVersion.record_id)
        ).all()
    }


# --- a participant -----------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    on: date
    kind: str  # enrolled | an Event kind | interview | followup
    subject: str  # participant | partner
    followup: FollowUpRow | None = None
    interview: InterviewView | None = None
    source: str | None = None
    reported: tuple[str, ...] = ()
    new_offence: bool | None = None
    partner_id: str | None = None
    record_id: int | None = None  # an event's id (corrections)
    voided: bool = False
    versions: int = 0


@dataclass(frozen=True)
class ParticipantView:
    case_id: str
    site: str
    status: str
    protocol_id: str
    referral_source: str
    enrolled_on: date
    facilitator: str | None
    partners: list[str]  # partner ids this person may open
    partner_count: int | None  # shown to those who may see partner follow-up status
    timeline: list[TimelineEntry]
    today: date
    actions: frozenset[str] = frozenset()  # casework forms offered (policy.participant_actions)
    alerts: list[Banner] = field(default_factory=list)  # open, for those who may see them


def participant_view(session: Session, ctx: Context, p: Principal, case_id: str) -> ParticipantView:
    person = session.execute(
        sa.select(Participant).where(Participant.case_id == case_id)
    ).scalar_one_or_none()
    if person is None or not policy.view_participant(p, person.site_code):
        raise NotVisible()
    site, his_facilitator = person.site_code, person.facilitator_id
    hers = policy.view_partner(
        p, site, his_facilitator
    )  # her records, not only her follow-ups' status
    his = policy.view_participant_content(p, site)
    partners = dict(
        session.execute(
            sa.select(Partner.id, Partner.partner_id).where(Partner.participant_id == person.id)
        ).all()
    )
    today = ctx.site_today(site)
    labels = CheckpointLabels(session, ctx, p.language)
    versions = version_counts(session, person.id)
    timeline = [TimelineEntry(on=person.enrolled_on, kind="enrolled", subject="participant")]
    for r in session.execute(select_followups().where(FollowUp.participant_id == person.id)).all():
        subject = "participant" if r.partner_pk is None else "partner"
        if policy.view_followup(p, subject, site, his_facilitator):
            row = followup_row(r, p, labels, today, ctx.config.partner.reconfirm_plan_days)
            timeline.append(
                TimelineEntry(
                    on=row.completed_on or row.due_on,
                    kind="followup",
                    subject=subject,
                    followup=row,
                )
            )
    for event in session.execute(
        sa.select(Event).where(Event.participant_id == person.id)
    ).scalars():
        about_her = (
            event.partner_id is not None
            or event.source == "partner"
            or event.kind in PARTNER_EVENTS
        )
        if (about_her and not hers) or (
            not about_her and event.kind not in STATUS_EVENTS and not his
        ):
            continue
        timeline.append(
            TimelineEntry(
                on=event.occurred_on,
                kind=event.kind,
                subject="partner" if about_her else "participant",
                source=event.source,
                new_offence=event.new_offence,
                reported=tuple(k for k in VIOLENCE_TYPES if getattr(event, k) is True),
                partner_id=partners.get(event.partner_id) if hers else None,
                record_id=event.id,
                voided=event.voided_at is not None,
                versions=versions.get(("event", event.id), 0),
            )
        )
    for found in session.execute(
        sa.select(Interview).where(Interview.participant_id == person.id)
    ).scalars():
        if (found.informant == "partner" and hers) or (found.informant == "participant" and his):
            view = interview_view(
                session, ctx, found, partners.get(found.partner_id), labels, versions
            )
            if found.informant == "partner":
                view = InterviewView(**{**view.__dict__, "notes": None})  # her notes: on her page
            timeline.append(
                TimelineEntry(
                    on=found.conducted_on, kind="interview", subject=found.informant, interview=view
                )
            )
    order = {"enrolled": 0, "interview": 2, "followup": 3}
    timeline.sort(key=lambda e: (e.on, order.get(e.kind, 1)))
    if hers:
        audit(
            session,
            p.actor,
            "read_partner",
            "participant",
            case_id,
            partners=sorted(partners.values()),
        )
    facilitator = (
        session.execute(
            sa.select(Staff.name).where(Staff.id == person.facilitator_id)
        ).scalar_one_or_none()
        if person.facilitator_id
        else None
    )
    return ParticipantView(
        case_id=person.case_id,
        site=site,
        status=person.status,
        protocol_id=person.protocol_id,
        referral_source=person.referral_source,
        enrolled_on=person.enrolled_on,
        facilitator=facilitator,
        partners=sorted(partners.values()) if hers else [],
        partner_count=len(partners)
        if policy.view_partner_status(p, site, his_facilitator)
        else None,
        timeline=timeline,
        today=today,
        actions=policy.participant_actions(p, site, his_facilitator),
        alerts=alerts.open_banners(session, p, case_id=case_id),
    )


# --- a partner -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerView:
    partner_id: str
    case_id: str
    site: str
    relationship: str
    consent_on: date | None
    consent_withdrawn_on: date | None
    do_not_contact: bool
    channel: str | None
    support_worker: str | None
    has_contact: bool
    contact: dict | None  # only after an audited reveal
    followups: list[FollowUpRow]
    interviews: list[InterviewView]
    events: list[TimelineEntry]
    today: date
    alerts: list[Banner] = field(default_factory=list)  # open alerts raised for her


def _her(session: Session, p: Principal, partner_id: str) -> tuple[Partner, Participant]:
    found = session.execute(
        sa.select(Partner, Participant)
        .join(Participant, Participant.id == Partner.participant_id)
        .where(Partner.partner_id == partner_id)
    ).one_or_none()
    if found is None or not policy.view_partner(p, found[1].site_code, found[1].facilitator_id):
        raise NotVisible()
    return found[0], found[1]


def partner_view(
    session: Session, ctx: Context, p: Principal, partner_id: str, *, reveal: bool = False
) -> PartnerView:
    """Her record. Every call is a read of partner data and is audited; `reveal` (her
    contact details) is audited as such."""
    her, person = _her(session, p, partner_id)
    today = ctx.site_today(person.site_code)
    labels = CheckpointLabels(session, ctx, p.language)
    followups = [
        followup_row(r, p, labels, today, ctx.config.partner.reconfirm_plan_days)
        for r in session.execute(
            select_followups()
            .where(FollowUp.partner_id == her.id)
            .order_by(FollowUp.due_on, FollowUp.id)
        ).all()
    ]
    versions = version_counts(session, person.id)
    interviews = [
        interview_view(session, ctx, i, partner_id, labels, versions)
        for i in session.execute(
            sa.select(Interview)
            .where(Interview.partner_id == her.id)
            .order_by(Interview.conducted_on)
        ).scalars()
    ]
    events = [
        TimelineEntry(
            on=e.occurred_on,
            kind=e.kind,
            subject="partner",
            source=e.source,
            reported=tuple(k for k in VIOLENCE_TYPES if getattr(e, k) is True),
            record_id=e.id,
            voided=e.voided_at is not None,
            versions=versions.get(("event", e.id), 0),
        )
        for e in session.execute(
            sa.select(Event).where(Event.partner_id == her.id).order_by(Event.occurred_on, Event.id)
        ).scalars()
    ]
    worker = (
        session.execute(
            sa.select(Staff.name).where(Staff.id == her.support_worker_id)
        ).scalar_one_or_none()
        if her.support_worker_id
        else None
    )
    contact = None
    if reveal:
        contact = ctx.vault.open(her.contact_sealed) or {}
        audit(session, p.actor, "reveal_contact", "partner", partner_id)
    else:
        audit(session, p.actor, "read_partner", "partner", partner_id)
    return PartnerView(
        partner_id=her.partner_id,
        case_id=person.case_id,
        site=person.site_code,
        relationship=her.relationship,
        consent_on=her.consent_on,
        consent_withdrawn_on=her.consent_withdrawn_on,
        do_not_contact=her.do_not_contact,
        channel=her.channel,
        support_worker=worker,
        has_contact=her.contact_sealed is not None,
        contact=contact,
        followups=followups,
        interviews=interviews,
        events=events,
        today=today,
        alerts=alerts.open_banners(session, p, partner_id=partner_id),
    )


def check_partner_change(
    session: Session, p: Principal, partner_id: str
) -> tuple[Partner, Participant]:
    her, person = _her(session, p, partner_id)
    if not policy.change_partner(p, person.site_code, person.facilitator_id):
        raise NotVisible()
    return her, person


@dataclass(frozen=True)
class PartnerTarget:
    """A partner whose record this person may change, with her site's today."""

    partner_id: str
    case_id: str
    site: str
    today: date


def changeable(session: Session, ctx: Context, p: Principal, partner_id: str) -> PartnerTarget:
    _her_row, person = check_partner_change(session, p, partner_id)
    return PartnerTarget(
        partner_id, person.case_id, person.site_code, ctx.site_today(person.site_code)
    )


def set_consent(
    session: Session, ctx: Context, p: Principal, partner_id: str, *, on: date, given: bool
) -> None:
    """Consent given or withdrawn (withdrawal cancels every pending contact with her)."""
    check_partner_change(session, p, partner_id)
    record.set_consent(session, acting(ctx, p), partner_id=partner_id, on=on, given=given)


def set_do_not_contact(
    session: Session, ctx: Context, p: Principal, partner_id: str, *, flag: bool, on: date
) -> None:
    check_partner_change(session, p, partner_id)
    record.set_do_not_contact(session, acting(ctx, p), partner_id=partner_id, flag=flag, on=on)


# --- search ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    participants: list[tuple[str, str, str]]  # case id, site, status
    partners: list[tuple[str, str]]  # partner id, case id
    exact: tuple[str, str] | None = None  # ("participant" | "partner", id): open it at once


def _like(needle: str) -> str:
    """A LIKE pattern finding `needle` anywhere (its own % and _ taken literally)."""
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(session: Session, p: Principal, text: str, limit: int = 50) -> SearchResult:
    """Case ids (and, for partner-support workers, partner ids) containing `text`, within
    what this person may open (her ids never past the wall: policy.partner_scope). When
    the text is exactly one id this person may open, `exact` names it."""
    needle = text.strip().lower()
    if len(needle) < 2:
        return SearchResult([], [])
    pattern = _like(needle)
    people = (
        session.execute(
            sa.select(Participant)
            .where(
                sa.func.lower(Participant.case_id).like(pattern, escape="\\"),
                policy.participant_scope(p),
            )
            .order_by(sa.func.lower(Participant.case_id) != needle, Participant.case_id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    partners = session.execute(
        sa.select(Partner.partner_id, Participant.case_id)
        .join(Participant, Participant.id == Partner.participant_id)
        .where(
            sa.func.lower(Partner.partner_id).like(pattern, escape="\\"),
            policy.partner_scope(p),
        )
        .order_by(sa.func.lower(Partner.partner_id) != needle, Partner.partner_id)
        .limit(limit)
    ).all()
    exact = [("participant", x.case_id) for x in people if x.case_id.lower() == needle] + [
        ("partner", row.partner_id) for row in partners if row.partner_id.lower() == needle
    ]
    return SearchResult(
        [(x.case_id, x.site_code, x.status) for x in people],
        [(row.partner_id, row.case_id) for row in partners],
        exact[0] if len(exact) == 1 else None,
    )


# --- My caseload -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadPerson:
    kind: str  # participant (I am his facilitator) | partner (I am her support worker)
    case_id: str
    partner_id: str | None
    site: str
    standing: str  # his status (pstatus.*), or hers: consent | withdrawn | do_not_contact | none
    next_due: date | None  # his or her earliest pending follow-up
    alert_open: bool = False  # her open safety alert (only for those who may see it)


@dataclass
class Caseload:
    participants: list[CaseloadPerson]
    partners: list[CaseloadPerson]
    participant_total: int
    partner_total: int
    limit: int
    offset: int

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < max(self.participant_total, self.partner_total)


def _her_standing(her) -> str:
    if her.do_not_contact:
        return "do_not_contact"
    if her.consent_withdrawn_on is not None:
        return "withdrawn"
    return "consent" if her.consent_on is not None else "none"


def my_caseload(
    session: Session, ctx: Context, p: Principal, *, limit: int = 50, offset: int = 0
) -> Caseload:
    """The people assigned to me: the men I facilitate and the partners I support, a page
    of each (`limit` from `offset`, counted by aggregate). Her ids on the page are an
    audited read of partner data."""
    if not policy.list_followups(p):
        raise policy.Forbidden()
    limit, offset = max(1, min(limit, 500)), max(0, offset)
    if p.staff_pk is None:  # the CLI operator is assigned no one
        return Caseload([], [], 0, 0, limit, offset)
    his_next = (
        sa.select(sa.func.min(FollowUp.due_on))
        .where(
            FollowUp.participant_id == Participant.id,
            FollowUp.partner_id.is_(None),
            FollowUp.status == PENDING,
        )
        .scalar_subquery()
    )
    his = sa.and_(Participant.facilitator_id == p.staff_pk, policy.participant_scope(p))
    participants = [
        CaseloadPerson(
            "participant",
            r.Participant.case_id,
            None,
            r.Participant.site_code,
            r.Participant.status,
            r.next_due,
        )
        for r in session.execute(
            sa.select(Participant, his_next.label("next_due"))
            .where(his)
            .order_by(Participant.case_id)
            .limit(limit)
            .offset(offset)
        )
    ]
    participant_total = session.execute(
        sa.select(sa.func.count()).select_from(Participant).where(his)
    ).scalar_one()
    her_next = (
        sa.select(sa.func.min(FollowUp.due_on))
        .where(FollowUp.partner_id == Partner.id, FollowUp.status == PENDING)
        .scalar_subquery()
    )
    hers = sa.and_(Partner.support_worker_id == p.staff_pk, policy.partner_scope(p))
    found = session.execute(
        sa.select(Partner, Participant.case_id, Participant.site_code, her_next.label("next_due"))
        .join(Participant, Participant.id == Partner.participant_id)
        .where(hers)
        .order_by(Partner.partner_id)
        .limit(limit)
        .offset(offset)
    ).all()
    flagged = alerts.flagged_partners(session, p, [r.Partner.id for r in found])
    partners = [
        CaseloadPerson(
            "partner",
            r.case_id,
            r.Partner.partner_id,
            r.site_code,
            _her_standing(r.Partner),
            r.next_due,
            r.Partner.id in flagged,
        )
        for r in found
    ]
    partner_total = session.execute(
        sa.select(sa.func.count())
        .select_from(Partner)
        .join(Participant, Participant.id == Partner.participant_id)
        .where(hers)
    ).scalar_one()
    if partners:
        audit(
            session,
            p.actor,
            "read_partner",
            "caseload",
            None,
            partners=[x.partner_id for x in partners],
        )
    return Caseload(participants, partners, participant_total, partner_total, limit, offset)
