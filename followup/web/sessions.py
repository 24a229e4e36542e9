"""Browser sessions, kept on the server (table `web_session`).

Chosen over a signed cookie because a server-side session can be ended: logout,
deactivation and a password reset take effect on the next request, on every instance,
and there is no signing secret to keep and rotate. The cookie carries a random token;
only its SHA-256 is stored. Each session has a synchronizer CSRF token that every form
posts back. A signed-out visitor gets a session too (no account), so the login form is
CSRF-protected like every other; logging in replaces it with a new one (no fixation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.config import WebConfig
from followup.models import WebSession
from followup.tokens import digest, new_token

COOKIE = "followup_session"
# last_seen_at is written at most this often, so reading pages does not write every time.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Started:
    token: str  # for the cookie; never stored
    csrf_token: str


def start(session: Session, web: WebConfig, account_id: int | None, now: datetime) -> Started:
    token, csrf = new_token(), new_token()
    session.add(
        WebSession(
            token_hash=digest(token),
            account_id=account_id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=_expiry(web, now, now),
        )
    )
    # Expired sessions go when someone logs in, so the table stays the size of who is in.
    session.execute(sa.delete(WebSession).where(WebSession.expires_at < now))
    return Started(token, csrf)


def load(session: Session, web: WebConfig, token: str | None, now: datetime) -> WebSession | None:
    """The live session for a cookie, its idle deadline moved on; None when unknown or over."""
    if not token:
        return None
    row = session.get(WebSession, digest(token))
    if row is None:
        return None
    if row.expires_at <= now:
        session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        row.expires_at = _expiry(web, row.created_at, now)
    return row


def end(session: Session, token: str | None) -> None:
    if token:
        session.execute(sa.delete(WebSession).where(WebSession.token_hash == digest(token)))


def _expiry(web: WebConfig, created: datetime, now: datetime) -> datetime:
    return min(
        created + timedelta(hours=web.session_hours),
        now + timedelta(minutes=web.session_idle_minutes),
    )
