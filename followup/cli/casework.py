"""`followup enrol`, `followup record …`, `followup due`: the casework commands. Each
parses its arguments, calls one operation (followup.operations, followup.enrol,
followup.record) and prints what it answers."""

from __future__ import annotations

import sys
from functools import wraps

import click

from followup import vocab
from followup.cli.common import (
    DATE,
    TABLE_BLOCK,
    YES_NO,
    as_option,
    blocks,
    config_option,
    echo_json_list,
    format_option,
    free_text,
    in_transaction,
    open_context,
    principal,
    table,
)
from followup.errors import ConfigError

# --- enrol ---------------------------------------------------------------------


@click.command()
@config_option
@click.argument("case_id")
@click.option("--site", required=True, help="Site code from config.toml, e.g. BG.")
@click.option(
    "--referral-source",
    required=True,
    help="prosecutor, court, social_work_centre, police, self or other.",
)
@click.option(
    "--enrolled-on", type=DATE, default=None, help="Enrolment date. Default: today at the site."
)
@click.option(
    "--protocol", default=None, help="Protocol id. Default: protocols.default in config.toml."
)
@click.option("--facilitator", default=None, help="staff_id of the facilitator.")
@as_option
def enrol(config_path, case_id, site, referral_source, enrolled_on, protocol, facilitator, as_user):
    """Enrol one participant into a follow-up protocol."""
    from followup.db import transaction
    from followup.operations.records import enrol as do_enrol
    from followup.values import parse_identifier

    ctx = open_context(config_path)
    try:
        case_id = parse_identifier(case_id, "case id")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="CASE_ID") from None
    with transaction(ctx.engine) as session:
        ctx.sync_sites(session)
        person = do_enrol(
            session,
            ctx,
            principal(session, ctx, as_user),
            case_id=case_id,
            site=site,
            referral_source=referral_source,
            enrolled_on=enrolled_on
            or (
                ctx.site_today(site)
                if site in ctx.config.sites
                else ctx.now().date()  # do_enrol refuses the unknown site
            ),
            protocol_id=protocol,
            facilitator=facilitator,
        )
    click.echo(
        f"Enrolled {person.case_id} at {person.site_code} on {person.enrolled_on} "
        f"({person.protocol_id}, revision {person.protocol_revision})."
    )


# --- record --------------------------------------------------------------------


@click.group()
def record():
    """Record what happened: status changes, interviews, recidivism, checks, consent."""


def _violence_options(func):
    """--physical … --stalking, handed to the command as one `violence` dict."""
    kinds = vocab.VIOLENCE_TYPES

    @wraps(func)
    def collect(*args, **kwargs):
        return func(*args, violence={kind: kwargs.pop(kind) for kind in kinds}, **kwargs)

    for kind in reversed(kinds):
        collect = click.option(
            f"--{kind}",
            type=YES_NO,
            default=None,
            help=f"{kind.capitalize()} violence since the last contact: yes or no (omit: not asked).",
        )(collect)
    return collect


@record.command("status")
@config_option
@as_option
@click.argument("case_id")
@click.argument(
    "event",
    metavar="EVENT",
    type=click.Choice(vocab.STATUS_EVENTS),
)
@click.option("--on", "on", type=DATE, required=True, help="Date of the change.")
def record_status(config_path, as_user, case_id, event, on):
    """Record admission, programme start, completion, dropout, exclusion or transfer."""
    from followup.operations.records import record_status as do

    in_transaction(
        config_path, as_user, lambda s, c, p: do(s, c, p, case_id=case_id, event=event, on=on)
    )
    click.echo(f"Recorded {event} for {case_id} on {on}; follow-ups re-planned.")


