"""The rules a record keeps, and where the database breaks them.

The same rules refuse a bad record where it comes in (`followup record`, the imports,
the web, which records through followup.record) and find the ones that got in anyway
(a database from before a rule existed, a direct SQL edit, a restored backup):

- `followup doctor` lists every finding as `case_id: what: how to fix`;
- the report leaves a person whose status record breaks a rule out of the measures that
  record would distort, and counts him in its `data_quality` section.

A participant's status dates must keep the programme's order: enrolled <= admitted <=
programme start <= completed, or <= the end of participation (dropped out, excluded,
transferred); one participation has one ending; a completion needs an admission. Each
rule is written once (`STATUS_RULES`, `status_problems`) and read two ways: per person
(recording, importing, `doctor`) and over the report's columns (`status_masks`); a test
checks the two agree on every combination of dates.

Interviews are not dated before the enrolment (the web's form already said so; every
path now does). What is deliberately *not* a rule: violence dated before the enrolment
(a partner often tells at her first contact what happened before he was referred; it is
kept and raises its alert, and the survival analysis only counts violence on or after its
origin), and police record checks before the enrolment (a baseline check at referral).
No referral date is recorded, so none is checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Protocol

from followup.models import ENDINGS, VIOLENCE_TYPES

# The status dates in programme order; a completion and an ending are both last.
STATUS_DATES = ("enrolled_on", "admitted_on", "programme_start_on", "completed_on", "ended_on")
LABELS = {
    "enrolled_on": "enrolment",
    "admitted_on": "admission",
    "programme_start_on": "programme start",
    "completed_on": "completion",
    "ended_on": "the end of participation",
}
EVENTS = {  # the status event that sets each date (an ending: its reason)
    "admitted_on": "admitted",
    "programme_start_on": "programme_start",
    "completed_on": "completed",
    "ended_on": "ended",
}
FIELD_OF_EVENT = {
    "admitted": "admitted_on",
    "programme_start": "programme_start_on",
    "completed": "completed_on",
    **{ending: "ended_on" for ending in ENDINGS},
}

ORDER = "status_order"
TWO_ENDINGS = "two_endings"
COMPLETED_UNADMITTED = "completed_without_admission"
END_REASON = "end_without_reason"
INTERVIEW_EARLY = "interview_before_enrolment"
BEFORE_WINDOW = "interview_before_window"

# Which report measures a broken status record is left out of. A date out of order
# distorts every duration and "has had time to end"; a contradictory ending also breaks
# the cohort's funnel (it would count one man in two places).
STATUS_MEASURES = ("cohort", "retention", "survival")
STATUS_RULES: dict[str, tuple[str, ...]] = {
    ORDER: ("retention", "survival"),
    TWO_ENDINGS: STATUS_MEASURES,
    COMPLETED_UNADMITTED: STATUS_MEASURES,
    END_REASON: STATUS_MEASURES,
}
DESCRIPTIONS = {
    ORDER: "status dates out of programme order",
    TWO_ENDINGS: "both completed and ended early",
    COMPLETED_UNADMITTED: "completed with no admission on record",
    END_REASON: "an end of participation without a known reason",
    INTERVIEW_EARLY: "an interview dated before the enrolment",
    BEFORE_WINDOW: "an interview counted for a follow-up whose window had not opened",
}
FIXES = {
    ORDER: "record the right date with `followup record status CASE EVENT --on DATE` "
    "(enrolment: re-import the participants file); a man who comes back after leaving "
    "is a new enrolment",
    TWO_ENDINGS: "one of the two did not happen: an administrator clears it in the database "
    "(participant.completed_on, or ended_on with end_reason)",
    COMPLETED_UNADMITTED: "record the admission: `followup record status CASE admitted --on DATE`",
    END_REASON: "record the ending again: `followup record status CASE "
    "dropped_out|excluded|transferred --on DATE`",
    INTERVIEW_EARLY: "correct the interview's date (`followup record correct interview ID "
    "--on DATE`), or the enrolment date (re-import the participants file)",
    BEFORE_WINDOW: "correct the interview's date (`followup record correct interview ID --on "
    "DATE`), or void it (`followup record void interview ID --reason ...`) and record it "
    "again with --unscheduled",
}


class StatusDates(Protocol):
    """Anything with a participant's status dates: a Participant row, the events import's
    in-memory timeline, a row read for `doctor`."""

    case_id: str
    enrolled_on: date
    admitted_on: date | None
    programme_start_on: date | None
    completed_on: date | None
    ended_on: date | None
    end_reason: str | None


@dataclass(frozen=True)
class Problem:
    """One rule a participant's status record breaks. `fields`: the dates involved, the
    one that is wrong if the other is right first."""

    rule: str
    fields: tuple[str, ...]
    what: str


def _event(person: StatusDates, name: str) -> str:
    if name == "ended_on":
        return person.end_reason if person.end_reason in ENDINGS else "ended"
    return EVENTS[name]


# Each status date after enrolment, with the dates it may not precede (enrolment,
# admission, programme start: at most the first three), in programme order.
_EARLIER = tuple((later, STATUS_DATES[: min(at, 3)]) for at, later in enumerate(STATUS_DATES) if at)


def status_problems(person: StatusDates) -> list[Problem]:
    """Every rule `person`'s status dates break, each worded the same on every path.

    A date before several earlier ones is reported once, against the first of them in
    programme order (a completion before the enrolment is "before enrolment")."""
    found = []
    for later, earliers in _EARLIER:
        day = getattr(person, later)
        if day is None:
            continue
        for earlier in earliers:
            before = getattr(person, earlier)
            if before is not None and day < before:
                found.append(
                    Problem(
                        ORDER,
                        (later, earlier),
                        f"{_event(person, later)} on {day} is before {LABELS[earlier]} on {before}",
                    )
                )
                break
    if person.completed_on is not None and person.ended_on is not None:
        found.append(
            Problem(
                TWO_ENDINGS,
                ("completed_on", "ended_on"),
                f"completed on {person.completed_on} and {_event(person, 'ended_on')} on "
                f"{person.ended_on}: a participation has one ending",
            )
        )
    if person.completed_on is not None and person.admitted_on is None:
        found.append(
            Problem(
                COMPLETED_UNADMITTED,
                ("completed_on", "admitted_on"),
                f"completed on {person.completed_on} with no admission on record",
            )
        )
    if person.ended_on is not None and person.end_reason not in ENDINGS:
        found.append(
            Problem(
                END_REASON,
                ("ended_on",),
                f"ended on {person.ended_on} for an unknown reason ({person.end_reason!r})",
            )
        )
    elif person.ended_on is None and person.end_reason is not None:
        found.append(
            Problem(END_REASON, ("ended_on",), f"{person.end_reason} with no date on record")
        )
    return found


def status_masks(dates: Mapping[str, Any], end_reason_known: Any) -> dict[str, Any]:
    """`status_problems` over columns: per rule, which people break it.

    `dates` holds each of STATUS_DATES as a float array of day numbers, NaN where not
    set; `end_reason_known` is True where the end reason is one of ENDINGS. Comparisons
    with NaN are False, exactly as a missing date is skipped above."""
    import numpy as np

    size = len(dates["enrolled_on"])
    out_of_order = np.zeros(size, dtype=bool)
    for later in STATUS_DATES[1:]:
        for earlier in STATUS_DATES[: min(STATUS_DATES.index(later), 3)]:
            out_of_order |= dates[later] < dates[earlier]
    completed = ~np.isnan(dates["completed_on"])
    ended = ~np.isnan(dates["ended_on"])
    return {
        ORDER: out_of_order,
        TWO_ENDINGS: completed & ended,
        COMPLETED_UNADMITTED: completed & np.isnan(dates["admitted_on"]),
        END_REASON: ended & ~np.asarray(end_reason_known, dtype=bool),
    }


def refuse_status_problems(
    person: StatusDates, fields: set[str], *, ignore: tuple[str, ...] = ()
) -> None:
    """Raise the first problem that involves one of `fields` (the dates just set): a
    problem an older record already had is no reason to refuse a new, unrelated one."""
    from followup.errors import InvalidRecord

    for problem in status_problems(person):
        if problem.rule not in ignore and fields & set(problem.fields):
            refused = InvalidRecord(f"case {person.case_id}: {problem.what}")
            refused.rule = problem.rule  # type: ignore[attr-defined]  (an import's column)
            raise refused


def interview_problem(on: date, enrolled_on: date) -> str | None:
    if on < enrolled_on:
        return f"interview on {on} is before enrolment on {enrolled_on}"
    return None


# --- an interview and its follow-up's window ---------------------------------------------
#
# An interview before its follow-up's window opens is not that checkpoint's outcome (a
# "6-month" interview held a month after completion says nothing about six months): it is
# refused, and can be kept as an unscheduled contact. One after the window closes still
# fulfils the follow-up and counts as late (the report's follow-up table, the pages).
# Read by every path that ties an interview to a follow-up: `followup record interview`,
# the web's Record interview page, the events import, a correction of the date.

QUESTIONS = (*VIOLENCE_TYPES, "felt_safety", "risk_level")


def window_problem(on: date, checkpoint: str, opens_on: date) -> str | None:
    if on < opens_on:
        return (
            f"interview on {on} is before the {checkpoint} window opens on {opens_on}: "
            "record it as an unscheduled contact instead"
        )
    return None


def is_late(on: date | None, closes_on: date) -> bool:
    return on is not None and on > closes_on


def nothing_asked(answers: Mapping[str, Any]) -> bool:
    """Every question of the form left at "not asked" (no violence answer, no felt safety,
    no risk level): such a form completes a follow-up only as "held, nothing asked"."""
    return all(answers.get(name) is None for name in QUESTIONS)


def nothing_asked_problem(checkpoint: str) -> str:
    return (
        f"nothing was asked, so this interview does not complete {checkpoint}: answer at "
        "least one question, or record it as held with nothing asked and give the reason"
    )


# --- findings: what `followup doctor` prints ------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One thing wrong in the database. `case_id` is None for rows that belong to no
    case (a message to staff); `record` then says which row."""

    case_id: str | None
    check: str
    what: str
    fix: str
    record: str | None = None

    def line(self) -> str:
        return f"{self.case_id or self.record}: {self.what}: {self.fix}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def person_findings(person: StatusDates) -> Iterator[Finding]:
    for problem in status_problems(person):
        yield Finding(person.case_id, problem.rule, problem.what, FIXES[problem.rule])


