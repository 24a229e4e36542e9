"""Rates and agreement: a proportion with its Wilson score CI, and two raters' agreement."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from followup.stats._input import as_confidence, is_missing


@dataclass(frozen=True, kw_only=True)
class Proportion:
    """``successes`` out of ``n``; rate and CI are None when n = 0 (nothing to estimate)."""

    rate: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    successes: int
    confidence: float
    estimator: str = "proportion"
    ci_method: str = "wilson"


def wilson(successes: int, n: int, *, confidence: float = 0.95) -> Proportion:
    """The observed rate with the Wilson score interval (Wilson 1927, no continuity correction).

    Unlike the Wald interval it stays inside [0, 1] and is not zero-width at 0/n or n/n,
    which matters for small sites and rare outcomes.
    """
    successes, n = _count(successes, "successes"), _count(n, "n")
    if successes > n:
        raise ValueError(f"successes ({successes}) cannot exceed n ({n})")
    level = as_confidence(confidence)
    if n == 0:
        return Proportion(rate=None, ci_low=None, ci_high=None, n=0, successes=0, confidence=level)
    z = float(special.ndtri(0.5 + level / 2))
    p = successes / n
    shrink = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / shrink
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / shrink
    return Proportion(
        rate=p,
        # At 0/n and n/n the bound is exactly 0 or 1; the formula leaves rounding dust there.
        ci_low=0.0 if successes == 0 else centre - half,
        ci_high=1.0 if successes == n else centre + half,
        n=n,
        successes=successes,
        confidence=level,
    )


@dataclass(frozen=True, kw_only=True)
class AttritionBounds:
    """Worst- and best-case bounds on a rate among everyone due, when only some were
    asked: ``successes`` of ``answered``, and ``due - answered`` whose answer is unknown.
    ``worst``: none of the unknown would have been a success; ``best``: all of them would.
    Each is a plain proportion of ``due`` with its Wilson interval (the bounds are about
    who is missing, not a model of them)."""

    due: int
    not_reached: int
    worst: Proportion
    best: Proportion
    estimator: str = "worst- and best-case bounds (missing as failure / as success)"


def attrition_bounds(
    successes: int, answered: int, due: int, *, confidence: float = 0.95
) -> AttritionBounds:
    """Bounds for ``successes / answered`` when ``due`` were meant to be asked: the worst
    case is ``successes / due``, the best ``(successes + due - answered) / due``."""
    successes, answered, due = (
        _count(successes, "successes"),
        _count(answered, "answered"),
        _count(due, "due"),
    )
    if successes > answered:
        raise ValueError(f"successes ({successes}) cannot exceed answered ({answered})")
    if answered > due:
        raise ValueError(f"answered ({answered}) cannot exceed due ({due})")
    unknown = due - answered
    return AttritionBounds(
        due=due,
        not_reached=unknown,
        worst=wilson(successes, due, confidence=confidence),
        best=wilson(successes + unknown, due, confidence=confidence),
    )


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


@dataclass(frozen=True, kw_only=True)
class Agreement:
    """Two raters' answers about the same subjects (e.g. participant and partner).

    ``table[i][j]`` counts pairs where rater a said ``categories[i]`` and rater b
    ``categories[j]``.  Agreement figures are fractions in [0, 1] (``percent_agreement`` is the
    same as a percentage); all are None when no pair is complete.
    """

    n: int
    n_missing: int
    n_agree: int
    categories: tuple
    table: tuple[tuple[int, ...], ...]
    observed_agreement: float | None
    expected_agreement: float | None
    kappa: float | None
    estimator: str = "Cohen's kappa"
    ci_method: str | None = None

    @property
    def percent_agreement(self) -> float | None:
        return None if self.observed_agreement is None else 100.0 * self.observed_agreement


def agreement(a: ArrayLike, b: ArrayLike) -> Agreement:
    """Percent agreement and Cohen's kappa over the pairs where both answers are present.

    A pair with either answer missing (None or NaN) is left out and counted in
    ``n_missing``: a missing answer is not a disagreement.
    """
    a_arr, b_arr = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if a_arr.ndim != 1 or a_arr.shape != b_arr.shape:
        raise ValueError(
            f"a and b must be one-dimensional and paired, got shapes {a_arr.shape} and {b_arr.shape}"
        )
    complete = ~(is_missing(a_arr) | is_missing(b_arr))
    n = int(complete.sum())
    try:
        categories, codes = np.unique(
            np.concatenate((a_arr[complete], b_arr[complete])), return_inverse=True
        )
    except TypeError:
        raise ValueError("answers must all be of one comparable type, e.g. all strings") from None
    k = categories.size
    table = np.bincount(codes[:n] * k + codes[n:], minlength=k * k).reshape(k, k)

    n_agree = int(np.trace(table))
    observed = expected = kappa = None
    if n:
        observed = n_agree / n
        # Integer arithmetic, so "chance agreement is exactly 1" is tested exactly.
        chance = int(table.sum(axis=1) @ table.sum(axis=0))
        expected = chance / (n * n)
        # When both raters used one and the same category for every pair, chance agreement is
        # already 1: kappa = (p_o - p_e) / (1 - p_e) is 0/0 and there is no agreement beyond
        # chance to measure, so it is reported as undefined rather than as 0 or 1.
        if chance != n * n:
            kappa = (n_agree * n - chance) / (n * n - chance)
    return Agreement(
        n=n,
        n_missing=int(a_arr.size - n),
        n_agree=n_agree,
        categories=tuple(categories.tolist()),
        table=tuple(tuple(int(x) for x in row) for row in table),
        observed_agreement=observed,
        expected_agreement=expected,
        kappa=kappa,
    )
