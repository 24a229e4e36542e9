"""events.csv: case_id,date,event,informant,checkpoint,source,physical,sexual,psychological,economic,coercive

`event` is admitted, programme_start, completed, dropped_out, excluded, transferred,
interview, recidivism or record_check. Optional columns: partner_id (which partner, when a
case has several), reported_on, stalking, new_offence (record checks; default no),
felt_safety, risk_level, mode, conducted_by, nothing_asked (an interview held with nothing
asked: the reason; not part of a row's identity).

An interview row obeys the rules of followup.checks: one dated before its follow-up's
window opens is refused (FILE:ROW), one after it closes completes it as late, and one
with no answer at all completes a follow-up only with a nothing_asked reason.

Every row is checked against what the database already knows *and* the rows before it,
in date order per case (a completion before the admission is refused with its row).
A row identical to one imported before is skipped, so re-importing a file, or a longer
export that contains it, adds only what is new.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date
from operator import itemgetter

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.checks import (
    COMPLETED_UNADMITTED,
    ORDER,
    interview_problem,
    status_problems,
)
from followup.context import Context
from followup.db import executemany
from followup.errors import InvalidRecord
from followup.imports.batch import Batch, rows_where_in
from followup.imports.csvfile import Cells, Choice, Problems, Row
from followup.imports.progress import Progress
from followup.imports.result import ImportResult
from followup.models import (
    INFORMANTS,
    INTERVIEW_MODES,
    REPORT_SOURCES,
    RISK_LEVELS,
    STATUS_EVENTS,
    VIOLENCE_TYPES,
    Event,
    Interview,
    Participant,
    Partner,
)
from followup.record import apply_status
from followup.values import parse_date, parse_yes_no
from followup.wall import interviewer_refusal

REQUIRED = (
    "case_id",
    "date",
    "event",
    "informant",
    "checkpoint",
    "source",
    "physical",
    "sexual",
    "psychological",
    "economic",
    "coercive",
)
OPTIONAL = (
    "partner_id",
    "reported_on",
    "stalking",
    "new_offence",
    "felt_safety",
    "risk_level",
    "mode",
    "conducted_by",
    "nothing_asked",
)
KINDS = (*STATUS_EVENTS, "interview", "recidivism", "record_check")
_KIND = Choice(KINDS, "event")
_SOURCE = Choice(REPORT_SOURCES, "source")
_INFORMANT = Choice(INFORMANTS, "informant")
_RISK_LEVEL = Choice(RISK_LEVELS, "risk level")
_MODE = Choice(INTERVIEW_MODES, "mode")
_YES_NO = {"": None, "yes": True, "no": False}
_OTHER = object()
_VIOLENCE_OR_BLANK = (VIOLENCE_TYPES, ("",) * len(VIOLENCE_TYPES))  # values.get(type, "")
_OTHERS = (_OTHER,) * len(VIOLENCE_TYPES)
_ORDER = {"admitted": 0, "programme_start": 1}  # same-day events apply in programme order
DATES = (
    "enrolled_on",
    "admitted_on",
    "programme_start_on",
    "completed_on",
    "ended_on",
    "end_reason",
)


@dataclass
class Timeline:
    """A participant's dates, changed in memory while the file is checked."""

    id: int
    case_id: str
    site_code: str
    protocol_revision: str
    enrolled_on: date
    admitted_on: date | None
    programme_start_on: date | None
    completed_on: date | None
    ended_on: date | None
    end_reason: str | None
    facilitator_id: int | None = None  # nor may he be recorded as interviewing her
    changed: bool = False


# Timeline's fields read from the participant table, in order: a row makes a Timeline
# positionally (cheaper than by name, once per case).
_TIMELINE_COLUMNS = tuple(f.name for f in fields(Timeline) if f.name != "changed")


@dataclass
class Checked:
    status: list[tuple[Row, dict]] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    interviews: list[tuple[Row, dict]] = field(default_factory=list)
    timelines: dict[int, Timeline] = field(default_factory=dict)
    skipped: int = 0


