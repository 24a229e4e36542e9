"""The audit trail, for administrators, with the same filters as `followup audit`."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.db import transaction
from followup.operations import auditlog, policy
from followup.operations.policy import Principal
from followup.web.auth import context, guard
from followup.web.render import page

router = APIRouter()
PAGE = 100


@router.get("/audit")
def audit_trail(request: Request, p: Principal = Depends(guard(policy.read_audit))) -> Response:
    query = request.query_params
    values = {
        name: query.get(name, "").strip()[:100] for name in ("actor", "action", "since", "until")
    }
    errors = {}
    bounds = {}
    for name in ("since", "until"):
        if values[name]:
            try:
                bounds[name] = auditlog.parse_instant(values[name], ZoneInfo(p.timezone))
            except ValueError:
                errors[name] = "form.date_invalid"
    try:
        offset = max(int(query.get("page", "1")) - 1, 0) * PAGE
    except ValueError:
        offset = 0
    filters = auditlog.Filters(
        actor=values["actor"] or None, action=values["action"] or None, **bounds
    )
    with transaction(context(request).engine) as session:
        rows = auditlog.read(session, p, filters, limit=PAGE + 1, offset=offset)
    more = len(rows) > PAGE
    return page(
        request,
        p,
        "audit.html",
        rows=rows[:PAGE],
        values=values,
        errors=errors,
        page_number=offset // PAGE + 1,
        more=more,
    )
