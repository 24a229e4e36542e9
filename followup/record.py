"""Recording what happened: status changes, interviews, recidivism, checks, consent.

Each operation validates against what is already known, writes its record, re-plans
the person's follow-ups in the same transaction and leaves an audit line. So a consent
withdrawal cancels every pending contact with her before the transaction commits: there
is no moment at which a reminder to contact her could still be sent.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup import alerts, answer_store, instrument_store, lookup, wall
from followup.answers import interview_columns
from followup.audit import audit
from followup.checks import (
    FIELD_OF_EVENT,
    STATUS_DATES,
    interview_problem,
    nothing_asked,
    nothing_asked_problem,
    refuse_status_problems,
    window_problem,
)
from followup.context import Context
from followup.dispatch.outbox import cancel_stale
from followup.enrol import check_worker, protocol_for_enrolment
from followup.errors import InvalidAnswers, InvalidRecord
from followup.instruments import DEFAULT_INSTRUMENT, Instrument
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
)
from followup.replan import replan
from followup.schedule import COMPLETED, MISSED, PENDING
from followup.scoring import NOT_APPLICABLE, NOT_ASKED, ScoreResult, check_answers, scores
from followup.values import MAX_NOTES, limit_length, refuse_control

Violence = dict[str, bool | None]
Overrides = dict[str, tuple[str, str]]  # score id -> (band, reason)


def _replan(session: Session, ctx: Context, person: Participant, reason: str) -> None:
    session.flush()
    replan(session, [person.id], protocol_for_enrolment(ctx, session), reason=reason, now=ctx.now())
    # Queued reminders about follow-ups that are no longer pending die in this transaction.
    cancel_stale(session, person.id, now=ctx.now())


def replan_person(session: Session, ctx: Context, person: Participant, reason: str) -> None:
    """Re-plan one person's follow-ups as recording a change does (corrections)."""
    _replan(session, ctx, person, reason)


def check_new_date(
    ctx: Context, person: Participant, on: date, what: str, *, enrolment: bool = True
) -> None:
    """A corrected date obeys the rules a recorded one does: not after today at his
    centre, and (`enrolment`: an interview) not before his enrolment."""
    _not_future(ctx, person, on, what)
    early = interview_problem(on, person.enrolled_on) if enrolment else None
    if early:
        raise InvalidRecord(f"case {person.case_id}: {early}")


def _not_future(ctx: Context, person: Participant, on: date, what: str) -> None:
    today = ctx.site_today(person.site_code)
    if on > today:
        raise InvalidRecord(
            f"case {person.case_id}: {what} date {on} is after today ({today} at {person.site_code})"
        )


def _violence(violence: Violence | None) -> Violence:
    violence = dict(violence or {})
    unknown = set(violence) - set(VIOLENCE_TYPES)
    if unknown:
        raise InvalidRecord(
            f"unknown violence type {sorted(unknown)[0]!r}; expected {', '.join(VIOLENCE_TYPES)}"
        )
    return {kind: violence.get(kind) for kind in VIOLENCE_TYPES}


def record_status(session: Session, ctx: Context, *, case_id: str, event: str, on: date) -> Event:
    if event not in STATUS_EVENTS:
        raise InvalidRecord(
            f"unknown status event {event!r}; expected one of {', '.join(STATUS_EVENTS)}"
        )
    person = lookup.participant(session, case_id)
    _not_future(ctx, person, on, event)
    apply_status(person, event, on)
    row = Event(participant_id=person.id, kind=event, occurred_on=on, recorded_by=ctx.actor)
    session.add(row)
    _replan(session, ctx, person, reason=event.replace("_", " "))
    audit(session, ctx.actor, "record_status", "participant", case_id, event=event, on=on)
    return row


def apply_status(person, event: str, on: date, *, ignore: tuple[str, ...] = ()) -> None:
    """Set a status date on anything with a participant's date attributes (a Participant
    row, or the import's in-memory timeline), after checking it fits what is known."""
    check_status_order(person, event, on, ignore=ignore)
    _set_status(person, event, on)


def _set_status(person, event: str, on: date) -> None:
    if event == "admitted":
        person.admitted_on = on
    elif event == "programme_start":
        person.programme_start_on = on
    elif event == "completed":
        person.completed_on = on
    else:
        person.ended_on, person.end_reason = on, event


