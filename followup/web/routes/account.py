"""My account: interface language, password, calendar feed."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.audit import audit
from followup.db import transaction
from followup.models import UserAccount, WebSession
from followup.operations import policy
from followup.operations.policy import Principal
from followup.web import accounts
from followup.web.auth import Form, checked_form, context, guard
from followup.web.common import see_other
from followup.web.i18n import LANGUAGES
from followup.web.render import page
from followup.web.sessions import COOKIE
from followup.web.tokens import digest, new_token

router = APIRouter()
NOTICES = ("account.saved", "account.password_changed", "account.feed_revoked")
anyone = guard(policy.signed_in)


def _account_page(
    request: Request,
    p: Principal,
    *,
    status: int = 200,
    feed_url: str | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    with transaction(context(request).engine) as session:
        has_feed = session.get(UserAccount, p.account_id).calendar_token_hash is not None
    return page(
        request,
        p,
        "account.html",
        status=status,
        has_feed=has_feed,
        feed_url=feed_url,
        errors=errors or {},
        notice=notice or _notice(request),
        ui_languages=LANGUAGES,
    )


def _notice(request: Request) -> str | None:
    notice = request.query_params.get("notice")
    return notice if notice in NOTICES else None


@router.get("/account")
def account(request: Request, p: Principal = Depends(anyone)) -> Response:
    return _account_page(request, p)


@router.post("/account/language")
def set_language(
    request: Request, p: Principal = Depends(anyone), form: Form = Depends(checked_form)
) -> Response:
    language = form.get("language")
    if language not in LANGUAGES:
        return _account_page(
            request, p, status=422, errors={"language": "account.language_unknown"}
        )
    with transaction(context(request).engine) as session:
        session.get(UserAccount, p.account_id).language = language
        audit(session, p.actor, "user_language", "user", p.username, language=language)
    return see_other("/account?notice=account.saved")


@router.post("/account/password")
def change_password(
    request: Request, p: Principal = Depends(anyone), form: Form = Depends(checked_form)
) -> Response:
    ctx = context(request)
    new, errors = form.get("new"), {}
    with transaction(ctx.engine) as session:
        mine = session.get(UserAccount, p.account_id)
        if not accounts.verify_password(mine, form.get("current")):
            errors["current"] = "account.current_wrong"
        elif (problem := accounts.password_problem(new, p.username)) is not None:
            errors["new"] = problem
        elif new != form.get("confirm"):
            errors["confirm"] = "password.mismatch"
        else:
            accounts.set_password(mine, new, ctx.now())
            # Every other browser signed in as this person is signed out; this one stays.
            keep = digest(request.cookies.get(COOKIE, ""))
            for row in session.query(WebSession).filter(WebSession.account_id == mine.id):
                if row.token_hash != keep:
                    session.delete(row)
            audit(session, p.actor, "password_set", "user", p.username, via="account")
    if errors:
        return _account_page(request, p, status=422, errors=errors)
    return see_other("/account?notice=account.password_changed")


@router.post("/account/calendar")
def new_calendar_feed(
    request: Request, p: Principal = Depends(anyone), form: Form = Depends(checked_form)
) -> Response:
    """A new secret feed address; any earlier one stops working. Shown once."""
    token = new_token()
    with transaction(context(request).engine) as session:
        session.get(UserAccount, p.account_id).calendar_token_hash = digest(token)
        audit(session, p.actor, "calendar_token", "user", p.username, change="new")
    base = context(request).config.web.base_url.rstrip("/")
    return _account_page(
        request, p, feed_url=f"{base}/calendar/{token}.ics", notice="account.feed_created"
    )


@router.post("/account/calendar/revoke")
def revoke_calendar_feed(
    request: Request, p: Principal = Depends(anyone), form: Form = Depends(checked_form)
) -> Response:
    with transaction(context(request).engine) as session:
        session.get(UserAccount, p.account_id).calendar_token_hash = None
        audit(session, p.actor, "calendar_token", "user", p.username, change="revoked")
    return see_other("/account?notice=account.feed_revoked")
