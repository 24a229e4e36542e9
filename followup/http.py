"""The HTTP application `followup serve` runs (FastAPI).

One app, several routers: the Twilio status callback (followup.dispatch) and the web
pages (followup.web) each contribute theirs here.
"""

from __future__ import annotations

from fastapi import FastAPI

from followup.context import Context


def create_app(ctx: Context) -> FastAPI:
    app = FastAPI(title="followup", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # Routers are added below, one line each.
    from followup.dispatch.callbacks import router as twilio_status_callbacks

    app.include_router(twilio_status_callbacks)
    from followup.web.app import install as install_web_pages

    install_web_pages(app)  # the web app: pages, static files, error pages, headers
    trust_proxies(app, ctx.config.web.trusted_proxies)
    return app


def trust_proxies(app: FastAPI, proxies: list[str]) -> None:
    """Believe X-Forwarded-For (and -Proto) only from `web.trusted_proxies`: the client
    address is what the login throttle counts and the audit trail records, so a header
    anyone can send must not choose it. uvicorn's own handling (which trusts 127.0.0.1 by
    default) is switched off in followup.service; this is the same middleware, with our
    list. Added last, so it runs first."""
    if proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(proxies))
