"""The work lists: My follow-ups and the site's (filters, paging, grouping by worker,
mark missed for one or many) and My caseload. Every read and write goes through
followup.operations (caseload, followups, people); this module parses and renders."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.db import transaction
from followup.errors import FollowupError
from followup.operations import caseload, followups, people, policy
from followup.operations.policy import Principal
from followup.web.auth import Form, checked_form, context, guard
from followup.web.common import see_other
from followup.web.render import page

router = APIRouter()
lists = guard(policy.list_followups)
FILTERS = ("scope", "worker", "checkpoint", "informant", "status", "site", "group")
MAX_ID_TEXT = 64


def _int(text: str | None, default: int, lowest: int = 1) -> int:
    try:
        return max(lowest, int(text or default))
    except ValueError:
        return default


def _listing_params(params: Mapping[str, str], p: Principal, sites) -> dict[str, str]:
    """The list's query, cut to words the page knows (anything else is dropped)."""
    kept = {}
    site_wide = params.get("scope") == "site" and policy.list_site_followups(p)
    if site_wide:
        kept["scope"] = "site"
        if params.get("group") == "worker":
            kept["group"] = "worker"
        if params.get("site") in sites:
            kept["site"] = params["site"]
        if params.get("worker"):
            kept["worker"] = params["worker"][:MAX_ID_TEXT]
    if params.get("checkpoint"):
        kept["checkpoint"] = params["checkpoint"][:MAX_ID_TEXT]
    if params.get("informant") in caseload.INFORMANTS:
        kept["informant"] = params["informant"]
    if params.get("status") in caseload.STATUSES:
        kept["status"] = params["status"]
    return kept


def _list_page(
    request: Request,
    p: Principal,
    params: Mapping[str, str],
    *,
    status: int = 200,
    error: str | None = None,
    marked: int | None = None,
    refused: list[tuple[int, str]] | None = None,
    reason: str = "",
) -> Response:
    ctx = context(request)
    kept = _listing_params(params, p, ctx.config.sites)
    site_wide = kept.get("scope") == "site"
    number = _int(params.get("page"), 1)
    filters = caseload.WorkFilters(
        worker=kept.get("worker"),
        checkpoint=kept.get("checkpoint"),
        informant=kept.get("informant"),
        status=kept.get("status"),
        site=kept.get("site"),
    )
    size = caseload.PAGE_SIZE
    with transaction(ctx.engine) as session:
        listing = caseload.work_list(
            session,
            ctx,
            p,
            site_wide=site_wide,
            filters=filters,
            limit=size,
            offset=(number - 1) * size,
            by_worker=kept.get("group") == "worker",
        )
        choices = caseload.work_choices(session, ctx, p, site_wide=site_wide)
    here = "/followups" + ("?" + urlencode(kept) if kept else "")
    return page(
        request,
        p,
        "followups.html",
        status=status,
        listing=listing,
        site_wide=site_wide,
        kept=kept,
        choices=choices,
        number=number,
        pages=max(1, -(-listing.total // size)),
        link=lambda **change: "/followups?" + urlencode({**kept, **change}),
        here=here,
        statuses=caseload.STATUSES,
        unassigned=caseload.UNASSIGNED,
        reasons=followups.MISSED_REASONS,
        may_see_site=policy.list_site_followups(p),
        error=error,
        marked=marked,
        refused=refused or [],
        reason=reason,
    )


@router.get("/followups")
def work_list(request: Request, p: Principal = Depends(lists)) -> Response:
    marked = request.query_params.get("marked")
    return _list_page(
        request,
        p,
        request.query_params,
        marked=_int(marked, 0, 0) if marked is not None else None,
    )


async def chosen(request: Request) -> list[int]:
    """The follow-ups ticked on the list (a form field given once per box)."""
    data = await request.form()
    ids = []
    for value in data.getlist("followup_id")[: caseload.MAX_PAGE_SIZE]:
        if isinstance(value, str) and value.isdigit():
            ids.append(int(value))
    return ids


def _back(form: Form) -> dict[str, str]:
    """The list the form was sent from (its query), to return to."""
    back = form.get("back", "")
    parts = urlsplit(back)
    if parts.scheme or parts.netloc or parts.path != "/followups":
        return {}
    return dict(parse_qsl(parts.query))


@router.post("/followups/mark-missed")
def mark_missed_many(
    request: Request,
    p: Principal = Depends(lists),
    form: Form = Depends(checked_form),
    ids: list[int] = Depends(chosen),
) -> Response:
    """Mark the ticked follow-ups missed with one reason: each through the same operation
    (rules and an audit line per follow-up) as the single "mark missed"."""
    params = _back(form)
    reason = form.get("reason")
    error = None
    if not ids:
        error = "worklist.choose_some"
    elif reason not in followups.MISSED_REASONS:
        error = "worklist.choose_reason"
    if error:
        return _list_page(request, p, params, status=422, error=error, reason=reason)
    ctx = context(request)
    with transaction(ctx.engine) as session:
        try:
            done = followups.record_missed_many(session, ctx, p, ids, reason=reason)
        except FollowupError:
            return _list_page(request, p, params, status=422, error="worklist.choose_reason")
    if done.refused:
        return _list_page(
            request, p, params, status=422, marked=len(done.marked), refused=done.refused
        )
    kept = _listing_params(params, p, ctx.config.sites)
    return see_other("/followups?" + urlencode({**kept, "marked": len(done.marked)}))


@router.get("/caseload")
def my_caseload(request: Request, p: Principal = Depends(lists)) -> Response:
    ctx = context(request)
    number = _int(request.query_params.get("page"), 1)
    size = caseload.PAGE_SIZE
    with transaction(ctx.engine) as session:
        mine = people.my_caseload(session, ctx, p, limit=size, offset=(number - 1) * size)
    return page(request, p, "caseload.html", c=mine, number=number)