_TRIAL_FIELDS = (*STATUS_DATES, "end_reason", "case_id")  # what check_status_order reads


def check_status_order(person, event: str, on: date, *, ignore: tuple[str, ...] = ()) -> None:
    """Refuse a status date that would break a rule of followup.checks; a correction of
    the same event is fine. The message depends only on the dates, not on which of them
    was recorded first, so the CLI and every import word a conflict the same way.
    `ignore`: rules the caller checks later itself (an import, on the whole file)."""
    if event in ENDINGS and person.ended_on and person.end_reason != event:
        raise InvalidRecord(
            f"case {person.case_id}: already {person.end_reason} on {person.ended_on}"
        )
    trial = SimpleNamespace(**{name: getattr(person, name) for name in _TRIAL_FIELDS})
    _set_status(trial, event, on)
    refuse_status_problems(trial, {FIELD_OF_EVENT[event]}, ignore=ignore)


def _her(session: Session, person: Participant, partner_id: str | None) -> Partner:
    if partner_id:
        partner = lookup.partner(session, partner_id)
        if partner.participant_id != person.id:
            raise InvalidRecord(f"partner {partner_id!r} is not linked to case {person.case_id}")
        return partner
    partners = (
        session.execute(sa.select(Partner).where(Partner.participant_id == person.id))
        .scalars()
        .all()
    )
    if len(partners) == 1:
        return partners[0]
    if not partners:
        raise InvalidRecord(
            f"case {person.case_id} has no partner on record. Hint: import her first"
        )
    raise InvalidRecord(
        f"case {person.case_id} has {len(partners)} partners. Hint: say which with --partner "
        "(or a partner_id column)"
    )


def pick_followup(rows, on: date, checkpoint: str | None):
    """Which of one subject's follow-ups an interview on `on` fulfils.

    The pending one whose window holds the date; else, when a checkpoint is named, the
    pending one of that checkpoint whose window has opened, due nearest the date (an
    interview done late still completes it, and counts as late). Raises when the named
    checkpoint is already done, or when its window has not opened yet.
    `rows` are that subject's follow-ups (anything with checkpoint, status, due_on and
    window dates).
    """
    if checkpoint:
        rows = [f for f in rows if f.checkpoint == checkpoint]
    pending = [f for f in rows if f.status == PENDING]
    in_window = [f for f in pending if f.window_opens_on <= on <= f.window_closes_on]
    if len(in_window) == 1:
        return in_window[0]  # the usual case, without the arithmetic
    if in_window:
        return min(in_window, key=lambda f: abs((f.due_on - on).days))
    # Late: the window has closed. Never one whose window has not opened yet
    # (followup.checks.window_problem): that is refused, not counted as the checkpoint.
    late = [f for f in pending if f.window_opens_on <= on]
    if checkpoint and late:
        return min(late, key=lambda f: abs((f.due_on - on).days))
    if checkpoint and pending:
        first = min(pending, key=lambda f: f.window_opens_on)
        raise InvalidRecord(window_problem(on, checkpoint, first.window_opens_on))
    done = [f for f in rows if f.status == COMPLETED]
    if checkpoint and done:
        raise InvalidRecord(f"{checkpoint} was already recorded on {done[0].completed_on}")
    return None


def _matching_followup(
    session: Session, person: Participant, partner: Partner | None, checkpoint: str | None, on: date
) -> FollowUp | None:
    rows = (
        session.execute(
            sa.select(FollowUp).where(
                FollowUp.participant_id == person.id,
                FollowUp.partner_id == partner.id if partner else FollowUp.partner_id.is_(None),
            )
        )
        .scalars()
        .all()
    )
    try:
        return pick_followup(rows, on, checkpoint)
    except InvalidRecord as exc:
        who = "the partner's" if partner else "the participant's"
        raise InvalidRecord(f"case {person.case_id}: {who} {exc}") from None


def _chosen_followup(
    session: Session, person: Participant, partner: Partner | None, followup_id: int
) -> FollowUp:
    followup = session.get(FollowUp, followup_id)
    if (
        followup is None
        or followup.participant_id != person.id
        or followup.partner_id != (partner.id if partner else None)
    ):
        who = f"partner {partner.partner_id}" if partner else f"case {person.case_id}"
        raise InvalidRecord(f"follow-up {followup_id} is not one of {who}'s")
    if followup.status != PENDING:
        raise InvalidRecord(
            f"case {person.case_id}: {followup.checkpoint} is already {followup.status}"
        )
    return followup


