"""Safety alerts: new violence reported; list and acknowledge (followup.operations.alerts)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.db import transaction
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


@router.get("/alerts/{alert_id}")
def alert(
    request: Request, alert_id: int, p: Principal = Depends(guard(policy.open_alerts, hide=True))
) -> Response:
    with transaction(context(request).engine) as session:
        row = operations.open_alert(session, p, alert_id)
    return page(request, p, "alert.html", a=row, saved=request.query_params.get("saved") == "1")


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    request: Request,
    alert_id: int,
    p: Principal = Depends(guard(policy.open_alerts, hide=True)),
    _form: Form = Depends(checked_form),
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        operations.acknowledge(session, ctx, p, alert_id)
    return see_other(f"/alerts/{alert_id}?saved=1")
