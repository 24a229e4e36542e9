"""My account: interface language, password, calendar feed."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.db import transaction
from followup.operations import accounts, policy
from followup.operations.policy import Principal
from followup.web.auth import Form, checked_form, context, guard
from followup.web.common import see_other
from followup.web.i18n import LANGUAGES
from followup.web.render import page
from followup.web.sessions import COOKIE

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
        has_feed = accounts.has_calendar_feed(session, p)
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
        accounts.set_own_language(session, p, language)
    return see_other("/account?notice=account.saved")


@router.post("/account/password")
def change_password(
    request: Request, p: Principal = Depends(anyone), form: Form = Depends(checked_form)
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        errors = accounts.change_own_password(
            session,
            ctx,
            p,
            current=form.get("current"),
            new=form.get("new"),
            confirm=form.get("confirm"),
            keep_session=request.cookies.get(COOKIE, ""),
        )
    if errors:
        return _account_page(request, p, status=422, errors=errors)
    return see_other("/account?notice=account.password_changed")


@router.post("/account/calendar")
def new_calendar_feed(
    request: Request, p: Principal = Depends(anyone), form: Form = Depends(checked_form)
) -> Response:
    """A new secret feed address; any earlier one stops working. Shown once."""
    with transaction(context(request).engine) as session:
        token = accounts.new_calendar_token(session, p)
    base = context(request).config.web.base_url.rstrip("/")
    return _account_page(
        request, p, feed_url=f"{base}/calendar/{token}.ics", notice="account.feed_created"
    )


@router.post("/account/calendar/revoke")
def revoke_calendar_feed(
    request: Request, p: Principal = Depends(anyone), form: Form = Depends(checked_form)
) -> Response:
    with transaction(context(request).engine) as session:
        accounts.revoke_calendar_token(session, p)
    return see_other("/account?notice=account.feed_revoked")
