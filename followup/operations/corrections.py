"""Corrections, never deletion: an interview or event (a status change, a recidivism
report, a police record check, a consent or do-not-contact change) is corrected or voided
with a reason, and its earlier version is kept (followup.models.RecordVersion).

The interview or event row always holds the current version, and a voided one carries
`voided_at`, so every reader that skips voided rows (the report, `doctor`, the follow-up
page) reads only what is true now; the timeline shows the history (who, when, why).

A correction goes through the same rules as recording: a status date keeps the
programme order (followup.checks) and re-plans the follow-ups (followup.replan), an
interview keeps its follow-up's window rules, and a partner's report of violence added by
a correction raises its safety alert as recording it would. Who may correct a record is
who may record it (followup.operations.policy). Each change is audited here: the audit
line names the record, the version kept and the fields changed (never their values:
the values of a partner's record are hers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup import alerts, answer_store, record
from followup.audit import audit
from followup.checks import FIELD_OF_EVENT, is_late, nothing_asked, refuse_status_problems
from followup.context import Context
from followup.errors import InvalidRecord
from followup.models import (
    ENDINGS,
    INTERVIEW_MODES,
    REPORT_SOURCES,
    RISK_LEVELS,
    STATUS_EVENTS,
    VIOLENCE_TYPES,
    Event,
    FollowUp,
    Interview,
    Participant,
    Partner,
    RecordVersion,
    SafetyAlert,
    Staff,
)
from followup.operations import policy
from followup.operations.acting import acting
from followup.operations.policy import Forbidden, NotVisible, Principal
from followup.schedule import COMPLETED, PENDING
from followup.values import parse_choice

RECORDS = ("interview", "event")
PARTNER_EVENTS = frozenset(
    {"consent_given", "consent_withdrawn", "do_not_contact", "contact_allowed"}
)
INTERVIEW_FIELDS = (
    "conducted_on",
    "mode",
    *VIOLENCE_TYPES,
    "felt_safety",
    "risk_level",
    "checkpoint",
    "followup_id",
)
EVENT_FIELDS = ("kind", "occurred_on", "reported_on", "source", *VIOLENCE_TYPES, "new_offence")
REASON_MAX = 500


# --- who may see and change a record ----------------------------------------------------


def _about_her(row: Interview | Event) -> bool:
    if isinstance(row, Interview):
        return row.informant == "partner"
    return row.partner_id is not None or row.source == "partner" or row.kind in PARTNER_EVENTS


def _may_see(p: Principal, person: Participant, row: Interview | Event) -> bool:
    site, facilitator = person.site_code, person.facilitator_id
    if _about_her(row):
        return policy.view_partner(p, site, facilitator)
    if isinstance(row, Event) and row.kind in STATUS_EVENTS:
        return policy.view_participant(p, site)
    return policy.view_participant_content(p, site)


def _may_change(p: Principal, person: Participant, row: Interview | Event) -> bool:
    """Who may correct a record is who may record it."""
    site, facilitator = person.site_code, person.facilitator_id
    if isinstance(row, Interview):
        return policy.record_followup(p, row.informant, site, facilitator)
    if row.kind in STATUS_EVENTS:
        return policy.record_status(p, site)
    if row.kind in PARTNER_EVENTS:
        return policy.change_partner(p, site, facilitator)
    if _about_her(row):
        return policy.view_partner(p, site, facilitator)
    return policy.view_participant_content(p, site)


def _load(
    session: Session, p: Principal, kind: str, record_id: int, *, change: bool
) -> tuple[Interview | Event, Participant]:
    """The record, if this person may see it (else NotVisible, exactly as one that does
    not exist) and, with `change`, change it (else Forbidden)."""
    if kind not in RECORDS:
        raise InvalidRecord(f"unknown record kind {kind!r}; expected interview or event")
    row = session.get(Interview if kind == "interview" else Event, record_id)
    person = session.get(Participant, row.participant_id) if row is not None else None
    if row is None or person is None or not _may_see(p, person, row):
        raise NotVisible(f"no {kind} {record_id} that {p.username} may see")
    if change and not _may_change(p, person, row):
        raise Forbidden(f"{p.username} may not correct this {kind}")
    return row, person


# --- keeping the earlier version --------------------------------------------------------


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _keep_version(
    session: Session, ctx: Context, person: Participant, row, change: str, reason: str
) -> int:
    kind = "interview" if isinstance(row, Interview) else "event"
    fields = INTERVIEW_FIELDS if kind == "interview" else EVENT_FIELDS
    data = {name: _plain(getattr(row, name)) for name in fields}
    if kind == "interview":
        data["nothing_asked"] = row.nothing_asked_sealed is not None
    version = (
        1
        + session.execute(
            sa.select(sa.func.count())
            .select_from(RecordVersion)
            .where(RecordVersion.record == kind, RecordVersion.record_id == row.id)
        ).scalar_one()
    )
    session.add(
        RecordVersion(
            participant_id=person.id,
            record=kind,
            record_id=row.id,
            version=version,
            change=change,
            data=json.dumps(data, sort_keys=True),
            notes_sealed=row.notes_sealed,
            reason_sealed=ctx.vault.seal(reason),
            changed_by=ctx.actor,
            changed_at=ctx.now(),
        )
    )
    return version


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRecord("say why: a correction or a void needs a reason")
    if len(reason) > REASON_MAX:
        raise InvalidRecord(f"the reason is {len(reason)} characters; at most {REASON_MAX}")
    return reason


def _not_voided(row, kind: str) -> None:
    if row.voided_at is not None:
        raise InvalidRecord(
            f"{kind} {row.id} was voided: it cannot be corrected; record it anew instead"
        )


# --- interviews -------------------------------------------------------------------------


def _columns_of_an_instrument(row: Interview, new: dict[str, Any]) -> None:
    """An interview recorded through an instrument's answers: its violence, felt-safety
    and risk columns are what its items say, and its scores were computed from them.
    Changing a column alone would make them disagree; the answers are re-recorded instead."""
    if row.instrument_revision is None:
        return
    columns = sorted(set(new) & {*VIOLENCE_TYPES, "felt_safety", "risk_level"})
    if columns:
        raise InvalidRecord(
            f"interview {row.id} was recorded with the {row.instrument} questionnaire: "
            f"{', '.join(columns)} come from its answers and cannot be corrected alone. "
            "Hint: void it and record a new interview with the right answers"
        )


def correct_interview(
    session: Session,
    ctx: Context,
    p: Principal,
    interview_id: int,
    *,
    reason: str,
    on: date | None = None,
    mode: str | None = None,
    violence: dict[str, bool | None] | None = None,
    felt_safety: int | None = None,
    risk_level: str | None = None,
    notes: str | None = None,
    nothing_asked_reason: str | None = None,
    clear: tuple[str, ...] = (),
) -> Interview:
    """Change what is given (None: unchanged; `clear`: fields to set to "not recorded",
    e.g. "felt_safety", "risk_level", "mode", or a violence type for "not asked")."""
    row, person = _load(session, p, "interview", interview_id, change=True)
    _not_voided(row, "interview")
    reason = _reason(reason)
    ctx = acting(ctx, p)
    new: dict[str, Any] = {}
    if on is not None and on != row.conducted_on:
        new["conducted_on"] = on
    if mode is not None and mode != row.mode:
        new["mode"] = _one_of(mode, INTERVIEW_MODES, "mode")
    for kind, answer in (violence or {}).items():
        kind = _one_of(kind, VIOLENCE_TYPES, "violence type")
        if answer is not None and answer != getattr(row, kind):
            new[kind] = answer
    if felt_safety is not None and felt_safety != row.felt_safety:
        if not 1 <= felt_safety <= 5:
            raise InvalidRecord(
                f"felt safety is 1 (very unsafe) to 5 (very safe), got {felt_safety}"
            )
        new["felt_safety"] = felt_safety
    if risk_level is not None and risk_level != row.risk_level:
        new["risk_level"] = _one_of(risk_level, RISK_LEVELS, "risk level")
    for name in clear:
        if name not in (*VIOLENCE_TYPES, "felt_safety", "risk_level", "mode"):
            raise InvalidRecord(f"{name!r} cannot be cleared")
        if getattr(row, name) is not None:
            new[name] = None
    _columns_of_an_instrument(row, new)
    changed = sorted(new)
    if notes is not None:
        changed.append("notes")
    if nothing_asked_reason is not None:
        changed.append("nothing_asked")
    if not changed:
        raise InvalidRecord(
            f"interview {interview_id}: nothing to correct (every value is as recorded)"
        )
    day = new.get("conducted_on", row.conducted_on)
    record.check_new_date(ctx, person, day, "interview")
    her = session.get(Partner, row.partner_id) if row.partner_id else None
    if her is not None and her.consent_withdrawn_on and day >= her.consent_withdrawn_on:
        raise InvalidRecord(
            f"partner {her.partner_id} withdrew consent on {her.consent_withdrawn_on}; "
            "an interview after that date cannot be recorded"
        )
    followup = session.get(FollowUp, row.followup_id) if row.followup_id else None
    answers = {
        name: new.get(name, getattr(row, name))
        for name in (*VIOLENCE_TYPES, "felt_safety", "risk_level")
    }
    had = row.nothing_asked_sealed is not None
    asked = None  # read from the columns, unless its answers say (an instrument's)
    if row.instrument_revision is not None:
        asked = record.was_asked(answer_store.answers_of(session, ctx.vault, row))
    if (
        nothing_asked_reason is None
        and had
        and (asked or (asked is None and not nothing_asked(answers)))
    ):
        nothing_asked_reason = ""  # answers given now: no longer "held, nothing asked"
        changed.append("nothing_asked")
    held = nothing_asked_reason if nothing_asked_reason is not None else ("kept" if had else None)
    record.check_interview_fits(person, followup, day, answers, held or None, asked=asked)
    version = _keep_version(session, ctx, person, row, "corrected", reason)
    for name, value in new.items():
        setattr(row, name, value)
    if notes is not None:
        row.notes_sealed = ctx.vault.seal(notes) if notes else None
    if nothing_asked_reason is not None:
        row.nothing_asked_sealed = (
            ctx.vault.seal(nothing_asked_reason) if nothing_asked_reason else None
        )
    if followup is not None and followup.status == COMPLETED:
        followup.completed_on = day
    session.flush()
    if not _alert_exists(session, interview_id=row.id):
        alerts.after_interview(session, ctx, row)
    record.replan_person(session, ctx, person, reason="interview corrected")
    audit(
        session,
        ctx.actor,
        "correct_interview",
        "participant",
        person.case_id,
        interview=row.id,
        version=version,
        changed=changed,
    )
    return row


def void_interview(
    session: Session, ctx: Context, p: Principal, interview_id: int, *, reason: str
) -> Interview:
    """Recorded in error: kept and shown as void, counted nowhere; the follow-up it had
    completed is open again (and re-planned)."""
    row, person = _load(session, p, "interview", interview_id, change=True)
    _not_voided(row, "interview")
    reason = _reason(reason)
    ctx = acting(ctx, p)
    version = _keep_version(session, ctx, person, row, "voided", reason)
    row.voided_at = ctx.now()
    followup = session.get(FollowUp, row.followup_id) if row.followup_id else None
    if followup is not None and followup.status == COMPLETED:
        followup.status, followup.completed_on = PENDING, None
    record.replan_person(session, ctx, person, reason="interview voided")
    audit(
        session,
        ctx.actor,
        "void_interview",
        "participant",
        person.case_id,
        interview=row.id,
        version=version,
        reopened=followup.id if followup is not None else None,
    )
    return row


def _alert_exists(session: Session, **which: int) -> bool:
    ((column, value),) = which.items()
    return (
        session.execute(
            sa.select(SafetyAlert.id).where(getattr(SafetyAlert, column) == value)
        ).first()
        is not None
    )


# --- events -----------------------------------------------------------------------------


def correct_event(
    session: Session,
    ctx: Context,
    p: Principal,
    event_id: int,
    *,
    reason: str,
    on: date | None = None,
    reported_on: date | None = None,
    source: str | None = None,
    violence: dict[str, bool | None] | None = None,
    new_offence: bool | None = None,
    notes: str | None = None,
) -> Event:
    row, person = _load(session, p, "event", event_id, change=True)
    _not_voided(row, "event")
    reason = _reason(reason)
    ctx = acting(ctx, p)
    new: dict[str, Any] = {}
    if on is not None and on != row.occurred_on:
        new["occurred_on"] = on
    detail = reported_on is not None or source is not None or violence or notes is not None
    if row.kind == "recidivism":
        if reported_on is not None and reported_on != row.reported_on:
            new["reported_on"] = reported_on
        if source is not None and source != row.source:
            new["source"] = _one_of(source, REPORT_SOURCES, "source")
        for kind, answer in (violence or {}).items():
            kind = _one_of(kind, VIOLENCE_TYPES, "violence type")
            if answer is not None and answer != getattr(row, kind):
                new[kind] = answer
    elif detail:
        raise InvalidRecord(f"a {row.kind} event has only a date to correct")
    if row.kind == "record_check":
        if new_offence is not None and new_offence != row.new_offence:
            new["new_offence"] = new_offence
    elif new_offence is not None:
        raise InvalidRecord(f"a {row.kind} event has no new-offence finding")
    changed = sorted(new) + (["notes"] if notes is not None else [])
    if not changed:
        raise InvalidRecord(f"event {event_id}: nothing to correct (every value is as recorded)")
    day = new.get("occurred_on", row.occurred_on)
    if row.kind == "recidivism":
        reported = new.get("reported_on", row.reported_on) or day
        if reported < day:
            raise InvalidRecord(
                f"case {person.case_id}: reported on {reported}, before the violence on {day}"
            )
        record.check_new_date(ctx, person, reported, "report", enrolment=False)
    elif row.kind == "record_check":
        record.check_new_date(ctx, person, day, "record check", enrolment=False)
        if "occurred_on" in new:
            new["reported_on"] = day
    else:
        record.check_new_date(ctx, person, day, row.kind.replace("_", " "), enrolment=False)
    version = _keep_version(session, ctx, person, row, "corrected", reason)
    for name, value in new.items():
        setattr(row, name, value)
    if notes is not None:
        row.notes_sealed = ctx.vault.seal(notes) if notes else None
    session.flush()
    _follow_through(session, ctx, person, row)
    if row.kind == "recidivism" and _about_her(row) and not _alert_exists(session, event_id=row.id):
        alerts.after_recidivism(session, ctx, row)
    audit(
        session,
        ctx.actor,
        "correct_event",
        "participant",
        person.case_id,
        event=row.id,
        kind=row.kind,
        version=version,
        changed=changed,
    )
    return row


def void_event(
    session: Session, ctx: Context, p: Principal, event_id: int, *, reason: str
) -> Event:
    row, person = _load(session, p, "event", event_id, change=True)
    _not_voided(row, "event")
    reason = _reason(reason)
    ctx = acting(ctx, p)
    version = _keep_version(session, ctx, person, row, "voided", reason)
    row.voided_at = ctx.now()
    session.flush()
    _follow_through(session, ctx, person, row)
    audit(
        session,
        ctx.actor,
        "void_event",
        "participant",
        person.case_id,
        event=row.id,
        kind=row.kind,
        version=version,
    )
    return row


def _current(session: Session, participant_id: int, kinds, partner_id: int | None = None):
    """The latest (last recorded) event of these kinds that is not voided, or None."""
    query = sa.select(Event).where(
        Event.participant_id == participant_id, Event.kind.in_(kinds), Event.voided_at.is_(None)
    )
    if partner_id is not None:
        query = query.where(Event.partner_id == partner_id)
    return session.execute(query.order_by(Event.id.desc()).limit(1)).scalars().first()


def _follow_through(session: Session, ctx: Context, person: Participant, row: Event) -> None:
    """What the record set follows the current events: a status date (checked against the
    programme order, then re-planned) or her consent and contact flags (re-planned: a
    contact that is no longer allowed is cancelled in this transaction)."""
    if row.kind in STATUS_EVENTS:
        field = FIELD_OF_EVENT[row.kind]
        kinds = ENDINGS if field == "ended_on" else [row.kind]
        latest = _current(session, person.id, kinds)
        if field == "ended_on":
            person.ended_on = latest.occurred_on if latest else None
            person.end_reason = latest.kind if latest else None
        else:
            setattr(person, field, latest.occurred_on if latest else None)
        refuse_status_problems(person, {field})
        record.replan_person(session, ctx, person, reason=f"{row.kind.replace('_', ' ')} corrected")
    elif row.kind in PARTNER_EVENTS:
        # Only what this kind of change set follows the remaining changes: a consent date
        # that came in with the partners file has no event of its own and stays.
        her = session.get(Partner, row.partner_id)
        if row.kind == "consent_given":
            given = _current(session, person.id, ["consent_given"], her.id)
            her.consent_on = given.occurred_on if given else None  # none left: no consent
        elif row.kind == "consent_withdrawn":
            last = _current(session, person.id, ["consent_given", "consent_withdrawn"], her.id)
            her.consent_withdrawn_on = (
                last.occurred_on if last is not None and last.kind == "consent_withdrawn" else None
            )
        else:
            flag = _current(session, person.id, ["do_not_contact", "contact_allowed"], her.id)
            her.do_not_contact = flag is not None and flag.kind == "do_not_contact"
        record.replan_person(session, ctx, person, reason="partner record corrected")


# --- the history a page shows -----------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One earlier version of a record: what it said, and who replaced it, when and why."""

    version: int
    change: str  # corrected | voided
    values: dict[str, Any]
    notes: str | None
    reason: str
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True)
class RecordHistory:
    record: str
    record_id: int
    case_id: str
    kind: str  # interview, or the event's kind
    subject: str  # participant | partner
    partner_id: str | None
    current: dict[str, Any]
    notes: str | None
    voided: bool
    late: bool
    unscheduled: bool
    permitted: bool  # this person may correct or void this kind of record
    may_change: bool  # ... and it is not voided
    versions: list[Version]
    today: date


