"""Safety alerts: new violence reported; list and acknowledge (followup.operations.alerts)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.db import transaction
from followup.errors import FollowupError
from followup.operations import alerts as operations
from followup.operations import policy
from followup.operations.policy import Principal
from followup.web.auth import Form, checked_form, context, guard
from followup.web.common import see_other
from followup.web.render import page

router = APIRouter()


@router.get("/alerts")
def alerts(request: Request, p: Principal = Depends(guard(policy.open_alerts))) -> Response:
    show_all = request.query_params.get("show") == "all"
    with transaction(context(request).engine) as session:
        rows = operations.list_alerts(session, p, show_all=show_all)
    return page(request, p, "alerts.html", rows=rows, show_all=show_all)


def _alert_page(
    request: Request,
    p: Principal,
    alert_id: int,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    problem: str | None = None,
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        row = operations.open_alert(session, p, alert_id, ctx)
    return page(
        request,
        p,
        "alert.html",
        status=status,
        a=row,
        saved=request.query_params.get("saved") == "1",
        actions=operations.ACTIONS,
        errors=errors or {},
        values=values or {},
        problem=problem,
    )


@router.get("/alerts/{alert_id}")
def alert(
    request: Request, alert_id: int, p: Principal = Depends(guard(policy.open_alerts, hide=True))
) -> Response:
    return _alert_page(request, p, alert_id)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    request: Request,
    alert_id: int,
    p: Principal = Depends(guard(policy.open_alerts, hide=True)),
    form: Form = Depends(checked_form),
) -> Response:
    """Acknowledge with what was done: an action from the list (required) and a note."""
    ctx = context(request)
    action = form.get("action")
    errors = {} if action in operations.ACTIONS else {"action": "form.choose"}
    problem = None
    with transaction(ctx.engine) as session:
        operations.open_alert(session, p, alert_id)  # 404 before any message about the form
        if not errors:
            try:
                with session.begin_nested():
                    operations.acknowledge(
                        session, ctx, p, alert_id, action=action, note=form.get("note")
                    )
            except FollowupError as refused:
                problem = str(refused)
    if not errors and problem is None:
        return see_other(f"/alerts/{alert_id}?saved=1")
    return _alert_page(
        request,
        p,
        alert_id,
        status=422,
        errors=errors,
        values=dict(form.values),
        problem=problem,
    )
