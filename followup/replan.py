"""Run the schedule engine against the database.

Called after every change to a person's dates (enrolment, status events, consent), by
the imports for many people at once, and by `schedule plan/apply` for protocol
changes. It reads columns, not ORM objects, and works in chunks, so re-planning 100,000
imported participants costs a few queries per thousand people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.db import executemany
from followup.models import FollowUp, Participant, Partner
from followup.protocol import Protocol
from followup.schedule import (
    CANCELLED,
    COMPLETED,
    PENDING,
    Changes,
    ParticipantDates,
    PartnerState,
    Stored,
    plan,
    reconcile,
)

CHUNK = 2000

FU = FollowUp.__table__
P = Participant.__table__
PT = Partner.__table__


_STORED_COLUMNS = sa.select(
    FU.c.id,
    FU.c.participant_id,
    FU.c.partner_id,
    FU.c.checkpoint,
    FU.c.occurrence,
    FU.c.due_on,
    FU.c.window_opens_on,
    FU.c.window_closes_on,
    FU.c.status,
    FU.c.provisional,
    FU.c.assigned_staff_id,
    FU.c.completed_on,
)


@dataclass
class PersonPlan:
    participant_id: int
    case_id: str
    protocol_id: str
    revision_before: str
    revision_after: str
    changes: Changes
    partner_ids: dict[int, str]  # database id -> pseudonymous partner id, for display
    site_code: str = ""  # who may see her rows (followup.schedule_change)
    facilitator_id: int | None = None


ProtocolFor = Callable[[str, str], Protocol]  # (protocol_id, revision) -> Protocol


def replan(
    session: Session,
    participant_ids: Iterable[int] | None,
    protocol_for: ProtocolFor,
    *,
    reason: str,
    now: datetime,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Re-plan and write; returns how many people's follow-ups changed."""
    return sum(
        1
        for _ in iter_replan(
            session, participant_ids, protocol_for, reason=reason, now=now, on_chunk=on_chunk
        )
    )