@record.command("interview")
@config_option
@as_option
@click.argument("case_id")
@click.option(
    "--informant",
    type=click.Choice(vocab.INFORMANTS),
    required=True,
    help="Whose account this is.",
)
@click.option(
    "--partner", "partner_id", default=None, help="partner_id, when the case has several partners."
)
@click.option(
    "--checkpoint",
    default=None,
    help="Checkpoint name; default: the follow-up whose window holds the date.",
)
@click.option("--on", "on", type=DATE, required=True, help="Date of the interview.")
@click.option("--by", default=None, help="staff_id of the interviewer.")
@click.option(
    "--mode",
    type=click.Choice(vocab.INTERVIEW_MODES),
    default=None,
    help="How it was held.",
)
@_violence_options
@click.option(
    "--felt-safety",
    type=click.IntRange(1, 5),
    default=None,
    help="1 (very unsafe) to 5 (very safe).",
)
@click.option(
    "--risk",
    type=click.Choice(vocab.RISK_LEVELS),
    default=None,
    help="Assessed risk level.",
)
@click.option(
    "--notes", default=None, help="Free text; stored encrypted. Use - to read from stdin."
)
@click.option(
    "--unscheduled",
    is_flag=True,
    help="A contact that fulfils no follow-up (e.g. before a window opens): kept and shown, "
    "never counted as a checkpoint's outcome.",
)
@click.option(
    "--nothing-asked",
    "nothing_asked",
    default=None,
    metavar="REASON",
    help="The interview was held but nothing was asked, and why (stored encrypted). "
    "Without it an interview with no answer does not complete its follow-up.",
)
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE.json",
    help="The answers to the checkpoint's instrument, a JSON object {item: value} (an option "
    "code, a number, a date or a missing code such as dont_know), instead of --physical … "
    "--risk. Problems are listed item by item and nothing is recorded.",
)
@click.option(
    "--override",
    "overrides",
    multiple=True,
    metavar="SCORE=BAND",
    help="A professional judgement moving a score's band (scores that allow it); repeat for "
    "several. Needs --answers and --override-reason.",
)
@click.option(
    "--override-reason",
    default=None,
    help="Why the band is overridden (stored encrypted, never in the audit trail).",
)
@click.option(
    "--safe-to-talk",
    "safe_to_talk",
    type=click.Choice(["yes", "no"]),
    default=None,
    help="Required with --informant partner: was it safe for her to talk? no: no interview "
    "is recorded, an unsafe_to_talk contact attempt is (try again at her next safe time).",
)
@click.option(
    "--plan-confirmed",
    is_flag=True,
    help="Her safe-contact plan was gone through with her in this contact (partner only).",
)
def record_interview(
    config_path,
    as_user,
    case_id,
    informant,
    partner_id,
    checkpoint,
    on,
    by,
    mode,
    violence,
    felt_safety,
    risk,
    notes,
    unscheduled,
    nothing_asked,
    answers_file,
    overrides,
    override_reason,
    safe_to_talk,
    plan_confirmed,
):
    """Record an interview and the violence reported since the last contact, or (with
    --answers) the answers to the checkpoint's instrument.

    An interview before its follow-up's window opens is refused (record it with
    --unscheduled); one after the window closes completes it as late. An interview with
    her starts with --safe-to-talk yes|no."""
    from followup.errors import InvalidAnswers
    from followup.operations.records import record_interview as do

    if informant == "partner" and safe_to_talk is None:
        raise click.UsageError(
            "--safe-to-talk: required for an interview with her: yes, or no (then no "
            "interview is recorded, an unsafe_to_talk attempt is)"
        )
    if informant != "partner" and (safe_to_talk or plan_confirmed):
        raise click.UsageError("--safe-to-talk and --plan-confirmed: only with --informant partner")
    if safe_to_talk == "no":
        from followup.operations.records import record_unsafe_to_talk

        attempt = in_transaction(
            config_path,
            as_user,
            lambda s, c, p: record_unsafe_to_talk(
                s,
                c,
                p,
                case_id=case_id,
                partner_id=partner_id,
                checkpoint=checkpoint,
                on=on,
                mode=mode,
            ),
        )
        click.echo(
            f"Not safe to talk: no interview recorded; an unsafe_to_talk attempt is recorded "
            f"on follow-up {attempt.followup_id}. Try again at her next safe time."
        )
        return

    if notes == "-":
        notes = sys.stdin.read()
    notes = free_text(notes, "--notes")
    nothing_asked = free_text(nothing_asked, "--nothing-asked")
    answers = read_answers(answers_file) if answers_file is not None else None
    score_overrides = _overrides(overrides, override_reason, answers is not None)
    if answers is not None and (
        any(v is not None for v in violence.values()) or felt_safety is not None or risk
    ):
        raise click.UsageError(
            "give --answers or --physical … --risk, not both (the instrument's items hold them)"
        )
    try:
        interview = in_transaction(
            config_path,
            as_user,
            lambda s, c, p: do(
                s,
                c,
                p,
                case_id=case_id,
                informant=informant,
                partner_id=partner_id,
                checkpoint=checkpoint,
                on=on,
                by=by,
                mode=mode,
                violence=violence,
                felt_safety=felt_safety,
                risk_level=risk,
                notes=notes,
                unscheduled=unscheduled,
                nothing_asked_reason=nothing_asked,
                plan_confirmed=plan_confirmed,
                **(
                    {"answers": answers, "score_overrides": score_overrides}
                    if answers is not None
                    else {}
                ),
            ),
        )
    except InvalidAnswers as refused:
        for item, problem in refused.problems.items():
            click.echo(f"{answers_file}: {item}: {problem}", err=True)
        for score, problem in refused.override_problems.items():
            click.echo(f"--override {score}: {problem}", err=True)
        click.echo(
            f"Error: {answers_file}: {len(refused.problems) + len(refused.override_problems)} "
            f"problem(s) in the {refused.instrument} answers; nothing was recorded",
            err=True,
        )
        sys.exit(1)
    if interview.followup_id is None:
        done = " as an unscheduled contact" + (
            "" if unscheduled else " (no pending follow-up matched)"
        )
    else:
        done = f"; follow-up {interview.checkpoint} completed" + (
            ", late (after its window closed)" if interview.late else ""
        )
    click.echo(
        f"Recorded the {informant} interview for {case_id} on {on}{done} "
        f"(interview {interview.id})."
    )
    for score in interview.scores:
        click.echo(f"  {score}")


