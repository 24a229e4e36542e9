"""The measures that are counts and rates: cohort, retention, follow-up, non-violence,
agreement. Each returns a tree of `Count`s and `Derived` values (see disclosure.py) and
declares the sums that tie its counts together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from followup.durations import Duration
from followup.models import INFORMANTS
from followup.protocol import Programme
from followup.report.disclosure import Count, Disclosure
from followup.report.indicators import Indicators
from followup.report.queries import (
    CANCELLED_OUTCOME,
    FOLLOWUP_OUTCOMES,
    NO,
    UNKNOWN,
    YES,
    FollowupOutcomes,
    Interviews,
    Labels,
    People,
)
from followup.report.sections import (
    Agreement,
    BoundRate,
    Bounds,
    Cohort,
    Completion,
    FollowupRate,
    NonViolence,
    Retention,
    ViolenceType,
)
from followup.stats import Proportion, agreement, attrition_bounds, wilson


def proportion(d: Disclosure, successes: Count, n: Count, confidence: float) -> dict[str, Any]:
    """Rate and Wilson CI of successes / n, hidden whenever either count is."""
    p = wilson(successes.value, n.value, confidence=confidence)
    ci = None if p.rate is None else [p.ci_low, p.ci_high]
    return {"rate": d.derived(p.rate, successes, n), "ci": d.derived(ci, successes, n)}


# --- cohort ------------------------------------------------------------------------


def cohort(people: People, d: Disclosure) -> Cohort:
    """Where everyone enrolled by the as-of date stands on it (the completion funnel)."""
    admitted = ~np.isnan(people.admitted_on)
    completed = ~np.isnan(people.completed_on)
    ended = ~np.isnan(people.ended_on) & ~completed
    reasons = {r: people.reason_is([r]) & ended for r in ("dropped_out", "excluded", "transferred")}
    counts = {
        "enrolled": d.count(len(people)),
        "admitted": d.count(admitted.sum()),
        "completed": d.count(completed.sum()),
        "dropped_out": d.count(reasons["dropped_out"].sum()),
        "excluded": d.count(reasons["excluded"].sum()),
        "transferred": d.count(reasons["transferred"].sum()),
        "in_programme": d.count((admitted & ~completed & ~ended).sum()),
        "awaiting_admission": d.count((~admitted & ~ended).sum()),
        "left_before_admission": d.count((~admitted & ended).sum()),
        "left_after_admission": d.count((admitted & ended).sum()),
    }
    c = counts
    d.total(
        c["enrolled"],
        [
            c["awaiting_admission"],
            c["in_programme"],
            c["completed"],
            c["dropped_out"],
            c["excluded"],
            c["transferred"],
        ],
    )
    d.total(c["enrolled"], [c["admitted"], c["awaiting_admission"], c["left_before_admission"]])
    d.total(c["admitted"], [c["in_programme"], c["completed"], c["left_after_admission"]])
    return Cohort(**counts)


# --- retention ---------------------------------------------------------------------


def add_duration(days: NDArray[np.float64], duration: Duration) -> NDArray[np.float64]:
    """`days` (since 1970-01-01, NaN allowed) plus a protocol duration, months clamped at
    month end exactly as followup.durations.Duration.after does."""
    if duration.unit != "months":
        return days + duration.amount * (7 if duration.unit == "weeks" else 1)
    out = np.full(days.shape, np.nan)
    known = ~np.isnan(days)
    day = days[known].astype(np.int64).astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    day_in_month = (day - month.astype("datetime64[D]")).astype(np.int64)
    target = month + duration.amount
    month_length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    moved = target.astype("datetime64[D]") + np.minimum(day_in_month, month_length - 1)
    out[known] = moved.astype(np.int64)
    return out


def expected_end(people: People, programmes: dict[int, Programme]) -> NDArray[np.float64]:
    """The day each man's programme should end: first session (or, before it is recorded,
    admission + the protocol's start_after) + the protocol's programme length."""
    end = np.full(len(people), np.nan)
    for code, programme in programmes.items():
        mine = people.revision == code
        start = people.programme_start_on[mine]
        guessed = add_duration(people.admitted_on[mine], programme.start_after)
        start = np.where(np.isnan(start), guessed, start)
        end[mine] = add_duration(start, programme.length)
    return end


def retention(
    people: People,
    programmes: dict[int, Programme],
    indicators: Indicators,
    as_of_day: int,
    target: float,
    d: Disclosure,
) -> Retention:
    """Completion among admitted men whose programme has had time to end."""
    rules = indicators.retention
    admitted = ~np.isnan(people.admitted_on)
    completed = ~np.isnan(people.completed_on)
    left = people.reason_is(rules.not_completed) & ~completed
    other_ending = ~np.isnan(people.ended_on) & ~completed & ~left  # e.g. transferred
    due_to_end = expected_end(people, programmes) + rules.grace_days <= as_of_day
    counted = admitted & ~other_ending & (completed | left | due_to_end)

    def one(mask: NDArray[np.bool_]) -> Completion:
        group = counted & mask
        cells = {
            "n": d.count(group.sum()),
            "completed": d.count((group & completed).sum()),
            "not_completed": d.count((group & ~completed).sum()),
            # past the expected end with neither completion nor dropout recorded
            "no_end_recorded": d.count((group & ~completed & ~left).sum()),
        }
        d.total(cells["n"], [cells["completed"], cells["not_completed"]])
        d.total(
            cells["not_completed"],
            [cells["no_end_recorded"], d.count((group & left).sum(), shown=False)],
        )
        p = proportion(d, cells["completed"], cells["n"], indicators.confidence)
        return Completion(
            **cells,
            completion_rate=p["rate"],
            ci=p["ci"],
            versus_target=d.derived(_versus(p["ci"].value, target), cells["completed"], cells["n"]),
        )

    everyone = np.ones(len(people), dtype=bool)
    overall = one(everyone)
    by: dict[str, dict[str, Completion]] = {}
    for key, codes, labels in (
        ("by_site", people.site, people.labels.sites),
        ("by_referral_source", people.referral_source, people.labels.referral_sources),
    ):
        # every group among the people reported on, even with nobody counted: a group
        # left out would tell its zeros
        groups = {Labels.name(labels, code): one(codes == code) for code in np.unique(codes)}
        for cell in ("n", "completed", "not_completed", "no_end_recorded"):
            d.total(getattr(overall, cell), [getattr(g, cell) for g in groups.values()])
        by[key] = groups
    return Retention(**vars(overall), target=target, **by)


def _versus(ci: list[float] | None, target: float) -> str | None:
    """Where the target lies against the CI: the rate is above it, below it, or consistent."""
    if ci is None:
        return None
    if ci[0] > target:
        return "above"
    if ci[1] < target:
        return "below"
    return "consistent"


# --- follow-up ---------------------------------------------------------------------


def _checkpoint_names(labels: Labels) -> list[str]:
    return [*labels.checkpoints, UNKNOWN]


def followup(
    outcomes: FollowupOutcomes, labels: Labels, confidence: float, d: Disclosure
) -> dict[str, dict[str, FollowupRate]]:
    """Per checkpoint and informant: due (in_window, late, unreachable, refused, missed,
    open), cancelled beside it, the due follow-ups attempted and their attempts, and the
    rate done."""
    names = _checkpoint_names(labels)
    width = len(FOLLOWUP_OUTCOMES) + 1  # and cancelled
    slots = len(names) * len(INFORMANTS)
    slot = outcomes.checkpoint * len(INFORMANTS) + outcomes.informant
    counts = np.bincount(slot * width + outcomes.outcome, minlength=slots * width)
    counts = counts.reshape(len(names), len(INFORMANTS), width)
    due_rows = outcomes.outcome != CANCELLED_OUTCOME
    tried = due_rows & (outcomes.attempts > 0)
    attempted = np.bincount(slot[tried], minlength=slots).reshape(len(names), len(INFORMANTS))
    attempts = np.bincount(
        slot[due_rows], weights=outcomes.attempts[due_rows], minlength=slots
    ).reshape(len(names), len(INFORMANTS))
    table: dict[str, dict[str, FollowupRate]] = {}
    for c, name in enumerate(names):
        for i, who in enumerate(INFORMANTS):
            if not counts[c, i].any():
                continue
            cells = {o: d.count(counts[c, i, k]) for k, o in enumerate(FOLLOWUP_OUTCOMES)}
            due = d.count(counts[c, i, : len(FOLLOWUP_OUTCOMES)].sum())
            d.total(due, cells.values())
            tried_cell = d.count(attempted[c, i])
            # true by definition, so the attacker knows them: attempted <= due, and
            # attempts >= attempted (slacks never shown and no figure of their own)
            d.total(
                due, [tried_cell, d.count(due.value - tried_cell.value, shown=False, primary=False)]
            )
            attempts_cell = d.count(int(attempts[c, i]))
            d.total(
                attempts_cell,
                [
                    tried_cell,
                    d.count(attempts_cell.value - tried_cell.value, shown=False, primary=False),
                ],
            )
            # The rate and its CI give away its numerator and denominator, so they are
            # published as counts (and the rate is shown whenever they are).
            done = d.count(cells["in_window"].value + cells["late"].value)
            d.total(done, [cells["in_window"], cells["late"]])
            ended = [cells["unreachable"], cells["refused"], cells["missed"]]
            done_or_missed = d.count(done.value + sum(cell.value for cell in ended))
            d.total(done_or_missed, [done, *ended])
            p = wilson(done.value, done_or_missed.value, confidence=confidence)
            sources = (done, done_or_missed)
            table.setdefault(name, {})[who] = FollowupRate(
                due=due,
                **cells,
                cancelled=d.count(counts[c, i, CANCELLED_OUTCOME]),
                attempted=tried_cell,
                attempts=attempts_cell,
                done=done,
                done_or_missed=done_or_missed,
                rate=d.derived(p.rate, *sources),
                ci=d.derived(None if p.rate is None else [p.ci_low, p.ci_high], *sources),
            )
    return table


def bounds(
    successes: Count, answered: Count, row: FollowupRate | None, confidence: float, d: Disclosure
) -> Bounds | None:
    """The rate among every follow-up that has ended (the follow-up rate's done_or_missed)
    if everyone not reached had reported violence (worst) or none had (best). None where
    more answered than ended (interviews held before their follow-up fell due, or matched
    to none): nobody is known to be missing there.

    Ended, not due: a follow-up still open is not lost yet, and due = ended + open, so
    publishing both beside the follow-up rate would give away `open` (zero once every
    window has closed) and withhold the rate or the bounds at every such checkpoint. None,
    too, where nobody answered: there is no rate to bound (a type nobody was asked about
    stays a table that describes nobody)."""
    if row is None or not answered.value or answered.value > row.done_or_missed.value:
        return None  # nobody answered (e.g. a type nobody was asked about): no figure to bound
    ended = row.done_or_missed
    b = attrition_bounds(successes.value, answered.value, ended.value, confidence=confidence)
    not_reached = d.count(b.not_reached)
    d.total(ended, [answered, not_reached])

    def end(p: Proportion, *sources: Count) -> BoundRate:
        ci = None if p.rate is None else [p.ci_low, p.ci_high]
        return BoundRate(rate=d.derived(p.rate, *sources), ci=d.derived(ci, *sources))

    return Bounds(
        ended=ended,
        not_reached=not_reached,
        worst=end(b.worst, successes, ended),
        best=end(b.best, successes, not_reached, ended),
    )


# --- non-violence ------------------------------------------------------------------

NON_VIOLENT, VIOLENT, UNANSWERED = 1, 0, 2


def composite(interviews: Interviews, types: Sequence[str]) -> NDArray[np.int8]:
    """Per interview: NON_VIOLENT (every type in `types` answered no), VIOLENT (any yes) or
    UNANSWERED (no yes, and at least one not asked): missing is never non-violent."""
    any_yes = np.zeros(len(interviews), dtype=bool)
    all_no = np.ones(len(interviews), dtype=bool)
    for t in types:
        any_yes |= interviews.answers[t] == YES
        all_no &= interviews.answers[t] == NO
    return np.where(any_yes, VIOLENT, np.where(all_no, NON_VIOLENT, UNANSWERED)).astype(np.int8)


def non_violence(
    interviews: Interviews,
    followups: dict[str, dict[str, FollowupRate]],
    labels: Labels,
    indicators: Indicators,
    d: Disclosure,
) -> tuple[dict[str, dict[str, NonViolence]], int]:
    """Per checkpoint and informant: the share of interviews reporting none of the
    definition's types, and per type the share reporting none of it. Not asked, and not
    interviewed, are counted apart: missing is never non-violent. Also returns how many
    interviews matched no checkpoint (left out)."""
    nv = indicators.non_violence
    names = _checkpoint_names(labels)
    scheduled = interviews.checkpoint >= 0
    slot = (interviews.checkpoint * len(INFORMANTS) + interviews.informant)[scheduled]
    size = len(names) * len(INFORMANTS)

    def tally(values: NDArray[np.int8]) -> NDArray[np.int64]:
        return np.bincount(slot * 3 + values[scheduled], minlength=size * 3).reshape(size, 3)

    overall = tally(composite(interviews, nv.types))
    per_type = {t: tally(interviews.answers[t]) for t in (*nv.types, *nv.alongside)}
    table: dict[str, dict[str, NonViolence]] = {}
    for s in np.flatnonzero(overall.sum(axis=1)):
        name, who = names[s // len(INFORMANTS)], INFORMANTS[s % len(INFORMANTS)]
        yes_no = {
            "non_violent": d.count(overall[s, NON_VIOLENT]),
            "violent": d.count(overall[s, VIOLENT]),
        }
        n = d.count(overall[s, NON_VIOLENT] + overall[s, VIOLENT])
        d.total(n, yes_no.values())
        rate = proportion(d, yes_no["non_violent"], n, indicators.confidence)
        not_asked = d.count(overall[s, UNANSWERED])
        due = followups.get(name, {}).get(who)
        no_interview = d.count(0)
        if due:  # ended without an interview: unreachable, refused or never tried
            ended = [due.unreachable, due.refused, due.missed]
            no_interview = d.count(sum(cell.value for cell in ended))
            d.total(no_interview, ended)
        by_type: dict[str, ViolenceType] = {}
        for t, counts in per_type.items():
            none, some = d.count(counts[s, NO]), d.count(counts[s, YES])
            answered = d.count(none.value + some.value)
            d.total(answered, [none, some])
            by_type[t] = ViolenceType(
                n=answered,
                none_reported=none,
                reported=some,
                **proportion(d, none, answered, indicators.confidence),
                bounds=bounds(none, answered, due, indicators.confidence, d),
                in_definition=t in nv.types,
            )
        table.setdefault(name, {})[who] = NonViolence(
            n=n,
            **yes_no,
            **rate,
            bounds=bounds(yes_no["non_violent"], n, due, indicators.confidence, d),
            not_asked=not_asked,
            no_interview=no_interview,
            by_type=by_type,
        )
    return table, int((~scheduled).sum())


# --- agreement ---------------------------------------------------------------------

CELLS = {  # (his answer, hers) -> name
    (NON_VIOLENT, NON_VIOLENT): "both_non_violent",
    (VIOLENT, VIOLENT): "both_violent",
    (NON_VIOLENT, VIOLENT): "only_partner_reports_violence",
    (VIOLENT, NON_VIOLENT): "only_participant_reports_violence",
}


def _least_per_key(keys: NDArray[np.int64], values: NDArray[np.int8]) -> tuple[NDArray, NDArray]:
    unique, inverse = np.unique(keys, return_inverse=True)
    least = np.full(unique.size, UNANSWERED, dtype=np.int8)
    np.minimum.at(least, inverse, values)
    return unique, least


def agreement_by_checkpoint(
    interviews: Interviews, labels: Labels, indicators: Indicators, d: Disclosure
) -> dict[str, Agreement]:
    """Percent agreement and Cohen's kappa of his and her answers, per checkpoint.

    One pair per man and checkpoint where both answered the definition's questions. Where
    several partners (or several occurrences) answered, violence reported by any counts
    (VIOLENT is the smaller code)."""
    names = _checkpoint_names(labels)
    answer = composite(interviews, indicators.non_violence.types)
    usable = (interviews.checkpoint >= 0) & (answer != UNANSWERED)
    key = interviews.participant_id * len(names) + interviews.checkpoint
    sides = []
    for who in range(len(INFORMANTS)):
        mine = usable & (interviews.informant == who)
        sides.append(_least_per_key(key[mine], answer[mine]))
    (his_keys, his), (her_keys, hers) = sides
    common, i, j = np.intersect1d(his_keys, her_keys, assume_unique=True, return_indices=True)
    checkpoint = common % len(names)
    result: dict[str, Agreement] = {}
    for c in np.unique(checkpoint):
        here = checkpoint == c
        pairs = np.bincount(his[i][here] * 3 + hers[j][here], minlength=9)
        cells = {name: d.count(pairs[a * 3 + b]) for (a, b), name in CELLS.items()}
        both = [cells["both_non_violent"], cells["both_violent"]]
        either = [
            cells["only_partner_reports_violence"],
            cells["only_participant_reports_violence"],
        ]
        agree, disagree = d.count(sum(c.value for c in both)), d.count(sum(c.value for c in either))
        n = d.count(agree.value + disagree.value)
        d.total(n, [agree, disagree])
        d.total(agree, both)
        d.total(disagree, either)
        a = agreement(his[i][here], hers[j][here])
        sources = tuple(cells.values())
        result[names[c]] = Agreement(
            n=n,
            agree=agree,
            disagree=disagree,
            **cells,
            observed_agreement=d.derived(a.observed_agreement, agree, n),
            percent_agreement=d.derived(a.percent_agreement, agree, n),
            kappa=d.derived(a.kappa, *sources),
        )
    return result