# --- the whole database (`followup doctor`) -------------------------------------------

SCHEDULE = "schedule_differs"
ORPHAN = "orphan_row"
WRONG_PARTNER = "partner_of_another_case"
SEALED = "sealed_field_unreadable"
STUCK = "outbox_lease_expired"
CHECKS = (
    ORPHAN,
    WRONG_PARTNER,
    *STATUS_RULES,
    INTERVIEW_EARLY,
    BEFORE_WINDOW,
    SCHEDULE,
    SEALED,
    STUCK,
)
FIXES.update(
    {
        SCHEDULE: "re-plan him: record his latest status change again, or run "
        "`followup schedule plan` then `followup schedule apply` (which re-plans everyone "
        "on the current protocol files)",
        ORPHAN: "restore the missing row from a backup, or delete this one (nothing can show "
        "or count it)",
        WRONG_PARTNER: "correct partner_id in the database to one of this case's partners",
        SEALED: "restore the key it was sealed with (while rotating, list the old key after "
        "the new one in FOLLOWUP_SECRET_KEY), or enter the data again",
        STUCK: "its sender stopped mid-send: start the service (`followup serve`) or run "
        "`followup dispatch --once`; the message goes again, asking the provider first "
        "when it may already have been sent",
    }
)
CHUNK = 5000