def read_answers(path: str) -> dict[str, str | None]:
    """A --answers file: one JSON object {item: value}, values as text or numbers (null:
    not answered). Errors name the file and the fix."""
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            given = json.load(handle)
    except OSError as exc:
        raise click.BadParameter(f"{path}: {exc.strerror}", param_hint="--answers") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.BadParameter(
            f"{path}: not JSON ({exc}). Hint: write one object such as "
            '{"physical_times": "none", "felt_safety": 4}',
            param_hint="--answers",
        ) from None
    if not isinstance(given, dict):
        raise click.BadParameter(
            f'{path}: expected one JSON object {{"item": value, ...}}, got a {type(given).__name__}',
            param_hint="--answers",
        )
    answers: dict[str, str | None] = {}
    for item, value in given.items():
        if value is None or isinstance(value, str):
            answers[item] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            answers[item] = f"{value:g}" if isinstance(value, float) else str(value)
        else:
            raise click.BadParameter(
                f"{path}: {item}: expected text or a number, got {json.dumps(value)}",
                param_hint="--answers",
            )
    return answers


def _overrides(
    given: tuple[str, ...], reason: str | None, has_answers: bool
) -> dict[str, tuple[str, str]]:
    """--override SCORE=BAND (repeatable) with the one --override-reason."""
    if not given:
        if reason is not None:
            raise click.UsageError("--override-reason goes with --override SCORE=BAND")
        return {}
    if not has_answers:
        raise click.UsageError("--override moves a band of the --answers' scores; give --answers")
    if not reason or not reason.strip():
        raise click.UsageError("--override needs --override-reason: say why (kept encrypted)")
    reason = free_text(reason, "--override-reason")
    found: dict[str, tuple[str, str]] = {}
    for pair in given:
        score, equals, band = pair.partition("=")
        if not equals or not score.strip() or not band.strip():
            raise click.BadParameter(
                f"{pair!r}: write SCORE=BAND, e.g. risk_total=high", param_hint="--override"
            )
        found[score.strip()] = (band.strip(), reason)
    return found


