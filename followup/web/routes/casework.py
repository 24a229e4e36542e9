"""Casework pages: Enrol, Add / Edit partner, Status, New violence report, Police record
check. Each parses its form (followup.web.casework_forms), calls one operation
(followup.operations.casework, which calls the CLI's own) and renders; who may do what is
the operation's business (followup.operations.policy).

Registered before followup.web.routes.people, whose `/participants/{case_id:path}` and
`/partners/{partner_id:path}` would otherwise take these longer paths for ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.db import transaction
from followup.errors import AlreadyRecorded, FollowupError
from followup.operations import casework, policy
from followup.operations.policy import Principal
from followup.vocab import (
    CONTACT_CHANNELS,
    REFERRAL_SOURCES,
    RELATIONSHIPS,
    REPORT_SOURCES,
    STATUS_EVENTS,
    VIOLENCE_TYPES,
)
from followup.wall import WallRefusal
from followup.web import casework_forms as forms
from followup.web.auth import Form, checked_form, context, guard
from followup.web.common import see_other
from followup.web.forms import Checked
from followup.web.render import page

router = APIRouter()
enrolling = guard(policy.open_enrolment)
his = guard(policy.open_participants, hide=True)
hers = guard(policy.open_partners, hide=True)


@dataclass(frozen=True)
class Problem:
    """A refusal of the record (not of the person), in web words: a catalogue key and the
    domain's own sentence without its command-line hint."""

    key: str
    detail: str

    def text(self, t: Callable[..., str]) -> str:
        """The sentence with the status words the domain writes as keys (`dropped_out`)
        in the page's words ("dropped out")."""
        detail = _STATUS_WORD.sub(lambda m: t(f"event.{m.group(0)}").lower(), self.detail)
        return t(self.key, detail=detail)


_STATUS_WORD = re.compile(r"\b(?:" + "|".join(STATUS_EVENTS) + r")\b")


def _plain(refused: FollowupError) -> str:
    """The domain's sentence for a page: no `Hint: …` (it names CLI options and files),
    no leading `case X:` (the page is about case X)."""
    text = str(refused).split(" Hint:", 1)[0].strip()
    if text.startswith("case ") and ": " in text:
        text = text.split(": ", 1)[1]
    return text


def _refusal(refused: FollowupError, checked: Checked, *, id_field: str | None = None):
    """Put a refusal next to its field when it belongs to one; else a Problem for the top."""
    if isinstance(refused, WallRefusal):
        checked.errors["support_worker"] = "casework.wall"
        return None
    if isinstance(refused, AlreadyRecorded) and id_field:
        checked.errors[id_field] = f"casework.{id_field}_taken"
        return None
    return Problem("casework.refused", _plain(refused))


def _attempt(session, checked: Checked, write: Callable[[], object], *, id_field=None):
    """Run `write` in a savepoint when the form is valid: (its answer, a Problem or None)."""
    if not checked.ok:
        return None, None
    try:
        with session.begin_nested():
            return write(), None
    except FollowupError as refused:
        return None, _refusal(refused, checked, id_field=id_field)


def _q(text: str) -> str:
    return quote(text, safe="/")


# --- enrol -------------------------------------------------------------------------------


def _enrol_page(request, p, choices, *, values, errors=None, problem=None, status=200):
    return page(
        request,
        p,
        "casework_enrol.html",
        status=status,
        c=choices,
        values=values,
        errors=errors or {},
        problem=problem,
        referral_sources=REFERRAL_SOURCES,
    )


@router.get("/enrol")
def enrol_form(request: Request, p: Principal = Depends(enrolling)) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        choices = casework.enrolment_choices(session, ctx, p)
    mine = any(w.staff_id == p.staff_id for w in choices.facilitators)
    values = {
        "site": p.site if p.site in choices.sites else choices.sites[0],
        "protocol": choices.default_protocol,
        "enrolled_on": choices.today.isoformat(),
        "facilitator": p.staff_id if mine else "",  # a facilitator enrols his own man
    }
    return _enrol_page(request, p, choices, values=values)


