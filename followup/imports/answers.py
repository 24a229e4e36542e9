"""answers.csv: case_id,partner_id,date,informant,checkpoint,instrument,item,value

Instrument answers in long form, one row per item. Rows with the same case_id,
partner_id, date, informant and checkpoint are one interview; its instrument must be
the one the person's protocol revision asks at that checkpoint of that informant
(`protocol.instrument_for`), at the revision in force. `value` is an option or band
code, a number, a date (YYYY-MM-DD), the words of a text item (sealed when stored), or
a missing code (dont_know, refused, not_asked, not_applicable). An item of the
instrument with no row is not asked (a required one is refused); an item hidden by its
`show_if` is stored as not_applicable.

Each interview is checked by the rules of followup.scoring, as the web form and
`record interview --answers` are, and matched to its follow-up as the events import
matches interviews (followup.imports.settle): it completes it, late when after its
window, and is refused before the window opens. A problem is reported at the row of its
item (a required item with no row at the interview's first row).

Partner interviews: a partner's answers only ever name a partner of the case, and no
problem reported about them repeats what she said (ids and the rule only).

Re-importing the same file adds nothing: an interview is known by its identity (the five
grouping columns). The same interview with other answers is refused: an import never
changes what was recorded; correct the interview instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup import answer_store, instrument_store
from followup.answers import interview_columns
from followup.checks import interview_problem, nothing_asked_problem
from followup.context import Context
from followup.db import executemany
from followup.imports.batch import Batch, rows_where_in
from followup.imports.csvfile import Cells, Problems, Row
from followup.imports.progress import Progress
from followup.imports.result import ImportResult
from followup.instruments import MISSING_CODES, Instrument
from followup.models import (
    INFORMANTS,
    InstrumentAnswer,
    Interview,
    InterviewScore,
    Participant,
    Partner,
)
from followup.scoring import ScoreResult, check_answers, parse_answer, scores
from followup.values import parse_choice, parse_date

REQUIRED = (
    "case_id",
    "partner_id",
    "date",
    "informant",
    "checkpoint",
    "instrument",
    "item",
    "value",
)
OPTIONAL: tuple[str, ...] = ()
IDENTITY = ("case_id", "partner_id", "date", "informant", "checkpoint")


@dataclass
class Answered:
    """One checked interview, waiting for its id (after the part's plan and match)."""

    row: Row  # its first row: where problems of the whole interview are reported
    interview: dict[str, Any]  # the Interview row to insert
    instrument: Instrument
    answers: dict[str, str]
    results: list[ScoreResult]
    alert_band: bool  # a score fell in its alert_at band


@dataclass
class Checked:
    interviews: list[Answered] = field(default_factory=list)
    rows: int = 0  # rows of the new interviews
    skipped: int = 0  # rows of interviews imported before with the same answers


@dataclass
class _Group:
    rows: list[Row] = field(default_factory=list)
    case_id: str = ""
    partner_id: str = ""
    on: date | None = None
    informant: str = ""
    checkpoint: str = ""
    broken: bool = False  # a row of it was refused
    first: Row | None = None  # where problems of the whole interview are reported


def import_key(case_id: str, partner_id: str, on: date, informant: str, checkpoint: str) -> str:
    """An interview's identity in an answers file (distinct from any events row's key)."""
    text = "\x1f".join(("answers", case_id, partner_id, on.isoformat(), informant, checkpoint))
    return hashlib.blake2b(text.lower().encode(), digest_size=16).hexdigest()


def check(
    session: Session,
    ctx: Context,
    rows: list[Row],
    problems: Problems,
    progress: Progress,
    batch: Batch,
) -> Checked:
    """Check a part's rows: the database rows read are those of the part's cases only."""
    groups = _groups(rows, problems)
    conn = session.connection()
    p = Participant.__table__
    people = {
        r.case_id: r
        for r in rows_where_in(
            conn,
            sa.select(p.c.id, p.c.case_id, p.c.site_code, p.c.protocol_revision, p.c.enrolled_on),
            p.c.case_id,
            {g.case_id for g in groups.values()},
        )
    }
    t = Partner.__table__
    partners = {
        r.partner_id: r
        for r in rows_where_in(
            conn,
            sa.select(t.c.id, t.c.partner_id, t.c.participant_id, t.c.consent_withdrawn_on),
            t.c.partner_id,
            {g.partner_id for g in groups.values()} - {""},
        )
    }
    known = _known(conn, list(groups))
    stored = _stored_answers(conn, [interview_id for interview_id, _ in known.values()])
    today = {code: ctx.site_today(code) for code in ctx.config.sites}
    in_force: dict[str, Instrument] = {}
    checked = Checked()
    for key, group in groups.items():
        _check_group(
            session,
            ctx,
            key,
            group,
            people,
            partners,
            (known, stored),
            today,
            in_force,
            problems,
            checked,
        )
    return checked


def _groups(rows: list[Row], problems: Problems) -> dict[str, _Group]:
    """The rows by interview, in file order; a row whose identity cells are bad is
    reported and left out."""
    groups: dict[str, _Group] = {}
    for row in rows:
        cells = Cells(row, problems)
        case_id = cells.required("case_id")
        partner_id = cells.optional("partner_id") or ""
        on = cells.required("date", parse_date)
        informant = cells.required("informant", lambda v: parse_choice(v, INFORMANTS, "informant"))
        checkpoint = cells.required("checkpoint")
        if not cells.ok:
            continue
        assert case_id and on and informant and checkpoint
        cells.required("instrument")
        cells.required("item")
        if not row.get("value"):
            cells.fail(
                "value",
                "required, but empty. Hint: write a missing code (dont_know, refused, "
                "not_asked, not_applicable) for an item without an answer",
            )
        key = import_key(case_id, partner_id, on, informant, checkpoint)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(
                case_id=case_id,
                partner_id=partner_id,
                on=on,
                informant=informant,
                checkpoint=checkpoint,
                first=row,
            )
        if cells.ok:
            group.rows.append(row)
        else:
            # Its interview is still checked (case, date, checkpoint), not its answers:
            # they would only report the missing row again ("hit has no row").
            group.broken = True
    return groups


def _known(conn, keys: list[str]) -> dict[str, tuple[int, str | None]]:
    """Interviews imported before: import key -> (interview id, instrument revision)."""
    i = Interview.__table__
    query = sa.select(i.c.import_key, i.c.id, i.c.instrument_revision)
    return {
        r.import_key: (r.id, r.instrument_revision)
        for r in rows_where_in(conn, query, i.c.import_key, keys)
    }


def _stored_answers(conn, interview_ids: list[int]) -> dict[int, dict[str, tuple]]:
    """The answers of interviews imported before: id -> item -> (value, sealed)."""
    a = InstrumentAnswer.__table__
    query = sa.select(a.c.interview_id, a.c.item, a.c.value, a.c.value_sealed)
    found: dict[int, dict[str, tuple]] = {}
    for r in rows_where_in(conn, query, a.c.interview_id, interview_ids):
        found.setdefault(r.interview_id, {})[r.item] = (r.value, r.value_sealed)
    return found


def _check_group(
    session, ctx, key, group: _Group, people, partners, before, today, in_force, problems, checked
) -> None:
    known, answered_before = before
    assert group.first is not None
    first = Cells(group.first, problems)
    person = people.get(group.case_id)
    if person is None:
        first.fail(
            "case_id", f"case {group.case_id!r} is not enrolled. Hint: import participants first"
        )
        return
    on = group.on
    assert on is not None
    if on > today[person.site_code]:
        first.fail(
            "date",
            f"{on} is in the future (today is {today[person.site_code]} at {person.site_code})",
        )
    early = interview_problem(on, person.enrolled_on)
    if early:
        first.fail("date", f"case {person.case_id}: {early}")
    her = _partner(first, group, person, partners)
    protocol = ctx.protocol_at(session, person.protocol_revision)
    if protocol.checkpoint(group.checkpoint, group.informant) is None:
        names = sorted({c.name for c in protocol.checkpoints if c.subject == group.informant})
        first.fail(
            "checkpoint",
            f"protocol {protocol.id} has no {group.informant} checkpoint "
            f"{group.checkpoint!r}; expected one of {', '.join(names)}",
        )
        return
    expected = protocol.instrument_for(group.checkpoint, group.informant)
    named_wrong: set[str] = set()
    for row in group.rows:
        named = row.get("instrument")
        if named.lower() != expected and named not in named_wrong:
            named_wrong.add(named)
            Cells(row, problems).fail(
                "instrument",
                f"checkpoint {group.checkpoint} asks {expected} of the {group.informant}, "
                f"not {named}. Hint: write {expected} on this interview's rows",
            )
    if named_wrong or not first.ok or group.broken:
        return
    if expected not in in_force:
        try:
            in_force[expected] = instrument_store.applied(
                session, ctx.instruments, expected, ctx.now()
            )
        except KeyError:  # an older protocol revision's instrument, never applied, file gone
            first.fail(
                "instrument",
                f"instrument {expected} has no file in the instruments folder. Hint: restore "
                f"{expected}.toml",
            )
            return
    instrument = in_force[expected]
    stored = known.get(key)
    if stored is not None and stored[1] is not None:
        instrument = instrument_store.at_revision(session, stored[1])
    answers = _answers(instrument, group, problems)
    if answers is None:
        return
    if stored is not None:
        _compare(
            ctx, stored[0], answered_before.get(stored[0], {}), group, answers, problems, checked
        )
        return
    checked.rows += len(group.rows)
    columns = interview_columns(instrument, answers)
    results = scores(instrument, answers)
    alert_band = any(
        r.band is not None and r.band == definition.alert_at
        for r, definition in zip(results, instrument.scores, strict=True)
    )
    checked.interviews.append(
        Answered(
            row=group.rows[0],
            interview={
                "participant_id": person.id,
                "partner_id": her.id if her is not None else None,
                "informant": group.informant,
                "checkpoint": group.checkpoint,
                "conducted_on": on,
                "conducted_by": None,
                "mode": None,
                **columns,
                "notes_sealed": None,
                "nothing_asked_sealed": None,
                "instrument": instrument.id,
                "instrument_revision": instrument.revision,
                "import_key": key,
                "recorded_at": None,  # stamped by write()
            },
            instrument=instrument,
            answers=answers,
            results=results,
            alert_band=alert_band,
        )
    )


def _partner(cells: Cells, group: _Group, person, partners):
    """Her record for a partner interview; None for his. A partner's answers name one of
    his partners; his own name none."""
    if group.informant == "participant":
        if group.partner_id:
            cells.fail(
                "partner_id",
                "a participant's own interview names no partner. Hint: leave partner_id empty, "
                "or write informant partner for her interview",
            )
        return None
    if not group.partner_id:
        cells.fail("partner_id", "required for a partner's interview: write her partner_id")
        return None
    her = partners.get(group.partner_id)
    if her is None or her.participant_id != person.id:
        cells.fail(
            "partner_id", f"partner {group.partner_id!r} is not linked to case {person.case_id}"
        )
        return None
    if her.consent_withdrawn_on and group.on >= her.consent_withdrawn_on:
        cells.fail(
            "date",
            f"partner withdrew consent on {her.consent_withdrawn_on}; no interview after that",
        )
    return her


def _answers(instrument: Instrument, group: _Group, problems: Problems) -> dict[str, str] | None:
    """The interview's answers by the rules of followup.scoring, each problem at the row
    of its item. None when any."""
    hers = group.informant == "partner"
    row_of: dict[str, Row] = {}
    given: dict[str, str | None] = {}
    ok = True
    for row in group.rows:
        cells = Cells(row, problems)
        name = row.get("item")
        item = instrument.item(name)
        if item is None:
            cells.fail(
                "item",
                f"{name!r} is not an item of {instrument.id}; items are "
                f"{', '.join(i.id for i in instrument.items)}",
            )
            ok = False
            continue
        if name in row_of:
            cells.fail(
                "item",
                f"{name} appears again in this interview (first on row {row_of[name].number})",
            )
            ok = False
            continue
        row_of[name] = row
        try:
            given[name] = parse_answer(item, row.get("value"))
        except ValueError as exc:
            # Her words never go into a problem: the rule, not what she said.
            message = str(exc)
            if hers or item.type == "text":
                message = message.split(", got ")[0]
            cells.fail("value", f"{name}: {message}")
            ok = False
    if not ok:
        return None
    result = check_answers(instrument, given)
    for name, problem in result.problems.items():
        row = row_of.get(name)
        if row is None:
            Cells(group.rows[0], problems).fail(
                "item", f"{name} has no row in this interview, and it is {problem}"
            )
            continue
        if hers and name in given and given[name] is not None:
            problem = problem.split(": it is asked only when")[0] + " (its show_if hides it)"
        Cells(row, problems).fail("value", f"{name}: {problem}")
    if not result.ok:
        return None
    if all(value in MISSING_CODES for value in given.values()):
        Cells(group.rows[0], problems).fail("value", nothing_asked_problem(group.checkpoint))
        return None
    return result.answers


def _compare(ctx, interview_id, before, group, answers, problems, checked) -> None:
    """The same interview again: skipped when its answers are the ones stored, refused
    (at the row of the first item that differs) when not."""
    stored = {
        item: value if sealed is None else ctx.vault.open(sealed)
        for item, (value, sealed) in before.items()
    }
    if stored == answers:
        checked.skipped += len(group.rows)
        return
    differs = next((n for n in answers if stored.get(n) != answers[n]), next(iter(stored), ""))
    row = next((r for r in group.rows if r.get("item") == differs), group.rows[0])
    Cells(row, problems).fail(
        "value",
        f"this interview was imported before (interview {interview_id}) with another answer "
        f"to {differs}; an import does not change answers. Hint: correct the interview "
        f"instead (followup record correct interview {interview_id}, or its page)",
    )


def write(
    session: Session, ctx: Context, checked: Checked, result: ImportResult, batch: Batch
) -> None:
    """The interviews wait for the part's plan, which matches them to their follow-ups
    (followup.imports.settle); their answers and scores follow (`write_answers`)."""
    now = ctx.now()
    result.unchanged += checked.skipped
    result.created += checked.rows
    for answered in checked.interviews:
        answered.interview["recorded_at"] = now
        batch.interviews.append((answered.row, answered.interview))
        batch.answers[answered.interview["import_key"]] = answered
        batch.plan.add(answered.interview["participant_id"])


def write_answers(session: Session, ctx: Context, batch: Batch) -> None:
    """The answers and scores of the part's interviews, now written and given ids."""
    conn = session.connection()
    i = Interview.__table__
    ids = {
        r.import_key: r.id
        for r in rows_where_in(
            conn, sa.select(i.c.import_key, i.c.id), i.c.import_key, list(batch.answers)
        )
    }
    answer_rows: list[dict] = []
    score_rows: list[dict] = []
    for key, answered in batch.answers.items():
        interview_id = ids[key]
        answer_rows += answer_store.answer_rows(
            ctx.vault, interview_id, answered.instrument, answered.answers
        )
        score_rows += answer_store.score_rows(interview_id, answered.results)
    executemany(conn, InstrumentAnswer.__table__.insert(), answer_rows)
    executemany(conn, InterviewScore.__table__.insert(), score_rows)


def alert_keys(batch: Batch) -> set[str]:
    """The part's interviews with a score in its alert_at band (followup.alerts)."""
    return {key for key, answered in batch.answers.items() if answered.alert_band}


def origin_rows(batch: Batch) -> set[int]:
    """The first rows of the part's answer interviews (to report a match problem in the
    answers file, not the events file)."""
    return {id(answered.row) for answered in batch.answers.values()}


__all__ = ["REQUIRED", "OPTIONAL", "check", "write", "write_answers"]
