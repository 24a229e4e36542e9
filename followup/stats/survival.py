"""Time to an event: the Kaplan–Meier curve with its log-log CI, and the k-group log-rank test.

Both take one row per subject: a duration in days (>= 0) and whether the event was seen
(1) or the subject was censored (0) at that duration.  Where an event and a censoring share a
duration, the event is counted first (the censored subject was still at risk), as lifelines and
R ``survival`` do.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from followup.stats._input import (
    RiskTable,
    as_confidence,
    as_durations,
    as_events,
    as_labels,
    read_only,
)

# S(t) is a product of many ratios, so a curve that is exactly 0.5 in exact arithmetic can come
# out a few ulps above it; without this slack the median would slide to the next event time.
_MEDIAN_SLACK = 1e-9


@dataclass(frozen=True, kw_only=True)
class SurvivalAt:
    """The curve read at one time, for tables such as "survival at 90/180/365 days".

    ``survival``, ``ci_low`` and ``ci_high`` are None when nobody was followed up to ``t``
    (the curve is unknown there), unless the curve had already reached 0.
    """

    t: float
    survival: float | None
    ci_low: float | None
    ci_high: float | None
    at_risk: int


@dataclass(frozen=True, eq=False, kw_only=True)
class KaplanMeier:
    """A Kaplan–Meier curve, tabulated at every distinct event time.

    Row ``i`` describes event time ``times[i]``: ``at_risk[i]`` subjects were under observation
    just before it, ``events[i]`` had the event at it, and ``censored[i]`` were censored since
    the previous event time (at or after ``times[i-1]``, before ``times[i]``; for the first row,
    before ``times[0]``).  ``censored_after_last_event`` counts the censorings at or after the
    last event time, so ``at_risk[i+1] = at_risk[i] - events[i] - censored[i+1]`` and
    ``n = events.sum() + censored.sum() + censored_after_last_event``.

    The confidence bounds are always finite numbers in [0, 1], never NaN: where the curve has
    fallen to 0 (everyone left at risk had the event) the log-log interval is undefined and is
    reported as (0, 0), as lifelines does.  With no events the table is empty and the curve is
    1 everywhere.
    """

    times: NDArray[np.float64]
    at_risk: NDArray[np.int64]
    events: NDArray[np.int64]
    censored: NDArray[np.int64]
    survival: NDArray[np.float64]
    ci_low: NDArray[np.float64]
    ci_high: NDArray[np.float64]
    n: int
    n_events: int
    censored_after_last_event: int
    median: float | None
    median_ci: tuple[float | None, float | None]
    confidence: float
    estimator: str = "Kaplan-Meier"
    ci_method: str = "log-log (exponential Greenwood)"
    # Every distinct duration with its number at risk, so at_risk_at() is exact between events.
    _risk_times: NDArray[np.float64] = field(repr=False)
    _risk_at_risk: NDArray[np.int64] = field(repr=False)

    def _row(self, t: float) -> int:
        """Index of the last event time <= t, or -1 before the first event."""
        return int(np.searchsorted(self.times, t, side="right")) - 1

    def survival_at(self, t: float) -> float:
        """S(t) as a right-continuous step function: 1.0 before the first event time.

        Beyond the last observation the last value is carried forward (lifelines ``predict``
        does the same); ``survival_at_days`` refuses to do that.
        """
        i = self._row(t)
        return 1.0 if i < 0 else float(self.survival[i])

    def at_risk_at(self, t: float) -> int:
        """Subjects under observation just before ``t`` (duration >= t)."""
        i = int(np.searchsorted(self._risk_times, t, side="left"))
        return int(self._risk_at_risk[i]) if i < self._risk_times.size else 0

    def survival_at_days(self, days: Iterable[float] = (90, 180, 365)) -> tuple[SurvivalAt, ...]:
        """The curve and its CI at each of ``days``; None past the end of follow-up.

        Like R's ``summary(fit, times=...)``, a time nobody was followed up to gets no
        estimate, because carrying the last value forward would claim survival that was never
        observed.  Once the curve has reached 0 it stays 0, so that is still reported.
        """
        points = []
        for t in days:
            i = self._row(t)
            at_risk = self.at_risk_at(t)
            if i < 0:
                s, lo, hi = 1.0, 1.0, 1.0
            else:
                s, lo, hi = (float(a[i]) for a in (self.survival, self.ci_low, self.ci_high))
            if at_risk == 0 and s > 0:
                s = lo = hi = None
            points.append(
                SurvivalAt(t=float(t), survival=s, ci_low=lo, ci_high=hi, at_risk=at_risk)
            )
        return tuple(points)


def kaplan_meier(
    durations: ArrayLike, events: ArrayLike, *, confidence: float = 0.95
) -> KaplanMeier:
    """Kaplan–Meier estimate with the log-log ("exponential Greenwood") confidence interval.

    The estimate and the interval are scipy's (``scipy.stats.ecdf``); the counts, the median
    and its interval are added here.  The median is the first event time where S(t) <= 0.5
    and its interval is read off the confidence bands the same way (Brookmeyer–Crowley style,
    as lifelines' ``median_survival_times(confidence_interval_)``); None where a curve never
    gets down to 0.5.
    """
    t = as_durations(durations)
    died = as_events(events, t.size)
    level = as_confidence(confidence)

    table = RiskTable.from_durations(t)
    deaths = table.count(died)
    sf = stats.ecdf(stats.CensoredData(uncensored=t[died], right=t[~died])).sf
    with warnings.catch_warnings():
        # The formula is 0/0 where S = 1 (censorings before the first event: not reported)
        # and where S = 0 (set explicitly below); scipy warns about both.
        warnings.filterwarnings(
            "ignore", message="The confidence interval is undefined", category=RuntimeWarning
        )
        ci = sf.confidence_interval(level, method="log-log")
    # scipy tabulates at the same distinct durations as the risk table.
    assert sf.quantiles.size == table.times.size

    is_event_time = deaths > 0
    survival = sf.probabilities[is_event_time]
    extinct = survival <= 0.0
    low = np.where(extinct, 0.0, ci.low.probabilities[is_event_time])
    high = np.where(extinct, 0.0, ci.high.probabilities[is_event_time])
    times = table.times[is_event_time]

    censored_here = table.removed - deaths
    censored_before = np.cumsum(censored_here) - censored_here
    before_each_event = censored_before[is_event_time]
    censored = np.diff(before_each_event, prepend=0)
    censored_after = int(censored_here.sum()) - int(before_each_event[-1] if times.size else 0)

    return KaplanMeier(
        times=read_only(times),
        at_risk=read_only(table.at_risk[is_event_time]),
        events=read_only(deaths[is_event_time]),
        censored=read_only(censored),
        survival=read_only(survival),
        ci_low=read_only(low),
        ci_high=read_only(high),
        n=int(t.size),
        n_events=int(died.sum()),
        censored_after_last_event=censored_after,
        median=_first_time_at_or_below(times, survival),
        median_ci=(_first_time_at_or_below(times, low), _first_time_at_or_below(times, high)),
        confidence=level,
        _risk_times=read_only(table.times),
        _risk_at_risk=read_only(table.at_risk),
    )


def _first_time_at_or_below(
    times: NDArray[np.float64], curve: NDArray[np.float64], level: float = 0.5
) -> float | None:
    hits = np.flatnonzero(curve <= level + _MEDIAN_SLACK)
    return float(times[hits[0]]) if hits.size else None


@dataclass(frozen=True, kw_only=True)
class LogRank:
    """The k-group log-rank test; per-group tuples follow the order of ``groups`` (sorted)."""

    groups: tuple
    n: tuple[int, ...]
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    statistic: float
    df: int
    p_value: float
    test: str = "log-rank (Mantel-Cox)"
    null_distribution: str = "chi-square"


def logrank(durations: ArrayLike, events: ArrayLike, groups: ArrayLike) -> LogRank:
    """Log-rank test that k >= 2 groups share one survival curve; chi-square with k-1 df.

    At each distinct event time the events are shared out over the groups in proportion to
    the numbers at risk (expected), with the hypergeometric covariance; the statistic is the
    quadratic form of observed - expected over k-1 groups (the k-th is implied, the sums are
    zero).  A pseudo-inverse keeps it defined when a group has nobody at risk at any event
    time, and with no events at all it gives statistic 0 and p 1, as lifelines'
    ``multivariate_logrank_test`` does.
    """
    t = as_durations(durations)
    died = as_events(events, t.size)
    labels, g = as_labels(groups, t.size)
    k = len(labels)
    if k < 2:
        raise ValueError(
            f"the log-rank test compares at least 2 groups with subjects; got {k}: {labels}"
        )

    table = RiskTable.from_durations(t)
    cell = table.index * k + g
    size = table.times.size * k
    removed = np.bincount(cell, minlength=size).reshape(-1, k)
    deaths = np.bincount(cell[died], minlength=size).reshape(-1, k)
    is_event_time = deaths.any(axis=1)
    at_risk = np.cumsum(removed[::-1], axis=0)[::-1][is_event_time]
    deaths = deaths[is_event_time]

    n = at_risk.sum(axis=1).astype(np.float64)
    d = deaths.sum(axis=1).astype(np.float64)
    observed = deaths.sum(axis=0)
    expected = at_risk.T @ (d / n)
    # A time with one subject at risk has no hypergeometric variance (n - 1 = 0 below).
    safe_n1 = np.where(n > 1, n - 1, 1.0)
    weight = np.where(n > 1, d * (n - d) / (safe_n1 * n * n), 0.0)
    weighted = at_risk * weight[:, None]
    covariance = np.diag(weighted.T @ n) - weighted.T @ at_risk

    diff = (observed - expected)[:-1]
    statistic = max(float(diff @ np.linalg.pinv(covariance[:-1, :-1]) @ diff), 0.0)
    df = k - 1
    return LogRank(
        groups=labels,
        n=tuple(int(x) for x in np.bincount(g, minlength=k)),
        observed=tuple(int(x) for x in observed),
        expected=tuple(float(x) for x in expected),
        statistic=statistic,
        df=df,
        p_value=float(stats.chi2.sf(statistic, df)),
    )
