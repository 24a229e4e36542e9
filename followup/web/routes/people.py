"""Participant and Partner pages, and the search box."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.db import transaction
from followup.errors import FollowupError
from followup.operations import people, policy, safe_plan
from followup.operations.policy import Principal
from followup.safe_contact import PLAN_CHANNELS
from followup.web import forms
from followup.web.auth import Form, checked_form, context, guard
from followup.web.common import see_other
from followup.web.render import page

router = APIRouter()
participants = guard(policy.open_participants, hide=True)
partners = guard(policy.open_partners, hide=True)
NOTICES = (
    "consent_given",
    "consent_withdrawn",
    "do_not_contact",
    "contact_allowed",
    "contact_rules",
)


@router.get("/search")
def search(request: Request, p: Principal = Depends(guard(policy.search))) -> Response:
    text = request.query_params.get("q", "")[:64]
    with transaction(context(request).engine) as session:
        found = people.search(session, p, text)
    if found.exact is not None:  # exactly one id this person may open: open it
        kind, key = found.exact
        return see_other(f"/{kind}s/{quote(key, safe='')}")
    return page(request, p, "search.html", q=text, found=found)


@router.get("/participants/{case_id:path}")
def participant(request: Request, case_id: str, p: Principal = Depends(participants)) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        view = people.participant_view(session, ctx, p, case_id)
    return page(request, p, "participant.html", v=view)


def _partner_page(
    request: Request,
    p: Principal,
    partner_id: str,
    *,
    reveal: bool = False,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    problem: str | None = None,
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        view = people.partner_view(session, ctx, p, partner_id, reveal=reveal)
        plan = safe_plan.read_safe_plan(session, ctx, p, partner_id, reveal=reveal)
    notice = request.query_params.get("saved")
    return page(
        request,
        p,
        "partner.html",
        status=status,
        v=view,
        errors=errors or {},
        values=values or {"on": view.today.isoformat(), **plan_form_values(plan)},
        plan=plan,
        zone=ctx.config.sites[view.site].timezone,
        problem=problem,
        notice=notice if notice in NOTICES else None,
        plan_confirmed=notice == "plan_confirmed",
        channels=PLAN_CHANNELS,
    )


@router.get("/partners/{partner_id:path}")
def partner(request: Request, partner_id: str, p: Principal = Depends(partners)) -> Response:
    return _partner_page(request, p, partner_id)


@router.post("/partners/{partner_id:path}/reveal")
def reveal_contact(
    request: Request,
    partner_id: str,
    p: Principal = Depends(partners),
    _form: Form = Depends(checked_form),
) -> Response:
    """Her phone, e-mail and address, shown once on this response; audited."""
    return _partner_page(request, p, partner_id, reveal=True)


def _change(request: Request, p: Principal, partner_id: str, form: Form, apply) -> Response:
    """Run one change to her record: validation messages next to the fields, a domain
    refusal at the top, and on success back to her page."""
    ctx = context(request)
    problem = None
    with transaction(ctx.engine) as session:
        target = people.changeable(session, ctx, p, partner_id)
        checked = forms.Checked()
        try:
            with session.begin_nested():
                notice = apply(session, ctx, target, checked)
        except FollowupError as refused:
            problem = str(refused)
    if checked.ok and problem is None:
        return see_other(f"/partners/{partner_id}?saved={notice}")
    return _partner_page(
        request,
        p,
        partner_id,
        status=422,
        errors=checked.errors,
        values=dict(form.values),
        problem=problem,
    )


@router.post("/partners/{partner_id:path}/consent")
def consent(
    request: Request,
    partner_id: str,
    p: Principal = Depends(partners),
    form: Form = Depends(checked_form),
) -> Response:
    def apply(session, ctx, target, checked):
        on = forms.a_date(form, "on", checked, today=target.today)
        given = {"given": True, "withdrawn": False}.get(form.get("consent"))
        if given is None:
            checked.errors["consent"] = "form.choose"
        if checked.ok:
            people.set_consent(session, ctx, p, partner_id, on=on, given=given)
        return "consent_given" if given else "consent_withdrawn"

    return _change(request, p, partner_id, form, apply)


@router.post("/partners/{partner_id:path}/do-not-contact")
def do_not_contact(
    request: Request,
    partner_id: str,
    p: Principal = Depends(partners),
    form: Form = Depends(checked_form),
) -> Response:
    def apply(session, ctx, target, checked):
        on = forms.a_date(form, "on", checked, today=target.today)
        flag = {"set": True, "lift": False}.get(form.get("flag"))
        if flag is None:
            checked.errors["flag"] = "form.choose"
        if checked.ok:
            people.set_do_not_contact(session, ctx, p, partner_id, flag=flag, on=on)
        return "do_not_contact" if flag else "contact_allowed"

    return _change(request, p, partner_id, form, apply)


@router.post("/partners/{partner_id:path}/plan")
def edit_plan(
    request: Request,
    partner_id: str,
    p: Principal = Depends(partners),
    form: Form = Depends(checked_form),
) -> Response:
    """Her safe-contact plan recorded or changed (audited, never with its contents)."""

    def apply(session, ctx, target, checked):
        given = forms.safe_plan(form)
        checked.errors.update(given.errors)
        if checked.ok:
            safe_plan.edit_safe_plan(session, ctx, p, partner_id, given.values["plan"])
        return "contact_rules"

    return _change(request, p, partner_id, form, apply)


@router.post("/partners/{partner_id:path}/plan/confirm")
def confirm_plan(
    request: Request,
    partner_id: str,
    p: Principal = Depends(partners),
    form: Form = Depends(checked_form),
) -> Response:
    """ "Plan confirmed with her today"."""

    def apply(session, ctx, target, checked):
        safe_plan.confirm_safe_plan(session, ctx, p, partner_id)
        return "plan_confirmed"

    return _change(request, p, partner_id, form, apply)


def plan_form_values(plan) -> dict:
    """Her plan as the form's fields (numbers are never put back in the form: a channel's
    number stays as it is unless a new one is typed)."""
    if plan is None:
        return {"voicemail_ok": "no", "may_name_organisation": "no"}
    values = {f"channel_{c}": "yes" for c in plan.plan.channels}
    values.update(
        safe_times=plan.plan.safe_times_text,
        voicemail_ok="yes" if plan.plan.voicemail_ok else "no",
        may_name_organisation="yes" if plan.plan.may_name_organisation else "no",
        code_word=plan.plan.code_word,
        if_someone_else_answers=plan.plan.if_someone_else_answers,
    )
    return values
