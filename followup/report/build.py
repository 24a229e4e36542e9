"""`build_report(ctx, session, options) -> Report`: every measure, suppressed, audited.

The one entry point for the CLI (`followup report`) and the web's Outcomes page, so both
show exactly the same numbers. Building a report writes an audit line in the caller's
transaction: there is no way to get a report, suppressed or not, without leaving one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.audit import audit
from followup.context import Context
from followup.errors import ConfigError, FollowupError
from followup.models import REPORT_SOURCES, ProtocolRevision
from followup.protocol import Protocol, checkpoint_label
from followup.report import instruments_section, measures, outcomes, queries
from followup.report.columns import day_number
from followup.report.definitions import definitions
from followup.report.disclosure import Disclosure, export
from followup.report.indicators import ORIGINS, Indicators, load_indicators
from followup.report.quality import assess, section
from followup.report.sections import (
    Agreement,
    Cohort,
    DataQuality,
    FollowupRate,
    NonViolence,
    Retention,
    Survival,
    SurvivalAnalysis,
)

BY_CHOICES = ("site", "referral_source", "completion")
SOURCE_CHOICES = ("any", *REPORT_SOURCES)
FORMATS = ("text", "json", "html", "csv")
SHIPPED_ANALYSIS = Path(__file__).resolve().parents[2] / "analysis"


class ReportError(FollowupError):
    """Report options that cannot be honoured. The message is the command line's (it names
    the options, e.g. --origin); `problem`, `option` and `values` say the same in a
    structured way, so the web words it in its own terms (never with a flag)."""

    def __init__(self, message: str, problem: str, option: str | None = None, **values: Any):
        super().__init__(message)
        self.problem, self.option, self.values = problem, option, values


@dataclass(frozen=True)
class ReportOptions:
    as_of: date | None = None  # default: today (the earliest "today" among the sites)
    site: str | None = None  # one site, or every site
    by: str | None = (
        None  # group survival curves (and test them) by site|referral_source|completion
    )
    origin: str | None = None  # default: indicators' recidivism.origin
    source: str = "any"  # any, or one of REPORT_SOURCES
    suppress: bool = True  # False only for administrators; audited either way
    format: str = "json"  # what the report is exported as; recorded in the audit line
    actor: str | None = None  # who asked; default ctx.actor


@dataclass(frozen=True)
class Report:
    """A built report: `data` is the JSON document, already suppressed when `suppressed`,
    exported once from the typed sections the renderers read (`cohort`, `retention`,
    `followup`, `non_violence`, `agreement`, `survival`, `data_quality`; the header, the
    definitions, the suppression summary and the notes are read from `data`)."""

    data: dict[str, Any]
    options: ReportOptions
    threshold: int
    suppressed: bool
    cohort: Cohort
    retention: Retention
    followup: dict[str, dict[str, FollowupRate]]  # checkpoint -> informant -> rate
    non_violence: dict[str, dict[str, NonViolence]]  # checkpoint -> informant -> share
    agreement: dict[str, Agreement]  # checkpoint -> his and her answers
    survival: Survival
    data_quality: DataQuality
    template_dirs: tuple[Path, ...] = field(default=(SHIPPED_ANALYSIS,))
    protocols: tuple[Protocol, ...] = ()  # where checkpoints' labels come from

    def checkpoint_label(self, name: str, informant: str | None, language: str) -> str:
        """The checkpoint as staff read it in `language` (followup.protocol.checkpoint_label)."""
        return checkpoint_label(self.protocols, name, informant, language)

    def to_json(self) -> dict[str, Any]:
        return self.data

    def dumps(self, indent: int | None = 2) -> str:
        return json.dumps(self.data, indent=indent, ensure_ascii=False, allow_nan=False)


def resolve(ctx: Context, options: ReportOptions | None = None) -> ReportOptions:
    """The options as the report reads them: checked, with `as_of` (today) and `origin`
    (the indicators file's) filled in. Two requests with equal resolved options (but for
    `actor` and `format`) get the same report from the same data."""
    options = _checked(ctx, options or ReportOptions())
    indicators, _file = _indicators(ctx)
    origin = options.origin or indicators.recidivism.origin
    if options.by == "completion" and origin == "completion":
        raise ReportError(
            "--by completion compares men who completed with men who left early, and the "
            "latter have no completion date to count from. Hint: add --origin "
            "end_of_participation (or admission, or enrolment)",
            "completion_needs_origin",
            "origin",
        )
    return replace(options, origin=origin)


def audit_export(session: Session, ctx: Context, options: ReportOptions) -> None:
    """The export's audit line (resolved options), in the caller's transaction."""
    audit(
        session,
        options.actor or ctx.actor,
        "report_export",
        "report",
        None,
        **{k: v for k, v in asdict(options).items() if k != "actor"},
    )


def build_report(ctx: Context, session: Session, options: ReportOptions | None = None) -> Report:
    options = resolve(ctx, options)
    indicators, indicators_file = _indicators(ctx)
    origin = options.origin
    analysis = ctx.config.analysis
    threshold = analysis.suppression_threshold
    d = Disclosure(threshold if options.suppress else None)
    tree = _measure(ctx, session, options, indicators, analysis.completion_target, d)
    _relate(tree, options, d)
    d.suppress()
    sources = _sources(options.source, indicators)
    data = {
        "as_of": options.as_of.isoformat(),
        "generated_at": ctx.now().isoformat(timespec="seconds"),
        "site": options.site,
        "by": options.by,
        "suppression": _suppression(d, threshold if options.suppress else None),
        "definitions": definitions(
            indicators,
            origin=origin,
            source=options.source,
            sources=sources,
            target=analysis.completion_target,
            threshold=threshold if options.suppress else None,
            indicators_file=indicators_file,
        ),
        **export(tree, d.threshold),
    }
    data["definitions"]["instruments"] = instruments_section.methods()
    audit_export(session, ctx, options)
    return Report(
        data=data,
        options=options,
        threshold=threshold,
        suppressed=options.suppress,
        cohort=tree["cohort"],
        retention=tree["retention"],
        followup=tree["followup"],
        non_violence=tree["non_violence"],
        agreement=tree["agreement"],
        survival=tree["survival"],
        data_quality=tree["data_quality"],
        template_dirs=_template_dirs(ctx),
        protocols=tuple(_protocols(ctx, session)),
    )


def _suppression(d: Disclosure, threshold: int | None) -> dict[str, Any]:
    """What was hidden, and the disclosure audit's verdict (see disclosure.py)."""
    out: dict[str, Any] = {"applied": threshold is not None, "threshold": threshold}
    if threshold is None or d.audit is None:
        return out
    hidden = d.hidden_by_reason()
    out["counts_published"] = d.published()
    out["counts_hidden"] = hidden
    out["audit"] = {
        "method": "linear programming (scipy.optimize.linprog), counts >= 0",
        "criterion": (
            f"a count hidden as below {threshold}: its smallest and largest possible values "
            f"differ by at least {threshold}; a count hidden to protect others: not worked "
            "out exactly"
        ),
        "hidden_counts_checked": d.audit.checked,
        "passed": d.audit.passed,
    }
    return out