@record.command("recidivism")
@config_option
@as_option
@click.argument("case_id")
@click.option("--on", "on", type=DATE, required=True, help="Date of the violence.")
@click.option("--reported-on", type=DATE, default=None, help="Date it was reported. Default: --on.")
@click.option(
    "--source",
    type=click.Choice(vocab.REPORT_SOURCES),
    required=True,
    help="Who reported it.",
)
@click.option(
    "--partner", "partner_id", default=None, help="partner_id of the partner concerned, if any."
)
@_violence_options
@click.option("--notes", default=None, help="Free text; stored encrypted.")
def record_recidivism(
    config_path,
    as_user,
    case_id,
    on,
    reported_on,
    source,
    partner_id,
    violence,
    notes,
):
    """Record a report of new violence."""
    from followup.operations.records import record_recidivism as do

    notes = free_text(notes, "--notes")
    in_transaction(
        config_path,
        as_user,
        lambda s, c, p: do(
            s,
            c,
            p,
            case_id=case_id,
            on=on,
            reported_on=reported_on,
            source=source,
            partner_id=partner_id,
            violence=violence,
            notes=notes,
        ),
    )
    click.echo(f"Recorded a recidivism report for {case_id} ({source}, {on}).")


@record.command("check")
@config_option
@as_option
@click.argument("case_id")
@click.option("--on", "on", type=DATE, required=True, help="Date of the police record check.")
@click.option(
    "--new-offence/--no-new-offence", required=True, help="Whether the check found a new offence."
)
def record_check(config_path, as_user, case_id, on, new_offence):
    """Record a police record check (one that finds nothing is information too)."""
    from followup.operations.records import record_check as do

    in_transaction(
        config_path,
        as_user,
        lambda s, c, p: do(s, c, p, case_id=case_id, on=on, new_offence=new_offence),
    )
    click.echo(
        f"Recorded a record check for {case_id} on {on}: "
        f"{'new offence' if new_offence else 'no new offence'}."
    )


@record.command("consent")
@config_option
@as_option
@click.argument("partner_id")
@click.option(
    "--withdrawn",
    "action",
    flag_value="withdrawn",
    help="She withdrew consent: every pending contact is cancelled.",
)
@click.option("--given", "action", flag_value="given", help="She gave consent.")
@click.option("--on", "on", type=DATE, required=True, help="Date of the decision.")
def record_consent(config_path, as_user, partner_id, action, on):
    """Record a partner's consent, or its withdrawal."""
    from followup.operations.records import set_consent

    if action is None:
        raise click.UsageError("say --given or --withdrawn")
    in_transaction(
        config_path,
        as_user,
        lambda s, c, p: set_consent(s, c, p, partner_id=partner_id, on=on, given=action == "given"),
    )
    if action == "withdrawn":
        click.echo(
            f"Consent withdrawn for {partner_id}; every pending contact with her is cancelled."
        )
    else:
        click.echo(f"Consent recorded for {partner_id}; her follow-ups are planned.")


@record.command("do-not-contact")
@config_option
@as_option
@click.argument("partner_id")
@click.option("--lift", is_flag=True, help="Lift the flag instead of setting it.")
@click.option(
    "--on",
    "on",
    type=DATE,
    default=None,
    help="Date of the decision. Default: today at her centre.",
)
def record_do_not_contact(config_path, as_user, partner_id, lift, on):
    """Flag a partner as not to be contacted: every pending contact is cancelled at once."""
    from followup.operations.records import set_do_not_contact

    in_transaction(
        config_path,
        as_user,
        lambda s, c, p: set_do_not_contact(s, c, p, partner_id=partner_id, flag=not lift, on=on),
    )
    click.echo(
        f"{'Lifted the do-not-contact flag for' if lift else 'Do not contact:'} {partner_id}."
    )


