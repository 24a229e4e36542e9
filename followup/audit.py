"""The audit trail: who read or changed what, when. Written in the same transaction as
the change it describes, so there is never a change without its record."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

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
    session.add(
        Audit(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            detail=json.dumps(detail, default=str, sort_keys=True) if detail else None,
        )
    )
