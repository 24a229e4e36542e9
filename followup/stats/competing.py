"""Competing risks: Aalen–Johansen cumulative incidence, e.g. of completion vs dropout.

One row per subject: a duration in days and an event code, 0 for censored and a positive
integer for each kind of event (say 1 = completed, 2 = dropped out).  Treating the other kinds
of event as censoring and taking 1 - Kaplan–Meier would overstate each risk; the
Aalen–Johansen estimator does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from followup.stats._input import (
    RiskTable,
    as_confidence,
    as_durations,
    as_event_codes,
    read_only,
)


@dataclass(frozen=True, eq=False, kw_only=True)
class CumulativeIncidence:
    """The cumulative incidence of one kind of event, at every distinct event time of any kind.

    The variance and CI change at every event time, not only at this kind's own, hence the
    shared grid; ``events`` is 0 at the other kinds' times.  The bounds are finite numbers in
    [0, 1]: where the incidence is exactly 0 (before the first event of this kind) or 1 the
    interval collapses to that point.
    """

    event_code: int
    times: NDArray[np.float64]
    at_risk: NDArray[np.int64]
    events: NDArray[np.int64]
    cif: NDArray[np.float64]
    variance: NDArray[np.float64]
    ci_low: NDArray[np.float64]
    ci_high: NDArray[np.float64]
    n_events: int

    def cif_at(self, t: float) -> float:
        """The incidence at ``t`` as a right-continuous step function, 0 before any event."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return 0.0 if i < 0 else float(self.cif[i])


@dataclass(frozen=True, eq=False, kw_only=True)
class CompetingRisks:
    """One cumulative incidence curve per event code present, in increasing code order."""

    curves: tuple[CumulativeIncidence, ...]
    n: int
    n_censored: int
    confidence: float
    estimator: str = "Aalen-Johansen"
    ci_method: str = "log(-log) transform, delta-method variance (Collett 2015, p. 411)"

    @property
    def event_codes(self) -> tuple[int, ...]:
        return tuple(c.event_code for c in self.curves)

    def curve(self, event_code: int) -> CumulativeIncidence:
        for c in self.curves:
            if c.event_code == event_code:
                return c
        raise KeyError(f"no events with code {event_code}; codes present: {self.event_codes}")


def cumulative_incidence(
    durations: ArrayLike, event_codes: ArrayLike, *, confidence: float = 0.95
) -> CompetingRisks:
    """Aalen–Johansen cumulative incidence per event code, with a log(-log) CI.

    F_k(t) = sum over event times t_i <= t of S(t_i-) * d_k(t_i) / n(t_i), with S the
    Kaplan–Meier curve for "any event".  Tied times, between kinds of event or with
    censorings, are handled exactly (events before censorings); nothing is jittered.
    The variance is the Greenwood-type delta-method estimate that lifelines'
    ``AalenJohansenFitter`` uses, summed with cumulative sums instead of a loop.
    """
    t = as_durations(durations)
    codes = as_event_codes(event_codes, t.size)
    level = as_confidence(confidence)
    z = float(special.ndtri(0.5 + level / 2))

    table = RiskTable.from_durations(t)
    any_event = codes != 0
    deaths_all = table.count(any_event)
    is_event_time = deaths_all > 0
    times = read_only(table.times[is_event_time])
    at_risk = read_only(table.at_risk[is_event_time])
    n = at_risk.astype(np.float64)
    d = deaths_all[is_event_time].astype(np.float64)

    survival = np.cumprod(1.0 - d / n)
    survival_before = np.concatenate(([1.0], survival[:-1]))
    # Greenwood's d / (n (n - d)) is infinite when everyone left has an event, but that only
    # happens at the last time, where it multiplies (F(t) - F(t_i))^2 = 0: the term is 0.
    still_at_risk = n > d
    greenwood = np.where(still_at_risk, d / (n * np.where(still_at_risk, n - d, 1.0)), 0.0)

    curves = []
    for code in np.unique(codes[any_event]).tolist():
        events = table.count(codes == code)[is_event_time]
        cif, variance = _aalen_johansen(events, n, survival_before, greenwood)
        low, high = _loglog_interval(cif, variance, z)
        curves.append(
            CumulativeIncidence(
                event_code=int(code),
                times=times,
                at_risk=at_risk,
                events=read_only(events),
                cif=read_only(cif),
                variance=read_only(variance),
                ci_low=read_only(low),
                ci_high=read_only(high),
                n_events=int(events.sum()),
            )
        )
    return CompetingRisks(
        curves=tuple(curves),
        n=int(t.size),
        n_censored=int((~any_event).sum()),
        confidence=level,
    )


def _aalen_johansen(
    events: NDArray[np.int64],
    n: NDArray[np.float64],
    survival_before: NDArray[np.float64],
    greenwood: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    dk = events.astype(np.float64)
    cif = np.cumsum(survival_before * dk / n)

    # Var F(t) = sum_i g_i (F(t) - F_i)^2 + sum_i S_i-^2 dk_i (n_i - dk_i) / n_i^3
    #            - 2 sum_i (F(t) - F_i) S_i- dk_i / n_i^2,        over t_i <= t.
    # The squares and products are expanded so each sum is one running total.
    g0, g1, g2 = np.cumsum(greenwood), np.cumsum(greenwood * cif), np.cumsum(greenwood * cif**2)
    own = np.cumsum(survival_before**2 * dk * (n - dk) / n**3)
    c = survival_before * dk / n**2
    c0, c1 = np.cumsum(c), np.cumsum(c * cif)
    variance = cif**2 * g0 - 2 * cif * g1 + g2 + own - 2 * (cif * c0 - c1)
    # The expansion can leave a rounding-sized negative where the true value is 0.
    return cif, np.maximum(variance, 0.0)


def _loglog_interval(
    cif: NDArray[np.float64], variance: NDArray[np.float64], z: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    interior = (cif > 0) & (cif < 1)
    f = np.where(interior, cif, 0.5)
    log_f = np.log(f)
    se = np.sqrt(variance) / (f * np.abs(log_f))
    centre = np.log(-log_f)
    low = np.where(interior, np.exp(-np.exp(centre + z * se)), cif)
    high = np.where(interior, np.exp(-np.exp(centre - z * se)), cif)
    return low, high