def find_problems(session, ctx, *, now: datetime) -> list[Finding]:
    """Every finding in the database, check by check (CHECKS order). Reads only.

    `now` decides which outbox leases have run out; everything else is the record itself."""
    conn = session.connection()
    cases = _CaseIds(conn)
    findings = [*_orphans(conn, cases), *_partners_of_other_cases(conn, cases)]
    findings += _status_records(conn)
    findings += _interviews_before_enrolment(conn)
    findings += _interviews_before_window(conn)
    findings += _schedules(session, ctx, conn, now)
    findings += _sealed(conn, ctx, cases)
    findings += _stuck_outbox(conn, now, cases)
    return findings


class _CaseIds:
    """participant.id -> case_id, read once, for naming the case a row belongs to."""

    def __init__(self, conn) -> None:
        self._conn = conn
        self._ids: dict[int, str] | None = None

    def __call__(self, participant_id: int | None) -> str | None:
        import sqlalchemy as sa

        from followup.models import Participant

        if self._ids is None:
            p = Participant.__table__
            self._ids = dict(self._conn.execute(sa.select(p.c.id, p.c.case_id)).all())
        return self._ids.get(participant_id) if participant_id is not None else None


def _orphans(conn, cases: _CaseIds) -> Iterator[Finding]:
    """Rows whose reference points at a row that does not exist (every foreign key of the
    schema; possible in a database copied or edited without its constraints)."""
    import sqlalchemy as sa
    from sqlmodel import SQLModel

    for table in SQLModel.metadata.sorted_tables:
        key = next(iter(table.primary_key.columns))
        for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
            parent = fk.column.table.alias()
            target = parent.c[fk.column.name]
            owner = table.c.participant_id if "participant_id" in table.c else sa.null()
            query = (
                sa.select(key, fk.parent, owner)
                .select_from(table.outerjoin(parent, fk.parent == target))
                .where(fk.parent.is_not(None), target.is_(None))
                .order_by(key)
            )
            for row_key, value, participant_id in conn.execute(query):
                yield Finding(
                    cases(participant_id),
                    ORPHAN,
                    f"{table.name} {row_key} refers to {fk.column.table.name} {value}, "
                    "which does not exist",
                    FIXES[ORPHAN],
                    record=f"{table.name} {row_key}",
                )


