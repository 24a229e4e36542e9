"""Pages from templates: followup/web/templates, `base.html` and `_partials/`.

Every page gets the translator `t`, the signed-in person `p`, the navigation their
roles allow, the CSRF token for its forms, and date/time formatters for their site.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from followup.db import transaction
from followup.operations import alerts, policy
from followup.operations.policy import Principal
from followup.web.i18n import NAMES, format_date, format_instant, supported, translator

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "xml"]),
    undefined=StrictUndefined,  # a misspelt variable is an error in the tests, not a blank
    trim_blocks=True,
    lstrip_blocks=True,
)

# (path, catalogue key, rule): the top navigation, each item shown only to those allowed.
NAVIGATION = (
    ("/followups", "nav.followups", policy.list_followups),
    ("/caseload", "worklist.nav_caseload", policy.list_followups),
    ("/enrol", "casework.nav_enrol", policy.open_enrolment),
    ("/alerts", "nav.alerts", policy.open_alerts),
    ("/outcomes", "nav.outcomes", policy.view_outcomes),
    ("/schedules", "nav.schedules", policy.plan_schedules),
    ("/accounts", "staff_accounts.nav", policy.manage_accounts),
    ("/audit", "nav.audit", policy.read_audit),
    ("/account", "nav.account", policy.signed_in),
)


def home(p: Principal) -> str:
    """Where a person lands after login: the first page their roles open."""
    for path, _key, rule in NAVIGATION:
        if rule(p):
            return path
    return "/account"


def _open_alerts(request: Request, p: Principal | None) -> int:
    """The navigation's count of open safety alerts this person may see (0: not shown)."""
    if p is None or not policy.open_alerts(p):
        return 0
    with transaction(request.app.state.ctx.engine) as session:
        return alerts.open_count(session, p)


def language_of(request: Request, p: Principal | None) -> str:
    if p is not None:
        return p.language
    accepted = request.headers.get("accept-language", "").lower()
    if accepted.startswith("sq"):
        return "sq"
    return "sr-Latn" if accepted.startswith(("sr", "hr", "bs")) else "en"


def page(
    request: Request,
    p: Principal | None,
    template: str,
    *,
    status: int = 200,
    csrf: str | None = None,
    **context: object,
) -> HTMLResponse:
    language = supported(language_of(request, p))
    zone = p.timezone if p else "UTC"
    nav = []
    if p is not None:
        path = request.url.path
        nav = [
            (href, key, path == href or path.startswith(href + "/"))
            for href, key, rule in NAVIGATION
            if rule(p)
        ]
    html = _env.get_template(template).render(
        alert_count=_open_alerts(request, p),
        request=request,
        p=p,
        t=translator(language),
        lang=language,
        languages=NAMES,
        nav=nav,
        csrf=csrf if csrf is not None else (p.csrf_token if p else ""),
        may_search=p is not None and policy.search(p),
        may_find_partners=p is not None and policy.open_partners(p),
        date=lambda day: format_date(day, language),
        instant=lambda moment: format_instant(moment, zone),
        **context,
    )
    return HTMLResponse(html, status_code=status)