def record_interview(
    session: Session,
    ctx: Context,
    *,
    case_id: str,
    informant: str,
    on: date,
    partner_id: str | None = None,
    checkpoint: str | None = None,
    by: str | None = None,
    mode: str | None = None,
    violence: Violence | None = None,
    felt_safety: int | None = None,
    risk_level: str | None = None,
    notes: str | None = None,
    import_key: str | None = None,
    followup_id: int | None = None,
    unscheduled: bool = False,
    nothing_asked_reason: str | None = None,
    answers: dict[str, str] | None = None,
    score_overrides: Overrides | None = None,
    instrument_id: str | None = None,
) -> Interview:
    """`followup_id`: the follow-up this interview fulfils, when the caller knows it (the
    web's Record interview page); otherwise it is picked by date and checkpoint.

    `unscheduled`: a contact that fulfils no follow-up (kept and shown, never counted as a
    checkpoint's outcome). `nothing_asked_reason`: the interview was held but nothing was
    asked, and why; without it a form with no answer does not complete a follow-up.

    `answers`: {item: text} to the checkpoint's instrument (the revision in force; `core`
    for a checkpoint that names none, or an unscheduled contact) instead of the violence,
    felt-safety and risk-level columns, which are then filled from what the items mean
    (followup.answers.interview_columns). Problems raise InvalidAnswers, item by item.
    `score_overrides`: {score: (band, reason)}, a professional judgement moving a score's
    band (scores with `override = true` only; the reason is required and sealed).
    `instrument_id`: the instrument the answers are to, when the caller knows it better
    than the checkpoint (an unscheduled contact recorded from a follow-up's page asks
    that follow-up's questionnaire)."""
    if answers is None and score_overrides:
        raise InvalidRecord("a band override needs the instrument's answers")
    if answers is not None and (
        any(v is not None for v in (violence or {}).values())
        or felt_safety is not None
        or risk_level is not None
    ):
        raise InvalidRecord(
            "give the instrument's answers or the violence, felt-safety and risk columns, not both"
        )
    person = lookup.participant(session, case_id)
    _not_future(ctx, person, on, "interview")
    early = interview_problem(on, person.enrolled_on)
    if early:
        raise InvalidRecord(f"case {case_id}: {early}")
    if informant not in ("participant", "partner"):
        raise InvalidRecord(f"informant must be participant or partner, got {informant!r}")
    if mode is not None and mode not in INTERVIEW_MODES:
        raise InvalidRecord(f"unknown mode {mode!r}; expected one of {', '.join(INTERVIEW_MODES)}")
    if risk_level is not None and risk_level not in RISK_LEVELS:
        raise InvalidRecord(
            f"unknown risk level {risk_level!r}; expected one of {', '.join(RISK_LEVELS)}"
        )
    if felt_safety is not None and not 1 <= felt_safety <= 5:
        raise InvalidRecord(f"felt safety is 1 (very unsafe) to 5 (very safe), got {felt_safety}")
    if checkpoint is not None:
        protocol = ctx.protocol_at(session, person.protocol_revision)
        if protocol.checkpoint(checkpoint, informant) is None:
            names = sorted({c.name for c in protocol.checkpoints if c.subject == informant})
            raise InvalidRecord(
                f"protocol {protocol.id} has no {informant} checkpoint {checkpoint!r}; "
                f"expected one of {', '.join(names)}"
            )
    partner = _her(session, person, partner_id) if informant == "partner" else None
    if partner is not None and partner.consent_withdrawn_on and on >= partner.consent_withdrawn_on:
        raise InvalidRecord(
            f"partner {partner.partner_id} withdrew consent on {partner.consent_withdrawn_on}; "
            "an interview after that date cannot be recorded"
        )
    worker_id = None
    if by:
        worker = lookup.staff(session, by)
        check_worker(worker, "partner_support" if partner else "facilitator", person.site_code)
        if partner is not None:
            wall.check_interviewer(worker, person)
        worker_id = worker.id
    if unscheduled:
        if checkpoint is not None or followup_id is not None:
            raise InvalidRecord(
                f"case {case_id}: an unscheduled contact fulfils no checkpoint; "
                "leave the checkpoint out"
            )
        followup = None
    elif followup_id is not None:
        followup = _chosen_followup(session, person, partner, followup_id)
    else:
        followup = _matching_followup(session, person, partner, checkpoint, on)
    instrument = checked = results = None
    if answers is not None:
        if instrument_id is not None:
            if instrument_id not in ctx.instruments:
                raise InvalidRecord(
                    f"no instrument {instrument_id!r}; expected one of "
                    f"{', '.join(sorted(ctx.instruments))}"
                )
            instrument = instrument_store.applied(
                session, ctx.instruments, instrument_id, ctx.now()
            )
        else:
            name = checkpoint or (followup.checkpoint if followup else None)
            instrument = instrument_for(session, ctx, person, name, informant)
        checked, results = _checked(instrument, answers, score_overrides or {})
        columns = interview_columns(instrument, checked)
        asked = was_asked(checked)
    else:
        columns = {**_violence(violence), "felt_safety": felt_safety, "risk_level": risk_level}
        asked = None
    check_interview_fits(person, followup, on, columns, nothing_asked_reason, asked=asked)
    interview = Interview(
        participant_id=person.id,
        partner_id=partner.id if partner else None,
        informant=informant,
        checkpoint=checkpoint or (followup.checkpoint if followup else None),
        conducted_on=on,
        conducted_by=worker_id,
        mode=mode,
        import_key=import_key,
        followup_id=followup.id if followup else None,
        notes_sealed=ctx.vault.seal(notes) if notes else None,
        nothing_asked_sealed=ctx.vault.seal(nothing_asked_reason) if nothing_asked_reason else None,
        **columns,
    )
    if instrument is not None:
        interview.instrument, interview.instrument_revision = instrument.id, instrument.revision
    session.add(interview)
    if followup is not None:
        followup.status, followup.completed_on = COMPLETED, on
    session.flush()
    alarm = None
    if instrument is not None:
        answer_store.write(session, ctx.vault, interview.id, instrument, checked, results)
        for score_id, (band, reason) in (score_overrides or {}).items():
            answer_store.override_band(
                session, ctx.vault, interview.id, score_id, band, reason.strip(), ctx.actor
            )
        alarm = alert_band(instrument, results, score_overrides or {})
    cancel_stale(session, person.id, now=ctx.now())
    alerts.after_interview(session, ctx, interview, reason=alarm)
    audit(
        session,
        ctx.actor,
        "record_interview",
        "participant",
        case_id,
        informant=informant,
        checkpoint=interview.checkpoint,
        **_marks(
            unscheduled=followup is None,
            late=followup is not None and on > followup.window_closes_on,
            nothing_asked=bool(nothing_asked_reason),
        ),
        # Which instrument and which bands were overridden; never an answer or a reason.
        **(
            {"instrument": instrument.id, "revision": instrument.revision}
            if instrument is not None
            else {}
        ),
        **({"overridden": sorted(score_overrides)} if score_overrides else {}),
    )
    return interview


