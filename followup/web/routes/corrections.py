"""Corrections (`/records/{interview|event}/{id}`): a record as it is now, every earlier
version (who, when, why), and the forms to correct or void it. The page parses the form
and calls followup.operations.corrections, which decides who may do what and audits."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.db import transaction
from followup.errors import FollowupError
from followup.operations import corrections, policy
from followup.operations.policy import Forbidden, NotVisible, Principal
from followup.values import MAX_NOTES, parse_date, refuse_control
from followup.vocab import INTERVIEW_MODES, REPORT_SOURCES, RISK_LEVELS, VIOLENCE_TYPES
from followup.web import forms
from followup.web.auth import Form, checked_form, context, guard
from followup.web.common import see_other
from followup.web.render import page

router = APIRouter()
casework = guard(policy.open_participants, hide=True)
ANSWER_OF = {True: "yes", False: "no", None: "not_asked"}


def _kind(kind: str) -> str:
    if kind not in corrections.RECORDS:
        raise NotVisible()
    return kind


def _values_of(h: corrections.RecordHistory) -> dict[str, str]:
    """The form, filled with the record as it is now."""
    c = h.current
    if h.record == "interview":
        values = {
            "on": c["conducted_on"].isoformat(),
            "mode": c["mode"] or "",
            "felt_safety": str(c["felt_safety"] or ""),
            "risk_level": c["risk_level"] or "",
        }
    else:
        values = {
            "on": c["occurred_on"].isoformat(),
            "reported_on": c["reported_on"].isoformat() if c["reported_on"] else "",
            "source": c["source"] or "",
            "new_offence": ANSWER_OF[c["new_offence"]],
        }
    values.update({f"violence_{k}": ANSWER_OF[c.get(k)] for k in VIOLENCE_TYPES})
    return values


def _page(
    request: Request,
    p: Principal,
    kind: str,
    record_id: int,
    *,
    status: int = 200,
    values: dict | None = None,
    errors: dict | None = None,
    problem: str | None = None,
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        h = corrections.history(session, ctx, p, kind, record_id)
    saved = request.query_params.get("saved")
    return page(
        request,
        p,
        "record.html",
        status=status,
        h=h,
        values=values or _values_of(h),
        errors=errors or {},
        problem=problem,
        saved=saved if saved in ("corrected", "voided") else None,
        violence_types=VIOLENCE_TYPES,
        modes=INTERVIEW_MODES,
        risk_levels=RISK_LEVELS,
        sources=REPORT_SOURCES,
    )


@router.get("/records/{kind}/{record_id}")
def record_page(
    request: Request, kind: str, record_id: int, p: Principal = Depends(casework)
) -> Response:
    return _page(request, p, _kind(kind), record_id)


def _text(form: Form, name: str, checked: forms.Checked, *, required: bool = False) -> str:
    text = form.get(name, "").strip()
    if required and not text:
        checked.errors[name] = "corrections.reason_required"
    elif len(text) > MAX_NOTES:
        checked.errors[name] = "form.notes_long"
    else:
        try:
            refuse_control(text, name, allow="\t\n\r")
        except ValueError:
            checked.errors[name] = "form.control"
    return text


def _a_date(form: Form, name: str, checked: forms.Checked, *, optional: bool = False):
    text = form.get(name, "").strip()
    if not text and optional:
        return None
    try:
        return parse_date(text)
    except ValueError:
        checked.errors[name] = "form.date_invalid" if text else "form.date_required"
        return None


def _answers(form: Form, checked: forms.Checked) -> tuple[dict, list[str]]:
    violence, clear = {}, []
    for kind in VIOLENCE_TYPES:
        answer = form.get(f"violence_{kind}", "not_asked")
        if answer not in forms.ANSWERS:
            checked.errors[f"violence_{kind}"] = "form.choose"
        elif forms.ANSWERS[answer] is None:
            clear.append(kind)
        else:
            violence[kind] = forms.ANSWERS[answer]
    return violence, clear


def _interview_changes(form: Form, checked: forms.Checked) -> dict:
    violence, clear = _answers(form, checked)
    changes: dict = {"on": _a_date(form, "on", checked), "violence": violence}
    for name, allowed in (("mode", INTERVIEW_MODES), ("risk_level", RISK_LEVELS)):
        value = form.get(name, "")
        if value and value not in allowed:
            checked.errors[name] = "form.choose"
        changes[name] = value or None
        if not value:
            clear.append(name)
    safety = form.get("felt_safety", "")
    if safety and safety not in {"1", "2", "3", "4", "5"}:
        checked.errors["felt_safety"] = "form.felt_safety"
    changes["felt_safety"] = int(safety) if safety in {"1", "2", "3", "4", "5"} else None
    if not safety:
        clear.append("felt_safety")
    if form.get("held_nothing_asked") == "yes":
        changes["nothing_asked_reason"] = _text(
            form, "nothing_asked_reason", checked, required=True
        )
    changes["clear"] = tuple(clear)
    return changes


def _event_changes(form: Form, checked: forms.Checked, kind: str) -> dict:
    changes: dict = {"on": _a_date(form, "on", checked)}
    if kind == "recidivism":
        changes["reported_on"] = _a_date(form, "reported_on", checked, optional=True)
        source = form.get("source", "")
        if source not in REPORT_SOURCES:
            checked.errors["source"] = "form.choose"
        changes["source"] = source or None
        violence, _clear = _answers(form, checked)  # a report names what it reports
        changes["violence"] = violence
    elif kind == "record_check":
        found = form.get("new_offence", "")
        if found not in ("yes", "no"):
            checked.errors["new_offence"] = "form.choose"
        changes["new_offence"] = forms.ANSWERS.get(found)
    return changes


def _run(request: Request, p: Principal, kind: str, record_id: int, form: Form, apply):
    ctx = context(request)
    problem = None
    checked = forms.Checked()
    with transaction(ctx.engine) as session:
        current = corrections.history(session, ctx, p, kind, record_id)
        if not current.permitted:
            raise Forbidden()
        reason = _text(form, "reason", checked, required=True)
        try:
            changes = apply(checked, current)
            if checked.ok:
                with session.begin_nested():
                    done = changes(session, ctx, reason)
        except FollowupError as refused:
            problem = str(refused)
    if checked.ok and problem is None:
        return see_other(f"/records/{kind}/{record_id}?saved={done}")
    return _page(
        request,
        p,
        kind,
        record_id,
        status=422,
        values=dict(form.values),
        errors=checked.errors,
        problem=problem,
    )


@router.post("/records/{kind}/{record_id}/correct")
def correct(
    request: Request,
    kind: str,
    record_id: int,
    p: Principal = Depends(casework),
    form: Form = Depends(checked_form),
) -> Response:
    kind = _kind(kind)

    def apply(checked, current):
        if kind == "interview":
            changes = _interview_changes(form, checked)
            operation = corrections.correct_interview
        else:
            changes = _event_changes(form, checked, current.kind)
            operation = corrections.correct_event

        def run(session, ctx, reason):
            operation(session, ctx, p, record_id, reason=reason, **changes)
            return "corrected"

        return run

    return _run(request, p, kind, record_id, form, apply)


@router.post("/records/{kind}/{record_id}/void")
def void(
    request: Request,
    kind: str,
    record_id: int,
    p: Principal = Depends(casework),
    form: Form = Depends(checked_form),
) -> Response:
    kind = _kind(kind)
    operation = corrections.void_interview if kind == "interview" else corrections.void_event

    def apply(checked, current):
        def run(session, ctx, reason):
            operation(session, ctx, p, record_id, reason=reason)
            return "voided"

        return run

    return _run(request, p, kind, record_id, form, apply)
