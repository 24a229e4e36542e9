"""Scores of an instrument at a checkpoint, and their change between checkpoints — pure.

`describe` gives n, mean, SD (ddof = 1), median and quartiles (numpy.percentile, method
"linear": Hyndman & Fan type 7, R's default); `paired_change` gives the mean change with
its t interval and the Wilcoxon signed-rank test of the paired differences, computed by
`scipy.stats.wilcoxon` with the options in `WILCOXON` (docs/report.md). A figure that is
undefined (an SD of one value, a test of nothing but ties) is None, never NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

QUARTILE_METHOD = "linear"
# Differences of zero are dropped before ranking (Wilcoxon's own treatment); no continuity
# correction; an exact p for small samples without ties, else the normal approximation.
WILCOXON = {"zero_method": "wilcox", "correction": False, "method": "auto"}


@dataclass(frozen=True)
class Description:
    n: int
    mean: float | None
    sd: float | None
    median: float | None
    q1: float | None
    q3: float | None


@dataclass(frozen=True)
class Change:
    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    wilcoxon_statistic: float | None
    wilcoxon_p: float | None


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def describe(values: ArrayLike) -> Description:
    v = np.asarray(values, dtype=np.float64)
    n = int(v.size)
    if not n:
        return Description(0, None, None, None, None, None)
    q1, median, q3 = np.percentile(v, [25, 50, 75], method=QUARTILE_METHOD)
    sd = _finite(np.std(v, ddof=1)) if n > 1 else None
    return Description(n, _finite(v.mean()), sd, _finite(median), _finite(q1), _finite(q3))


def paired_change(before: ArrayLike, after: ArrayLike, confidence: float = 0.95) -> Change:
    """after - before per person: mean, its t interval, and the signed-rank test."""
    differences = np.asarray(after, dtype=np.float64) - np.asarray(before, dtype=np.float64)
    n = int(differences.size)
    if not n:
        return Change(0, None, None, None, None, None)
    mean = float(differences.mean())
    low = high = None
    if n > 1:
        se = float(np.std(differences, ddof=1)) / math.sqrt(n)
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
        low, high = mean - half, mean + half
    statistic = p = None
    if np.count_nonzero(differences):  # all ties: nothing to rank
        test = stats.wilcoxon(differences, **WILCOXON)
        statistic, p = _finite(test.statistic), _finite(test.pvalue)
    return Change(n, mean, low, high, statistic, p)
