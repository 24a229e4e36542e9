"""Properties that must hold on any data, found by hypothesis rather than chosen by hand.

Durations are drawn from few whole days so that ties between events and censorings are the
rule, and from floats so that they are not.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.stats import (
    agreement,
    cumulative_incidence,
    kaplan_meier,
    logrank,
    wilson,
)

whole_days = st.integers(min_value=0, max_value=30).map(float)
any_days = st.floats(min_value=0, max_value=1e4, allow_nan=False, allow_infinity=False)


@st.composite
def subjects(draw, codes: int = 1, groups: int = 1, min_size: int = 1):
    n = draw(st.integers(min_value=min_size, max_value=80))
    days = draw(st.sampled_from([whole_days, any_days]))
    durations = draw(st.lists(days, min_size=n, max_size=n))
    outcome = draw(st.lists(st.integers(0, codes), min_size=n, max_size=n))
    group = draw(st.lists(st.sampled_from("abcdefgh"[:groups]), min_size=n, max_size=n))
    return np.array(durations), np.array(outcome), np.array(group)


@given(subjects(), st.sampled_from([0.8, 0.95, 0.99]))
@settings(max_examples=300, deadline=None)
def test_km_curve_is_non_increasing_within_zero_and_one_and_inside_its_ci(data, confidence):
    durations, events, _ = data
    km = kaplan_meier(durations, events, confidence=confidence)

    assert np.all(np.diff(km.survival) <= 0)
    assert np.all((km.survival >= 0) & (km.survival <= 1))
    assert np.all(np.isfinite(km.ci_low) & np.isfinite(km.ci_high))
    assert np.all((km.ci_low >= 0) & (km.ci_high <= 1))
    assert np.all(km.ci_low <= km.survival) and np.all(km.survival <= km.ci_high)
    assert km.n == km.events.sum() + km.censored.sum() + km.censored_after_last_event
    for t in durations:
        assert 0 <= km.survival_at(t) <= 1
    for bound in (km.median, *km.median_ci):
        assert bound is None or math.isfinite(bound)
    if km.median is not None and km.median_ci[0] is not None:
        assert km.median_ci[0] <= km.median
    if km.median is not None and km.median_ci[1] is not None:
        assert km.median <= km.median_ci[1]


@given(subjects(groups=5, min_size=2))
@settings(max_examples=300, deadline=None)
def test_logrank_p_value_is_a_probability_and_the_statistic_non_negative(data):
    durations, events, groups = data
    if np.unique(groups).size < 2:
        return
    result = logrank(durations, events, groups)

    assert 0 <= result.p_value <= 1
    assert result.statistic >= 0 and math.isfinite(result.statistic)
    assert result.df == np.unique(groups).size - 1
    assert math.isclose(sum(result.expected), sum(result.observed), abs_tol=1e-9)


@given(subjects(codes=3))
@settings(max_examples=300, deadline=None)
def test_cifs_are_non_decreasing_and_sum_to_at_most_one(data):
    durations, codes, _ = data
    result = cumulative_incidence(durations, codes)
    if not result.curves:
        return
    total = np.zeros_like(result.curves[0].cif)
    for curve in result.curves:
        assert np.all(np.diff(curve.cif) >= 0)
        assert np.all((curve.cif >= 0) & (curve.cif <= 1 + 1e-12))
        assert np.all(np.isfinite(curve.variance) & (curve.variance >= 0))
        assert np.all(np.isfinite(curve.ci_low) & np.isfinite(curve.ci_high))
        assert np.all(curve.ci_low <= curve.cif + 1e-12) and np.all(
            curve.cif <= curve.ci_high + 1e-12
        )
        total += curve.cif
    assert np.all(total <= 1 + 1e-12)
    any_event = kaplan_meier(durations, codes > 0)
    np.testing.assert_allclose(total, 1 - any_event.survival, atol=1e-12)


@given(st.integers(0, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_the_rate_and_stays_in_zero_one(counts):
    successes, n = counts
    result = wilson(successes, n)
    if n == 0:
        assert result.rate is None
        return
    assert 0 <= result.ci_low <= result.rate <= result.ci_high <= 1


answers = st.lists(st.sampled_from(["yes", "no", "unsure", None]), min_size=0, max_size=60)


@given(
    answers.flatmap(
        lambda a: st.tuples(
            st.just(a),
            st.lists(
                st.sampled_from(["yes", "no", "unsure", None]), min_size=len(a), max_size=len(a)
            ),
        )
    )
)
def test_agreement_is_a_fraction_and_kappa_at_most_one(pair):  # fmt: skip
    a, b = pair
    result = agreement(a, b)
    assert result.n + result.n_missing == len(a)
    if result.n:
        assert 0 <= result.observed_agreement <= 1
    if result.kappa is not None:
        assert -1 <= result.kappa <= 1
