"""The transactional outbox: queue a message, claim due ones with a lease, settle them.

`enqueue` runs inside the caller's transaction, so a message exists exactly when the
change that causes it is committed; queueing a key that is already there does nothing.
A sender `claim`s due rows for `lease_seconds` in a short transaction of its own and
sends them outside any transaction; if it dies, the lease runs out and another sender
takes the row again (at-least-once), knowing it is `in_doubt` — the first attempt may
have reached the provider — so it can ask before sending twice.

Every write to a claimed row is conditional on the row still being ours and pending:
a late sender never moves a row backwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from followup.models import FollowUp, Outbox
from followup.schedule import PENDING as FOLLOWUP_PENDING

OB = Outbox.__table__

PENDING = "pending"
SENT = "sent"
DELIVERED = "delivered"
FAILED = "failed"
DEAD = "dead"
CANCELLED = "cancelled"

# Forward only: a status callback or a late sender may move a row up this order, never down.
RANK = {PENDING: 0, SENT: 1, DELIVERED: 2, FAILED: 2, DEAD: 2, CANCELLED: 2}


@dataclass(frozen=True)
class Message:
    """One message to queue. `payload` holds ids, dates and counts, never survivor data."""

    key: str
    kind: str
    staff_id: int
    channel: str
    not_before: datetime
    followup_id: int | None = None
    alert_id: int | None = None
    payload: dict = field(default_factory=dict)

    def row(self, now: datetime) -> dict:
        return {
            "key": self.key,
            "kind": self.kind,
            "staff_id": self.staff_id,
            "channel": self.channel,
            "followup_id": self.followup_id,
            "alert_id": self.alert_id,
            "payload": json.dumps(self.payload, sort_keys=True, default=_json_default)
            if self.payload
            else None,
            "not_before": self.not_before,
            "next_attempt_at": self.not_before,
            "status": PENDING,
            "attempts": 0,
            "in_doubt": False,
            "created_at": now,
            "updated_at": now,
        }


def _json_default(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} does not belong in an outbox payload")


def payload_of(row) -> dict:
    return json.loads(row.payload) if row.payload else {}


def _insert(conn: sa.Connection):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(OB).on_conflict_do_nothing(index_elements=["key"])


def enqueue(session: Session, messages: Iterable[Message], *, now: datetime) -> list[str]:
    """Queue messages in the caller's transaction; returns the keys that were new.

    A key already in the outbox (whatever its status) is left alone: that message was
    queued before, and queueing it again must not send it twice.
    """
    rows = [message.row(now) for message in messages]
    if not rows:
        return []
    conn = session.connection()
    inserted: list[str] = []
    for start in range(0, len(rows), 1000):
        result = conn.execute(_insert(conn).returning(OB.c.key), rows[start : start + 1000])
        inserted.extend(result.scalars())
    return inserted


def cancel_stale(session: Session, participant_id: int, *, now: datetime) -> int:
    """Cancel queued messages about this participant's (or his partners') follow-ups that
    are no longer pending — completed, missed, or cancelled by a consent withdrawal or a
    do-not-contact flag — in the caller's transaction, so they die with the change."""
    stale = sa.select(FollowUp.id).where(
        FollowUp.participant_id == participant_id, FollowUp.status != FOLLOWUP_PENDING
    )
    result = session.connection().execute(
        OB.update()
        .where(OB.c.status == PENDING, OB.c.followup_id.in_(stale))
        .values(status=CANCELLED, last_error="follow-up no longer pending", updated_at=now)
    )
    return result.rowcount or 0


# --- claiming -----------------------------------------------------------------------


def _due(now: datetime):
    return sa.and_(
        OB.c.status == PENDING,
        OB.c.next_attempt_at <= now,
        sa.or_(OB.c.lease_until.is_(None), OB.c.lease_until < now),
    )


_in_doubt = sa.or_(OB.c.claimed_by.is_not(None), OB.c.in_doubt.is_(True))