def iter_replan(
    session: Session,
    participant_ids: Iterable[int] | None,
    protocol_for: ProtocolFor,
    *,
    reason: str,
    now: datetime,
    apply: bool = True,
    new_revision: Callable[[str], str | None] | None = None,
    on_chunk: Callable[[int], None] | None = None,
    on_final: Callable[[int, list[Stored]], None] | None = None,
    complete: Callable[[int, list[Stored]], None] | None = None,
    complete_for: set[int] | None = None,
) -> Iterator[PersonPlan]:
    """Plan and reconcile each participant; write the changes unless apply=False.

    `protocol_for` picks the protocol: the enrolment's own revision for day-to-day
    events, the current file for `schedule plan/apply` (with `new_revision` saying what
    revision each enrolment moves to). Yields one PersonPlan per participant with any
    change, so callers can show or count them. `on_final(participant_id, follow_ups)`
    receives each person's follow-ups as they stand after the writes, so a caller that
    needs them (the events import matching interviews) does not read them again.

    `complete(participant_id, follow_ups)` (imports) sees each person's follow-ups as
    they will stand — new ones included, with id None until written — before anything is
    written, and may mark some completed (status and completed_on): each follow-up is
    then written once, with its final dates and status, and the new ones get their ids
    once the chunk is written. `complete_for` limits it to those people (the others'
    follow-ups are written as planned).
    """
    conn = session.connection()
    for chunk in _chunks(participant_ids, conn):
        people = conn.execute(
            sa.select(
                P.c.id,
                P.c.case_id,
                P.c.site_code,
                P.c.protocol_id,
                P.c.protocol_revision,
                P.c.enrolled_on,
                P.c.admitted_on,
                P.c.programme_start_on,
                P.c.completed_on,
                P.c.ended_on,
                P.c.end_reason,
                P.c.facilitator_id,
            ).where(P.c.id.in_(chunk))
        ).all()
        partners = defaultdict(list)
        for row in conn.execute(
            sa.select(
                PT.c.id,
                PT.c.partner_id,
                PT.c.participant_id,
                PT.c.consent_on,
                PT.c.consent_withdrawn_on,
                PT.c.do_not_contact,
                PT.c.support_worker_id,
            ).where(PT.c.participant_id.in_(chunk))
        ):
            partners[row.participant_id].append(row)
        stored = defaultdict(list)
        for row in conn.execute(_STORED_COLUMNS.where(FU.c.participant_id.in_(chunk))):
            stored[row.participant_id].append(row)

        writes = _Writes(now)
        new_rows: dict[int, list[Stored]] = {}  # complete(): rows whose ids come on insert
        finals: dict[int, list[Stored]] = {}
        added: list[int] = []  # people whose new rows' ids are only known after the insert
        for person in people:
            protocol = protocol_for(person.protocol_id, person.protocol_revision)
            dates = ParticipantDates(
                person.enrolled_on,
                person.admitted_on,
                person.programme_start_on,
                person.completed_on,
                person.ended_on,
            )
            her = partners[person.id]
            states = [
                PartnerState(p.id, p.consent_on, p.consent_withdrawn_on, bool(p.do_not_contact))
                for p in her
            ]
            rows = stored[person.id]
            current = [_stored(r) for r in rows]
            changes = reconcile(current, plan(protocol, dates, states))
            workers = {None: person.facilitator_id} | {
                # A pair recorded before the wall was checked by person: her follow-ups go
                # unassigned (to the supervisors) rather than to the man's facilitator.
                p.id: None if p.support_worker_id == person.facilitator_id else p.support_worker_id
                for p in her
            }
            revision_after = (
                new_revision(person.protocol_id) if new_revision else None
            ) or person.protocol_revision
            if apply:
                planned = None
                if complete is not None and (complete_for is None or person.id in complete_for):
                    before = {r.id: r.status for r in rows}
                    planned = [_planned(item) for item in changes.add]
                    complete(person.id, [*_after(current, changes), *planned])
                    writes.complete(current, before, changes)
                    if planned:
                        new_rows[person.id] = planned
                # Why a follow-up is cancelled is worded only for people with a cancel.
                reasons = _cancel_reasons(her, dates, reason) if changes.cancel else {}
                writes.collect(person.id, changes, workers, reasons, planned)
                writes.reassign(rows, workers)
                if revision_after != person.protocol_revision:
                    writes.revisions.append({"b_id": person.id, "b_revision": revision_after})
            if changes or revision_after != person.protocol_revision:
                yield PersonPlan(
                    person.id,
                    person.case_id,
                    person.protocol_id,
                    person.protocol_revision,
                    revision_after,
                    changes,
                    {p.id: p.partner_id for p in her},
                    person.site_code,
                    person.facilitator_id,
                )
            if on_final is not None:  # after the yield: _after changes the rows in place
                finals[person.id] = _after(current, changes)
                if changes.add:
                    added.append(person.id)
        if apply:
            writes.flush(conn)
        if new_rows and not writes.numbered:
            _fill_ids(conn, new_rows)
        if on_final is not None:
            _report_final(conn, finals, added, on_final)
        if on_chunk is not None:
            on_chunk(len(chunk))


def _after(current: list[Stored], changes: Changes) -> list[Stored]:
    """A person's stored follow-ups with the changes applied, in place (new rows not included)."""
    for row, item in [*changes.move, *changes.reinstate, *changes.settle]:
        row.due_on, row.window_opens_on = item.due_on, item.window_opens_on
        row.window_closes_on, row.provisional, row.status = (
            item.window_closes_on,
            item.provisional,
            PENDING,
        )
    for row in changes.cancel:
        row.status = CANCELLED
    return current


def _planned(item) -> Stored:
    return Stored(
        None,
        item.partner_key,
        item.checkpoint,
        item.occurrence,
        item.due_on,
        item.window_opens_on,
        item.window_closes_on,
        PENDING,
        item.provisional,
        None,
    )


