"""Aalen–Johansen cumulative incidence against lifelines' AalenJohansenFitter and closed forms.

lifelines jitters event times whenever two different kinds of event share a time, so it is
compared on tie-free data (CIF, variance and CI to an absolute 1e-6); tied data are checked
against a hand calculation in exact fractions, against lifelines after its jitter (between
event times, where the jitter cannot matter), and against closed forms.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
from lifelines import AalenJohansenFitter

from followup.stats import cumulative_incidence, kaplan_meier

from .cohorts import random_cohort

TOL = 1e-6


def tie_free_cohort(seed: int, n: int, kinds: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    durations = rng.exponential(200.0, size=n)
    codes = rng.integers(0, kinds + 1, size=n)
    assert np.unique(durations).size == n
    return durations, codes


def fit_lifelines(durations, codes, code: int) -> AalenJohansenFitter:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a tie warning here would mean jittered data
        return AalenJohansenFitter(calculate_variance=True).fit(
            durations, codes, event_of_interest=code
        )


@pytest.mark.parametrize(("seed", "n", "kinds"), [(1, 40, 2), (2, 300, 2), (3, 500, 3)])
def test_cif_matches_lifelines_aalen_johansen_on_tie_free_data(seed, n, kinds):
    durations, codes = tie_free_cohort(seed, n, kinds)
    result = cumulative_incidence(durations, codes)

    assert result.event_codes == tuple(range(1, kinds + 1))
    for curve in result.curves:
        ref = fit_lifelines(durations, codes, curve.event_code)
        np.testing.assert_allclose(
            curve.cif, ref.cumulative_density_.loc[curve.times].iloc[:, 0], atol=TOL
        )
        np.testing.assert_array_equal(curve.at_risk, ref.event_table.loc[curve.times, "at_risk"])


@pytest.mark.parametrize(("seed", "n", "kinds"), [(1, 40, 2), (2, 300, 2), (3, 500, 3)])
def test_cif_variance_and_ci_match_lifelines_where_lifelines_defines_them(seed, n, kinds):
    durations, codes = tie_free_cohort(seed, n, kinds)
    for curve in cumulative_incidence(durations, codes).curves:
        ref = fit_lifelines(durations, codes, curve.event_code)
        variance = ref.variance_.loc[curve.times].to_numpy()
        # lifelines labels its columns upper-then-lower but fills them lower-then-upper.
        bounds = np.sort(ref.confidence_interval_.loc[curve.times].to_numpy(), axis=1)
        defined = np.isfinite(variance) & np.isfinite(bounds).all(axis=1)
        # lifelines leaves NaN where F = 0 (its log(-log F) is undefined) and at the last
        # time if nobody is left (0 * inf); ours are (0, 0) and a finite variance there.
        last = np.arange(curve.times.size) == curve.times.size - 1
        assert np.all(defined | (curve.cif == 0) | last)

        np.testing.assert_allclose(curve.variance[defined], variance[defined], atol=TOL)
        np.testing.assert_allclose(curve.ci_low[defined], bounds[defined, 0], atol=TOL)
        np.testing.assert_allclose(curve.ci_high[defined], bounds[defined, 1], atol=TOL)


def test_cif_with_tied_times_matches_a_hand_calculation():
    # t  at risk  events        S(t-)   F1 += S(t-) d1/n     F2 += S(t-) d2/n    S(t)
    # 1     8     1x1, 1x2, 1c   1       1/8                  1/8                 6/8
    # 2     5     1x1            3/4     3/4 * 1/5 = 3/20     -                   3/5
    # 3     4     1x2, 1c        3/5     -                    3/5 * 1/4 = 3/20    9/20
    # 4     2     1x1            9/20    9/20 * 1/2 = 9/40    -                   9/40
    # 5     1     1c
    durations = [1, 1, 1, 2, 3, 3, 4, 5]
    codes = [1, 2, 0, 1, 2, 0, 1, 0]
    f = Fraction
    f1 = [f(1, 8), f(1, 8) + f(3, 20), f(1, 8) + f(3, 20), f(1, 8) + f(3, 20) + f(9, 40)]
    f2 = [f(1, 8), f(1, 8), f(1, 8) + f(3, 20), f(1, 8) + f(3, 20)]

    result = cumulative_incidence(durations, codes)
    one, two = result.curve(1), result.curve(2)

    assert one.times.tolist() == [1, 2, 3, 4]
    assert one.at_risk.tolist() == [8, 5, 4, 2]
    assert one.events.tolist() == [1, 1, 0, 1] and two.events.tolist() == [1, 0, 1, 0]
    np.testing.assert_allclose(one.cif, [float(x) for x in f1], atol=1e-12)
    np.testing.assert_allclose(two.cif, [float(x) for x in f2], atol=1e-12)
    assert one.cif[-1] + two.cif[-1] == pytest.approx(1 - 9 / 40, abs=1e-12)
    assert (result.n, result.n_censored) == (8, 3)


def test_cif_with_tied_event_times_matches_lifelines_after_its_jitter():
    # Only events share times (no censoring at an event time), so after any order of the tied
    # events the estimate is the same; read lifelines half a day after each event time.
    rng = np.random.default_rng(5)
    durations = rng.integers(1, 60, size=400).astype(float)
    codes = rng.integers(1, 3, size=400)
    censor = rng.random(400) < 0.3
    durations[censor] += 0.5
    codes[censor] = 0

    result = cumulative_incidence(durations, codes)
    for curve in result.curves:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = AalenJohansenFitter(calculate_variance=False, seed=0).fit(
                durations, codes, event_of_interest=curve.event_code
            )
        ref_cif = ref.cumulative_density_.iloc[:, 0]
        probe = curve.times + 0.25
        at = np.searchsorted(ref_cif.index.to_numpy(), probe, side="right") - 1
        np.testing.assert_allclose(curve.cif, ref_cif.to_numpy()[at], atol=TOL)


def test_cif_variance_without_censoring_is_the_binomial_variance_even_with_ties():
    # With nobody censored F(t) is a plain proportion, and the delta-method variance reduces
    # to F (1 - F) / n.
    rng = np.random.default_rng(9)
    durations = rng.integers(1, 20, size=200)
    codes = rng.integers(1, 4, size=200)
    for curve in cumulative_incidence(durations, codes).curves:
        np.testing.assert_allclose(curve.variance, curve.cif * (1 - curve.cif) / 200, atol=1e-12)
        assert curve.cif[-1] == pytest.approx(curve.n_events / 200, abs=1e-12)


def test_cif_with_a_single_event_type_equals_one_minus_kaplan_meier(cohort):
    result = cumulative_incidence(cohort.durations, cohort.events)
    km = kaplan_meier(cohort.durations, cohort.events)
    (curve,) = result.curves

    np.testing.assert_array_equal(curve.times, km.times)
    np.testing.assert_allclose(curve.cif, 1 - km.survival, atol=1e-12)


def test_cifs_add_up_to_one_minus_kaplan_meier_for_any_event():
    c = random_cohort(21, n=500)
    rng = np.random.default_rng(21)
    codes = np.where(c.events == 1, rng.integers(1, 4, size=c.events.size), 0)
    result = cumulative_incidence(c.durations, codes)
    km = kaplan_meier(c.durations, codes > 0)

    total = sum(curve.cif for curve in result.curves)
    np.testing.assert_allclose(total, 1 - km.survival, atol=1e-12)


def test_cif_when_everyone_has_an_event_at_the_same_time():
    result = cumulative_incidence([3, 3, 3], [1, 2, 1])
    one, two = result.curve(1), result.curve(2)

    assert one.cif.tolist() == pytest.approx([2 / 3]) and two.cif.tolist() == pytest.approx([1 / 3])
    assert one.variance.tolist() == pytest.approx([(2 / 3) * (1 / 3) / 3])
    assert np.isfinite([one.ci_low, one.ci_high, two.ci_low, two.ci_high]).all()


def test_cif_ci_collapses_to_the_point_where_the_incidence_is_zero_or_one():
    result = cumulative_incidence([1, 2, 2, 3], [2, 1, 1, 1])
    one, two = result.curve(1), result.curve(2)
    assert (one.cif[0], one.ci_low[0], one.ci_high[0]) == (0.0, 0.0, 0.0)
    everyone = cumulative_incidence([1, 2], [1, 1]).curve(1)
    assert (everyone.cif[-1], everyone.ci_low[-1], everyone.ci_high[-1]) == (1.0, 1.0, 1.0)
    assert two.cif_at(0.5) == 0.0 and two.cif_at(1) == 0.25 and two.cif_at(99) == 0.25


def test_cif_with_no_events_has_no_curves():
    result = cumulative_incidence([1, 2, 3], [0, 0, 0])
    assert result.curves == () and result.n_censored == 3
    with pytest.raises(KeyError, match="no events with code 1; codes present: \\(\\)"):
        result.curve(1)


def test_cif_result_names_its_estimator_and_ci_method():
    result = cumulative_incidence([1, 2, 3], [1, 2, 0], confidence=0.9)
    assert result.estimator == "Aalen-Johansen"
    assert result.ci_method.startswith("log(-log)")
    assert result.confidence == 0.9


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ([1, -1, 0], "integers >= 0 \\(0 = censored\\); subject at index 1"),
        ([1, 1.5, 0], "subject at index 1 has 1.5"),
        (["done", "dropped", "x"], "event_codes must be integers"),
        ([1, 2], "event_codes has 2 values but durations has 3"),
    ],
)
def test_cif_rejects_bad_event_codes(codes, message):
    with pytest.raises(ValueError, match=message):
        cumulative_incidence([1, 2, 3], codes)


def test_cif_rejects_empty_input():
    with pytest.raises(ValueError, match="durations is empty"):
        cumulative_incidence([], [])
