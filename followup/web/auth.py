"""Who is asking: the session cookie, the route guards and the CSRF check.

Route guards are FastAPI dependencies built from a followup.operations.policy rule:

    @router.get("/alerts")
    def alerts(p: Principal = Depends(guard(policy.open_alerts))): ...

They run before anything else the route does (form parsing included), so a refused
request learns nothing. A refusal on a route that names a record (`hide=True`) is the
very same 404 as a record that does not exist: asking for a partner a facilitator may
not see tells him nothing about whether she exists. Every form posts the session's
synchronizer token (`csrf_token`); `checked_form` refuses a post without the right one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from fastapi import Depends, Request

from followup.audit import audit
from followup.context import Context
from followup.db import transaction
from followup.models import Staff, UserAccount
from followup.operations import accounts
from followup.operations.policy import Forbidden, NotVisible, Principal
from followup.tokens import same
from followup.web import sessions
from followup.web.i18n import supported


class SignInRequired(Exception):
    """No live session: the browser is sent to the login page."""


class CsrfRejected(Exception):
    """A form without this session's token (403)."""


def context(request: Request) -> Context:
    return request.app.state.ctx


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or context(request).config.web.base_url.startswith(
        "https:"
    )


def load_principal(request: Request) -> Principal | None:
    """The signed-in person behind the cookie, or None. Cached on the request."""
    if "principal" in request.scope.get("state", {}):
        return request.state.principal
    ctx = context(request)
    principal = None
    with transaction(ctx.engine) as session:
        row = sessions.load(
            session, ctx.config.web, request.cookies.get(sessions.COOKIE), ctx.now()
        )
        if row is not None and row.account_id is not None:
            found = accounts.live_account(session, row.account_id)
            if found is not None:
                principal = principal_for(ctx, *found, row.csrf_token)
            else:
                session.delete(row)
    request.state.principal = principal
    return principal


def principal_for(ctx: Context, account: UserAccount, staff: Staff, csrf: str) -> Principal:
    """The signed-in person (followup.operations.accounts.principal_for) in a language the
    web speaks."""
    p = accounts.principal_for(ctx, account, staff, csrf=csrf)
    return replace(p, language=supported(p.language))


def signed_in(request: Request) -> Principal:
    principal = load_principal(request)
    if principal is None:
        raise SignInRequired()
    return principal


def guard(rule: Callable[[Principal], bool], *, hide: bool = False) -> Callable[..., Principal]:
    """A dependency that lets through only those `rule` allows. An administrator may go
    everywhere, so everywhere an administrator goes is written to the audit trail."""

    def dependency(request: Request, p: Principal = Depends(signed_in)) -> Principal:
        if not rule(p):
            raise NotVisible() if hide else Forbidden()
        if p.is_admin:
            with transaction(context(request).engine) as session:
                audit(
                    session,
                    p.actor,
                    "admin_request",
                    None,
                    None,
                    method=request.method,
                    path=request.url.path,
                )
        return p

    dependency.rule = rule  # type: ignore[attr-defined]
    return dependency


@dataclass(frozen=True)
class Form:
    """A posted form, its CSRF token already checked."""

    values: dict[str, str]

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


async def read_form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {key: value for key, value in data.items() if isinstance(value, str)}


def checked_form(
    p: Principal = Depends(signed_in), data: dict[str, str] = Depends(read_form)
) -> Form:
    if not same(data.get("csrf_token", ""), p.csrf_token):
        raise CsrfRejected()
    return Form(data)
