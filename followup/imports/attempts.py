"""attempts.csv: case_id,partner_id,checkpoint,attempted_at,channel,outcome,conducted_by

One contact attempt a row. `partner_id` empty: the participant's follow-up; otherwise
that partner's. `attempted_at` is an ISO instant with its offset (2026-11-30T10:05+01:00,
or ...Z), or a local YYYY-MM-DDTHH:MM read in the case's site zone. `channel` is one of
followup.safe_contact.PLAN_CHANNELS, `outcome` one of followup.vocab.ATTEMPT_OUTCOMES,
`conducted_by` a staff id (may be empty). Optional columns: `note` (sealed) and
`override_reason` (sealed; needed for an attempt on her follow-up outside her
safe-contact plan, which is otherwise refused, as on every other path).

The rules are those of `followup record attempt` (followup.attempt_rules, followup.lost):
only a pending follow-up whose window has opened takes attempts, none in the future.
The attempts of one follow-up apply in `attempted_at` order, whatever the file's order,
so the third unreached one makes it unreachable and a row after that is refused.
A row identical to one imported before (same case, partner, checkpoint, instant,
channel, outcome and worker) is skipped, so re-importing a file adds nothing twice.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup import her_plan
from followup.attempt_rules import (
    Counters,
    after_attempt,
    future_problem,
    local_time,
    parse_attempted_at,
    plan_problem,
    status_problem,
    to_utc,
    window_problem,
)
from followup.audit import audit
from followup.context import Context
from followup.db import executemany
from followup.dispatch.outbox import cancel_stale
from followup.errors import InvalidRecord
from followup.imports.batch import Batch, rows_where_in
from followup.imports.csvfile import Cells, Problems, Row
from followup.imports.progress import Progress
from followup.imports.result import ImportResult
from followup.models import ContactAttempt, FollowUp, Participant, Partner
from followup.record import pick_followup
from followup.safe_contact import PLAN_CHANNELS
from followup.schedule import PENDING
from followup.values import parse_choice
from followup.vocab import ATTEMPT_OUTCOMES
from followup.wall import interviewer_refusal

REQUIRED = (
    "case_id",
    "partner_id",
    "checkpoint",
    "attempted_at",
    "channel",
    "outcome",
    "conducted_by",
)
OPTIONAL = ("note", "override_reason")
_PARTNER_COLUMNS = (
    "id",
    "partner_id",
    "participant_id",
    "plan_sealed",
    "channel",
    "contact_sealed",
)
_FOLLOWUP_COLUMNS = (
    "id",
    "participant_id",
    "partner_id",
    "checkpoint",
    "status",
    "due_on",
    "window_opens_on",
    "window_closes_on",
    "attempts",
    "unreached_attempts",
    "last_attempt_at",
    "last_attempt_outcome",
)


def import_key(row: Row, attempted_at: datetime) -> str:
    """A row's identity: its required columns, the instant in UTC (the same attempt
    written with another offset is the same attempt), case and spacing ignored."""
    parts = [row.values[c] for c in REQUIRED]
    parts[REQUIRED.index("attempted_at")] = attempted_at.isoformat()
    text = "\x1f".join(parts).lower()
    return hashlib.blake2b(b"attempt\x1f" + text.encode(), digest_size=16).hexdigest()


@dataclass
class Checked:
    attempts: list[dict] = field(default_factory=list)
    followups: dict[int, Counters] = field(default_factory=dict)  # changed, by id
    people_ended: set[int] = field(default_factory=set)  # a follow-up of theirs ended
    overrides: list[dict] = field(default_factory=list)  # audit lines
    skipped: int = 0


def check(
    session: Session,
    ctx: Context,
    rows: list[Row],
    problems: Problems,
    progress: Progress,
    batch: Batch,
) -> Checked:
    """Check a part's rows against the database (its cases' follow-ups as they stand
    after the part's plan) and against each other, per follow-up in time order."""
    conn = session.connection()
    p = Participant.__table__
    people = {
        r.case_id: r
        for r in rows_where_in(
            conn,
            sa.select(
                p.c.id, p.c.case_id, p.c.site_code, p.c.protocol_revision, p.c.facilitator_id
            ),
            p.c.case_id,
            filter(None, (row.get("case_id") for row in rows)),
        )
    }
    t = Partner.__table__
    partners = {
        r.partner_id: r
        for r in rows_where_in(
            conn,
            sa.select(*(t.c[name] for name in _PARTNER_COLUMNS)),
            t.c.partner_id,
            filter(None, (row.get("partner_id") for row in rows)),
        )
    }
    f = FollowUp.__table__
    ids = [person.id for person in people.values()]
    followups = defaultdict(list)
    for r in rows_where_in(
        conn, sa.select(*(f.c[c] for c in _FOLLOWUP_COLUMNS)), f.c.participant_id, ids
    ):
        followups[(r.participant_id, r.partner_id)].append(r)
    a = ContactAttempt.__table__
    known = {
        r[0]
        for r in rows_where_in(
            conn,
            sa.select(a.c.import_key).where(a.c.import_key.is_not(None)),
            a.c.participant_id,
            ids,
        )
    }
    staff = batch.staff_rows(conn)
    now = ctx.now()
    plans: dict[int, object] = {}
    waiting: dict[int, list[tuple[Cells, dict]]] = defaultdict(list)
    seen: set[str] = set()
    skipped = 0
    for row in rows:
        cells = Cells(row, problems)
        case_id = cells.required("case_id")
        person = people.get(case_id) if case_id else None
        if case_id and person is None:
            cells.fail(
                "case_id", f"case {case_id!r} is not enrolled. Hint: import participants first"
            )
        partner_id = cells.optional("partner_id")
        her = partners.get(partner_id) if partner_id else None
        if person is not None and partner_id and (her is None or her.participant_id != person.id):
            cells.fail("partner_id", f"partner {partner_id!r} is not linked to case {case_id}")
        checkpoint = cells.required("checkpoint")
        given = cells.required("attempted_at", parse_attempted_at)
        channel = cells.required("channel", lambda v: parse_choice(v, PLAN_CHANNELS, "channel"))
        outcome = cells.required("outcome", lambda v: parse_choice(v, ATTEMPT_OUTCOMES, "outcome"))
        by = cells.optional("conducted_by")
        worker = staff.get(by) if by else None
        if by and worker is None:
            cells.fail("conducted_by", f"unknown staff id {by!r}")
        if not cells.ok or person is None:
            continue
        zone = ctx.config.sites[person.site_code].zone
        at = to_utc(given, zone)
        key = import_key(row, at)
        if key in known or key in seen:
            skipped += 1
            continue
        seen.add(key)
        problem = future_problem(at, now)
        if problem:
            cells.fail("attempted_at", problem)
        if worker is not None:
            _check_worker(cells, worker, person, her, by)
        mine = followups.get((person.id, her.id if her else None), [])
        local = local_time(at, zone)
        target = _followup(cells, mine, checkpoint, local, her is not None)
        if target is None or not cells.ok:
            continue
        if her is not None:
            if her.id not in plans:
                plans[her.id] = her_plan.plan_of(ctx.vault, her)
            plan = plans[her.id]
            broken = plan_problem(plan, channel, local, show_plan=False)
            if broken and not cells.optional("override_reason"):
                column = "channel" if not plan.allows_channel(channel) else "attempted_at"
                cells.fail(column, broken.replace("give a reason", "give an override_reason"))
                continue
        else:
            broken = None
        note, reason = cells.optional("note"), cells.optional("override_reason")
        waiting[target.id].append(
            (
                cells,
                {
                    "followup_id": target.id,
                    "participant_id": person.id,
                    "partner_id": her.id if her else None,
                    "attempted_at": at,
                    "channel": channel,
                    "outcome": outcome,
                    "conducted_by": worker.id if worker is not None else None,
                    "note_sealed": ctx.vault.seal(note) if note else None,
                    "override_sealed": ctx.vault.seal(reason) if broken else None,
                    "import_key": key,
                    "recorded_at": None,  # stamped by write()
                    "_lost_after": ctx.protocol_at(session, person.protocol_revision).lost_after(
                        target.checkpoint, "partner" if her is not None else "participant"
                    ),
                    "_target": target,
                },
            )
        )
    checked = Checked(skipped=skipped)
    _apply_in_time_order(waiting, checked)
    return checked


