"""Time to first recidivism and time to dropout, as per-person arrays and as report trees.

`recidivism_times` and `dropout_times` are the definitions (who is in, when the clock
starts, what is an event, where a person is censored); `survival_tree` and
`competing_tree` turn the estimators' results into the typed sections the report shows, with the
small-cell rules applied (a curve stops where fewer than the threshold are at risk).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from followup import stats
from followup.models import INFORMANTS
from followup.report.disclosure import Count, Derived, Disclosure
from followup.report.indicators import Indicators
from followup.report.measures import VIOLENT, composite
from followup.report.queries import UNKNOWN, Interviews, OutcomeEvents, People
from followup.report.sections import (
    AtRiskTick,
    CompetingRisks,
    CurvePoint,
    Incidence,
    IncidenceAt,
    IncidencePoint,
    KaplanMeier,
    LogRank,
    OutsideGroups,
    SurvivalAt,
)
from followup.stats import cumulative_incidence, kaplan_meier, logrank

COMPLETED, DROPPED_OUT = 1, 2  # competing-risks event codes


@dataclass
class Times:
    """One entry per person in the analysis: days from origin, event seen, group label."""

    durations: NDArray[np.float64]
    events: NDArray[np.bool_]
    groups: NDArray[np.object_] | None  # None: no --by; an entry None: in no group
    no_contact: int = 0  # censored at 0: no contact at all after the origin
    codes: NDArray[np.int64] | None = None  # competing risks: 0 censored, 1 completed, 2 dropout
    # every group among the people the report is about, so a group nobody in this analysis
    # belongs to is listed (with its zeros hidden), not left out: its absence would tell
    known_groups: tuple[str, ...] = ()


def known(groups: NDArray[np.object_] | None) -> tuple[str, ...]:
    if groups is None:
        return ()
    return tuple(sorted({str(g) for g in groups if g is not None}))


def origin_days(people: People, origin: str) -> NDArray[np.float64]:
    if origin == "completion":
        return people.completed_on
    if origin == "admission":
        return people.admitted_on
    if origin == "enrolment":
        return people.enrolled_on
    # end_of_participation: completion, or the day he left
    return np.where(np.isnan(people.completed_on), people.ended_on, people.completed_on)


def group_labels(
    people: People, by: str | None, indicators: Indicators
) -> NDArray[np.object_] | None:
    if by is None:
        return None
    if by in ("site", "referral_source"):
        codes = people.site if by == "site" else people.referral_source
        names = people.labels.sites if by == "site" else people.labels.referral_sources
        labels = np.array([*names, UNKNOWN], dtype=object)
        return labels[codes]
    # completion: how participation ended; men still in it are in no group
    out = np.full(len(people), None, dtype=object)
    ended = ~np.isnan(people.ended_on)
    for reason in ("dropped_out", "excluded", "transferred"):
        out[people.reason_is([reason]) & ended] = reason
    out[~np.isnan(people.completed_on)] = "completed"
    return out


def first_event_days(
    people: People,
    origin: NDArray[np.float64],
    events: OutcomeEvents,
    interviews: Interviews,
    sources: Sequence[str],
    indicators: Indicators,
) -> NDArray[np.float64]:
    """Each person's first qualifying recidivism on or after the origin; NaN when none."""
    wanted = [events.labels.sources.index(s) for s in sources]
    qualifies = ~events.is_check & np.isin(events.source, wanted)
    if indicators.recidivism.record_checks and "police" in sources:
        qualifies |= events.is_check & events.new_offence
    pid, day = [events.participant_id[qualifies]], [events.day[qualifies]]
    if indicators.recidivism.interviews:
        told = composite(interviews, indicators.non_violence.types) == VIOLENT
        told &= np.isin(
            interviews.informant, [INFORMANTS.index(i) for i in INFORMANTS if i in sources]
        )
        pid.append(interviews.participant_id[told])
        day.append(interviews.day[told])
    return _first_on_or_after(people, origin, np.concatenate(pid), np.concatenate(day))


def _first_on_or_after(people, origin, pid, day) -> NDArray[np.float64]:
    first = np.full(len(people), np.inf)
    index, found = people.index_of(pid)
    index, day = index[found], day[found]
    after = day >= origin[index]  # NaN origin compares False: not in the analysis anyway
    np.minimum.at(first, index[after], day[after])
    first[np.isinf(first)] = np.nan
    return first


def last_contact_days(
    people: People, interviews: Interviews, events: OutcomeEvents
) -> NDArray[np.float64]:
    """Latest completed interview of either informant, or police record check."""
    last = np.full(len(people), -np.inf)
    for pid, day in (
        (interviews.participant_id, interviews.day),
        (events.participant_id[events.is_check], events.day[events.is_check]),
    ):
        index, found = people.index_of(pid)
        np.maximum.at(last, index[found], day[found])
    last[np.isinf(last)] = np.nan
    return last