# A row's identity: every column but the nothing-asked reason (re-importing an older
# export without that column must not add its interviews twice).
_KEY_COLUMNS = (*REQUIRED, *(c for c in OPTIONAL if c != "nothing_asked"))
_KEY_CELLS = itemgetter(*_KEY_COLUMNS)


def import_key(row: Row) -> str:
    """The identity of a row: the same facts give the same key, whatever the spacing or case."""
    # Every known column is in a row's values (an absent one as ""): one C-level pass.
    text = "\x1f".join(_KEY_CELLS(row.values)).lower()
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def check(
    session: Session,
    ctx: Context,
    rows: list[Row],
    problems: Problems,
    progress: Progress,
    batch: Batch,
) -> Checked:
    """Check a part's rows: the database rows read are those of the part's cases only."""
    conn = session.connection()
    p = Participant.__table__
    timelines = {
        r.case_id: Timeline(*r)
        for r in rows_where_in(
            conn,
            sa.select(*(p.c[name] for name in _TIMELINE_COLUMNS)),
            p.c.case_id,
            filter(None, (row.get("case_id") for row in rows)),
        )
    }
    partners_of = defaultdict(list)
    by_partner_id = {}
    t = Partner.__table__
    partner_columns = sa.select(
        t.c.id, t.c.partner_id, t.c.participant_id, t.c.consent_withdrawn_on
    )
    ids = [person.id for person in timelines.values()]
    for r in rows_where_in(conn, partner_columns, t.c.participant_id, ids):
        partners_of[r.participant_id].append(r)
        by_partner_id[r.partner_id] = r
    named = {row.get("partner_id") for row in rows} - set(by_partner_id) - {""}
    for r in rows_where_in(conn, partner_columns, t.c.partner_id, named):
        by_partner_id[r.partner_id] = r  # named against another case: refused below
    staff = {key: r.id for key, r in batch.staff_rows(conn).items()}
    known = _known_keys(conn, ids)
    today = {code: ctx.site_today(code) for code in ctx.config.sites}
    checked = Checked()
    seen_in_file: set[str] = set()  # a repeated row has the same case: in the same part
    for row in rows:
        key = import_key(row)
        if key in known or key in seen_in_file:
            checked.skipped += 1
            continue
        seen_in_file.add(key)
        cells = Cells(row, problems)
        case_id = cells.required("case_id")
        person = timelines.get(case_id) if case_id else None
        if case_id and person is None:
            cells.fail(
                "case_id", f"case {case_id!r} is not enrolled. Hint: import participants first"
            )
        on = cells.required("date", parse_date)
        kind = cells.required("event", _KIND)
        if person is not None and on is not None and on > today[person.site_code]:
            cells.fail(
                "date",
                f"{on} is in the future (today is {today[person.site_code]} at {person.site_code})",
            )
        # The usual cells (yes, no, empty) read in C; anything else through the full rule,
        # in column order.
        violence = dict(
            zip(
                VIOLENCE_TYPES,
                map(_YES_NO.get, map(row.values.get, *_VIOLENCE_OR_BLANK), _OTHERS),
                strict=True,
            )
        )
        if _OTHER in violence.values():
            for kind_, answer in violence.items():
                if answer is _OTHER:
                    violence[kind_] = cells.optional(kind_, parse_yes_no)
        if not cells.ok:
            continue
        if kind in STATUS_EVENTS:
            checked.status.append((row, {"person": person, "kind": kind, "on": on, "key": key}))
        elif kind == "recidivism":
            _check_recidivism(
                cells, person, on, violence, key, partners_of, by_partner_id, ctx, checked
            )
        elif kind == "record_check":
            new_offence = cells.optional("new_offence", parse_yes_no)
            checked.events.append(
                _event(
                    ctx,
                    person,
                    "record_check",
                    on,
                    key,
                    source="police",
                    reported_on=on,
                    new_offence=bool(new_offence),
                )
            )
        else:
            _check_interview(
                cells,
                person,
                on,
                violence,
                key,
                partners_of,
                by_partner_id,
                staff,
                ctx,
                session,
                checked,
            )
    _check_status_order(checked, problems)
    return checked


