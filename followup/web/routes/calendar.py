"""`/calendar/{token}.ics`: a staff member's follow-ups for their calendar app.

The secret token is the only credential (calendar apps cannot log in); it is stored as
a digest, replaced or revoked on the Account page, and dies with the account. An unknown,
revoked or deactivated token gets a plain 404, like any address that does not exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from followup.db import transaction
from followup.operations import accounts, caseload
from followup.web.auth import context, principal_for
from followup.web.ics import feed

router = APIRouter()


@router.get("/calendar/{token}.ics")
def calendar(request: Request, token: str) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        found = accounts.calendar_account(session, token)
        if found is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        p = principal_for(ctx, found[0], found[1], csrf="")
        body = feed(ctx, caseload.calendar_entries(session, ctx, p), ctx.now(), p.language)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="followup.ics"'},
    )