def _check_worker(cells: Cells, worker, person, her, by: str) -> None:
    role = "partner_support" if her is not None else "facilitator"
    roles = set(filter(None, worker.roles.split(";")))
    if role not in roles:
        cells.fail("conducted_by", f"staff member {by!r} does not have the {role} role")
    elif worker.site_code != person.site_code:
        cells.fail(
            "conducted_by",
            f"staff member {by!r} works at {worker.site_code}, not {person.site_code}",
        )
    elif her is not None and worker.id == person.facilitator_id:
        cells.fail("conducted_by", interviewer_refusal(by, person.case_id))


def _followup(cells: Cells, mine: list, checkpoint: str, local: datetime, hers: bool):
    """The follow-up a row names: the pending one of the checkpoint picked as `record
    attempt` picks it; problems say why there is none."""
    who = "the partner's" if hers else "the participant's"
    named = [f for f in mine if f.checkpoint == checkpoint]
    if not named:
        cells.fail("checkpoint", f"{who} follow-ups have no checkpoint {checkpoint!r}")
        return None
    pending = [f for f in named if f.status == PENDING]
    if not pending:
        cells.fail("checkpoint", status_problem(named[0].status, checkpoint))
        return None
    try:
        found = pick_followup(pending, local.date(), checkpoint)
    except InvalidRecord:
        found = None
    found = found or min(pending, key=lambda f: f.window_opens_on)
    problem = window_problem(local.date(), checkpoint, found.window_opens_on)
    if problem:
        cells.fail("attempted_at", problem)
        return None
    return found