def recidivism_times(
    people: People,
    origin: str,
    first_event: NDArray[np.float64],
    last_contact: NDArray[np.float64],
    groups: NDArray[np.object_] | None,
) -> Times:
    """Days from origin to the first recidivism, or to the last contact (censored).

    In the analysis: everyone whose origin date is on or before the as-of date. Censored at
    the last follow-up contact on or before the as-of date (never later); a man with no
    contact after the origin is censored at 0 days.
    """
    start = origin_days(people, origin)
    included = ~np.isnan(start)
    start, event_day, contact = start[included], first_event[included], last_contact[included]
    had_event = ~np.isnan(event_day)
    contact_after = ~np.isnan(contact) & (contact >= start)
    censored_at = np.where(contact_after, contact - start, 0.0)
    durations = np.where(had_event, event_day - start, censored_at)
    return Times(
        durations=durations,
        events=had_event,
        groups=None if groups is None else groups[included],
        no_contact=int((~had_event & ~contact_after).sum()),
        known_groups=known(groups),
    )


def dropout_times(
    people: People, as_of_day: int, indicators: Indicators, groups: NDArray[np.object_] | None
) -> Times:
    """Days from admission to dropout; completion competes, a transfer or the as-of date censors."""
    admitted = ~np.isnan(people.admitted_on)
    completed = ~np.isnan(people.completed_on)
    dropout = people.reason_is(indicators.retention.not_completed) & ~completed
    end = np.where(completed, people.completed_on, people.ended_on)
    end = np.where(np.isnan(end), float(as_of_day), end)
    codes = np.where(completed, COMPLETED, np.where(dropout, DROPPED_OUT, 0))[admitted]
    return Times(
        durations=(end - people.admitted_on)[admitted],
        events=(codes == DROPPED_OUT),
        groups=None if groups is None else groups[admitted],
        codes=codes.astype(np.int64),
        known_groups=known(groups),
    )


# --- trees ---------------------------------------------------------------------------


def ticks(durations: NDArray[np.float64], step: int = 90, most: int = 12) -> list[int]:
    """Days at which the at-risk table is read: every `step` days, past the longest duration."""
    top = int(durations.max()) if durations.size else 0
    return list(range(0, top + step, step))[:most]


def survival_tree(
    times: Times,
    mask: NDArray[np.bool_] | None,
    days: Sequence[int],
    confidence: float,
    d: Disclosure,
    ticks: list[int],
) -> KaplanMeier:
    """One Kaplan-Meier curve as the report shows it."""
    durations = times.durations if mask is None else times.durations[mask]
    events = times.events if mask is None else times.events[mask]
    # Events and censorings are not small cells: a shown curve shows them step by step,
    # each among at least the threshold at risk. They are hidden only to protect others,
    # and the events after a curve stops (among fewer than the threshold) are protected.
    # (With fewer than the threshold there is no curve, and they are ordinary counts.)
    n = d.count(durations.size)
    by_curve = not d.small(durations.size)
    n_events = d.count(int(events.sum()), primary=not by_curve)
    censored = d.count(durations.size - n_events.value, primary=not by_curve)
    d.total(n, [n_events, censored])
    if durations.size == 0:
        return KaplanMeier(
            n=n,
            events=n_events,
            censored=censored,
            median=d.derived(None, n),
            median_ci=d.derived(None, n),
            at=[],
            curve=d.derived([], n),
            curve_truncated=False,
            at_risk_table=[],
        )
    km = kaplan_meier(durations, events, confidence=confidence)
    keep = np.ones(km.times.size, dtype=bool)
    if d.active:
        keep = km.at_risk >= d.threshold
    horizon = float(km.times[keep][-1]) if keep.any() else -1.0
    if keep.any():
        # a whole curve shows every event; one cut short leaves the rest among those
        # still at risk where it stops
        last = int(np.flatnonzero(keep)[-1])
        still = 0 if keep.all() else int(km.at_risk[last] - km.events[last])
        d.beyond(n_events, int(km.events[keep].sum()), still, shown_with=n)
    curve = [
        CurvePoint(
            t=float(km.times[i]),
            at_risk=int(km.at_risk[i]),
            events=int(km.events[i]),
            survival=float(km.survival[i]),
            ci_low=float(km.ci_low[i]),
            ci_high=float(km.ci_high[i]),
        )
        for i in np.flatnonzero(keep)
    ]

    def beyond(t: float | None) -> bool:
        return d.active and t is not None and t > horizon

    low, high = km.median_ci
    return KaplanMeier(
        n=n,
        events=n_events,
        censored=censored,
        median=d.derived(km.median, n, hidden=beyond(km.median)),
        median_ci=d.derived([low, high], n, hidden=beyond(low) or beyond(high)),
        at=[_point(d, n, p) for p in km.survival_at_days(days)],
        curve=d.derived(curve, n),
        curve_truncated=d.derived(bool(not keep.all()), n),
        at_risk_table=[
            AtRiskTick(
                t=t,
                at_risk=d.derived(km.at_risk_at(t), n, hidden=d.small(km.at_risk_at(t))),
            )
            for t in ticks
        ],
    )


