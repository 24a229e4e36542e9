"""Typed report sections: what the measures build and the renderers read.

A section holds its figures as `Count` and `Derived` leaves (see disclosure.py), so the
small-cell rules decide what is hidden, and renderers ask `show.hidden(section, "field")`
and `show.reason(...)` instead of reading string keys back from the JSON. The JSON document
is made once, at the end, by `disclosure.export`, which reads a section's fields in
declaration order (its key order in the JSON): a field declared with `OMIT` metadata is
left out of the JSON while it is None (a key some sections have and others do not).

The cohort, retention, follow-up rates, non-violence, agreement, the survival analyses
(time to first recidivism, time to dropout with the competing risks) and data quality are
typed; the notes and the suppression summary are plain dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from followup.report.disclosure import OMIT, Count, Derived


@dataclass
class Cohort:
    """Where everyone enrolled by the as-of date stands on it (the completion funnel)."""

    enrolled: Count
    admitted: Count
    completed: Count
    dropped_out: Count
    excluded: Count
    transferred: Count
    in_programme: Count
    awaiting_admission: Count
    left_before_admission: Count
    left_after_admission: Count


@dataclass
class Completion:
    """Completion among admitted men whose programme has had time to end (one group)."""

    n: Count
    completed: Count
    not_completed: Count
    no_end_recorded: Count  # past the expected end with neither completion nor dropout
    completion_rate: Derived
    ci: Derived
    versus_target: Derived  # above, below, consistent (the target against the CI)


@dataclass
class Retention(Completion):
    """Completion overall, against the target, and by site and referral source."""

    target: float
    by_site: dict[str, Completion]
    by_referral_source: dict[str, Completion]

    def by(self, group_by: str) -> dict[str, Completion]:
        return self.by_site if group_by == "site" else self.by_referral_source


@dataclass
class FollowupRate:
    """One checkpoint and informant: what was due and how it went; the rate done."""

    due: Count  # in_window + late + unreachable + refused + missed + open (not cancelled)
    in_window: Count
    late: Count
    unreachable: Count  # tried and not reached (followup.lost)
    refused: Count
    missed: Count  # never tried: the window closed with no contact attempt
    open: Count
    cancelled: Count  # consent withdrawn etc. before the window closed; not in `due`
    attempted: Count  # due follow-ups with at least one contact attempt
    attempts: Count  # contact attempts on the due follow-ups, all told
    done: Count  # reached: in the window or late
    done_or_missed: Count  # done + unreachable + refused + missed (every ended one)
    rate: Derived
    ci: Derived


@dataclass
class BoundRate:
    """One end of the bounds: a rate among everyone due, with its Wilson interval."""

    rate: Derived
    ci: Derived


@dataclass
class Bounds:
    """What the non-violence rate would be among every follow-up at the checkpoint that
    has ended if everyone not reached had reported violence (`worst`) or none had (`best`)."""

    ended: Count  # the follow-up table's done_or_missed (the same count)
    not_reached: Count  # ended - n: not interviewed, or not answering the question
    worst: BoundRate  # non_violent / ended
    best: BoundRate  # (non_violent + not_reached) / ended


@dataclass
class ViolenceType:
    """One type of violence at a checkpoint: the share of interviews reporting none of it."""

    n: Count  # interviews that answered about it
    none_reported: Count
    reported: Count
    rate: Derived
    ci: Derived
    bounds: Bounds | None  # None where more answered than were due (see measures)
    in_definition: bool  # one of the types non-violence is defined by


@dataclass
class NonViolence:
    """One checkpoint and informant: the share of interviews reporting none of the
    definition's types; not asked and not interviewed counted apart (never non-violent)."""

    n: Count
    non_violent: Count
    violent: Count
    rate: Derived
    ci: Derived
    bounds: Bounds | None  # None where more answered than were due (see measures)
    not_asked: Count
    no_interview: Count
    by_type: dict[str, ViolenceType]


@dataclass
class Agreement:
    """His and her answers at one checkpoint: percent agreement and Cohen's kappa."""

    n: Count
    agree: Count
    disagree: Count
    both_non_violent: Count
    both_violent: Count
    only_partner_reports_violence: Count
    only_participant_reports_violence: Count
    observed_agreement: Derived
    percent_agreement: Derived
    kappa: Derived


