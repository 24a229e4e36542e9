"""The work lists: My follow-ups and the site's (filters, paging, grouping by worker,
mark missed for one or many) and My caseload. Every read and write goes through
followup.operations (caseload, followups, people); this module parses and renders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.db import transaction
from followup.errors import FollowupError
from followup.operations import attempts, caseload, followups, people, policy
from followup.operations.policy import Principal
from followup.vocab import ATTEMPT_OUTCOMES, CONTACT_CHANNELS
from followup.web.auth import Form, checked_form, context, guard
from followup.web.common import see_other
from followup.web.render import page
from followup.web.routes.followups import detail_page

router = APIRouter()
lists = guard(policy.list_followups)
one = guard(policy.list_followups, hide=True)
FILTERS = ("scope", "worker", "checkpoint", "informant", "status", "site", "group")
MAX_ID_TEXT = 64


@dataclass(frozen=True)
class AttemptProblem:
    """A refused attempt, shown next to its row's form: `outside_plan` adds the field
    for a reason to record it anyway; `values` is what was chosen."""

    id: int
    message: str
    outside_plan: bool
    values: dict[str, str]


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
    attempted: str | None = None,
    attempt_problem: AttemptProblem | None = None,
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
        attempted=attempted,
        attempt_problem=attempt_problem,
        outcomes=ATTEMPT_OUTCOMES,
        channels=CONTACT_CHANNELS,
    )


@router.get("/followups")
def work_list(request: Request, p: Principal = Depends(lists)) -> Response:
    marked = request.query_params.get("marked")
    attempted = request.query_params.get("attempted")
    return _list_page(
        request,
        p,
        request.query_params,
        marked=_int(marked, 0, 0) if marked is not None else None,
        attempted=attempted if attempted in ATTEMPT_SAVED else None,
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


# --- one-click contact attempts --------------------------------------------------------

ATTEMPT_SAVED = ("scheduled", "unreachable", "refused")  # the follow-up's status after it


@router.post("/followups/{followup_id}/attempt")
def record_attempt(
    request: Request,
    followup_id: int,
    p: Principal = Depends(one),
    form: Form = Depends(checked_form),
) -> Response:
    """One attempt from the work list or the follow-up page (followup.operations.attempts:
    the same rules, her plan and audit line as `followup record attempt`). Refused outside
    her plan: the form comes back with the reason field to override it."""
    ctx = context(request)
    problem = None
    with transaction(ctx.engine) as session:
        try:
            with session.begin_nested():
                done = attempts.record_attempt(
                    session,
                    ctx,
                    p,
                    followup_id,
                    outcome=form.get("outcome"),
                    channel=form.get("channel"),
                    note=form.get("note") or None,
                    override_reason=form.get("override_reason") or None,
                    plan_confirmed=form.get("plan_confirmed") == "yes",
                )
        except attempts.OutsidePlan as refused:
            problem = AttemptProblem(followup_id, str(refused), True, dict(form.values))
        except FollowupError as refused:
            problem = AttemptProblem(followup_id, str(refused), False, dict(form.values))
    on_page = form.get("from") == "followup"
    if problem is not None:
        if on_page:
            return detail_page(request, p, followup_id, status=422, attempt_problem=problem)
        return _list_page(request, p, _back(form), status=422, attempt_problem=problem)
    if on_page:
        return see_other(f"/followups/{followup_id}?saved=attempt")
    kept = _listing_params(_back(form), p, ctx.config.sites)
    return see_other("/followups?" + urlencode({**kept, "attempted": done.status}))