def _relate(tree: dict[str, Any], options: ReportOptions, d: Disclosure) -> None:
    """Counts of the same people in two tables (declared where the definitions coincide,
    see Disclosure.same), and the counts the headline figures are computed from."""
    cohort, retention, survival = tree["cohort"], tree["retention"], tree["survival"]
    recidivism, dropout = survival.recidivism, survival.dropout
    d.same(dropout.overall.n, cohort.admitted)
    origin_count = {
        "completion": cohort.completed,
        "admission": cohort.admitted,
        "enrolment": cohort.enrolled,
    }.get(options.origin or "")
    if origin_count is not None:
        d.same(recidivism.overall.n, origin_count)
    completed = dropout.competing_risks.completed if dropout.competing_risks else None
    for count in (cohort.completed, *([completed.events] if completed else [])):
        d.same(retention.completed, count)
    if options.origin == "completion" and options.by in ("site", "referral_source"):
        by_group = retention.by(options.by)
        for name, group in recidivism.groups.items():
            if name in by_group:
                d.same(group.n, by_group[name].completed)
    d.headline(retention.n, retention.completed, recidivism.overall.n)


def _checked(ctx: Context, options: ReportOptions) -> ReportOptions:
    sites = ctx.config.sites
    if options.site is not None and options.site not in sites:
        raise ReportError(
            f"unknown site {options.site!r}. Hint: one of {', '.join(sites)} (config.toml [sites])",
            "unknown_site",
            "site",
        )
    for name, value, allowed in (
        ("by", options.by, (None, *BY_CHOICES)),
        ("origin", options.origin, (None, *ORIGINS)),
        ("source", options.source, SOURCE_CHOICES),
        ("format", options.format, FORMATS),
    ):
        if value not in allowed:
            raise ReportError(
                f"--{name} {value!r} is not one of {', '.join(a for a in allowed if a)}",
                "not_a_choice",
                name,
            )
    todays = [ctx.site_today(code) for code in ([options.site] if options.site else sites)]
    today = min(todays)
    if options.as_of is None:
        return replace(options, as_of=today)
    if options.as_of > max(todays):
        raise ReportError(
            f"--as-of {options.as_of} is after today ({max(todays)}): follow-ups whose window "
            "has not closed yet would count as missed. Hint: leave --as-of out for today",
            "as_of_future",
            "as_of",
            today=max(todays),
        )
    return options