def history(
    session: Session, ctx: Context, p: Principal, kind: str, record_id: int
) -> RecordHistory:
    """A record as it is now and every earlier version, for the correction page and
    `followup record history`. Reading her record's history is an audited read."""
    row, person = _load(session, p, kind, record_id, change=False)
    fields = INTERVIEW_FIELDS if kind == "interview" else EVENT_FIELDS
    current = {name: getattr(row, name) for name in fields}
    late = unscheduled = False
    if isinstance(row, Interview):
        current["nothing_asked"] = row.nothing_asked_sealed is not None
        if row.conducted_by:
            current["conducted_by"] = session.get(Staff, row.conducted_by).name
        followup = session.get(FollowUp, row.followup_id) if row.followup_id else None
        unscheduled = followup is None
        late = followup is not None and is_late(row.conducted_on, followup.window_closes_on)
    partner_id = (
        session.execute(
            sa.select(Partner.partner_id).where(Partner.id == row.partner_id)
        ).scalar_one()
        if row.partner_id
        else None
    )
    versions = [
        Version(
            version=v.version,
            change=v.change,
            values=json.loads(v.data),
            notes=ctx.vault.open(v.notes_sealed) if v.notes_sealed else None,
            reason=ctx.vault.open(v.reason_sealed),
            changed_by=v.changed_by,
            changed_at=v.changed_at,
        )
        for v in session.execute(
            sa.select(RecordVersion)
            .where(RecordVersion.record == kind, RecordVersion.record_id == record_id)
            .order_by(RecordVersion.version.desc())
        ).scalars()
    ]
    hers = _about_her(row)
    if hers:
        audit(session, p.actor, "read_partner", "participant", person.case_id, **{kind: record_id})
    return RecordHistory(
        record=kind,
        record_id=record_id,
        case_id=person.case_id,
        kind="interview" if kind == "interview" else row.kind,
        subject="partner" if hers else "participant",
        partner_id=partner_id,
        current=current,
        notes=ctx.vault.open(row.notes_sealed) if row.notes_sealed else None,
        voided=row.voided_at is not None,
        late=late,
        unscheduled=unscheduled,
        permitted=_may_change(p, person, row),
        may_change=_may_change(p, person, row) and row.voided_at is None,
        versions=versions,
        today=ctx.site_today(person.site_code),
    )


