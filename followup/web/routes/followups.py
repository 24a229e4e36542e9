"""Record interview (`/followups/{id}`); the lists are in followup.web.routes.worklists."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.db import transaction
from followup.errors import FollowupError
from followup.operations import followups, policy, safe_plan
from followup.operations.policy import NotVisible, Principal
from followup.vocab import VIOLENCE_TYPES
from followup.web import forms
from followup.web.auth import Form, checked_form, context, guard
from followup.web.common import see_other
from followup.web.render import page

router = APIRouter()
one = guard(policy.list_followups, hide=True)


def _detail_page(
    request: Request,
    p: Principal,
    followup_id: int,
    *,
    status: int = 200,
    values: dict | None = None,
    errors: dict | None = None,
    problem: str | None = None,
    reveal: bool = False,
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        detail = followups.followup_detail(session, ctx, p, followup_id, reveal=reveal)
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
        saved=saved
        if saved in ("interview", "missed", "unscheduled", "unsafe", "plan_confirmed")
        else None,
        violence_types=VIOLENCE_TYPES,
        modes=("in_person", "phone", "video"),
        risk_levels=("low", "medium", "high"),
        missed_reasons=followups.MISSED_REASONS,
    )


@router.get("/followups/{followup_id}")
def followup(request: Request, followup_id: int, p: Principal = Depends(one)) -> Response:
    return _detail_page(request, p, followup_id)


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
        target = followups.recordable(session, ctx, p, followup_id)
        her = target.subject == "partner"
        safe = forms.safe_to_talk(form) if her else forms.Checked()
        unsafe = her and safe.ok and not safe.values["safe_to_talk"]
        if unsafe:  # "Was it safe to talk?" no: an attempt, and no interview
            checked = safe
            try:
                with session.begin_nested():
                    followups.record_unsafe_to_talk(
                        session, ctx, p, followup_id, channel=safe.values["channel"]
                    )
            except FollowupError as refused:
                problem = str(refused)
        else:
            checked = forms.interview(form, today=target.today, enrolled_on=target.enrolled_on)
            checked.errors.update(safe.errors)
            if her:
                checked.values["plan_confirmed"] = form.get("plan_confirmed") == "yes"
            if checked.ok:
                try:
                    with session.begin_nested():
                        followups.record_interview(session, ctx, p, followup_id, **checked.values)
                except FollowupError as refused:
                    problem = str(refused)
    if checked.ok and problem is None:
        saved = "unscheduled" if checked.values.get("unscheduled") else "interview"
        return see_other(f"/followups/{followup_id}?saved={'unsafe' if unsafe else saved}")
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
        try:
            with session.begin_nested():
                followups.record_missed(
                    session, ctx, p, followup_id, reason=form.get("reason") or None
                )
        except FollowupError as refused:
            problem = str(refused)
    if problem is None:
        return see_other(f"/followups/{followup_id}?saved=missed")
    return _detail_page(request, p, followup_id, status=422, problem=problem)


@router.post("/followups/{followup_id}/reveal")
def reveal_plan(
    request: Request,
    followup_id: int,
    p: Principal = Depends(one),
    _form: Form = Depends(checked_form),
) -> Response:
    """Her plan with each channel's number or address, shown once on this response;
    audited (the same reveal as on her page). Only for those who may record her
    follow-up (her worker), never his side."""
    ctx = context(request)
    with transaction(ctx.engine) as session:
        if followups.recordable(session, ctx, p, followup_id).partner_id is None:
            raise NotVisible()
    return _detail_page(request, p, followup_id, reveal=True)


@router.post("/followups/{followup_id}/plan-confirmed")
def plan_confirmed(
    request: Request,
    followup_id: int,
    p: Principal = Depends(one),
    _form: Form = Depends(checked_form),
) -> Response:
    """ "Plan confirmed with her today", from her follow-up's page."""
    ctx = context(request)
    problem = None
    with transaction(ctx.engine) as session:
        target = followups.recordable(session, ctx, p, followup_id)
        try:
            if target.partner_id is None:
                raise NotVisible()
            with session.begin_nested():
                safe_plan.confirm_safe_plan(
                    session, ctx, p, target.partner_id, followup_id=followup_id
                )
        except FollowupError as refused:
            problem = str(refused)
    if problem is None:
        return see_other(f"/followups/{followup_id}?saved=plan_confirmed")
    return _detail_page(request, p, followup_id, status=422, problem=problem)