@record.command("missed")
@config_option
@as_option
@click.argument("case_id")
@click.option("--checkpoint", required=True, help="Checkpoint name.")
@click.option(
    "--informant",
    type=click.Choice(vocab.INFORMANTS),
    default="participant",
    help="Whose follow-up.",
)
@click.option(
    "--partner", "partner_id", default=None, help="partner_id, when the case has several partners."
)
@click.option("--on", "on", type=DATE, required=True, help="Date it was given up.")
def record_missed(config_path, as_user, case_id, checkpoint, informant, partner_id, on):
    """Close a follow-up that will not happen (unreachable, refused)."""
    from followup.operations.records import record_missed as do

    in_transaction(
        config_path,
        as_user,
        lambda s, c, p: do(
            s,
            c,
            p,
            case_id=case_id,
            checkpoint=checkpoint,
            informant=informant,
            partner_id=partner_id,
            on=on,
        ),
    )
    click.echo(f"Marked {case_id} {informant} {checkpoint} as missed.")


class InstantType(click.ParamType):
    name = "ISO-INSTANT"

    def convert(self, value, param, ctx):
        from followup.attempt_rules import parse_attempted_at

        try:
            return parse_attempted_at(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@record.command("attempt")
@config_option
@as_option
@click.argument("case_id")
@click.argument("checkpoint")
@click.option(
    "--outcome",
    type=click.Choice(vocab.ATTEMPT_OUTCOMES),
    required=True,
    help="What came of it.",
)
@click.option(
    "--channel",
    type=click.Choice(vocab.CONTACT_CHANNELS),
    required=True,
    help="How she or he was tried.",
)
@click.option(
    "--partner", "partner_id", default=None, help="partner_id: her follow-up (default: his)."
)
@click.option(
    "--at",
    "attempted_at",
    type=InstantType(),
    default=None,
    help="When: an ISO instant with its offset (2026-11-30T10:05+01:00), or a local "
    "YYYY-MM-DDTHH:MM read in the case's site zone. Default: now.",
)
@click.option("--by", default=None, help="staff_id of whoever made the attempt.")
@click.option("--note", default=None, help="Free text; stored encrypted.")
@click.option(
    "--override-reason",
    default=None,
    help="Why an attempt outside her safe-contact plan was made (stored encrypted, audited).",
)
@click.option(
    "--plan-confirmed",
    is_flag=True,
    help="She re-confirmed her safe-contact plan at this contact (outcome reached only).",
)
def record_attempt(
    config_path,
    as_user,
    case_id,
    checkpoint,
    outcome,
    channel,
    partner_id,
    attempted_at,
    by,
    note,
    override_reason,
    plan_confirmed,
):
    """Record one attempt to reach a person for a follow-up (a call, a text, a visit).

    Her follow-ups obey her safe-contact plan: an attempt by a channel she did not allow
    or outside her safe times is refused unless --override-reason says why."""
    from followup.operations.attempts import attempt_followup
    from followup.operations.attempts import record_attempt as do

    note = free_text(note, "--note")
    override_reason = free_text(override_reason, "--override-reason")

    def run(s, c, p):
        followup_id = attempt_followup(
            s,
            c,
            p,
            case_id=case_id,
            checkpoint=checkpoint,
            partner_id=partner_id,
            attempted_at=attempted_at,
        )
        return do(
            s,
            c,
            p,
            followup_id,
            outcome=outcome,
            channel=channel,
            attempted_at=attempted_at,
            by=by,
            note=note,
            override_reason=override_reason,
            plan_confirmed=plan_confirmed,
        )

    done = in_transaction(config_path, as_user, run)
    who = f"partner {done.partner_id}" if done.partner_id else done.subject
    click.echo(
        f"Recorded a {done.outcome} attempt by {done.channel} on {case_id} {who} "
        f"{done.checkpoint} at {done.attempted_at:%Y-%m-%dT%H:%MZ} "
        f"(attempts: {done.attempts}; follow-up {done.status})."
    )
    if done.override:
        click.echo("Outside her safe-contact plan: recorded with your reason (audited).")
    if done.no_plan:
        click.echo("She has no safe-contact plan on record: ask her for one.")
    if done.plan_confirmed_on:
        click.echo(f"Her safe-contact plan is confirmed as of {done.plan_confirmed_on}.")


# --- corrections: `followup record correct|void|history` -------------------------


def _reason_option(func):
    return click.option(
        "--reason",
        required=True,
        help="Why (kept with the earlier version, stored encrypted; shown in the timeline).",
    )(func)


@record.group("correct")
def correct():
    """Correct an interview, an event or a status date; the earlier version is kept."""


@record.group("void")
def void():
    """Void an interview, an event or a status change recorded in error (kept, shown as
    void, counted nowhere)."""


def _say_kept(what: str, row_id: int) -> None:
    click.echo(
        f"Corrected {what} {row_id}; the earlier version is kept "
        f"(followup record history {what} {row_id})."
    )


@correct.command("interview")
@config_option
@as_option
@click.argument("interview_id", type=click.IntRange(min=1))
@click.option("--on", "on", type=DATE, default=None, help="The right date of the interview.")
@click.option(
    "--mode", type=click.Choice(vocab.INTERVIEW_MODES), default=None, help="How it was held."
)
@_violence_options
@click.option("--felt-safety", type=click.IntRange(1, 5), default=None, help="1 to 5.")
@click.option("--risk", type=click.Choice(vocab.RISK_LEVELS), default=None, help="Risk level.")
@click.option(
    "--not-asked",
    "clear",
    multiple=True,
    type=click.Choice((*vocab.VIOLENCE_TYPES, "felt_safety", "risk_level", "mode")),
    help="Set this answer back to not asked / not recorded (repeatable).",
)
@click.option("--notes", default=None, help="The right notes (replace them; stored encrypted).")
@click.option(
    "--nothing-asked",
    "nothing_asked",
    default=None,
    metavar="REASON",
    help="It was held but nothing was asked, and why.",
)
@_reason_option
def correct_interview(
    config_path,
    as_user,
    interview_id,
    on,
    mode,
    violence,
    felt_safety,
    risk,
    clear,
    notes,
    nothing_asked,
    reason,
):
    """Correct interview INTERVIEW_ID (its id: `followup record history CASE`). Only what
    you give changes; a date is checked against its follow-up's window again."""
    from followup.operations.corrections import correct_interview as do

    in_transaction(
        config_path,
        as_user,
        lambda s, c, p: do(
            s,
            c,
            p,
            interview_id,
            reason=free_text(reason, "--reason"),
            on=on,
            mode=mode,
            violence=violence,
            felt_safety=felt_safety,
            risk_level=risk,
            clear=tuple(clear),
            notes=free_text(notes, "--notes"),
            nothing_asked_reason=free_text(nothing_asked, "--nothing-asked"),
        ),
    )
    _say_kept("interview", interview_id)


@correct.command("event")
@config_option
@as_option
@click.argument("event_id", type=click.IntRange(min=1))
@click.option(
    "--on", "on", type=DATE, default=None, help="The right date (of the violence, check, change)."
)
@click.option("--reported-on", type=DATE, default=None, help="Recidivism: the right report date.")
@click.option(
    "--source",
    type=click.Choice(vocab.REPORT_SOURCES),
    default=None,
    help="Recidivism: who reported it.",
)
@_violence_options
@click.option("--new-offence/--no-new-offence", default=None, help="Record check: what it found.")
@click.option("--notes", default=None, help="The right notes (replace them; stored encrypted).")
@_reason_option
def correct_event(
    config_path, as_user, event_id, on, reported_on, source, violence, new_offence, notes, reason
):
    """Correct event EVENT_ID: a recidivism report, a police record check, a status change
    or a consent change (its id: `followup record history CASE`). A status date keeps the
    programme order and re-plans the follow-ups."""
    from followup.operations.corrections import correct_event as do

    in_transaction(
        config_path,
        as_user,
        lambda s, c, p: do(
            s,
            c,
            p,
            event_id,
            reason=free_text(reason, "--reason"),
            on=on,
            reported_on=reported_on,
            source=source,
            violence={k: v for k, v in violence.items() if v is not None},
            new_offence=new_offence,
            notes=free_text(notes, "--notes"),
        ),
    )
    _say_kept("event", event_id)


@correct.command("status")
@config_option
@as_option
@click.argument("case_id")
@click.argument("event", metavar="EVENT", type=click.Choice(vocab.STATUS_EVENTS))
@click.option("--on", "on", type=DATE, required=True, help="The right date.")
@_reason_option
def correct_status(config_path, as_user, case_id, event, on, reason):
    """Correct the date of a case's status change (its current record of EVENT)."""
    from followup.operations.corrections import correct_event as do
    from followup.operations.corrections import find_status_event

    def run(s, c, p):
        return do(
            s,
            c,
            p,
            find_status_event(s, p, case_id, event),
            reason=free_text(reason, "--reason"),
            on=on,
        )

    row = in_transaction(config_path, as_user, run)
    click.echo(
        f"Corrected {event} for {case_id} to {on}; follow-ups re-planned; the earlier "
        f"version is kept (event {row.id})."
    )


def _void(config_path, as_user, kind: str, row_id: int, reason: str) -> None:
    from followup.operations import corrections

    operation = corrections.void_interview if kind == "interview" else corrections.void_event
    in_transaction(
        config_path,
        as_user,
        lambda s, c, p: operation(s, c, p, row_id, reason=free_text(reason, "--reason")),
    )


@void.command("interview")
@config_option
@as_option
@click.argument("interview_id", type=click.IntRange(min=1))
@_reason_option
def void_interview(config_path, as_user, interview_id, reason):
    """Void interview INTERVIEW_ID: the follow-up it completed is open again."""
    _void(config_path, as_user, "interview", interview_id, reason)
    click.echo(f"Voided interview {interview_id}; it is kept and counted nowhere.")


@void.command("event")
@config_option
@as_option
@click.argument("event_id", type=click.IntRange(min=1))
@_reason_option
def void_event(config_path, as_user, event_id, reason):
    """Void event EVENT_ID (a status change: the date goes back to the record before it)."""
    _void(config_path, as_user, "event", event_id, reason)
    click.echo(f"Voided event {event_id}; it is kept and counted nowhere.")


@void.command("status")
@config_option
@as_option
@click.argument("case_id")
@click.argument("event", metavar="EVENT", type=click.Choice(vocab.STATUS_EVENTS))
@_reason_option
def void_status(config_path, as_user, case_id, event, reason):
    """Void a case's current record of status change EVENT; follow-ups are re-planned."""
    from followup.operations.corrections import find_status_event, void_event

    in_transaction(
        config_path,
        as_user,
        lambda s, c, p: void_event(
            s, c, p, find_status_event(s, p, case_id, event), reason=free_text(reason, "--reason")
        ),
    )
    click.echo(f"Voided {event} for {case_id}; follow-ups re-planned.")


@record.command("history")
@config_option
@as_option
@click.argument("target")
@click.argument("record_id", required=False, type=click.IntRange(min=1))
def record_history(config_path, as_user, target, record_id):
    """List a case's interviews and events, or show one record's earlier versions.

    `history CASE`: every interview and event of the case, with the id that
    `correct` and `void` take. `history interview|event ID`: that record now, and every
    earlier version (who, when, why)."""
    from followup.operations import corrections

    if record_id is None:
        lines = in_transaction(
            config_path, as_user, lambda s, c, p: corrections.records_of(s, c, p, target)
        )
        if not lines:
            click.echo("Nothing recorded.")
            return
        table(
            ("RECORD", "ID", "DATE", "WHAT", "SUBJECT", "STATE"),
            [
                (
                    line.record,
                    line.record_id,
                    line.on.isoformat(),
                    line.kind,
                    line.subject,
                    ("void" if line.voided else "current")
                    + (f", {line.versions} earlier" if line.versions else ""),
                )
                for line in lines
            ],
        )
        return
    if target not in corrections.RECORDS:
        raise click.BadParameter("say interview or event", param_hint="TARGET")
    h = in_transaction(
        config_path, as_user, lambda s, c, p: corrections.history(s, c, p, target, record_id)
    )
    marks = [
        m for m, on in (("void", h.voided), ("late", h.late), ("unscheduled", h.unscheduled)) if on
    ]
    click.echo(
        f"{target} {record_id} of {h.case_id}: {h.kind}"
        + (f" ({', '.join(marks)})" if marks else "")
    )
    click.echo("  now: " + _values(h.current))
    for v in h.versions:
        click.echo(
            f"  version {v.version}, {v.change} by {v.changed_by} at "
            f"{v.changed_at.isoformat(timespec='seconds')} because: {v.reason}"
        )
        click.echo("    was: " + _values(v.values))


def _values(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items() if v is not None and v is not False)


# --- due -----------------------------------------------------------------------


@click.command()
@config_option
@click.option(
    "--as-of",
    type=DATE,
    default=None,
    help="Pretend today is this date. Default: today at each site.",
)
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=7,
    show_default=True,
    help="Include what falls due in the next N days (everything overdue is always included).",
)
@click.option("--site", default=None, help="Only this site.")
@click.option("--staff", default=None, help="Only follow-ups assigned to this staff_id.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    help="List at most N follow-ups (a page). Default: all.",
)
@click.option(
    "--offset",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Skip the first N follow-ups of the list (the next page: --offset 100 --limit 100).",
)
@format_option()
@as_option
def due(config_path, as_of, days, site, staff, limit, offset, fmt, as_user):
    """List follow-ups that are overdue, due, or falling due in the next N days.

    In a fixed order (overdue, due, scheduled; then by due date, case, participant before
    partner, occurrence), printed as it is read: pages of --limit/--offset cover the list
    once, in order."""
    from followup.db import transaction
    from followup.operations.caseload import due_items

    ctx = open_context(config_path)
    if site and site not in ctx.config.sites:
        raise ConfigError(
            f"{ctx.config.path}: sites.{site}: no such site. Hint: one of {', '.join(ctx.config.sites)}"
        )
    with transaction(ctx.engine) as session:
        p = principal(session, ctx, as_user)
        items = due_items(
            session,
            ctx,
            p,
            as_of=as_of,
            days=days,
            site=site,
            staff=staff,
            limit=limit,
            offset=offset,
        )
        if fmt == "json":
            echo_json_list(item.to_json() for item in items)
        else:
            _due_table(items)


