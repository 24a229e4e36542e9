"""Outcome statistics as pure functions over numpy arrays, returning small frozen records.

Every record names its estimator (or test) and its confidence-interval method, and holds no
NaN: a number that is undefined is None, so the records go to JSON as they are.
"""

from __future__ import annotations

from followup.stats.competing import CompetingRisks, CumulativeIncidence, cumulative_incidence
from followup.stats.proportions import (
    Agreement,
    AttritionBounds,
    Proportion,
    agreement,
    attrition_bounds,
    wilson,
)
from followup.stats.survival import KaplanMeier, LogRank, SurvivalAt, kaplan_meier, logrank

__all__ = [
    "Agreement",
    "AttritionBounds",
    "CompetingRisks",
    "CumulativeIncidence",
    "KaplanMeier",
    "LogRank",
    "Proportion",
    "SurvivalAt",
    "agreement",
    "attrition_bounds",
    "cumulative_incidence",
    "kaplan_meier",
    "logrank",
    "wilson",
]
