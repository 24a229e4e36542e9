"""Reading the audit trail, for `followup audit` and the admin's Audit page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.errors import Forbidden
from followup.models import Audit
from followup.operations import policy
from followup.operations.policy import Principal
from followup.values import escape_controls


@dataclass(frozen=True)
class Filters:
    actor: str | None = None  # "web:ana", or "ana" for that name whatever the prefix
    action: str | None = None  # one action, or several separated by commas
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    entity: str | None = None
    entity_id: str | None = None
    # The guard's line for every page an administrator opens: left out unless asked for,
    # so the Audit page shows what people did rather than what admins looked at.
    without_requests: bool = False


# The per-request line an administrator's every page leaves (followup.web.auth.guard).
REQUEST_LINE = "admin_request"


def parse_instant(text: str, zone: ZoneInfo) -> datetime:
    """A date (midnight at the start of that day in `zone`) or an ISO instant with a zone."""
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day, time(0), tzinfo=zone)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"expected a date (YYYY-MM-DD) or an instant such as 2026-03-29T08:00+02:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def _where(filters: Filters) -> list[sa.ColumnElement[bool]]:
    where = []
    if filters.actor:
        actor = filters.actor.strip()
        where.append(
            Audit.actor == actor
            if ":" in actor
            else sa.or_(Audit.actor == actor, Audit.actor.like(f"%:{actor}"))
        )
    if filters.action:
        actions = [a.strip() for a in filters.action.split(",") if a.strip()]
        where.append(Audit.action.in_(actions))
    if filters.since is not None:
        where.append(Audit.at >= filters.since)
    if filters.until is not None:
        where.append(Audit.at < filters.until)
    if filters.entity:
        where.append(Audit.entity == filters.entity)
    if filters.entity_id:
        where.append(Audit.entity_id == filters.entity_id)
    if filters.without_requests:
        where.append(Audit.action != REQUEST_LINE)
    return where


def actions(session: Session, p: Principal) -> list[str]:
    """Every action the trail holds, for the Audit page's list (one index scan)."""
    if not policy.read_audit(p):
        raise Forbidden("reading the audit trail is for administrators")
    return list(
        session.execute(sa.select(Audit.action).distinct().order_by(Audit.action)).scalars()
    )


def readable(row: Audit) -> list[tuple[str, str]]:
    """The detail as (name, value) pairs in the order written: lists joined with commas,
    a mapping as `key value` pairs, nothing for empty values. A detail that is not JSON
    (written before it was) is shown whole, under no name."""
    if not row.detail:
        return []
    try:
        detail = json.loads(row.detail)
    except ValueError:
        return [("", escape_controls(row.detail))]
    if not isinstance(detail, dict):
        return [("", _plain(detail))]
    return [
        (escape_controls(str(name)), _plain(value))
        for name, value in detail.items()
        if value not in (None, "", [], {})
    ]


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_plain(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{name} {_plain(item)}" for name, item in value.items())
    return escape_controls(str(value))


def read(
    session: Session, p: Principal, filters: Filters, *, limit: int = 200, offset: int = 0
) -> list[Audit]:
    """Newest first; administrators only (the trail names who read which partner)."""
    if not policy.read_audit(p):
        raise Forbidden("reading the audit trail is for administrators")
    return list(
        session.execute(
            sa.select(Audit)
            .where(*_where(filters))
            .order_by(Audit.at.desc(), Audit.id.desc())
            .limit(limit)
            .offset(offset)
        ).scalars()
    )


def to_json(row: Audit) -> dict:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "entity": row.entity,
        "entity_id": row.entity_id,
        "detail": json.loads(row.detail) if row.detail else None,
    }


def to_text(row: Audit) -> str:
    """One line per entry, whatever its values hold: a control character in an actor, an
    id or the detail is written as an escape (\\n), so no value can forge a line."""
    actor, action = escape_controls(row.actor or ""), escape_controls(row.action or "")
    entity, entity_id = escape_controls(row.entity or ""), escape_controls(row.entity_id or "")
    what = f"{entity} {entity_id}" if entity_id else entity
    detail = escape_controls(row.detail or "")
    return f"{row.at:%Y-%m-%d %H:%M:%S}Z  {actor:<24} {action:<22} {what}  {detail}".rstrip()