def _known_keys(conn, participant_ids: list[int]) -> set[str]:
    """The import keys of the rows these participants already have."""
    keys: set[str] = set()
    for model in (Event, Interview):
        table = model.__table__
        query = sa.select(table.c.import_key).where(table.c.import_key.is_not(None))
        keys.update(
            r[0] for r in rows_where_in(conn, query, table.c.participant_id, participant_ids)
        )
    return keys


def _event(ctx: Context, person: Timeline, kind: str, on: date, key: str, **values) -> dict:
    return {
        "participant_id": person.id,
        "partner_id": values.pop("partner_id", None),
        "kind": kind,
        "occurred_on": on,
        "reported_on": values.pop("reported_on", None),
        "source": values.pop("source", None),
        "new_offence": values.pop("new_offence", None),
        **{v: values.get(v) for v in VIOLENCE_TYPES},
        "recorded_by": ctx.actor,
        "notes_sealed": None,
        "import_key": key,
        "recorded_at": None,  # stamped by write()
    }


def _partner(cells: Cells, person: Timeline, partners_of, by_partner_id, required: bool):
    """Which partner a row is about: named in partner_id, or the case's only partner."""
    named = cells.optional("partner_id")
    if named:
        her = by_partner_id.get(named)
        if her is None or her.participant_id != person.id:
            cells.fail("partner_id", f"partner {named!r} is not linked to case {person.case_id}")
            return None
        return her
    if not required:
        return None
    theirs = partners_of.get(person.id, [])
    if len(theirs) == 1:
        return theirs[0]
    if theirs:
        cells.fail(
            "partner_id",
            f"case {person.case_id} has {len(theirs)} partners; name one in a partner_id column",
        )
    else:
        cells.fail(
            "informant",
            f"case {person.case_id} has no partner on record. Hint: import partners first",
        )
    return None


def _check_recidivism(
    cells, person, on, violence, key, partners_of, by_partner_id, ctx, checked
) -> None:
    source = cells.required("source", _SOURCE)
    reported_on = cells.optional("reported_on", parse_date) or on
    if reported_on < on:
        cells.fail("reported_on", f"{reported_on} is before the violence on {on}")
    her = _partner(cells, person, partners_of, by_partner_id, required=False)
    if cells.ok:
        checked.events.append(
            _event(
                ctx,
                person,
                "recidivism",
                on,
                key,
                source=source,
                reported_on=reported_on,
                partner_id=her.id if her else None,
                **violence,
            )
        )


def _check_interview(
    cells, person, on, violence, key, partners_of, by_partner_id, staff, ctx, session, checked
) -> None:
    informant = cells.required("informant", _INFORMANT)
    if informant is None:
        return
    early = interview_problem(on, person.enrolled_on)
    if early:
        cells.fail("date", f"case {person.case_id}: {early}")
    her = _partner(cells, person, partners_of, by_partner_id, required=informant == "partner")
    if informant == "participant":
        her = None
    if her is not None and her.consent_withdrawn_on and on >= her.consent_withdrawn_on:
        cells.fail(
            "date",
            f"partner withdrew consent on {her.consent_withdrawn_on}; no interview after that",
        )
    checkpoint = cells.optional("checkpoint")
    if checkpoint:
        protocol = ctx.protocol_at(session, person.protocol_revision)
        if protocol.checkpoint(checkpoint, informant) is None:
            names = sorted({c.name for c in protocol.checkpoints if c.subject == informant})
            cells.fail(
                "checkpoint",
                f"protocol {protocol.id} has no {informant} checkpoint "
                f"{checkpoint!r}; expected one of {', '.join(names)}",
            )
    felt_safety = cells.optional("felt_safety", _felt_safety)
    risk = cells.optional("risk_level", _RISK_LEVEL)
    mode = cells.optional("mode", _MODE)
    held = cells.optional("nothing_asked")  # "held, nothing asked": the reason
    by = cells.optional("conducted_by")
    if by and by not in staff:
        cells.fail("conducted_by", f"unknown staff id {by!r}")
    elif by and her is not None and staff[by] == person.facilitator_id:
        cells.fail("conducted_by", interviewer_refusal(by, person.case_id))
    if cells.ok:
        checked.interviews.append(
            (
                cells.row,
                {
                    "participant_id": person.id,
                    "partner_id": her.id if her else None,
                    "informant": informant,
                    "checkpoint": checkpoint,
                    "conducted_on": on,
                    "conducted_by": staff.get(by) if by else None,
                    "mode": mode,
                    "felt_safety": felt_safety,
                    "risk_level": risk,
                    "notes_sealed": None,
                    "nothing_asked_sealed": ctx.vault.seal(held) if held else None,
                    "import_key": key,
                    "recorded_at": None,  # stamped by write()
                    **violence,
                },
            )
        )