def _point(d: Disclosure, n: Count, p: stats.SurvivalAt) -> SurvivalAt:
    hidden = d.small(p.at_risk)
    return SurvivalAt(
        t=p.t,
        at_risk=d.derived(p.at_risk, n, hidden=hidden),
        survival=d.derived(p.survival, n, hidden=hidden),
        ci_low=d.derived(p.ci_low, n, hidden=hidden),
        ci_high=d.derived(p.ci_high, n, hidden=hidden),
    )


def logrank_tree(
    times: Times, groups: list[str], trees: dict[str, KaplanMeier], d: Disclosure
) -> Derived | None:
    """The k-group log-rank test; hidden when any group it tests has its size hidden (a
    test of a group nobody may count would tell about that group)."""
    if times.groups is None or len(groups) < 2:
        return None
    grouped = np.isin(times.groups, np.array(groups, dtype=object))
    test = logrank(
        times.durations[grouped], times.events[grouped], times.groups[grouped].astype(str)
    )
    result = LogRank(
        statistic=test.statistic,
        df=test.df,
        p_value=test.p_value,
        groups=list(test.groups),
        test=test.test,
    )
    return d.derived(result, *(trees[g].n for g in groups))


def grouped(
    times: Times, overall: KaplanMeier, build, d: Disclosure
) -> tuple[dict[str, KaplanMeier], list[str]]:
    """One tree per group, with the sums tying them to the overall tree declared."""
    if times.groups is None:
        return {}, []
    present = times.groups[times.groups != None]  # noqa: E711  (elementwise)
    labels = sorted({str(g) for g in present} | set(times.known_groups))
    trees = {label: build(times.groups == label) for label in labels}
    outside = times.groups == None  # noqa: E711
    parts_n = [t.n for t in trees.values()]
    parts_events = [t.events for t in trees.values()]
    if outside.any():
        rest_n, rest_events = d.count(int(outside.sum())), d.count(int(times.events[outside].sum()))
        parts_n.append(rest_n)
        parts_events.append(rest_events)
        overall.not_in_a_group = OutsideGroups(n=rest_n, events=rest_events)
    d.total(overall.n, parts_n)
    d.total(overall.events, parts_events)
    return trees, labels


def competing_tree(
    times: Times, dropout: KaplanMeier, days: Sequence[int], confidence: float, d: Disclosure
) -> CompetingRisks:
    """Cumulative incidence of completion and of dropout (Aalen-Johansen).

    `dropout` is the time-to-dropout curve of the same people: its n and events are the
    same counts here, so they are hidden together."""
    out = CompetingRisks()
    if times.durations.size == 0 or not (times.codes != 0).any():
        return out
    risks = cumulative_incidence(times.durations, times.codes, confidence=confidence)
    n = dropout.n
    counts = {
        DROPPED_OUT: dropout.events,
        # completions are the cohort's own count (a headline), not a tail of this curve
        COMPLETED: d.count(int((times.codes == COMPLETED).sum()), primary=d.small(n.value)),
    }
    still = d.count(
        n.value - counts[DROPPED_OUT].value - counts[COMPLETED].value, primary=d.small(n.value)
    )
    d.total(n, [*counts.values(), still])
    out.censored = still  # still in the programme on the as-of date, or transferred
    for code, name in ((COMPLETED, "completed"), (DROPPED_OUT, "dropped_out")):
        if code not in risks.event_codes:
            continue
        c = risks.curve(code)
        keep = c.at_risk >= d.threshold if d.active else np.ones(c.times.size, dtype=bool)
        curve = [
            IncidencePoint(
                t=float(c.times[i]),
                at_risk=int(c.at_risk[i]),
                events=int(c.events[i]),
                cif=float(c.cif[i]),
                ci_low=float(c.ci_low[i]),
                ci_high=float(c.ci_high[i]),
            )
            for i in np.flatnonzero(keep)
        ]
        horizon = float(c.times[keep][-1]) if keep.any() else -1.0
        at = []
        for t in days:
            i = int(np.searchsorted(c.times, t, side="right")) - 1
            at_risk = int(c.at_risk[i]) if i >= 0 else n.value
            hidden = d.active and (t > horizon or d.small(at_risk))
            at.append(IncidenceAt(t=float(t), cif=d.derived(c.cif_at(t), n, hidden=hidden)))
        setattr(
            out,
            name,
            Incidence(
                events=counts[code],
                curve=d.derived(curve, n),
                curve_truncated=d.derived(bool(not keep.all()), n),
                at=at,
            ),
        )
    out.estimator = risks.estimator
    out.ci_method = risks.ci_method
    return out