def was_asked(answers: dict[str, str]) -> bool:
    """Whether an instrument's interview asked anything: an answer, or "don't know" or
    "refused" (she was asked); only not_asked / not_applicable everywhere is nothing."""
    return any(value not in (NOT_ASKED, NOT_APPLICABLE) for value in answers.values())


def instrument_for(
    session: Session, ctx: Context, person: Participant, checkpoint: str | None, informant: str
) -> Instrument:
    """The instrument a checkpoint asks, at the revision in force (followup.instrument_store):
    `core` when the checkpoint names none, or when there is no checkpoint (unscheduled)."""
    name = DEFAULT_INSTRUMENT
    if checkpoint is not None:
        protocol = ctx.protocol_at(session, person.protocol_revision)
        name = protocol.instrument_for(checkpoint, informant)
    return instrument_store.applied(session, ctx.instruments, name, ctx.now())


def _checked(
    instrument: Instrument, given: dict[str, str], overrides: Overrides
) -> tuple[dict[str, str], list[ScoreResult]]:
    """The answers to store and their scores, or InvalidAnswers with every problem."""
    checked = check_answers(
        instrument, {str(k): None if v is None else str(v) for k, v in given.items()}
    )
    override_problems = {
        score_id: problem
        for score_id, (band, reason) in overrides.items()
        if (problem := override_problem(instrument, score_id, band, reason))
    }
    if checked.problems or override_problems:
        raise InvalidAnswers(instrument.id, checked.problems, override_problems)
    return checked.answers, scores(instrument, checked.answers)