def _indicators(ctx: Context) -> tuple[Indicators, str]:
    """The evaluators' definitions; the shipped defaults when the default path has no file.

    A path set explicitly in config.toml must exist: a typo there must not silently turn
    into other definitions."""
    analysis = ctx.config.analysis
    path = ctx.config.resolve(analysis.indicators)
    if path.exists():
        return load_indicators(path), str(path)
    if "indicators" in analysis.model_fields_set:
        raise ConfigError(
            f"{ctx.config.path}: analysis.indicators: {path} does not exist. Hint: fix the "
            "path, or remove the key to use the shipped defaults"
        )
    return Indicators(), "defaults (no analysis/indicators.toml next to config.toml)"


def default_origin(ctx: Context) -> str:
    """Where time to recidivism starts when the options do not say (the indicators file)."""
    return _indicators(ctx)[0].recidivism.origin


def latest_as_of(ctx: Context, site: str | None) -> date:
    """The latest date a report may be made as of: today, at the site (or the last site)."""
    return max(ctx.site_today(code) for code in ([site] if site else ctx.config.sites))


def _template_dirs(ctx: Context) -> tuple[Path, ...]:
    own = ctx.config.resolve(ctx.config.analysis.indicators).parent
    return (own, SHIPPED_ANALYSIS) if own.resolve() != SHIPPED_ANALYSIS else (SHIPPED_ANALYSIS,)


def _sources(source: str, indicators: Indicators) -> list[str]:
    return list(indicators.recidivism.sources) if source == "any" else [source]


def _protocols(ctx: Context, session: Session) -> list[Protocol]:
    """The active protocols first, then any older revision still holding enrolments."""
    protocols = list(ctx.protocols.values())
    for revision in session.execute(sa.select(ProtocolRevision.revision)).scalars():
        protocols.append(ctx.protocol_at(session, revision))
    return protocols


def _checkpoints(ctx: Context, session: Session) -> list[str]:
    """Every checkpoint name, in protocol order."""
    names: list[str] = []
    for protocol in _protocols(ctx, session):
        names.extend(c.name for c in protocol.checkpoints if c.name not in names)
    return names


def _measure(
    ctx: Context,
    session: Session,
    options: ReportOptions,
    indicators: Indicators,
    target: float,
    d: Disclosure,
) -> dict[str, Any]:
    conn = session.connection()
    as_of, site = options.as_of, options.site
    labels = queries.Labels.read(conn, _checkpoints(ctx, session))
    people = queries.people(conn, as_of, site, labels)
    # A person whose status record breaks a rule is left out of the measures it would
    # distort (or crash: a negative duration), and counted in data_quality instead.
    quality = assess(people)
    interviews = queries.interviews(conn, as_of, site, labels)
    events = queries.outcome_events(conn, as_of, site, labels)
    programmes = {
        code: ctx.protocol_at(session, revision).programme
        for code, revision in enumerate(labels.revisions)
    }
    followup = measures.followup(
        queries.followup_outcomes(conn, as_of, site, labels), labels, indicators.confidence, d
    )
    non_violence, unscheduled = measures.non_violence(interviews, followup, labels, indicators, d)
    return {
        "cohort": measures.cohort(quality.people_for(people, "cohort"), d),
        "retention": measures.retention(
            quality.people_for(people, "retention"),
            programmes,
            indicators,
            day_number(as_of),
            target,
            d,
        ),
        "followup": followup,
        "non_violence": non_violence,
        "agreement": measures.agreement_by_checkpoint(interviews, labels, indicators, d),
        "survival": _survival(
            quality.people_for(people, "survival"), interviews, events, options, indicators, d
        ),
        "notes": {"interviews_without_checkpoint": d.count(unscheduled)},
        "data_quality": section(conn, people, quality, d, cases=not options.suppress),
        # issue 14: instruments (scores, items, change, paired agreement); own reads
        "instruments": instruments_section.instruments(
            session, ctx.instruments, as_of, site, labels, indicators.confidence, d, non_violence
        ),
    }


