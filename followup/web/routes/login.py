"""Login, logout, invite links, and `/` (which sends each person to their first page)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.audit import audit
from followup.db import transaction
from followup.operations import accounts, policy
from followup.operations.policy import Principal
from followup.tokens import same
from followup.web import sessions
from followup.web.auth import (
    CsrfRejected,
    Form,
    checked_form,
    client_ip,
    context,
    guard,
    is_https,
    load_principal,
    read_form,
)
from followup.web.common import safe_next, see_other
from followup.web.render import home, page

router = APIRouter()


def set_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        sessions.COOKIE, token, httponly=True, samesite="lax", secure=is_https(request), path="/"
    )


def _visitor(request: Request) -> tuple[str, str | None]:
    """The CSRF token of this browser's session, starting a visitor's session if needed.
    Returns (csrf token, new cookie token or None)."""
    ctx = context(request)
    now = ctx.now()
    with transaction(ctx.engine) as session:
        row = sessions.load(session, ctx.config.web, request.cookies.get(sessions.COOKIE), now)
        if row is not None:  # a visitor's, or a signed-in person's: keep it
            return row.csrf_token, None
        started = sessions.start(session, ctx.config.web, None, now)
    return started.csrf_token, started.token


def _visitor_page(request: Request, template: str, *, status: int = 200, **values) -> Response:
    csrf, cookie = _visitor(request)
    response = page(request, None, template, status=status, csrf=csrf, **values)
    if cookie:
        set_cookie(request, response, cookie)
    return response


def _visitor_form(request: Request, data: dict[str, str]) -> None:
    """The signed-out forms (login, invite) carry the browser session's token too (a
    visitor's, or a signed-in person's logging in as someone else)."""
    ctx = context(request)
    with transaction(ctx.engine) as session:
        row = sessions.load(
            session, ctx.config.web, request.cookies.get(sessions.COOKIE), ctx.now()
        )
        expected = row.csrf_token if row is not None else None
    if expected is None or not same(data.get("csrf_token", ""), expected):
        raise CsrfRejected()


@router.get("/")
def root(p: Principal = Depends(guard(policy.signed_in))) -> Response:
    return see_other(home(p))


@router.get("/login")
def login_form(request: Request) -> Response:
    p = load_principal(request)
    if p is not None:
        return see_other(safe_next(request.query_params.get("next"), home(p)))
    return _visitor_page(
        request,
        "login.html",
        username="",
        error=None,
        next=safe_next(request.query_params.get("next"), ""),
    )


@router.post("/login")
def login(request: Request, data: dict[str, str] = Depends(read_form)) -> Response:
    _visitor_form(request, data)
    ctx = context(request)
    username, target = data.get("username", ""), safe_next(data.get("next"), "")
    now = ctx.now()
    with transaction(ctx.engine) as session:
        try:
            account = accounts.authenticate(
                session, ctx, username, data.get("password", ""), client_ip(request), now
            )
        except accounts.LoginRefused as refused:
            error = "login.throttled" if refused.throttled else "login.wrong"
            status = 429 if refused.throttled else 401
        else:
            sessions.end(session, request.cookies.get(sessions.COOKIE))  # no session fixation
            started = sessions.start(session, ctx.config.web, account.id, now)
            error = None
    if error is not None:
        return _visitor_page(
            request, "login.html", status=status, username=username, error=error, next=target
        )
    response = see_other(target or "/")
    set_cookie(request, response, started.token)
    return response


@router.post("/logout")
def logout(
    request: Request,
    p: Principal = Depends(guard(policy.signed_in)),
    _form: Form = Depends(checked_form),
) -> Response:
    with transaction(context(request).engine) as session:
        sessions.end(session, request.cookies.get(sessions.COOKIE))
        audit(session, p.actor, "logout", "user", p.username)
    response = see_other("/login")
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


@router.get("/invite/{token}")
def invite_form(request: Request, token: str) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        account = accounts.invited(session, token, ctx.now())
        username = account.username if account else None
    if username is None:
        return _visitor_page(request, "invite.html", status=404, username=None, error=None)
    return _visitor_page(request, "invite.html", username=username, error=None)


@router.post("/invite/{token}")
def accept_invite(
    request: Request, token: str, data: dict[str, str] = Depends(read_form)
) -> Response:
    _visitor_form(request, data)
    password = data.get("password", "")
    username = error = None
    ctx = context(request)
    now = ctx.now()
    # Decide inside the transaction, answer after it: the pages below open a transaction
    # of their own (the visitor's session), which must not wait for this one's lock.
    with transaction(ctx.engine) as session:
        account = accounts.invited(session, token, now)
        if account is not None:
            username = account.username
            error = accounts.password_problem(password, username)
            if error is None and password != data.get("confirm", ""):
                error = "password.mismatch"
            if error is None:
                accounts.accept_invite(session, token, password, now)
    if username is None:  # unknown, used or expired
        return _visitor_page(request, "invite.html", status=404, username=None, error=None)
    if error is not None:
        return _visitor_page(request, "invite.html", status=422, username=username, error=error)
    return see_other("/login?welcome=1")
