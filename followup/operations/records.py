"""Record what happened, as a person: followup.record's writes behind the policy.

The CLI's `followup record …` commands call these with the principal they act as (the
operator as administrator, or `--as USERNAME`); the web's pages call
followup.operations.followups and .people, which use the same rules. Each write is
audited by followup.record under this person's actor (`cli:LOGIN`, `cli:LOGIN as alice`,
`web:alice`). A record this person may not see is refused exactly like one that does not
exist, so asking about a partner tells a facilitator nothing about whether she exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from followup import enrol as enrolment
from followup import lookup, record
from followup.checks import is_late
from followup.context import Context
from followup.errors import NotFound
from followup.models import Event, FollowUp, Participant, Partner
from followup.operations import policy
from followup.operations.acting import acting
from followup.operations.followups import ScoreView, interview_scores
from followup.operations.policy import Forbidden, NotVisible, Principal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _case(session: Session, p: Principal, case_id: str) -> Participant:
    try:
        person = lookup.participant(session, case_id)
    except NotFound:
        if p.account_id is None:  # the operator: the plain message, as before
            raise
        person = None
    if person is None or not policy.view_participant(p, person.site_code):
        raise NotVisible(f"no case {case_id!r} that {p.username} may see")
    return person


def _her(session: Session, p: Principal, partner_id: str) -> tuple[Partner, Participant]:
    try:
        her = lookup.partner(session, partner_id)
    except NotFound:
        if p.account_id is None:
            raise
        her = None
    person = session.get(Participant, her.participant_id) if her is not None else None
    if person is None or not policy.view_partner(p, person.site_code, person.facilitator_id):
        raise NotVisible(f"no partner {partner_id!r} that {p.username} may see")
    return her, person


def _may(allowed: bool, p: Principal, what: str) -> None:
    if not allowed:
        raise Forbidden(f"{p.username} may not {what}")


def record_status(
    session: Session, ctx: Context, p: Principal, *, case_id: str, event: str, on: date
) -> Event:
    person = _case(session, p, case_id)
    _may(policy.record_status(p, person.site_code), p, "record status changes here")
    return record.record_status(session, acting(ctx, p), case_id=case_id, event=event, on=on)


@dataclass(frozen=True)
class RecordedInterview:
    """What `followup record interview` says back: which interview, which follow-up it
    completed (None: an unscheduled contact), and whether it was late."""

    id: int
    followup_id: int | None
    checkpoint: str | None
    late: bool
    # An instrument's scores, one line each ("risk_total: 15 (high)"), for the person who
    # recorded the interview (they may read it); empty for an interview by columns.
    scores: tuple[str, ...] = ()


def record_interview(
    session: Session,
    ctx: Context,
    p: Principal,
    *,
    case_id: str,
    informant: str,
    partner_id: str | None = None,
    plan_confirmed: bool = False,
    **answers,
) -> RecordedInterview:
    """`plan_confirmed`: her safe-contact plan was gone through with her (partner only)."""
    person = _case(session, p, case_id)
    if informant == "partner" and partner_id is not None:
        _her(session, p, partner_id)
    if informant == "partner" and not policy.view_partner(
        p, person.site_code, person.facilitator_id
    ):
        raise NotVisible(f"no partner of case {case_id!r} that {p.username} may see")
    _may(
        policy.record_followup(p, informant, person.site_code, person.facilitator_id),
        p,
        f"record {informant} interviews here",
    )
    interview = record.record_interview(
        session,
        acting(ctx, p),
        case_id=case_id,
        informant=informant,
        partner_id=partner_id,
        **answers,
    )
    if plan_confirmed and interview.partner_id is not None:
        from followup.operations.safe_plan import confirm_safe_plan

        her = session.get(Partner, interview.partner_id)
        confirm_safe_plan(session, ctx, p, her.partner_id, followup_id=interview.followup_id)
    followup = session.get(FollowUp, interview.followup_id) if interview.followup_id else None
    return RecordedInterview(
        id=interview.id,
        followup_id=interview.followup_id,
        checkpoint=interview.checkpoint,
        late=followup is not None and is_late(interview.conducted_on, followup.window_closes_on),
        scores=tuple(score_line(v) for v in interview_scores(session, interview, p.language)),
    )


def score_line(view: ScoreView) -> str:
    if view.value is None:
        return f"{view.score}: withheld ({view.withheld})"
    line = f"{view.score}: {view.value:g}" + (f" ({view.band})" if view.band else "")
    if view.override_band:
        line += f", band overridden to {view.override_band}"
    return line


def record_unsafe_to_talk(
    session: Session,
    ctx: Context,
    p: Principal,
    *,
    case_id: str,
    partner_id: str | None = None,
    checkpoint: str | None = None,
    on: date,
    mode: str | None = None,
):
    """ "Was it safe to talk?" — no (`followup record interview --informant partner
    --safe-to-talk no`): no interview; an `unsafe_to_talk` attempt on the follow-up the
    interview would have fulfilled (the one whose window holds `on`, or `checkpoint`)."""
    from followup.errors import InvalidRecord
    from followup.operations.attempts import record_unsafe_to_talk as on_followup

    person = _case(session, p, case_id)
    if partner_id is not None:
        _her(session, p, partner_id)
    if not policy.view_partner(p, person.site_code, person.facilitator_id):
        raise NotVisible(f"no partner of case {case_id!r} that {p.username} may see")
    _may(
        policy.record_followup(p, "partner", person.site_code, person.facilitator_id),
        p,
        "record partner interviews here",
    )
    partner = record._her(session, person, partner_id)
    followup = record._matching_followup(session, person, partner, checkpoint, on)
    if followup is None:
        raise InvalidRecord(
            f"case {case_id}: no pending follow-up with her on {on} to record the attempt on; "
            "name it with --checkpoint"
        )
    channel = mode if mode in ("phone", "in_person") else None
    return on_followup(session, ctx, p, followup.id, channel=channel)


def record_recidivism(
    session: Session,
    ctx: Context,
    p: Principal,
    *,
    case_id: str,
    source: str,
    partner_id: str | None = None,
    **details,
) -> Event:
    """A report of new violence. Her report (source partner, or naming her) is partner
    data: only those who may read her record may write it."""
    person = _case(session, p, case_id)
    if partner_id is not None:
        _her(session, p, partner_id)
    hers = source == "partner" or partner_id is not None
    allowed = (
        policy.view_partner(p, person.site_code, person.facilitator_id)
        if hers
        else policy.view_participant_content(p, person.site_code)
    )
    _may(allowed, p, "record this report")
    return record.record_recidivism(
        session, acting(ctx, p), case_id=case_id, source=source, partner_id=partner_id, **details
    )


def record_check(session: Session, ctx: Context, p: Principal, *, case_id: str, **details) -> Event:
    person = _case(session, p, case_id)
    _may(policy.view_participant_content(p, person.site_code), p, "record police checks here")
    return record.record_check(session, acting(ctx, p), case_id=case_id, **details)


def set_consent(
    session: Session, ctx: Context, p: Principal, *, partner_id: str, on: date, given: bool
) -> Partner:
    _her_row, person = _her(session, p, partner_id)
    _may(policy.change_partner(p, person.site_code, person.facilitator_id), p, "change her record")
    return record.set_consent(session, acting(ctx, p), partner_id=partner_id, on=on, given=given)


def set_do_not_contact(
    session: Session,
    ctx: Context,
    p: Principal,
    *,
    partner_id: str,
    flag: bool,
    on: date | None = None,
) -> Partner:
    _her_row, person = _her(session, p, partner_id)
    _may(policy.change_partner(p, person.site_code, person.facilitator_id), p, "change her record")
    return record.set_do_not_contact(
        session, acting(ctx, p), partner_id=partner_id, flag=flag, on=on
    )


def record_missed(
    session: Session,
    ctx: Context,
    p: Principal,
    *,
    case_id: str,
    checkpoint: str,
    informant: str = "participant",
    partner_id: str | None = None,
    on: date,
) -> FollowUp:
    person = _case(session, p, case_id)
    if informant == "partner":
        if partner_id is not None:
            _her(session, p, partner_id)
        elif not policy.view_partner(p, person.site_code, person.facilitator_id):
            raise NotVisible(f"no partner of case {case_id!r} that {p.username} may see")
    _may(
        policy.record_followup(p, informant, person.site_code, person.facilitator_id),
        p,
        f"record {informant} follow-ups here",
    )
    return record.record_missed(
        session,
        acting(ctx, p),
        case_id=case_id,
        checkpoint=checkpoint,
        informant=informant,
        partner_id=partner_id,
        on=on,
    )


def enrol(session: Session, ctx: Context, p: Principal, *, site: str, **details) -> Participant:
    """Enrol one participant (followup.enrol.enrol): facilitators and supervisors at the
    site, administrators anywhere. An unknown site is refused by followup.enrol itself."""
    if site in ctx.config.sites:
        _may(policy.enrol(p, site), p, f"enrol participants at {site}")
    return enrolment.enrol(session, acting(ctx, p), site=site, **details)