def _partners_of_other_cases(conn, cases: _CaseIds) -> Iterator[Finding]:
    """A follow-up, interview, event or alert about a partner linked to another case."""
    import sqlalchemy as sa

    from followup.models import Event, FollowUp, Interview, Partner, SafetyAlert

    pt = Partner.__table__
    for model in (FollowUp, Interview, Event, SafetyAlert):
        t = model.__table__
        query = (
            sa.select(t.c.id, t.c.participant_id, pt.c.partner_id, pt.c.participant_id)
            .join(pt, pt.c.id == t.c.partner_id)
            .where(pt.c.participant_id != t.c.participant_id)
            .order_by(t.c.id)
        )
        for row_id, participant_id, partner_id, hers in conn.execute(query):
            yield Finding(
                cases(participant_id),
                WRONG_PARTNER,
                f"{t.name} {row_id} is about partner {partner_id}, who is linked to case "
                f"{cases(hers)}",
                FIXES[WRONG_PARTNER],
                record=f"{t.name} {row_id}",
            )


def _status_records(conn) -> Iterator[Finding]:
    import sqlalchemy as sa

    from followup.models import Participant

    p = Participant.__table__
    query = sa.select(p.c.case_id, *(p.c[name] for name in STATUS_DATES), p.c.end_reason)
    for row in conn.execute(query.order_by(p.c.id)):
        yield from person_findings(row)


def _interviews_before_enrolment(conn) -> Iterator[Finding]:
    import sqlalchemy as sa

    from followup.models import Interview, Participant

    i, p = Interview.__table__, Participant.__table__
    query = (
        sa.select(i.c.id, p.c.case_id, i.c.conducted_on, p.c.enrolled_on)
        .join(p, p.c.id == i.c.participant_id)
        .where(i.c.conducted_on < p.c.enrolled_on, i.c.voided_at.is_(None))
        .order_by(i.c.id)
    )
    for row_id, case_id, on, enrolled_on in conn.execute(query):
        yield Finding(
            case_id,
            INTERVIEW_EARLY,
            interview_problem(on, enrolled_on) or "",
            FIXES[INTERVIEW_EARLY],
            record=f"interview {row_id}",
        )


def _interviews_before_window(conn) -> Iterator[Finding]:
    """Interviews that completed a follow-up before its window opened (recorded before
    the rule existed): counted as that checkpoint's outcome, which they are not."""
    import sqlalchemy as sa

    from followup.models import FollowUp, Interview, Participant

    i, f, p = Interview.__table__, FollowUp.__table__, Participant.__table__
    query = (
        sa.select(i.c.id, p.c.case_id, i.c.conducted_on, f.c.checkpoint, f.c.window_opens_on)
        .join(f, f.c.id == i.c.followup_id)
        .join(p, p.c.id == i.c.participant_id)
        .where(i.c.conducted_on < f.c.window_opens_on, i.c.voided_at.is_(None))
        .order_by(i.c.id)
    )
    for row_id, case_id, on, checkpoint, opens_on in conn.execute(query):
        yield Finding(
            case_id,
            BEFORE_WINDOW,
            f"interview {row_id} on {on} completed {checkpoint}, whose window opens on {opens_on}",
            FIXES[BEFORE_WINDOW],
            record=f"interview {row_id}",
        )