def override_problem(instrument: Instrument, score_id: str, band: str, reason: str) -> str | None:
    """What is wrong with overriding `score_id`'s band to `band` for `reason`, or None."""
    score = instrument.score(score_id)
    if score is None:
        known = [s.id for s in instrument.scores if s.override]
        return f"not a score of {instrument.id} that may be overridden; " + (
            f"expected {', '.join(known)}" if known else "none may be"
        )
    if not score.override:
        return f"{instrument.id} does not let a professional judgement move this score's band"
    labels = [b.label for b in score.bands]
    if band not in labels:
        return f"band {band!r} is not one of {', '.join(labels)}"
    text = (reason or "").strip()
    if not text:
        return "say why the band is overridden (the reason is kept, sealed)"
    try:
        limit_length(refuse_control(text, "reason", allow="\n\t\r"), "reason", MAX_NOTES)
    except ValueError as exc:
        return str(exc)
    return None


def alert_band(
    instrument: Instrument, results: list[ScoreResult], overrides: Overrides
) -> str | None:
    """Why a score raises a safety alert: "INSTRUMENT.SCORE: BAND" for the first score whose
    band (after a professional's override) is its `alert_at` (a band the instrument file
    names, so the audit line says nothing the file does not); None when none is."""
    for result in results:
        definition = instrument.score(result.score)
        band = overrides[result.score][0] if result.score in overrides else result.band
        if definition is not None and definition.alert_at and band == definition.alert_at:
            return f"{instrument.id}.{result.score}: {band}"
    return None


def _marks(**flags: bool) -> dict[str, bool]:
    return {name: True for name, on in flags.items() if on}


def check_interview_fits(
    person: Participant,
    followup,
    on: date,
    answers: dict,
    nothing_asked_reason: str | None,
    *,
    asked: bool | None = None,
) -> None:
    """The rules between an interview and the follow-up it fulfils (followup.checks): not
    before its window opens; an interview with no answer completes it only as "held,
    nothing asked" with a reason. Also read when an interview is corrected. `asked`:
    whether any question was asked, when the caller knows (an instrument's answers:
    `was_asked`); otherwise read from the columns in `answers`."""
    none_asked = nothing_asked(answers) if asked is None else not asked
    if nothing_asked_reason is not None and not nothing_asked_reason.strip():
        raise InvalidRecord(f"case {person.case_id}: say why nothing was asked")
    if nothing_asked_reason and not none_asked:
        raise InvalidRecord(
            f"case {person.case_id}: answers were given; "
            "'held, nothing asked' is for an interview with none"
        )
    if followup is None:
        return
    early = window_problem(on, followup.checkpoint, followup.window_opens_on)
    if early:
        raise InvalidRecord(f"case {person.case_id}: {early}")
    if none_asked and not nothing_asked_reason:
        raise InvalidRecord(f"case {person.case_id}: {nothing_asked_problem(followup.checkpoint)}")


def record_recidivism(
    session: Session,
    ctx: Context,
    *,
    case_id: str,
    on: date,
    source: str,
    reported_on: date | None = None,
    violence: Violence | None = None,
    partner_id: str | None = None,
    notes: str | None = None,
    import_key: str | None = None,
) -> Event:
    person = lookup.participant(session, case_id)
    if source not in REPORT_SOURCES:
        raise InvalidRecord(
            f"unknown source {source!r}; expected one of {', '.join(REPORT_SOURCES)}"
        )
    reported_on = reported_on or on
    if reported_on < on:
        raise InvalidRecord(
            f"case {case_id}: reported on {reported_on}, before the violence on {on}"
        )
    _not_future(ctx, person, reported_on, "report")
    partner = _her(session, person, partner_id) if partner_id else None
    event = Event(
        participant_id=person.id,
        partner_id=partner.id if partner else None,
        kind="recidivism",
        occurred_on=on,
        reported_on=reported_on,
        source=source,
        recorded_by=ctx.actor,
        notes_sealed=ctx.vault.seal(notes) if notes else None,
        import_key=import_key,
        **_violence(violence),
    )
    session.add(event)
    session.flush()
    alerts.after_recidivism(session, ctx, event)
    audit(session, ctx.actor, "record_recidivism", "participant", case_id, source=source)
    return event