def claim(
    engine: Engine, worker: str, now: datetime, *, limit: int, lease_seconds: int
) -> list[int]:
    """Reserve up to `limit` due messages for `worker` until now + lease_seconds.

    Safety alerts first, then oldest first. A lease that ended exactly now is still
    held; one that ended a moment ago is taken over. The returned ids are the rows this
    call changed, checked again by the UPDATE itself, so two senders never hold one row.
    """
    lease_until = now + timedelta(seconds=lease_seconds)
    order = (sa.case((OB.c.kind == "alert", 0), else_=1), OB.c.next_attempt_at, OB.c.id)
    claim_values = {
        "claimed_by": worker,
        "lease_until": lease_until,
        "attempts": OB.c.attempts + 1,
        # Evaluated on the old row: a lease that ran out unsettled leaves the send in doubt,
        # and so does a failed attempt that may have reached the provider (mark_retry).
        "in_doubt": _in_doubt,
        "in_doubt_since": sa.case(
            (_in_doubt, sa.func.coalesce(OB.c.in_doubt_since, now)), else_=sa.null()
        ),
        "updated_at": now,
    }
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            ids = (
                conn.execute(
                    sa.select(OB.c.id)
                    .where(_due(now))
                    .order_by(*order)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
            if not ids:
                return []
            claimed = (
                conn.execute(
                    OB.update()
                    .where(OB.c.id.in_(ids), _due(now))
                    .values(**claim_values)
                    .returning(OB.c.id)
                )
                .scalars()
                .all()
            )
        else:
            due = sa.select(OB.c.id).where(_due(now)).order_by(*order).limit(limit)
            claimed = (
                conn.execute(
                    OB.update()
                    .where(OB.c.id.in_(due.scalar_subquery()), _due(now))
                    .values(**claim_values)
                    .returning(OB.c.id)
                )
                .scalars()
                .all()
            )
    return sorted(claimed)


def release(engine: Engine, worker: str, ids: Sequence[int], now: datetime) -> None:
    """Hand back claimed rows that were never tried (shutting down), for the next sender."""
    if not ids:
        return
    with engine.begin() as conn:
        conn.execute(
            OB.update()
            .where(OB.c.id.in_(ids), OB.c.claimed_by == worker, OB.c.status == PENDING)
            .values(
                claimed_by=None,
                lease_until=None,
                attempts=OB.c.attempts - 1,
                # in_doubt stays: a row in doubt when claimed is still in doubt, untried.
                updated_at=now,
            )
        )


def postpone(
    conn: sa.Connection, row_id: int, worker: str, *, until: datetime, now: datetime
) -> bool:
    """Hand a claimed row back untried, to go at `until` (the end of the quiet hours):
    not an attempt, so neither the count nor the doubt changes."""
    result = conn.execute(
        OB.update()
        .where(_ours(row_id, worker))
        .values(
            claimed_by=None,
            lease_until=None,
            attempts=OB.c.attempts - 1,
            next_attempt_at=until,
            updated_at=now,
        )
    )
    return bool(result.rowcount)


def _ours(row_id: int, worker: str):
    return sa.and_(OB.c.id == row_id, OB.c.claimed_by == worker, OB.c.status == PENDING)


# Built once: it runs after every single send. Only "still pending": whoever sent it, it
# was sent, and it never goes back to pending.
_SENT = (
    OB.update()
    .where(OB.c.id == sa.bindparam("row_id"), OB.c.status == PENDING)
    .values(
        status=SENT,
        channel=sa.bindparam("channel"),
        provider_id=sa.bindparam("provider_id"),
        sent_at=sa.bindparam("now"),
        lease_until=None,
        in_doubt=False,
        last_error=None,
        updated_at=sa.bindparam("now"),
    )
)


def mark_sent(
    conn: sa.Connection,
    row_id: int,
    worker: str,
    *,
    channel: str,
    provider_id: str | None,
    now: datetime,
) -> bool:
    result = conn.execute(
        _SENT, {"row_id": row_id, "channel": channel, "provider_id": provider_id, "now": now}
    )
    return bool(result.rowcount)


def mark_retry(
    conn: sa.Connection,
    row_id: int,
    worker: str,
    *,
    error: str,
    next_attempt_at: datetime,
    now: datetime,
    maybe_sent: bool = False,
) -> bool:
    """Hand the row back for another try at `next_attempt_at`. `maybe_sent`: the attempt
    may have reached the provider, so the next one is in doubt and asks first. The first
    failure's time is kept: retries go on by time, not by count."""
    result = conn.execute(
        OB.update()
        .where(_ours(row_id, worker))
        .values(
            last_error=error,
            next_attempt_at=next_attempt_at,
            claimed_by=None,
            lease_until=None,
            in_doubt=maybe_sent,
            in_doubt_since=sa.func.coalesce(OB.c.in_doubt_since, now) if maybe_sent else None,
            failing_since=sa.func.coalesce(OB.c.failing_since, now),
            updated_at=now,
        )
    )
    return bool(result.rowcount)


def mark_final(
    conn: sa.Connection,
    row_id: int,
    worker: str | None,
    *,
    status: str,
    error: str | None,
    now: datetime,
    channel: str | None = None,
) -> bool:
    """failed, dead or cancelled. `worker` None: not a claimed row (planning, callbacks)."""
    condition = (
        _ours(row_id, worker) if worker else sa.and_(OB.c.id == row_id, OB.c.status == PENDING)
    )
    values = {
        "status": status,
        "last_error": error,
        "lease_until": None,
        "in_doubt": False,
        "updated_at": now,
    }
    if status in (FAILED, DEAD):  # listed in the supervisors' delivery-problem digest
        values["failing_since"] = sa.func.coalesce(OB.c.failing_since, now)
    if channel is not None:
        values["channel"] = channel
    return bool(conn.execute(OB.update().where(condition).values(**values)).rowcount)


def advance_by_callback(
    conn: sa.Connection, provider_id: str, status: str, error: str | None, now: datetime
):
    """Move the row Twilio reports on forward (sent → delivered | failed), never back.
    Returns the row as it is now, or None when nothing moved.

    One conditional UPDATE, no read before it: on SQLite a transaction that reads first
    cannot take the write lock if another writer got in between.
    """
    behind = [name for name, rank in RANK.items() if rank < RANK[status]]
    return conn.execute(
        OB.update()
        .where(OB.c.provider_id == provider_id, OB.c.status.in_(behind))
        .values(
            status=status,
            last_error=error,
            updated_at=now,
            failing_since=sa.func.coalesce(OB.c.failing_since, now)
            if status == FAILED
            else OB.c.failing_since,
        )
        .returning(OB.c.id, OB.c.key, OB.c.kind, OB.c.staff_id, OB.c.attempts)
    ).first()
