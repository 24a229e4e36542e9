"""Record interview (`/followups/{id}`); the lists are in followup.web.routes.worklists."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.db import transaction
from followup.errors import FollowupError, InvalidAnswers
from followup.operations import attempts, followups, policy, safe_plan
from followup.operations.policy import NotVisible, Principal
from followup.vocab import ATTEMPT_OUTCOMES, CONTACT_CHANNELS, VIOLENCE_TYPES
from followup.web import forms, instrument_form
from followup.web.auth import Form, checked_form, context, guard
from followup.web.common import see_other
from followup.web.i18n import supported, translator
from followup.web.render import language_of, page

router = APIRouter()
one = guard(policy.list_followups, hide=True)


def detail_page(
    request: Request,
    p: Principal,
    followup_id: int,
    *,
    status: int = 200,
    values: dict | None = None,
    errors: dict | None = None,
    problem: str | None = None,
    attempt_problem: object = None,
    item_errors: dict | None = None,
    reveal: bool = False,
) -> Response:
    """The follow-up page (also shown again by a refused attempt, its problem beside
    the attempt form: followup.web.routes.worklists.record_attempt)."""
    ctx = context(request)
    with transaction(ctx.engine) as session:
        detail = followups.followup_detail(session, ctx, p, followup_id, reveal=reveal)
    saved = request.query_params.get("saved")
    language = supported(language_of(request, p))
    questionnaire = (
        instrument_form.form_of(detail.instrument, language, translator(language))
        if detail.instrument is not None
        else None
    )
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
        if saved in ("interview", "missed", "unscheduled", "attempt", "unsafe", "plan_confirmed")
        else None,
        violence_types=VIOLENCE_TYPES,
        modes=("in_person", "phone", "video"),
        risk_levels=("low", "medium", "high"),
        missed_reasons=followups.MISSED_REASONS,
        attempt_problem=attempt_problem,
        outcomes=ATTEMPT_OUTCOMES,
        channels=CONTACT_CHANNELS,
        questionnaire=questionnaire,
        item_errors=item_errors or {},
        missing_codes=instrument_form.OFFERED_MISSING,
    )


@router.get("/followups/{followup_id}")
def followup(request: Request, followup_id: int, p: Principal = Depends(one)) -> Response:
    return detail_page(request, p, followup_id)


@router.post("/followups/{followup_id}")
def save_interview(
    request: Request,
    followup_id: int,
    p: Principal = Depends(one),
    form: Form = Depends(checked_form),
) -> Response:
    ctx = context(request)
    problem = None
    item_errors: dict[str, str] = {}
    with transaction(ctx.engine) as session:
        target = followups.recordable(session, ctx, p, followup_id)
        her = target.subject == "partner"
        safe = forms.safe_to_talk(form) if her else forms.Checked()
        unsafe = her and safe.ok and not safe.values["safe_to_talk"]
        if unsafe:  # "Was it safe to talk?" no: an attempt, and no interview
            checked = safe
            try:
                with session.begin_nested():
                    attempts.record_unsafe_to_talk(
                        session, ctx, p, followup_id, channel=safe.values["channel"]
                    )
            except FollowupError as refused:
                problem = str(refused)
        else:
            checked = forms.interview(form, today=target.today, enrolled_on=target.enrolled_on)
            checked.errors.update(safe.errors)
            if her:
                checked.values["plan_confirmed"] = form.get("plan_confirmed") == "yes"
            instrument = followups.asked_instrument(session, ctx, target)
            if instrument is not None:  # its items, instead of the core form's fields
                language = supported(language_of(request, p))
                posted = instrument_form.read_posted(form, instrument, translator(language))
                item_errors.update(posted.errors)
                checked.values["answers"] = posted.answers
                checked.values["score_overrides"] = posted.overrides
                checked.values["instrument_id"] = instrument.id
            if checked.ok and not item_errors:
                try:
                    with session.begin_nested():
                        followups.record_interview(session, ctx, p, followup_id, **checked.values)
                except InvalidAnswers as refused:
                    item_errors.update({f"answer_{k}": v for k, v in refused.problems.items()})
                    item_errors.update(
                        {f"override_{k}": v for k, v in refused.override_problems.items()}
                    )
                except FollowupError as refused:
                    problem = str(refused)
    if checked.ok and problem is None and not item_errors:
        saved = "unscheduled" if checked.values.get("unscheduled") else "interview"
        return see_other(f"/followups/{followup_id}?saved={'unsafe' if unsafe else saved}")
    return detail_page(
        request,
        p,
        followup_id,
        status=422,
        values=dict(form.values),
        errors=checked.errors,
        problem=problem,
        item_errors=item_errors,
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
    return detail_page(request, p, followup_id, status=422, problem=problem)


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
    return detail_page(request, p, followup_id, reveal=True)


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
    return detail_page(request, p, followup_id, status=422, problem=problem)
