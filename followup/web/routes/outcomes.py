"""Outcomes for evaluators: the `followup report` in the page, and its downloads.

The page and every download are built by followup.report's `build_report` and rendered
by its own renderers, so they show exactly what `followup report` prints — suppressed,
unless an administrator asks otherwise, and audited as an export every time (by
build_report itself, in this request's transaction).
"""

from __future__ import annotations

import re
from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from followup.db import transaction
from followup.errors import FollowupError
from followup.operations import policy
from followup.operations.policy import Principal
from followup.operations.report import outcome_report
from followup.web.auth import NotVisible, context, guard
from followup.web.render import language_of, page

router = APIRouter()
readers = guard(policy.view_outcomes)
BY = ("site", "referral_source", "completion")
ORIGINS = ("completion", "admission", "enrolment", "end_of_participation")
SOURCES = ("any", "partner", "participant", "police", "prosecutor", "social_services")
DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}
_MAIN = re.compile(r"<main>(.*)</main>", re.DOTALL)


def _cache(request: Request):
    """The app's report cache (made at startup by followup.web.app), keyed by options and
    data version: a filter change back to a report already seen costs a lookup."""
    return request.app.state.report_cache


def _options(request: Request, p: Principal, fmt: str):
    """ReportOptions from the query string, limited to what this person may read, and the
    form's values and problems (catalogue keys by field) for the page."""
    from followup.report import ReportOptions

    ctx = context(request)
    query = request.query_params
    allowed = policy.outcome_sites(p, ctx.config.sites)
    every = len(allowed) == len(ctx.config.sites)
    site = query.get("site") or ("" if every else allowed[0])
    errors: dict[str, str] = {}
    if site and site not in allowed or not site and not every:
        site = "" if every else allowed[0]
        errors["site"] = "outcomes.site_not_granted"
    values = {
        "site": site,
        "by": query.get("by", ""),
        "origin": query.get("origin", ""),
        "source": query.get("source", "any"),
        "as_of": query.get("as_of", ""),
        "unsuppressed": query.get("unsuppressed", ""),
    }
    for name, choices in (("by", BY), ("origin", ORIGINS), ("source", SOURCES)):
        if values[name] and values[name] not in choices:
            errors[name] = "form.choose"
            values[name] = ""
    as_of = None
    if values["as_of"]:
        try:
            as_of = date.fromisoformat(values["as_of"])
        except ValueError:
            errors["as_of"] = "form.date_invalid"
    unsuppressed = values["unsuppressed"] == "1" and policy.unsuppressed_outcomes(p)
    options = ReportOptions(
        as_of=as_of,
        site=site or None,
        by=values["by"] or None,
        origin=values["origin"] or None,
        source=values["source"] or "any",
        suppress=not unsuppressed,
        format=fmt,
        actor=p.actor,
    )
    return options, values, errors, allowed, every


@router.get("/outcomes")
def outcomes(request: Request, p: Principal = Depends(readers)) -> Response:
    from followup.report import render_html

    ctx = context(request)
    options, values, errors, allowed, every = _options(request, p, "html")
    body = problem = report = None
    if "as_of" not in errors:
        try:
            cache = _cache(request)
            with transaction(ctx.engine) as session:
                report = outcome_report(session, ctx, p, options, cache)
            # plots take a while: drawn once per report, not holding the write lock
            html = cache.rendering(
                report, "html", language_of(request, p), lambda: render_html(report)
            )
        except FollowupError as refused:
            problem = str(refused)
        else:
            found = _MAIN.search(html)
            body = Markup(found.group(1) if found else html)
    query = request.url.query
    return page(
        request,
        p,
        "outcomes.html",
        status=200 if problem is None else 422,
        body=body,
        problem=problem,
        values=values,
        errors=errors,
        sites=allowed,
        every=every,
        by_choices=BY,
        origins=ORIGINS,
        sources=SOURCES,
        may_unsuppress=policy.unsuppressed_outcomes(p),
        query=f"?{query}" if query else "",
        report=report,
    )


@router.get("/outcomes/report.{fmt}")
def download(request: Request, fmt: str, p: Principal = Depends(readers)) -> Response:
    from followup.report.render import render

    if fmt not in DOWNLOADS:
        raise NotVisible()
    ctx = context(request)
    options, _values, errors, _allowed, _every = _options(request, p, fmt)
    if errors:
        return page(request, p, "error.html", status=422, message="outcomes.bad_options")
    try:
        cache = _cache(request)
        with transaction(ctx.engine) as session:
            report = outcome_report(session, ctx, p, options, cache)
        # after the transaction, like the page
        text = cache.rendering(report, fmt, language_of(request, p), lambda: render(report, fmt))
    except FollowupError as refused:
        return page(
            request,
            p,
            "error.html",
            status=422,
            message="outcomes.bad_options",
            detail=str(refused),
        )
    name = f"outcomes-{options.site or 'all'}-{report.options.as_of}.{fmt}"
    return Response(
        text,
        media_type=DOWNLOADS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