def _number_inserted(conn, inserts: list[dict], targets: list[Stored | None]) -> bool:
    """On SQLite, the ids one executemany just gave, without reading the rows back.

    SQLite has one writer at a time, and this transaction holds the write lock from
    its first insert to its commit, so the rows got consecutive rowids ending at
    last_insert_rowid(). Both ends are checked; anything unexpected returns False and
    the caller reads the ids back instead (as on PostgreSQL)."""
    if conn.dialect.name != "sqlite":
        return False
    last = conn.exec_driver_sql("SELECT last_insert_rowid()").scalar()
    first = last - len(inserts) + 1
    ends = {
        row.id: (row.participant_id, row.partner_id, row.checkpoint, row.occurrence)
        for row in conn.execute(
            sa.select(
                FU.c.id, FU.c.participant_id, FU.c.partner_id, FU.c.checkpoint, FU.c.occurrence
            ).where(FU.c.id.in_([first, last]))
        )
    }
    for at, row_id in ((0, first), (len(inserts) - 1, last)):
        wanted = inserts[at]
        key = (wanted["participant_id"], wanted["partner_id"], wanted["checkpoint"])
        if ends.get(row_id) != (*key, wanted["occurrence"]):
            return False
    for offset, target in enumerate(targets):
        if target is not None:
            target.id = first + offset
    return True


def _fill_ids(conn, new_rows: dict[int, list[Stored]]) -> None:
    """The ids of the follow-ups just inserted, onto the objects complete() saw."""
    wanted = {(pid, s.slot): s for pid, rows in new_rows.items() for s in rows}
    query = sa.select(
        FU.c.id, FU.c.participant_id, FU.c.partner_id, FU.c.checkpoint, FU.c.occurrence
    )
    for row in conn.execute(query.where(FU.c.participant_id.in_(list(new_rows)))):
        found = wanted.get((row.participant_id, (row.partner_id, row.checkpoint, row.occurrence)))
        if found is not None:
            found.id = row.id


def _report_final(conn, finals: dict[int, list[Stored]], added: list[int], on_final) -> None:
    if added:
        fresh = defaultdict(list)
        for row in conn.execute(_STORED_COLUMNS.where(FU.c.participant_id.in_(added))):
            fresh[row.participant_id].append(_stored(row))
        finals.update(fresh)
    for participant_id, follow_ups in finals.items():
        on_final(participant_id, follow_ups)