def _schedules(session, ctx, conn, now: datetime) -> Iterator[Finding]:
    """Pending follow-ups that differ from what the schedule engine gives for the
    person's protocol revision and dates (completed and missed ones are history)."""
    import sqlalchemy as sa

    from followup.enrol import protocol_for_enrolment
    from followup.models import Participant, ProtocolRevision
    from followup.replan import iter_replan

    p = Participant.__table__
    known = sa.select(ProtocolRevision.__table__.c.revision)
    ids = list(conn.execute(sa.select(p.c.id).where(p.c.protocol_revision.in_(known))).scalars())
    plans = iter_replan(
        session, ids, protocol_for_enrolment(ctx, session), reason="doctor", apply=False, now=now
    )
    for person in plans:
        c = person.changes
        parts = [
            f"{len(items)} to {verb}"
            for verb, items in (
                ("move", c.move),
                ("add", c.add),
                ("cancel", c.cancel),
                ("reinstate", c.reinstate),
                ("settle", c.settle),
            )
            if items
        ]
        if not parts:
            continue
        yield Finding(
            person.case_id,
            SCHEDULE,
            f"follow-ups differ from what protocol {person.protocol_id} (revision "
            f"{person.revision_before[:12]}) gives for his dates: {', '.join(parts)}",
            FIXES[SCHEDULE],
        )


def _sealed(conn, ctx, cases: _CaseIds) -> Iterator[Finding]:
    """Sealed survivor data the configured key cannot open. Nothing opened is kept or shown."""
    import sqlalchemy as sa

    from followup.errors import KeyUnavailable
    from followup.models import Event, Interview, Partner

    pt = Partner.__table__
    sources = (
        (
            pt,
            pt.c.contact_sealed,
            pt.c.participant_id,
            pt.c.partner_id,
            "partner {}'s contact details",
        ),
        (
            Interview.__table__,
            Interview.__table__.c.notes_sealed,
            Interview.__table__.c.participant_id,
            Interview.__table__.c.id,
            "the notes of interview {}",
        ),
        (
            Event.__table__,
            Event.__table__.c.notes_sealed,
            Event.__table__.c.participant_id,
            Event.__table__.c.id,
            "the notes of event {}",
        ),
    )
    try:
        vault = ctx.vault
    except KeyUnavailable as missing:
        # No key at all: one finding per kind of data, not one per row.
        for table, column, *_ in sources:
            rows = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(column.is_not(None))
            ).scalar_one()
            if rows:
                yield Finding(
                    None,
                    SEALED,
                    f"{rows} sealed {column.name} value(s) in {table.name}: {missing}",
                    FIXES[SEALED],
                    record=table.name,
                )
        return
    for table, column, participant_id, name, what in sources:
        query = sa.select(participant_id, name, column).where(column.is_not(None))
        rows = conn.execute(query.order_by(table.c.id).execution_options(yield_per=CHUNK))
        for owner, label, token in rows:
            try:
                vault.open(token)
            except (KeyUnavailable, ValueError, TypeError):
                yield Finding(
                    cases(owner),
                    SEALED,
                    f"{what.format(label)}: the configured key cannot open it",
                    FIXES[SEALED],
                    record=f"{table.name} {label}",
                )


def _stuck_outbox(conn, now: datetime, cases: _CaseIds) -> Iterator[Finding]:
    """Messages still held by a sender whose lease ran out before `now`: it died mid-send
    and no sender has taken them over since."""
    import sqlalchemy as sa

    from followup.models import FollowUp, Outbox

    ob, f = Outbox.__table__, FollowUp.__table__
    query = (
        sa.select(ob.c.id, ob.c.kind, ob.c.claimed_by, ob.c.lease_until, f.c.participant_id)
        .select_from(ob.outerjoin(f, f.c.id == ob.c.followup_id))
        .where(ob.c.status == "pending", ob.c.claimed_by.is_not(None), ob.c.lease_until < now)
        .order_by(ob.c.id)
    )
    for row_id, kind, worker, lease_until, participant_id in conn.execute(query):
        yield Finding(
            cases(participant_id),
            STUCK,
            f"outbox {row_id} ({kind}) is still held by {worker}, whose lease ran out at "
            f"{lease_until.isoformat(timespec='seconds')}",
            FIXES[STUCK],
            record=f"outbox {row_id}",
        )


def doctor(session, ctx, *, now: datetime) -> list[Finding]:
    """`followup doctor`: every finding, and an audit line saying the check was run (it
    opens sealed partner data to see that it can be opened; nothing opened is kept)."""
    from collections import Counter

    from followup.audit import audit

    findings = find_problems(session, ctx, now=now)
    audit(session, ctx.actor, "doctor", None, None, **Counter(f.check for f in findings))
    return findings
