"""`/calendar/{token}.ics`: a staff member's follow-ups for their calendar app.

The secret token is the only credential (calendar apps cannot log in); it is stored as
a digest, replaced or revoked on the Account page, and dies with the account. An unknown,
revoked or deactivated token gets a plain 404, like any address that does not exist.
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response

from followup.db import transaction
from followup.models import Staff, UserAccount
from followup.operations import caseload
from followup.web.auth import context, principal_for
from followup.web.ics import feed
from followup.web.tokens import digest

router = APIRouter()


@router.get("/calendar/{token}.ics")
def calendar(request: Request, token: str) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        found = session.execute(
            sa.select(UserAccount, Staff)
            .join(Staff, Staff.id == UserAccount.staff_id)
            .where(UserAccount.calendar_token_hash == digest(token))
        ).one_or_none()
        if (
            found is None
            or not found[0].active
            or not found[1].active
            or found[0].password_hash is None
        ):
            return Response("Not Found", status_code=404, media_type="text/plain")
        p = principal_for(ctx, found[0], found[1], csrf="")
        body = feed(ctx, caseload.calendar_entries(session, ctx, p), ctx.now())
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="followup.ics"'},
    )
