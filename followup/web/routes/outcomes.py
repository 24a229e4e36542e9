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
from followup.web.render import page

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
# Problems that leave no report to show (an unknown choice is dropped and the report made)
BLOCKING = (
    "form.date_invalid",
    "report_options.as_of_future",
    "report_options.completion_needs_origin",
)
_MAIN = re.compile(r"<main>(.*)</main>", re.DOTALL)


def _cache(request: Request):
    """The app's report cache (made at startup by followup.web.app), keyed by options and
    data version: a filter change back to a report already seen costs a lookup."""
    return request.app.state.report_cache


def _options(request: Request, p: Principal, fmt: str):
    """ReportOptions from the query string, limited to what this person may read, and the
    form's values and problems (catalogue keys by field) for the page."""
    from followup.report import ReportOptions, default_origin, latest_as_of

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
    _combinable(values, errors, default_origin(ctx))
    as_of = None
    if values["as_of"]:
        try:
            as_of = date.fromisoformat(values["as_of"])
        except ValueError:
            errors["as_of"] = "form.date_invalid"
        else:
            if as_of > latest_as_of(ctx, site or None):
                errors["as_of"] = "report_options.as_of_future"
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


def _combinable(values: dict[str, str], errors: dict[str, str], default: str) -> None:
    """Options the report would refuse together, settled before it is asked. Comparing
    completers with men who left early cannot count from completion (those who left have
    none): with the origin left to its default, the form counts from the end of
    participation, as it offers; asked for explicitly, the origin field says why not."""
    if values["by"] != "completion":
        return
    if values["origin"] == "completion":
        errors["origin"] = "report_options.completion_needs_origin"
    elif not values["origin"] and default == "completion":
        values["origin"] = "end_of_participation"


def _blocked(errors: dict[str, str]) -> bool:
    return any(words in BLOCKING for words in errors.values())


def refused_words(refused: FollowupError) -> tuple[str | None, str]:
    """Where on the form a refusal belongs and its catalogue key: the report's errors are
    worded for the command line (they name --flags); the page says it in its own words."""
    from followup.report import ReportError

    if isinstance(refused, ReportError):
        return refused.option, f"report_options.{refused.problem}"
    return None, "report_options.refused"


@router.get("/outcomes")
def outcomes(request: Request, p: Principal = Depends(readers)) -> Response:
    from followup.report import default_origin, latest_as_of, render_html

    ctx = context(request)
    options, values, errors, allowed, every = _options(request, p, "html")
    body = problem = report = None
    status = 422 if _blocked(errors) else 200
    if status == 200:
        try:
            cache = _cache(request)
            with transaction(ctx.engine) as session:
                report = outcome_report(session, ctx, p, options, cache)
            # plots take a while: drawn once per report and language, not holding the lock
            html = cache.rendering(
                report, "html", p.language, lambda: render_html(report, p.language)
            )
        except FollowupError as refused:
            status, (field, words) = 422, refused_words(refused)
            if field in values:
                errors[field] = words  # under the field it is about
            else:
                problem = words
        else:
            found = _MAIN.search(html)
            body = Markup(found.group(1) if found else html)
    query = request.url.query
    return page(
        request,
        p,
        "outcomes.html",
        status=status,
        body=body,
        problem=problem,
        values=values,
        errors=errors,
        sites=allowed,
        every=every,
        by_choices=BY,
        origins=ORIGINS,
        sources=SOURCES,
        default_origin=default_origin(ctx),
        latest=latest_as_of(ctx, options.site),
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
        text = cache.rendering(report, fmt, p.language, lambda: render(report, fmt, p.language))
    except FollowupError as refused:
        return page(
            request,
            p,
            "error.html",
            status=422,
            message="outcomes.bad_options",
            detail_key=refused_words(refused)[1],
        )
    name = f"outcomes-{options.site or 'all'}-{report.options.as_of}.{fmt}"
    return Response(
        text,
        media_type=DOWNLOADS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