@router.post("/enrol")
def enrol(
    request: Request, p: Principal = Depends(enrolling), form: Form = Depends(checked_form)
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        choices = casework.enrolment_choices(session, ctx, p)
        by_site: dict[str, set[str]] = {}
        for worker in choices.facilitators:
            by_site.setdefault(worker.site, set()).add(worker.staff_id)
        checked = forms.enrolment(
            form,
            sites=choices.sites,
            protocols=choices.protocols,
            facilitators=by_site,
            today_at=ctx.site_today,
        )
        person, problem = _attempt(
            session,
            checked,
            lambda: casework.enrol(session, ctx, p, **checked.values),
            id_field="case_id",
        )
        case_id = person.case_id if person is not None else None
    if case_id is not None:
        return see_other(f"/participants/{_q(case_id)}")
    return _enrol_page(
        request,
        p,
        choices,
        values=dict(form.values),
        errors=checked.errors,
        problem=problem,
        status=422,
    )


# --- her record: add, edit ---------------------------------------------------------------


def _partner_page(request, p, f, *, values, errors=None, problem=None, status=200):
    return page(
        request,
        p,
        "casework_partner.html",
        status=status,
        f=f,
        values=values,
        errors=errors or {},
        problem=problem,
        relationships=RELATIONSHIPS,
        channels=CONTACT_CHANNELS,
    )


@router.get("/participants/{case_id:path}/partners/new")
def new_partner_form(request: Request, case_id: str, p: Principal = Depends(hers)) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        f = casework.new_partner_form(session, ctx, p, case_id)
    return _partner_page(request, p, f, values={"relationship": "current"})


@router.post("/participants/{case_id:path}/partners/new")
def add_partner(
    request: Request,
    case_id: str,
    p: Principal = Depends(hers),
    form: Form = Depends(checked_form),
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        f = casework.new_partner_form(session, ctx, p, case_id)
        checked = forms.new_partner(form, workers=f.accepted, today=f.today)
        added, problem = _attempt(
            session,
            checked,
            lambda: casework.add_partner(session, ctx, p, case_id=case_id, **checked.values),
            id_field="partner_id",
        )
        partner_id = added.partner_id if added is not None else None
    if partner_id is not None:
        return see_other(f"/partners/{_q(partner_id)}")
    # Her contact details are not sent back into the page: typed once, kept only sealed.
    values = {k: v for k, v in form.values.items() if k not in ("phone", "email")}
    return _partner_page(
        request, p, f, values=values, errors=checked.errors, problem=problem, status=422
    )


@router.get("/partners/{partner_id:path}/edit")
def edit_partner_form(request: Request, partner_id: str, p: Principal = Depends(hers)) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        f = casework.edit_partner_form(session, ctx, p, partner_id)
    values = {"relationship": f.relationship, "support_worker": f.support_worker or ""}
    return _partner_page(request, p, f, values=values)


@router.post("/partners/{partner_id:path}/edit")
def edit_partner(
    request: Request,
    partner_id: str,
    p: Principal = Depends(hers),
    form: Form = Depends(checked_form),
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        f = casework.edit_partner_form(session, ctx, p, partner_id)
        checked = forms.partner_change(form, workers=f.accepted)
        saved, problem = _attempt(
            session,
            checked,
            lambda: casework.edit_partner(session, ctx, p, partner_id=partner_id, **checked.values),
        )
    if saved is not None:
        return see_other(f"/partners/{_q(partner_id)}")
    return _partner_page(
        request,
        p,
        f,
        values=dict(form.values),
        errors=checked.errors,
        problem=problem,
        status=422,
    )


# --- his status, reports, checks -----------------------------------------------------------


def _ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",")[:200] if part.isdigit()]


def _case_page(request, p, template, c, *, values, errors=None, problem=None, status=200, **more):
    return page(
        request,
        p,
        template,
        status=status,
        c=c,
        values=values,
        errors=errors or {},
        problem=problem,
        **more,
    )


def _status_page(request, p, case_id, *, values=None, errors=None, problem=None, status=200):
    ctx = context(request)
    query = request.query_params
    with transaction(ctx.engine) as session:
        c = casework.case_form(session, ctx, p, case_id, "status")
        moved = casework.followups_named(session, ctx, p, case_id, _ids(query.get("moved", "")))
        cancelled = casework.followups_named(
            session, ctx, p, case_id, _ids(query.get("cancelled", ""))
        )
    saved = query.get("saved")
    return _case_page(
        request,
        p,
        "casework_status.html",
        c,
        values=values or {"on": c.today.isoformat()},
        errors=errors,
        problem=problem,
        status=status,
        events=STATUS_EVENTS,
        saved=saved if saved in STATUS_EVENTS and status == 200 else None,
        moved=moved,
        cancelled=cancelled,
    )


@router.get("/participants/{case_id:path}/status")
def status_form(request: Request, case_id: str, p: Principal = Depends(his)) -> Response:
    return _status_page(request, p, case_id)


@router.post("/participants/{case_id:path}/status")
def record_status(
    request: Request,
    case_id: str,
    p: Principal = Depends(his),
    form: Form = Depends(checked_form),
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        c = casework.case_form(session, ctx, p, case_id, "status")
        checked = forms.status(form, today=c.today)
        change, problem = _attempt(
            session,
            checked,
            lambda: casework.record_status(session, ctx, p, case_id=case_id, **checked.values),
        )
        if change is not None:
            moved = ",".join(map(str, change.moved))
            cancelled = ",".join(map(str, change.cancelled))
            event = change.event.kind
    if change is not None:
        return see_other(
            f"/participants/{_q(case_id)}/status?saved={event}&moved={moved}&cancelled={cancelled}"
        )
    return _status_page(
        request,
        p,
        case_id,
        values=dict(form.values),
        errors=checked.errors,
        problem=problem,
        status=422,
    )


def _sources(c) -> tuple[str, ...]:
    """A report from her is partner data: offered only to those who may write it."""
    return tuple(s for s in REPORT_SOURCES if s != "partner" or c.may_name_her)


def _report_page(request, p, case_id, *, values=None, errors=None, problem=None, status=200):
    ctx = context(request)
    with transaction(ctx.engine) as session:
        c = casework.case_form(session, ctx, p, case_id, "recidivism")
    query = request.query_params
    alert = query.get("alert", "")
    return _case_page(
        request,
        p,
        "casework_recidivism.html",
        c,
        values=values or {"on": c.today.isoformat(), "reported_on": c.today.isoformat()},
        errors=errors,
        problem=problem,
        status=status,
        sources=_sources(c),
        violence_types=VIOLENCE_TYPES,
        saved=query.get("saved") == "1" and status == 200,
        alert_id=int(alert) if alert.isdigit() and status == 200 else None,
    )


@router.get("/participants/{case_id:path}/recidivism")
def recidivism_form(request: Request, case_id: str, p: Principal = Depends(his)) -> Response:
    return _report_page(request, p, case_id)


@router.post("/participants/{case_id:path}/recidivism")
def record_recidivism(
    request: Request,
    case_id: str,
    p: Principal = Depends(his),
    form: Form = Depends(checked_form),
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        c = casework.case_form(session, ctx, p, case_id, "recidivism")
        checked = forms.recidivism(form, today=c.today, sources=_sources(c), partners=c.partners)
        done, problem = _attempt(
            session,
            checked,
            lambda: (
                casework.record_recidivism(session, ctx, p, case_id=case_id, **checked.values),
            ),
        )
    if done is not None:
        alert = f"&alert={done[0]}" if done[0] is not None else ""
        return see_other(f"/participants/{_q(case_id)}/recidivism?saved=1{alert}")
    return _report_page(
        request,
        p,
        case_id,
        values=dict(form.values),
        errors=checked.errors,
        problem=problem,
        status=422,
    )


def _check_page(request, p, case_id, *, values=None, errors=None, problem=None, status=200):
    ctx = context(request)
    with transaction(ctx.engine) as session:
        c = casework.case_form(session, ctx, p, case_id, "check")
    return _case_page(
        request,
        p,
        "casework_check.html",
        c,
        values=values or {"on": c.today.isoformat()},
        errors=errors,
        problem=problem,
        status=status,
        saved=request.query_params.get("saved") in ("yes", "no") and status == 200,
        found=request.query_params.get("saved"),
    )


@router.get("/participants/{case_id:path}/check")
def check_form(request: Request, case_id: str, p: Principal = Depends(his)) -> Response:
    return _check_page(request, p, case_id)


@router.post("/participants/{case_id:path}/check")
def record_check(
    request: Request,
    case_id: str,
    p: Principal = Depends(his),
    form: Form = Depends(checked_form),
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        c = casework.case_form(session, ctx, p, case_id, "check")
        checked = forms.record_check(form, today=c.today)
        done, problem = _attempt(
            session,
            checked,
            lambda: casework.record_check(session, ctx, p, case_id=case_id, **checked.values),
        )
    if done is not None:
        found = "yes" if checked.values["new_offence"] else "no"
        return see_other(f"/participants/{_q(case_id)}/check?saved={found}")
    return _check_page(
        request,
        p,
        case_id,
        values=dict(form.values),
        errors=checked.errors,
        problem=problem,
        status=422,
    )
