"""Installing the web app into the FastAPI app of followup.http.

`install(app)` adds the pages, the static files, the error pages and the security headers
to the FastAPI app of followup.http. Who may see what is decided in followup.operations.policy
and nowhere else; followup.web.auth turns those rules into route guards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from followup.web.auth import CsrfRejected, Forbidden, NotVisible, SignInRequired, load_principal
from followup.web.render import STATIC, page

# Paths that are not pages: their errors stay as the framework gives them.
_NOT_PAGES = ("/twilio/", "/healthz", "/static/", "/calendar/")


def install(app: FastAPI) -> None:
    from followup.web.routes import ROUTERS

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(NotVisible, _not_found)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _not_found)  # e.g. /followups/abc
    app.middleware("http")(_security_headers)
    from followup.report.cache import ReportCache

    app.state.report_cache = ReportCache()
    _warm_up_at_startup(app)


def _warm_up_at_startup(app: FastAPI) -> None:
    """Import the report's libraries (numpy, scipy, matplotlib) when the server starts,
    before it takes requests, not in the first Outcomes request after a login."""
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[object]:
        from followup.report.cache import warm_up

        warm_up()
        async with previous(app_) as state:
            yield state

    app.router.lifespan_context = lifespan


def _sign_in(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/"
    return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def _denied(request: Request, status: int, message: str) -> Response:
    from followup.audit import audit
    from followup.db import transaction

    p = load_principal(request)
    if p is not None:
        with transaction(request.app.state.ctx.engine) as session:
            audit(
                session,
                p.actor,
                "access_denied",
                None,
                None,
                method=request.method,
                path=request.url.path,
                status=status,
            )
    return page(request, p, "error.html", status=status, message=message)


def _forbidden(request: Request, _exc: Exception) -> Response:
    return _denied(request, 403, "error.forbidden")


def _not_found(request: Request, _exc: Exception) -> Response:
    # The same page whether the record is missing or hidden from this person: nothing
    # in it depends on which (not even the audit line, which is written either way).
    return _denied(request, 404, "error.not_found")


def _csrf_rejected(request: Request, _exc: Exception) -> Response:
    return page(request, load_principal(request), "error.html", status=403, message="error.csrf")


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if request.url.path.startswith(_NOT_PAGES):
        return await http_exception_handler(request, exc)
    if exc.status_code == 404:
        return _not_found(request, exc)
    if exc.status_code == 405:
        return page(
            request, load_principal(request), "error.html", status=405, message="error.method"
        )
    return await http_exception_handler(request, exc)


async def _security_headers(request: Request, call_next) -> Response:
    response = await call_next(request)
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Tokens live in some URLs (invites, calendar feeds): never send them onwards.
    headers.setdefault("Referrer-Policy", "no-referrer")
    if not request.url.path.startswith("/static/"):
        # Survivors' data must not stay in a shared computer's cache.
        headers.setdefault("Cache-Control", "no-store")
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
    return response
