"""Staff and web accounts, for administrators: add a member of staff, invite a user, change
an account's roles and sites, deactivate, reset by a new invite.

Every write goes through followup.operations.accounts (the same operations as `followup
staff add` and `followup user …`, with the same rules and audit). An invite link is shown
in the answer to the post that made it and nowhere else: only its digest is stored, the
answer is not cached (no-store), and reloading the page does not show it again.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.config import CHANNELS, LANGUAGES
from followup.db import transaction
from followup.errors import FollowupError, NotFound, NotVisible
from followup.models import ROLES
from followup.operations import accounts, policy
from followup.operations.policy import Principal
from followup.web.auth import Form, checked_form, context, guard
from followup.web.common import see_other
from followup.web.render import page

router = APIRouter()
admins = guard(policy.manage_accounts)
NOTICES = (
    "staff_accounts.staff_added",
    "staff_accounts.access_saved",
    "staff_accounts.deactivated",
    "staff_accounts.activated",
)


def _notice(request: Request) -> str | None:
    notice = request.query_params.get("notice")
    return notice if notice in NOTICES else None


def _chosen(form: Form, prefix: str, choices) -> list[str]:
    """Ticked boxes named `prefix.CHOICE` (a form keeps one value per name)."""
    return [choice for choice in choices if form.get(f"{prefix}.{choice}")]


def _list_page(
    request: Request,
    p: Principal,
    *,
    status: int = 200,
    staff_values: dict | None = None,
    staff_errors: dict | None = None,
    invite_values: dict | None = None,
    invite_errors: dict | None = None,
    invite_link: str | None = None,
    invited: str | None = None,
) -> Response:
    ctx = context(request)
    with transaction(ctx.engine) as session:
        staff = accounts.list_staff(session, p)
        users = accounts.accounts_for_admin(session, p)
    return page(
        request,
        p,
        "staff_accounts.html",
        status=status,
        staff=staff,
        users=users,
        roles=ROLES,
        sites=list(ctx.config.sites),
        channels=CHANNELS,
        staff_languages=LANGUAGES,
        staff_values=staff_values or {},
        staff_errors=staff_errors or {},
        invite_values=invite_values or {},
        invite_errors=invite_errors or {},
        invite_link=invite_link,
        invited=invited,
        notice=_notice(request),
    )


@router.get("/accounts")
def staff_and_accounts(request: Request, p: Principal = Depends(admins)) -> Response:
    return _list_page(request, p)


@router.post("/accounts/staff")
def add_staff(
    request: Request, p: Principal = Depends(admins), form: Form = Depends(checked_form)
) -> Response:
    fields = {name: form.get(name) for name in accounts.STAFF_FIELDS}
    fields["roles"] = ";".join(_chosen(form, "role", ROLES))
    try:
        with transaction(context(request).engine) as session:
            accounts.add_staff(session, context(request), p, fields)
    except accounts.StaffRejected as refused:
        return _list_page(
            request, p, status=422, staff_values=fields, staff_errors=refused.problems
        )
    return see_other("/accounts?notice=staff_accounts.staff_added")


@router.post("/accounts/invite")
def invite(
    request: Request, p: Principal = Depends(admins), form: Form = Depends(checked_form)
) -> Response:
    ctx = context(request)
    values = {
        "username": form.get("username").strip(),
        "staff_id": form.get("staff_id").strip(),
        "language": form.get("language").strip(),
        "roles": _chosen(form, "role", ROLES),
        "sites": _chosen(form, "site", ["*", *ctx.config.sites]),
    }
    errors = {}
    if not values["username"]:
        errors["username"] = "staff_accounts.username_needed"
    if not values["staff_id"]:
        errors["staff_id"] = "staff_accounts.staff_needed"
    if not values["roles"]:
        errors["roles"] = "staff_accounts.role_needed"
    if errors:
        return _list_page(request, p, status=422, invite_values=values, invite_errors=errors)
    try:
        with transaction(ctx.engine) as session:
            account, link = accounts.create_user(
                session,
                ctx,
                p,
                username=values["username"],
                staff_id=values["staff_id"],
                roles=values["roles"],
                sites=values["sites"],
                language=values["language"] or None,
            )
            username = account.username
    except FollowupError as refused:  # the rule's own words: which role, which staff member
        return _list_page(
            request, p, status=422, invite_values=values, invite_errors={"form": str(refused)}
        )
    return _list_page(request, p, invite_link=link, invited=username)


def _account_page(
    request: Request,
    p: Principal,
    username: str,
    *,
    status: int = 200,
    errors: dict | None = None,
    invite_link: str | None = None,
) -> Response:
    ctx = context(request)
    try:
        with transaction(ctx.engine) as session:
            account = accounts.account_for_admin(session, p, username)
    except NotFound:
        raise NotVisible() from None
    return page(
        request,
        p,
        "staff_account.html",
        status=status,
        account=account,
        roles=ROLES,
        sites=["*", *ctx.config.sites],
        errors=errors or {},
        invite_link=invite_link,
        notice=_notice(request),
    )


@router.get("/accounts/{username}")
def one_account(request: Request, username: str, p: Principal = Depends(admins)) -> Response:
    return _account_page(request, p, username)


def _write(request: Request, p: Principal, username: str, operation) -> None:
    """Run one account operation; an unknown user name is a 404, like a GET."""
    ctx = context(request)
    try:
        with transaction(ctx.engine) as session:
            return operation(session, ctx)
    except NotFound:
        raise NotVisible() from None


@router.post("/accounts/{username}/access")
def change_access(
    request: Request,
    username: str,
    p: Principal = Depends(admins),
    form: Form = Depends(checked_form),
) -> Response:
    roles = _chosen(form, "role", ROLES)
    sites = _chosen(form, "site", ["*", *context(request).config.sites])
    if not roles:
        _write(request, p, username, lambda session, ctx: accounts.find(session, username))
        return _account_page(
            request, p, username, status=422, errors={"roles": "staff_accounts.role_needed"}
        )
    try:
        _write(
            request,
            p,
            username,
            lambda session, ctx: accounts.change_access(
                session, ctx, p, username, roles=roles, sites=sites
            ),
        )
    except FollowupError as refused:
        return _account_page(request, p, username, status=422, errors={"form": str(refused)})
    return see_other(f"/accounts/{username}?notice=staff_accounts.access_saved")


@router.post("/accounts/{username}/deactivate")
def deactivate(
    request: Request,
    username: str,
    p: Principal = Depends(admins),
    form: Form = Depends(checked_form),
) -> Response:
    try:
        _write(
            request,
            p,
            username,
            lambda session, ctx: accounts.set_user_active(session, ctx, p, username, False),
        )
    except FollowupError as refused:
        return _account_page(request, p, username, status=422, errors={"form": str(refused)})
    return see_other(f"/accounts/{username}?notice=staff_accounts.deactivated")


@router.post("/accounts/{username}/activate")
def activate(
    request: Request,
    username: str,
    p: Principal = Depends(admins),
    form: Form = Depends(checked_form),
) -> Response:
    _write(
        request,
        p,
        username,
        lambda session, ctx: accounts.set_user_active(session, ctx, p, username, True),
    )
    return see_other(f"/accounts/{username}?notice=staff_accounts.activated")


@router.post("/accounts/{username}/reset")
def reset_by_invite(
    request: Request,
    username: str,
    p: Principal = Depends(admins),
    form: Form = Depends(checked_form),
) -> Response:
    link = _write(
        request, p, username, lambda session, ctx: accounts.invite_again(session, ctx, p, username)
    )
    return _account_page(request, p, username, invite_link=link)
