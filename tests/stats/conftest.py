"""The ``cohort`` fixture: every data set the estimators are compared on."""

from __future__ import annotations

import pytest

from .cohorts import Cohort, hand_cohort, random_cohort, waltons_cohort

COHORTS = [hand_cohort, waltons_cohort, random_cohort, lambda: random_cohort(7, n=60, k=3)]


@pytest.fixture(params=COHORTS, ids=["hand", "waltons", "random-600", "random-60"])
def cohort(request) -> Cohort:
    return request.param()