def _apply_in_time_order(waiting: dict[int, list[tuple[Cells, dict]]], checked: Checked) -> None:
    """Each follow-up's attempts in time order through followup.attempt_rules: a row
    after the one that ended the follow-up is refused."""
    for followup_id, items in waiting.items():
        items.sort(key=lambda pair: pair[1]["attempted_at"])
        target = items[0][1]["_target"]
        counters = Counters(
            target.status,
            target.attempts or 0,
            target.unreached_attempts or 0,
            target.last_attempt_at,
            target.last_attempt_outcome,
        )
        ended_by = None
        for cells, item in items:
            if counters.status != PENDING:
                cells.fail(
                    "outcome",
                    f"{status_problem(counters.status, target.checkpoint)} "
                    f"(it became {counters.status} at row {ended_by})",
                )
                continue
            counters = after_attempt(
                counters, item["outcome"], item["attempted_at"], item.pop("_lost_after")
            )
            item.pop("_target")
            if counters.status != PENDING:
                ended_by = cells.row.number
                checked.people_ended.add(item["participant_id"])
            if item["override_sealed"] is not None:
                checked.overrides.append(
                    {
                        "followup": followup_id,
                        "checkpoint": target.checkpoint,
                        "outcome": item["outcome"],
                        "channel": item["channel"],
                    }
                )
            checked.attempts.append(item)
        checked.followups[followup_id] = counters


def write(
    session: Session, ctx: Context, checked: Checked, result: ImportResult, batch: Batch
) -> None:
    conn = session.connection()
    now = ctx.now()
    for item in checked.attempts:
        item["recorded_at"] = now
    executemany(conn, ContactAttempt.__table__.insert(), checked.attempts)
    f = FollowUp.__table__
    executemany(
        conn,
        f.update().where(f.c.id == sa.bindparam("b_id")),
        [
            {
                "b_id": followup_id,
                "status": c.status,
                "attempts": c.attempts,
                "unreached_attempts": c.unreached_attempts,
                "last_attempt_at": c.last_attempt_at,
                "last_attempt_outcome": c.last_attempt_outcome,
                "updated_at": now,
            }
            for followup_id, c in checked.followups.items()
        ],
    )
    for participant_id in sorted(checked.people_ended):
        cancel_stale(session, participant_id, now=now)
    for line in checked.overrides:
        followup_id = line.pop("followup")
        audit(session, ctx.actor, "record_attempt", "followup", followup_id, override=True, **line)
    result.created += len(checked.attempts)
    result.unchanged += checked.skipped


__all__ = ["OPTIONAL", "REQUIRED", "check", "write"]