def find_status_event(session: Session, p: Principal, case_id: str, event: str) -> int:
    """The id of a case's current record of a status change (for `followup record correct
    status CASE EVENT`): the last recorded one that is not voided."""
    event = _one_of(event, STATUS_EVENTS, "status event")
    person = session.execute(
        sa.select(Participant).where(Participant.case_id == case_id)
    ).scalar_one_or_none()
    if person is None or not policy.view_participant(p, person.site_code):
        raise NotVisible(f"no case {case_id!r} that {p.username} may see")
    found = _current(session, person.id, [event])
    if found is None:
        raise InvalidRecord(f"case {case_id}: no {event} on record to correct")
    return found.id


@dataclass(frozen=True)
class RecordLine:
    """One interview or event of a case, as `followup record history CASE` lists it."""

    record: str  # interview | event
    record_id: int
    on: date
    kind: str
    subject: str
    voided: bool
    versions: int


def records_of(session: Session, ctx: Context, p: Principal, case_id: str) -> list[RecordLine]:
    """Every interview and event of a case this person may see, with its id (what
    `followup record correct|void` take) and how many earlier versions it has."""
    person = session.execute(
        sa.select(Participant).where(Participant.case_id == case_id)
    ).scalar_one_or_none()
    if person is None or not policy.view_participant(p, person.site_code):
        raise NotVisible(f"no case {case_id!r} that {p.username} may see")
    counts = dict(
        session.execute(
            sa.select(
                RecordVersion.record + ":" + sa.cast(RecordVersion.record_id, sa.String),
                sa.func.count(),
            )
            .where(RecordVersion.participant_id == person.id)
            .group_by(RecordVersion.record, RecordVersion.record_id)
        ).all()
    )
    lines = []
    hers = False
    for kind, model, on in (
        ("interview", Interview, Interview.conducted_on),
        ("event", Event, Event.occurred_on),
    ):
        for row in session.execute(
            sa.select(model).where(model.participant_id == person.id).order_by(on, model.id)
        ).scalars():
            if not _may_see(p, person, row):
                continue
            hers = hers or _about_her(row)
            lines.append(
                RecordLine(
                    record=kind,
                    record_id=row.id,
                    on=row.conducted_on if kind == "interview" else row.occurred_on,
                    kind=f"interview ({row.informant})" if kind == "interview" else row.kind,
                    subject="partner" if _about_her(row) else "participant",
                    voided=row.voided_at is not None,
                    versions=counts.get(f"{kind}:{row.id}", 0),
                )
            )
    if hers:
        audit(session, p.actor, "read_partner", "participant", case_id, records=True)
    return sorted(lines, key=lambda line: (line.on, line.record, line.record_id))


def _one_of(value: str, choices, what: str) -> str:
    """followup.values.parse_choice, its refusal a problem with the record."""
    try:
        return parse_choice(value, choices, what)
    except ValueError as problem:
        raise InvalidRecord(str(problem)) from None
