"""The audit trail: who read or changed what, when. Written in the same transaction as
the change it describes, so there is never a change without its record."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from followup.clock import written_at
from followup.db import executemany
from followup.models import Audit


def audit(
    session: Session,
    actor: str,
    action: str,
    entity: str | None = None,
    entity_id: object = None,
    **detail: object,
) -> None:
    """Record one action. `detail` must never carry survivor data: ids and counts only."""
    session.add(Audit(**audit_line(actor, action, entity, entity_id, **detail)))


def audit_line(
    actor: str,
    action: str,
    entity: str | None = None,
    entity_id: object = None,
    **detail: object,
) -> dict[str, Any]:
    """The columns of one audit line (for `audit_lines`), as `audit` writes them."""
    return {
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "detail": json.dumps(detail, default=str, sort_keys=True) if detail else None,
    }


def audit_lines(session: Session, lines: Iterable[dict[str, Any]]) -> None:
    """Record many actions at once (an import may raise thousands of alerts): one insert,
    not an object each. The lines pending in the session go first, so the trail keeps the
    order the actions were recorded in."""
    at = written_at()
    rows = [{**line, "at": at} for line in lines]
    if rows:
        session.flush()
        executemany(session.connection(), Audit.__table__.insert(), rows)