@dataclass
class LeftOut:
    """How many people each measure leaves out for a broken status record
    (followup.checks.STATUS_MEASURES)."""

    cohort: Count
    retention: Count
    survival: Count


@dataclass
class Problem:
    """One rule of the status record: the people breaking it, and what they are left out of."""

    people: Count
    description: str
    left_out_of: list[str]
    case_ids: list[str] | None = field(default=None, metadata=OMIT)  # administrators only


@dataclass
class DataQuality:
    people: Count  # breaking any rule
    left_out: LeftOut
    problems: dict[str, Problem]
    hint: str


@dataclass
class CurvePoint:
    """One step of a shown Kaplan-Meier curve (plain values: the curve is hidden whole)."""

    t: float
    at_risk: int
    events: int
    survival: float
    ci_low: float
    ci_high: float


@dataclass
class SurvivalAt:
    """Survival at one of the indicators' days; hidden where fewer than T are at risk."""

    t: float
    at_risk: Derived
    survival: Derived
    ci_low: Derived
    ci_high: Derived


@dataclass
class AtRiskTick:
    t: int
    at_risk: Derived


@dataclass
class OutsideGroups:
    """The people in the overall curve who are in no group (e.g. men still in the programme
    when grouped by how participation ended)."""

    n: Count
    events: Count


@dataclass
class KaplanMeier:
    """One Kaplan-Meier curve: the whole analysis, or one group of it."""

    n: Count
    events: Count
    censored: Count
    median: Derived
    median_ci: Derived
    at: list[SurvivalAt]
    curve: Derived  # list[CurvePoint]
    curve_truncated: Derived | bool  # False, plain, when nobody is in the analysis
    at_risk_table: list[AtRiskTick]
    no_contact_after_origin: Count | None = field(default=None, metadata=OMIT)
    censored_at_last_contact: Count | None = field(default=None, metadata=OMIT)
    not_in_a_group: OutsideGroups | None = field(default=None, metadata=OMIT)


@dataclass
class LogRank:
    statistic: float
    df: int
    p_value: float
    groups: list[str]
    test: str


@dataclass
class IncidencePoint:
    """One step of a shown cumulative incidence curve."""

    t: float
    at_risk: int
    events: int
    cif: float
    ci_low: float
    ci_high: float


@dataclass
class IncidenceAt:
    t: float
    cif: Derived


@dataclass
class Incidence:
    """The cumulative incidence of one of the competing events."""

    events: Count
    curve: Derived  # list[IncidencePoint]
    curve_truncated: Derived
    at: list[IncidenceAt]


@dataclass
class CompetingRisks:
    """Completion and dropout competing (Aalen-Johansen); all None when nobody has ended."""

    censored: Count | None = field(default=None, metadata=OMIT)
    completed: Incidence | None = field(default=None, metadata=OMIT)
    dropped_out: Incidence | None = field(default=None, metadata=OMIT)
    estimator: str | None = field(default=None, metadata=OMIT)
    ci_method: str | None = field(default=None, metadata=OMIT)

    def risks(self) -> dict[str, Incidence]:
        """The competing events that have a curve, by name."""
        return {
            name: risk
            for name, risk in (("completed", self.completed), ("dropped_out", self.dropped_out))
            if risk is not None
        }


@dataclass(kw_only=True)
class SurvivalAnalysis:
    """Time to an event: overall, per group, and the log-rank test between the groups.
    (Keyword-only, so the fields sit in the JSON's key order.)"""

    origin: str
    source: str | None = field(default=None, metadata=OMIT)  # recidivism only
    by: str | None
    overall: KaplanMeier
    groups: dict[str, KaplanMeier]
    logrank: Derived | None  # LogRank; None without groups to test
    estimator: str
    ci_method: str
    confidence: float
    competing_risks: CompetingRisks | None = field(default=None, metadata=OMIT)  # dropout

    def entries(self) -> list[tuple[str | None, KaplanMeier]]:
        """The overall curve (named None), then each group's."""
        return [(None, self.overall), *self.groups.items()]


@dataclass
class Survival:
    recidivism: SurvivalAnalysis
    dropout: SurvivalAnalysis