def record_check(
    session: Session,
    ctx: Context,
    *,
    case_id: str,
    on: date,
    new_offence: bool,
    import_key: str | None = None,
) -> Event:
    """A police record check. One that finds nothing is follow-up information too: the
    survival analysis counts him as observed offence-free up to that date."""
    person = lookup.participant(session, case_id)
    _not_future(ctx, person, on, "record check")
    event = Event(
        participant_id=person.id,
        kind="record_check",
        occurred_on=on,
        reported_on=on,
        source="police",
        new_offence=new_offence,
        recorded_by=ctx.actor,
        import_key=import_key,
    )
    session.add(event)
    session.flush()
    audit(session, ctx.actor, "record_check", "participant", case_id, new_offence=new_offence)
    return event


def set_consent(
    session: Session, ctx: Context, *, partner_id: str, on: date, given: bool
) -> Partner:
    """Consent given or withdrawn. Withdrawal cancels every pending contact at once."""
    partner = lookup.partner(session, partner_id)
    person = session.get(Participant, partner.participant_id)
    _not_future(ctx, person, on, "consent")
    if given:
        partner.consent_on, partner.consent_withdrawn_on = on, None
    else:
        partner.consent_withdrawn_on = on
    _partner_changed(
        session, ctx, person, partner, "consent_given" if given else "consent_withdrawn", on
    )
    return partner


def set_do_not_contact(
    session: Session, ctx: Context, *, partner_id: str, flag: bool, on: date | None = None
) -> Partner:
    """`on` defaults to today at her case's centre."""
    partner = lookup.partner(session, partner_id)
    person = session.get(Participant, partner.participant_id)
    on = on or ctx.site_today(person.site_code)
    _not_future(ctx, person, on, "do-not-contact")
    partner.do_not_contact = flag
    _partner_changed(
        session, ctx, person, partner, "do_not_contact" if flag else "contact_allowed", on
    )
    return partner


def _partner_changed(
    session: Session, ctx: Context, person: Participant, partner: Partner, kind: str, on: date
) -> None:
    """Record a change in whether she may be contacted, and re-plan at once: a
    withdrawal or do-not-contact cancels her pending contacts in this transaction."""
    session.add(
        Event(
            participant_id=person.id,
            partner_id=partner.id,
            kind=kind,
            occurred_on=on,
            recorded_by=ctx.actor,
        )
    )
    _replan(session, ctx, person, reason=kind.replace("_", " "))
    audit(session, ctx.actor, kind, "partner", partner.partner_id)


def record_missed(
    session: Session,
    ctx: Context,
    *,
    case_id: str,
    checkpoint: str,
    informant: str = "participant",
    partner_id: str | None = None,
    on: date,
    followup_id: int | None = None,
    reason: str | None = None,
) -> FollowUp:
    """Close a follow-up that will not happen (unreachable, refused): it counts as missed.
    `followup_id`: that follow-up, when the caller knows it (the web); `reason`: why,
    a word from a short list (followup.operations.followups.MISSED_REASONS), audited."""
    person = lookup.participant(session, case_id)
    partner = _her(session, person, partner_id) if informant == "partner" else None
    if followup_id is not None:
        followup = _chosen_followup(session, person, partner, followup_id)
    else:
        followup = _matching_followup(session, person, partner, checkpoint, on)
    if followup is None:
        raise InvalidRecord(f"case {case_id}: no pending {informant} follow-up {checkpoint!r}")
    followup.status = MISSED
    session.flush()
    cancel_stale(session, person.id, now=ctx.now())
    audit(
        session,
        ctx.actor,
        "record_missed",
        "participant",
        case_id,
        checkpoint=checkpoint,
        informant=informant,
        **({"followup": followup.id, "reason": reason} if reason else {}),
    )
    return followup