DUE_HEADER = ("STATUS", "DUE", "WINDOW", "CASE", "SUBJECT", "CHECKPOINT", "ASSIGNED", "SITE")
DUE_HEADER += ("ATTEMPTS",)  # last: a script reading the columns before it by position


def _attempts_text(item) -> str:
    """ "-", or how many contact attempts so far and how the last one went."""
    if not item.attempts:
        return "-"
    return f"{item.attempts} (last: {item.last_attempt_outcome})"


def _due_table(items) -> None:
    """The text table, printed a block of rows at a time (memory flat in the list's
    size); columns widen as wider values come, never narrow."""
    provisional = False
    widths = None
    for block in blocks(items, TABLE_BLOCK):
        provisional = provisional or any(i.provisional for i in block)
        rows = [
            (
                i.status,
                i.due_on.isoformat() + ("*" if i.provisional else ""),
                f"{i.window_opens_on}..{i.window_closes_on}",
                i.case_id,
                i.subject if i.partner_id is None else f"partner {i.partner_id}",
                i.checkpoint + (f" #{i.occurrence}" if i.occurrence > 1 else ""),
                i.assigned_to or "-",
                i.site,
                _attempts_text(i),
            )
            for i in block
        ]
        widths = table(DUE_HEADER, rows, show_header=widths is None, widths=widths)
    if widths is None:
        click.echo("Nothing due.")
    if provisional:
        click.echo("* expected date: moves when the real programme dates are recorded")
