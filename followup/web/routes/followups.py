"""My follow-ups, and Record interview (`/followups/{id}`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.audit import audit
from followup.db import transaction
from followup.errors import FollowupError
from followup.models import VIOLENCE_TYPES, FollowUp, Participant, Partner
from followup.operations import caseload, people, policy
from followup.operations.policy import Principal
from followup.record import record_interview, record_missed
from followup.web import forms
from followup.web.auth import Forbidden, Form, NotVisible, checked_form, context, guard
from followup.web.common import acting, see_other
from followup.web.render import page

router = APIRouter()
lists = guard(policy.list_followups)
one = guard(policy.list_followups, hide=True)


@router.get("/followups")
def my_followups(request: Request, p: Principal = Depends(lists)) -> Response:
    ctx = context(request)
    site_wide = request.query_params.get("scope") == "site" and (policy.list_site_followups(p))
    with transaction(ctx.engine) as session:
        listing = caseload.followup_list(session, ctx, p, site_wide=site_wide)
    return page(
        request,
        p,
        "followups.html",
        listing=listing,
        site_wide=site_wide,
        groups=caseload.GROUPS,
        may_see_site=policy.list_site_followups(p),
    )


def _detail_page(
    request: Request,
    p: Principal,
    followup_id: int,
    *,
    status: int = 200,
    values: dict | None = None,
    errors: dict | None = None,
    problem: str | None = None,
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        detail = people.followup_detail(session, ctx, p, followup_id)
        if detail.row.partner_id is not None:
            audit(
                session,
                p.actor,
                "read_partner",
                "partner",
                detail.row.partner_id,
                followup=followup_id,
            )
    saved = request.query_params.get("saved")
    return page(
        request,
        p,
        "followup.html",
        status=status,
        d=detail,
        f=detail.row,
        values=values or {"conducted_on": detail.today.isoformat()},
        errors=errors or {},
        problem=problem,
        saved=saved if saved in ("interview", "missed") else None,
        violence_types=VIOLENCE_TYPES,
        modes=("in_person", "phone", "video"),
        risk_levels=("low", "medium", "high"),
    )


@router.get("/followups/{followup_id}")
def followup(request: Request, followup_id: int, p: Principal = Depends(one)) -> Response:
    return _detail_page(request, p, followup_id)


def _recordable(
    session, p: Principal, followup_id: int
) -> tuple[FollowUp, Participant, str | None]:
    """The follow-up, if this person may record it (404 when they may not even see it)."""
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
    return found, person, partner_id


@router.post("/followups/{followup_id}")
def save_interview(
    request: Request,
    followup_id: int,
    p: Principal = Depends(one),
    form: Form = Depends(checked_form),
) -> Response:
    ctx = context(request)
    problem = None
    with transaction(ctx.engine) as session:
        found, person, partner_id = _recordable(session, p, followup_id)
        checked = forms.interview(
            form, today=ctx.site_today(person.site_code), enrolled_on=person.enrolled_on
        )
        if checked.ok:
            # The interviewer is the person recording, when they do this work at the site
            # (an administrator entering someone else's interview is not the interviewer).
            role = policy.PARTNER_SUPPORT if found.subject == "partner" else policy.FACILITATOR
            by = p.staff_id if p.site == person.site_code and role in p.roles else None
            try:
                with session.begin_nested():
                    record_interview(
                        session,
                        acting(ctx, p),
                        case_id=person.case_id,
                        informant=found.subject,
                        partner_id=partner_id,
                        checkpoint=found.checkpoint,
                        followup_id=found.id,
                        by=by,
                        **checked.values,
                    )
            except FollowupError as refused:
                problem = str(refused)
    if checked.ok and problem is None:
        return see_other(f"/followups/{followup_id}?saved=interview")
    return _detail_page(
        request,
        p,
        followup_id,
        status=422,
        values=dict(form.values),
        errors=checked.errors,
        problem=problem,
    )


@router.post("/followups/{followup_id}/missed")
def mark_missed(
    request: Request,
    followup_id: int,
    p: Principal = Depends(one),
    form: Form = Depends(checked_form),
) -> Response:
    """Close a follow-up that will not happen (unreachable, refused): it counts as missed."""
    ctx = context(request)
    problem = None
    with transaction(ctx.engine) as session:
        found, person, partner_id = _recordable(session, p, followup_id)
        try:
            with session.begin_nested():
                if found.status != "scheduled":
                    raise FollowupError(f"{found.checkpoint} is already {found.status}")
                record_missed(
                    session,
                    acting(ctx, p),
                    case_id=person.case_id,
                    checkpoint=found.checkpoint,
                    informant=found.subject,
                    partner_id=partner_id,
                    on=found.due_on,
                )
        except FollowupError as refused:
            problem = str(refused)
    if problem is None:
        return see_other(f"/followups/{followup_id}?saved=missed")
    return _detail_page(request, p, followup_id, status=422, problem=problem)
