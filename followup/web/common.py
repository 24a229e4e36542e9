"""Small helpers the route modules share."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse


def see_other(path: str) -> RedirectResponse:
    """After a successful post: the browser loads `path` with GET (no re-post on reload)."""
    return RedirectResponse(path, status_code=303)


def safe_next(target: str | None, default: str) -> str:
    """A same-site path to go on to after login; anything else (another host, `//evil`)
    is replaced by `default`."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


def wants(request: Request, name: str) -> str:
    return request.query_params.get(name, "").strip()
