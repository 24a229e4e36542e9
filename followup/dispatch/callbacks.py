"""Twilio status callbacks: `POST /twilio/status`.

Twilio posts a message's fate (queued, sent, delivered, undelivered, failed) to the
StatusCallback URL the SMS channel gives it: `web.base_url` + `/twilio/status`. A
request is believed only when its X-Twilio-Signature matches that URL and the form
under our auth token (twilio's RequestValidator); anything else gets 403. A callback
moves its outbox row forward only (sent → delivered or failed), so a late or repeated
callback changes nothing. A failed delivery is re-sent by the fallback channel, and an
unknown number or a landline also flags the staff member's channel and tells the
supervisors — exactly as when Twilio refuses a message outright.
"""

from __future__ import annotations

import os
import time

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from followup.channels import TransportError
from followup.channels.sms import (
    STATUS_CALLBACK_PATH,
    SmsSettings,
    twilio_error_meaning,
    verify_twilio_request,
)
from followup.context import Context
from followup.db import transaction
from followup.dispatch import outbox
from followup.dispatch.content import STAFF_COLUMNS, recipient
from followup.dispatch.sender import fall_back
from followup.models import Staff

router = APIRouter()

EARLY_CALLBACK_WAIT = 5.0  # seconds; Twilio waits 15 for an answer

_OUTCOMES = {"delivered": outbox.DELIVERED, "undelivered": outbox.FAILED, "failed": outbox.FAILED}


def auth_token() -> str | None:
    return SmsSettings.auth_token_from_env(os.environ)


@router.post(STATUS_CALLBACK_PATH, include_in_schema=False)
async def twilio_status(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    url = ctx.config.web.base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    token = auth_token()
    if not token or not verify_twilio_request(
        token, url, form, request.headers.get("X-Twilio-Signature")
    ):
        return Response(status_code=403)
    outcome = _OUTCOMES.get(form.get("MessageStatus", ""))
    sid = form.get("MessageSid")
    if outcome is not None and sid:
        code = form.get("ErrorCode")
        await run_in_threadpool(
            record_outcome, ctx, sid, outcome, int(code) if code and code.isdigit() else None
        )
    return Response(status_code=204)


def record_outcome(
    ctx: Context,
    sid: str,
    outcome: str,
    code: int | None,
    *,
    wait_seconds: float = EARLY_CALLBACK_WAIT,
) -> None:
    """Apply a delivery report. A report can overtake the sender recording the message's
    SID (Twilio answers the send and posts the callback at once), so a SID not known yet
    is waited for, briefly, rather than dropped."""
    meaning = twilio_error_meaning(code) if outcome == outbox.FAILED else None
    error = f"sms: {meaning} [{code}]" if meaning else None
    deadline = time.monotonic() + wait_seconds
    while True:
        now = ctx.now()
        with transaction(ctx.engine) as session:
            moved = outbox.advance_by_callback(session.connection(), sid, outcome, error, now)
            if moved is not None:
                if outcome == outbox.FAILED:
                    _fall_back(session, ctx, moved, meaning, code, now)
                return
            # Read after the UPDATE, this can see a send committed in between, which the
            # UPDATE did not wait for (on PostgreSQL it skips a row whose committed
            # version did not match yet): then the row is known but still behind, and
            # the next round moves it.
            status = session.execute(
                sa.select(outbox.OB.c.status).where(outbox.OB.c.provider_id == sid)
            ).scalar()
        if status is not None and outbox.RANK[status] >= outbox.RANK[outcome]:
            return  # already as far as this report would take it
        if time.monotonic() >= deadline:
            return  # not one of ours (or its send was never recorded)
        time.sleep(0.05)


def _fall_back(session, ctx: Context, moved, meaning: str | None, code: int | None, now) -> None:
    staff = recipient(
        session.execute(sa.select(*STAFF_COLUMNS).where(Staff.id == moved.staff_id)).one()
    )
    refusal = TransportError(
        meaning or "Delivery failed", permanent=True, code=str(code) if code else None
    )
    fall_back(
        session,
        ctx,
        moved.key,
        staff,
        "sms",
        ctx.config.channels.fallback,
        refusal,
        now,
        attempts=moved.attempts,
    )