def _times(
    people: queries.People,
    interviews: queries.Interviews,
    events: queries.OutcomeEvents,
    options: ReportOptions,
    indicators: Indicators,
) -> dict[str, outcomes.Times]:
    origin = options.origin
    sources = _sources(options.source, indicators)
    first = outcomes.first_event_days(
        people, outcomes.origin_days(people, origin), events, interviews, sources, indicators
    )
    last = outcomes.last_contact_days(people, interviews, events)
    labels = outcomes.group_labels(people, options.by, indicators)
    return {
        "recidivism": outcomes.recidivism_times(people, origin, first, last, labels),
        "dropout": outcomes.dropout_times(
            people,
            day_number(options.as_of),
            indicators,
            None if options.by == "completion" else labels,
        ),
    }


def person_times(
    ctx: Context, session: Session, options: ReportOptions
) -> dict[str, outcomes.Times]:
    """The per-person durations behind the survival curves, unsuppressed: for checking the
    definitions and for administrators' re-analysis, never for evaluators (not audited as
    an export, because it is not one: nothing here leaves the process)."""
    options = _checked(ctx, options)
    indicators, _ = _indicators(ctx)
    options = replace(options, origin=options.origin or indicators.recidivism.origin)
    conn = session.connection()
    labels = queries.Labels.read(conn, _checkpoints(ctx, session))
    people = queries.people(conn, options.as_of, options.site, labels)
    people = assess(people).people_for(people, "survival")
    return _times(
        people,
        queries.interviews(conn, options.as_of, options.site, labels),
        queries.outcome_events(conn, options.as_of, options.site, labels),
        options,
        indicators,
    )


def _survival(
    people: queries.People,
    interviews: queries.Interviews,
    events: queries.OutcomeEvents,
    options: ReportOptions,
    indicators: Indicators,
    d: Disclosure,
) -> Survival:
    rc = indicators.recidivism
    times = _times(people, interviews, events, options, indicators)
    recidivism = times["recidivism"]
    return Survival(
        recidivism=_analysis(
            recidivism,
            rc.days,
            indicators.confidence,
            d,
            origin=options.origin or "",
            source=options.source,
            by=options.by,
            no_contact=recidivism.no_contact,
        ),
        dropout=_dropout(times["dropout"], options, rc.days, indicators.confidence, d),
    )


def _analysis(
    times: outcomes.Times,
    days,
    confidence: float,
    d: Disclosure,
    *,
    origin: str,
    by: str | None,
    source: str | None = None,
    no_contact: int | None = None,
) -> SurvivalAnalysis:
    ticks = outcomes.ticks(times.durations)

    def build(mask):
        return outcomes.survival_tree(times, mask, days, confidence, d, ticks)

    overall = build(None)
    if no_contact is not None:
        zero = d.count(no_contact)
        at_contact = d.count(overall.censored.value - no_contact)
        d.total(overall.censored, [zero, at_contact])
        overall.no_contact_after_origin = zero
        overall.censored_at_last_contact = at_contact
    groups, labels = outcomes.grouped(times, overall, build, d)
    usable = [label for label in labels if int((times.groups == label).sum()) > 0]
    return SurvivalAnalysis(
        origin=origin,
        source=source,
        by=by,
        overall=overall,
        groups=groups,
        logrank=outcomes.logrank_tree(times, usable, groups, d),
        estimator="Kaplan-Meier",
        ci_method="log-log (exponential Greenwood)",
        confidence=confidence,
    )


def _dropout(
    times: outcomes.Times, options: ReportOptions, days, confidence: float, d: Disclosure
) -> SurvivalAnalysis:
    analysis = _analysis(
        times,
        days,
        confidence,
        d,
        origin="admission",
        by=None if options.by == "completion" else options.by,
    )
    analysis.competing_risks = outcomes.competing_tree(times, analysis.overall, days, confidence, d)
    return analysis