def _felt_safety(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 5:
        raise ValueError(f"expected 1 (very unsafe) to 5 (very safe), got {text!r}")
    return int(text)


def _check_status_order(checked: Checked, problems: Problems) -> None:
    """Apply status rows per case in date order to the in-memory timelines.

    A completion's need for an admission is checked once the whole file is applied: an
    admission dated after the completion is then refused as out of order, worded as the
    same two dates would be by `followup record status`, whichever came first."""
    ordered = sorted(
        checked.status, key=lambda item: (item[1]["on"], _ORDER.get(item[1]["kind"], 2))
    )
    completions: dict[int, Row] = {}
    for row, item in ordered:
        person: Timeline = item["person"]
        try:
            apply_status(person, item["kind"], item["on"], ignore=(COMPLETED_UNADMITTED,))
        except InvalidRecord as exc:
            column = "date" if getattr(exc, "rule", None) == ORDER else "event"
            problems.add(row.number, column, str(exc))
            continue
        if item["kind"] == "completed":
            completions[person.id] = row
        person.changed = True
        checked.timelines[person.id] = person
        checked.events.append(
            {
                "participant_id": person.id,
                "partner_id": None,
                "kind": item["kind"],
                "occurred_on": item["on"],
                "reported_on": None,
                "source": None,
                "new_offence": None,
                **{v: None for v in VIOLENCE_TYPES},
                "recorded_by": None,
                "notes_sealed": None,
                "import_key": item["key"],
                "recorded_at": None,  # stamped by write()
            }
        )
    for participant_id, row in completions.items():
        person = checked.timelines[participant_id]
        for problem in status_problems(person):
            if problem.rule == COMPLETED_UNADMITTED:
                problems.add(row.number, "event", f"case {person.case_id}: {problem.what}")


def write(
    session: Session, ctx: Context, checked: Checked, result: ImportResult, batch: Batch
) -> None:
    """Write the status dates and events; the interviews wait for the part's plan, which
    matches them to the follow-ups in memory (followup.imports.settle)."""
    conn = session.connection()
    p = Participant.__table__
    now = ctx.now()
    result.unchanged += checked.skipped
    executemany(
        conn,
        p.update().where(p.c.id == sa.bindparam("b_id")),
        [
            {"b_id": t.id, **{d: getattr(t, d) for d in DATES[1:]}}
            for t in checked.timelines.values()
        ],
    )
    for row in checked.events:
        row["recorded_by"] = row["recorded_by"] or ctx.actor
        row["recorded_at"] = now
    for _, item in checked.interviews:
        item["recorded_at"] = now
    executemany(conn, Event.__table__.insert(), checked.events)
    result.created += len(checked.events) + len(checked.interviews)
    batch.events.extend(checked.events)
    batch.interviews.extend(checked.interviews)
    batch.plan.update(checked.timelines)
    batch.plan.update(item["participant_id"] for _, item in checked.interviews)


__all__ = ["REQUIRED", "OPTIONAL", "check", "write"]