def _chunks(participant_ids: Iterable[int] | None, conn) -> Iterator[list[int]]:
    if participant_ids is None:
        participant_ids = conn.execute(sa.select(P.c.id).order_by(P.c.id)).scalars().all()
    ids = list(participant_ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _stored(row) -> Stored:
    # Positional, in _STORED_COLUMNS order: this runs once per follow-up re-planned.
    fid, _, partner, checkpoint, occurrence, due, opens, closes, status, provisional, _, done = row
    return Stored(
        fid, partner, checkpoint, occurrence, due, opens, closes, status, bool(provisional), done
    )


def _cancel_reasons(partners: Sequence, dates: ParticipantDates, default: str) -> dict:
    """Why a pending follow-up is cancelled, per subject, in the words staff will read."""
    reasons: dict[int | None, str] = {
        None: "participant left the programme" if dates.left_early else default
    }
    for p in partners:
        if p.do_not_contact:
            reasons[p.id] = "do-not-contact flag"
        elif p.consent_withdrawn_on is not None:
            reasons[p.id] = "consent withdrawn"
        else:
            reasons[p.id] = "participant left the programme" if dates.left_early else default
    return reasons


class _Writes:
    """Changes for one chunk, written with one executemany per kind of statement."""

    def __init__(self, now: datetime) -> None:
        self.inserts: list[dict] = []
        self.moves: list[dict] = []
        self.cancels: list[dict] = []
        self.assignments: list[dict] = []
        self.revisions: list[dict] = []
        self.completions: list[dict] = []
        self.inserted: list[Stored | None] = []  # complete()'s objects, in insert order
        self.numbered = False  # their ids are known from the insert itself
        self.now = now  # the stamp of every row this chunk writes

    def collect(
        self,
        participant_id: int,
        changes: Changes,
        workers: dict,
        reasons: dict,
        planned: list[Stored] | None = None,
    ) -> None:
        for n, item in enumerate(changes.add):
            final = planned[n] if planned else None
            self.inserted.append(final)
            self.inserts.append(
                {
                    "participant_id": participant_id,
                    "partner_id": item.partner_key,
                    "checkpoint": item.checkpoint,
                    "occurrence": item.occurrence,
                    "due_on": item.due_on,
                    "window_opens_on": item.window_opens_on,
                    "window_closes_on": item.window_closes_on,
                    "provisional": item.provisional,
                    "assigned_staff_id": workers.get(item.partner_key),
                    "status": final.status if final else PENDING,
                    "completed_on": final.completed_on if final else None,
                    "cancelled_reason": None,
                    "updated_at": self.now,
                }
            )
        for row, item in [*changes.move, *changes.reinstate, *changes.settle]:
            if row.status == COMPLETED:  # moved, and completed by complete(): one write
                self.completions.append(
                    {
                        "b_id": row.id,
                        "b_due": item.due_on,
                        "b_opens": item.window_opens_on,
                        "b_closes": item.window_closes_on,
                        "b_provisional": item.provisional,
                        "b_on": row.completed_on,
                    }
                )
                continue
            self.moves.append(
                {
                    "b_id": row.id,
                    "b_due": item.due_on,
                    "b_opens": item.window_opens_on,
                    "b_closes": item.window_closes_on,
                    "b_provisional": item.provisional,
                }
            )
        for row in changes.cancel:
            self.cancels.append({"b_id": row.id, "b_reason": reasons.get(row.partner_key)})

    def complete(self, current: list[Stored], before: dict, changes: Changes) -> None:
        """Follow-ups complete() marked completed that no move writes already."""
        moved = {row.id for row, _ in [*changes.move, *changes.reinstate, *changes.settle]}
        for row in current:
            if row.status == COMPLETED and before[row.id] != COMPLETED and row.id not in moved:
                self.completions.append(
                    {
                        "b_id": row.id,
                        "b_due": row.due_on,
                        "b_opens": row.window_opens_on,
                        "b_closes": row.window_closes_on,
                        "b_provisional": row.provisional,
                        "b_on": row.completed_on,
                    }
                )

    def reassign(self, rows: Sequence, workers: dict) -> None:
        for row in rows:
            worker = workers.get(row.partner_id)
            if row.status in (PENDING, CANCELLED) and row.assigned_staff_id != worker:
                self.assignments.append({"b_id": row.id, "b_staff": worker})

    def flush(self, conn) -> None:
        b = sa.bindparam
        if self.inserts:
            executemany(conn, FU.insert(), self.inserts)
            if any(self.inserted):
                self.numbered = _number_inserted(conn, self.inserts, self.inserted)
        if self.moves:
            # The status guard makes a completed follow-up untouchable even if it was
            # completed by someone else between our read and this write.
            executemany(
                conn,
                FU.update()
                .where(
                    FU.c.id == b("b_id"), sa.or_(FU.c.status == PENDING, FU.c.status == CANCELLED)
                )
                .values(
                    due_on=b("b_due"),
                    window_opens_on=b("b_opens"),
                    window_closes_on=b("b_closes"),
                    provisional=b("b_provisional"),
                    status=PENDING,
                    cancelled_reason=None,
                    updated_at=self.now,
                ),
                self.moves,
            )
        if self.completions:
            executemany(
                conn,
                FU.update()
                .where(
                    FU.c.id == b("b_id"), sa.or_(FU.c.status == PENDING, FU.c.status == CANCELLED)
                )
                .values(
                    due_on=b("b_due"),
                    window_opens_on=b("b_opens"),
                    window_closes_on=b("b_closes"),
                    provisional=b("b_provisional"),
                    status=COMPLETED,
                    completed_on=b("b_on"),
                    cancelled_reason=None,
                    updated_at=self.now,
                ),
                self.completions,
            )
        if self.cancels:
            executemany(
                conn,
                FU.update()
                .where(FU.c.id == b("b_id"), FU.c.status == PENDING)
                .values(status=CANCELLED, cancelled_reason=b("b_reason"), updated_at=self.now),
                self.cancels,
            )
        if self.assignments:
            executemany(
                conn,
                FU.update()
                .where(FU.c.id == b("b_id"))
                .values(assigned_staff_id=b("b_staff"), updated_at=self.now),
                self.assignments,
            )
        if self.revisions:
            executemany(
                conn,
                P.update().where(P.c.id == b("b_id")).values(protocol_revision=b("b_revision")),
                self.revisions,
            )
