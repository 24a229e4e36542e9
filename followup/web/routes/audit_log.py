"""The audit trail, for administrators, with the same filters as `followup audit`: who,
which action (a list of the actions the trail holds), which record (a case or partner id,
a user name), from and until. The line every administrator's page leaves
(`admin_request`) is left out unless asked for. Paged in SQL, newest first."""

from __future__ import annotations

from urllib.parse import urlencode
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
TEXT_FILTERS = ("actor", "record", "since", "until")


@router.get("/audit")
def audit_trail(request: Request, p: Principal = Depends(guard(policy.read_audit))) -> Response:
    query = request.query_params
    values = {name: query.get(name, "").strip()[:100] for name in (*TEXT_FILTERS, "action")}
    requests = query.get("requests") == "1"
    errors = {}
    bounds = {}
    for name in ("since", "until"):
        if values[name]:
            try:
                bounds[name] = auditlog.parse_instant(values[name], ZoneInfo(p.timezone))
            except ValueError:
                errors[name] = "form.date_invalid"
    try:
        page_number = max(int(query.get("page", "1")), 1)
    except ValueError:
        page_number = 1
    with transaction(context(request).engine) as session:
        actions = auditlog.actions(session, p)
        if values["action"] and values["action"] not in actions:
            values["action"] = ""  # an action nobody did (an old link): every action
        filters = auditlog.Filters(
            actor=values["actor"] or None,
            action=values["action"] or None,
            entity_id=values["record"] or None,
            without_requests=not requests and values["action"] != auditlog.REQUEST_LINE,
            **bounds,
        )
        rows = auditlog.read(session, p, filters, limit=PAGE + 1, offset=(page_number - 1) * PAGE)
    kept = {name: value for name, value in values.items() if value}
    if requests:
        kept["requests"] = "1"
    return page(
        request,
        p,
        "audit.html",
        rows=[(row, auditlog.readable(row)) for row in rows[:PAGE]],
        values=values,
        actions=actions,
        requests=requests,
        errors=errors,
        page_number=page_number,
        more=len(rows) > PAGE,
        newer=urlencode({**kept, "page": page_number - 1}),
        older=urlencode({**kept, "page": page_number + 1}),
    )
