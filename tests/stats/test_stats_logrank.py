"""The k-group log-rank test against lifelines' multivariate_logrank_test and scipy.stats.logrank.

Tolerance: statistic, p-value and expected counts to an absolute 1e-6; df and observed exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from lifelines.statistics import multivariate_logrank_test
from scipy import stats

from followup.stats import logrank

from .cohorts import random_cohort, waltons_cohort

TOL = 1e-6


def assert_matches_lifelines(durations, events, groups) -> None:
    ours = logrank(durations, events, groups)
    ref = multivariate_logrank_test(durations, groups, events)
    assert ours.statistic == pytest.approx(ref.test_statistic, abs=TOL)
    assert ours.p_value == pytest.approx(ref.p_value, abs=TOL)
    assert ours.df == ref.degrees_of_freedom


def test_logrank_matches_lifelines_multivariate_test(cohort):
    assert_matches_lifelines(cohort.durations, cohort.events, cohort.groups)


@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_logrank_matches_lifelines_for_k_groups_on_tied_random_data(k):
    c = random_cohort(seed=100 + k, n=800, k=k)
    assert_matches_lifelines(c.durations, c.events, c.groups)
    assert logrank(c.durations, c.events, c.groups).df == k - 1


@pytest.mark.parametrize("cohort_of", [waltons_cohort, lambda: random_cohort(3, n=300, k=2)])
def test_logrank_with_two_groups_agrees_with_scipy_logrank(cohort_of):
    c = cohort_of()
    ours = logrank(c.durations, c.events, c.groups)
    first = c.groups == ours.groups[0]

    def sample(mask):
        died = c.events[mask] == 1
        return stats.CensoredData(
            uncensored=c.durations[mask][died], right=c.durations[mask][~died]
        )

    ref = stats.logrank(sample(first), sample(~first))
    # scipy returns the signed square root of the chi-square statistic.
    assert ours.statistic == pytest.approx(ref.statistic**2, abs=TOL)
    assert ours.p_value == pytest.approx(ref.pvalue, abs=TOL)


def test_logrank_observed_and_expected_match_a_hand_calculation():
    # a: 1 event, 3 event, 4 censored; b: 2 event, 3 censored, 5 event.
    # Day 1: 6 at risk (3 a), 1 event -> E_a 3/6;  day 2: 5 (2 a) -> 2/5;
    # day 3: 4 (2 a) -> 2/4;  day 5: 1 (0 a) -> 0.          E_a = 1.4, O_a = 2.
    # Var = 1*(5/5)(3/6)(3/6) + 1*(4/4)(2/5)(3/5) + 1*(3/3)(2/4)(2/4) + 0 = 0.74.
    result = logrank([1, 3, 4, 2, 3, 5], [1, 1, 0, 1, 0, 1], ["a", "a", "a", "b", "b", "b"])

    assert result.groups == ("a", "b")
    assert result.n == (3, 3)
    assert result.observed == (2, 2)
    assert result.expected == pytest.approx((1.4, 2.6), abs=1e-12)
    assert result.statistic == pytest.approx(0.6**2 / 0.74, abs=1e-12)
    assert result.df == 1
    assert result.p_value == pytest.approx(stats.chi2.sf(0.6**2 / 0.74, 1), abs=1e-12)


def test_logrank_observed_and_expected_events_add_up(cohort):
    result = logrank(cohort.durations, cohort.events, cohort.groups)
    assert sum(result.observed) == int(np.sum(cohort.events))
    assert sum(result.expected) == pytest.approx(sum(result.observed), abs=1e-9)
    assert sum(result.n) == len(cohort.durations)


def test_logrank_group_labels_keep_their_type_and_sorted_order():
    result = logrank([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 1, 0], [3, 1, 2, 3, 1, 2])
    assert result.groups == (1, 2, 3)
    assert all(type(g) is int for g in result.groups)


def test_logrank_names_its_test_and_null_distribution():
    result = logrank([1, 2, 3, 4], [1, 1, 1, 1], ["x", "y", "x", "y"])
    assert result.test == "log-rank (Mantel-Cox)"
    assert result.null_distribution == "chi-square"


def test_logrank_with_no_events_has_statistic_zero_and_p_one_as_lifelines():
    durations, events, groups = [1, 2, 3, 4], [0, 0, 0, 0], ["x", "y", "x", "y"]
    result = logrank(durations, events, groups)
    assert (result.statistic, result.p_value, result.df) == (0.0, 1.0, 1)
    assert_matches_lifelines(durations, events, groups)


def test_logrank_with_a_group_censored_before_any_event_matches_lifelines():
    # Group "c" is never at risk at an event time; it still counts as a group (df = 2).
    durations = [1, 1, 1, 5, 6, 7, 8, 9, 10, 4, 6, 12]
    events = [0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0]
    groups = ["c", "c", "c", "a", "a", "a", "b", "b", "b", "a", "b", "a"]
    result = logrank(durations, events, groups)
    assert result.expected[2] == 0.0
    assert_matches_lifelines(durations, events, groups)
    # The same statistic as if group "c" were not there at all.
    two = logrank(durations[3:], events[3:], groups[3:])
    assert result.statistic == pytest.approx(two.statistic, abs=1e-9)


def test_logrank_needs_two_groups_with_subjects():
    with pytest.raises(ValueError, match="at least 2 groups with subjects; got 1: \\('a',\\)"):
        logrank([1, 2, 3], [1, 0, 1], ["a", "a", "a"])


def test_logrank_rejects_a_subject_without_a_group():
    with pytest.raises(ValueError, match="subject at index 1 has none"):
        logrank([1, 2, 3], [1, 0, 1], ["a", None, "b"])


def test_logrank_rejects_empty_input():
    with pytest.raises(ValueError, match="durations is empty"):
        logrank([], [], [])


def test_logrank_rejects_groups_of_the_wrong_length():
    with pytest.raises(ValueError, match="groups has 2 values but durations has 3"):
        logrank([1, 2, 3], [1, 0, 1], ["a", "b"])
