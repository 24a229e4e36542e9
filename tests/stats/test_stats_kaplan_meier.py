"""Kaplan–Meier against lifelines' KaplanMeierFitter, to an absolute 1e-6, and its edge cases."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from followup.stats import kaplan_meier

from .cohorts import random_cohort

TOL = 1e-6


def fit_lifelines(durations, events) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(durations, event_observed=events)


def as_optional(x: float) -> float | None:
    return None if math.isinf(x) else float(x)


def test_km_matches_lifelines_survival_and_log_log_ci_at_every_event_time(cohort):
    km = kaplan_meier(cohort.durations, cohort.events)
    ref = fit_lifelines(cohort.durations, cohort.events)
    ref_ci = ref.confidence_interval_.loc[km.times].to_numpy()

    np.testing.assert_allclose(
        km.survival, ref.survival_function_.loc[km.times].iloc[:, 0], atol=TOL
    )
    np.testing.assert_allclose(km.ci_low, ref_ci[:, 0], atol=TOL)
    np.testing.assert_allclose(km.ci_high, ref_ci[:, 1], atol=TOL)


def test_km_event_times_and_counts_match_the_lifelines_event_table(cohort):
    km = kaplan_meier(cohort.durations, cohort.events)
    table = fit_lifelines(cohort.durations, cohort.events).event_table
    with_events = table[table["observed"] > 0]

    np.testing.assert_array_equal(km.times, with_events.index.to_numpy())
    np.testing.assert_array_equal(km.at_risk, with_events["at_risk"])
    np.testing.assert_array_equal(km.events, with_events["observed"])
    assert km.n == len(cohort.durations)
    assert km.n_events == int(np.sum(cohort.events))


def test_km_censored_counts_rebuild_the_lifelines_at_risk_table(cohort):
    km = kaplan_meier(cohort.durations, cohort.events)
    table = fit_lifelines(cohort.durations, cohort.events).event_table
    censored_before = table["censored"].cumsum() - table["censored"]  # strictly before t
    expected = np.diff(censored_before.loc[km.times].to_numpy(), prepend=0)

    np.testing.assert_array_equal(km.censored, expected)
    assert km.n == km.events.sum() + km.censored.sum() + km.censored_after_last_event
    np.testing.assert_array_equal(
        km.at_risk[1:], km.at_risk[:-1] - km.events[:-1] - km.censored[1:]
    )
    assert km.at_risk[0] == km.n - km.censored[0]


def test_km_median_and_its_ci_match_lifelines_median_survival_times(cohort):
    km = kaplan_meier(cohort.durations, cohort.events)
    ref = fit_lifelines(cohort.durations, cohort.events)
    ref_ci = median_survival_times(ref.confidence_interval_).to_numpy().ravel()

    assert km.median == as_optional(ref.median_survival_time_)
    assert km.median_ci == (as_optional(ref_ci[0]), as_optional(ref_ci[1]))


def test_km_step_function_and_at_risk_match_lifelines_at_every_observed_time(cohort):
    km = kaplan_meier(cohort.durations, cohort.events)
    ref = fit_lifelines(cohort.durations, cohort.events)
    timeline = ref.survival_function_.index.to_numpy()

    ours = [km.survival_at(t) for t in timeline]
    np.testing.assert_allclose(ours, ref.survival_function_.iloc[:, 0], atol=TOL)
    between = timeline[:-1] + np.diff(timeline) / 2
    np.testing.assert_allclose([km.survival_at(t) for t in between], ref.predict(between), atol=TOL)
    assert [km.at_risk_at(t) for t in timeline] == ref.event_table["at_risk"].tolist()


def test_km_matches_lifelines_with_tied_event_and_censoring_times():
    # At day 5: two events and two censorings; the censored pair counts as at risk.
    durations = [2, 5, 5, 5, 5, 7, 9, 9]
    events = [1, 1, 1, 0, 0, 1, 0, 1]
    km = kaplan_meier(durations, events)
    ref = fit_lifelines(durations, events)

    assert km.times.tolist() == [2, 5, 7, 9]
    assert km.at_risk.tolist() == [8, 7, 3, 2]
    assert km.censored.tolist() == [0, 0, 2, 0]
    assert km.censored_after_last_event == 1
    assert km.survival[1] == pytest.approx(7 / 8 * 5 / 7, abs=1e-12)
    np.testing.assert_allclose(
        km.survival, ref.survival_function_.loc[km.times].iloc[:, 0], atol=TOL
    )


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.99])
def test_km_ci_at_other_confidence_levels_matches_lifelines_alpha(confidence):
    c = random_cohort(11, n=200)
    km = kaplan_meier(c.durations, c.events, confidence=confidence)
    ref = KaplanMeierFitter(alpha=1 - confidence).fit(c.durations, c.events)
    ref_ci = ref.confidence_interval_.loc[km.times].to_numpy()

    assert km.confidence == confidence
    np.testing.assert_allclose(km.ci_low, ref_ci[:, 0], atol=TOL)
    np.testing.assert_allclose(km.ci_high, ref_ci[:, 1], atol=TOL)


def test_km_result_names_its_estimator_and_ci_method():
    km = kaplan_meier([1, 2, 3], [1, 0, 1])
    assert km.estimator == "Kaplan-Meier"
    assert km.ci_method == "log-log (exponential Greenwood)"
    assert km.confidence == 0.95


def test_km_with_no_events_is_a_curve_of_survival_one():
    km = kaplan_meier([3, 5, 8], [0, 0, 0])

    assert km.times.size == km.survival.size == km.ci_low.size == 0
    assert km.n == 3 and km.n_events == 0 and km.censored_after_last_event == 3
    assert km.survival_at(0) == km.survival_at(100) == 1.0
    assert km.median is None and km.median_ci == (None, None)


def test_km_with_all_events_at_the_same_time_drops_to_zero_there():
    km = kaplan_meier([4, 4, 4, 4], [1, 1, 1, 1])
    ref = fit_lifelines([4, 4, 4, 4], [1, 1, 1, 1])

    assert km.times.tolist() == [4.0]
    assert km.survival.tolist() == [0.0]
    assert (km.ci_low.tolist(), km.ci_high.tolist()) == ([0.0], [0.0])
    assert ref.confidence_interval_.loc[4.0].tolist() == [0.0, 0.0]
    assert km.median == 4.0 and km.median_ci == (4.0, 4.0)
    assert km.survival_at(3.99) == 1.0 and km.survival_at(4) == 0.0


def test_km_median_is_the_first_time_the_curve_reaches_exactly_one_half():
    km = kaplan_meier([2, 2, 5, 6], [1, 1, 0, 0])
    assert km.survival.tolist() == [0.5]
    assert km.median == 2.0
    assert km.median_ci[1] is None


def test_km_median_is_none_when_the_curve_stays_above_one_half():
    km = kaplan_meier([1, 2, 3, 4, 5], [1, 0, 0, 0, 0])
    assert km.survival.tolist() == [0.8]
    assert km.median is None
    # The lower band does reach 0.5 (one event in five is little evidence); the upper never.
    assert km.median_ci == (1.0, None)


def test_km_events_at_day_zero_count_from_the_start():
    km = kaplan_meier([0, 0, 1, 3], [1, 0, 1, 0])
    ref = fit_lifelines([0, 0, 1, 3], [1, 0, 1, 0])
    assert km.times.tolist() == [0.0, 1.0]
    assert km.survival_at(0) == pytest.approx(0.75)
    np.testing.assert_allclose(
        km.survival, ref.survival_function_.loc[km.times].iloc[:, 0], atol=TOL
    )


def test_km_survival_at_days_reads_the_curve_and_refuses_to_extrapolate():
    durations = [10, 60, 100, 100, 150, 200, 300, 360]
    events = [1, 0, 1, 1, 0, 1, 0, 0]
    km = kaplan_meier(durations, events)
    at_90, at_180, at_365 = km.survival_at_days((90, 180, 365))

    assert at_90.survival == km.survival_at(90) == pytest.approx(7 / 8)
    assert (at_90.ci_low, at_90.ci_high) == (km.ci_low[0], km.ci_high[0])
    assert at_90.at_risk == 6
    assert at_180.survival == pytest.approx(7 / 8 * 4 / 6)
    assert at_180.at_risk == 3
    # Nobody was followed up to day 365: the last value is not carried forward.
    assert (at_365.survival, at_365.ci_low, at_365.ci_high, at_365.at_risk) == (None, None, None, 0)
    assert km.survival_at(365) == km.survival[-1]
    assert km.survival_at_days((5,))[0].survival == 1.0


def test_km_survival_at_days_keeps_zero_after_the_curve_reached_it():
    km = kaplan_meier([10, 20], [1, 1])
    (point,) = km.survival_at_days((365,))
    assert (point.survival, point.ci_low, point.ci_high, point.at_risk) == (0.0, 0.0, 0.0, 0)


@pytest.mark.parametrize(
    ("durations", "events"),
    [([4, 4, 4], [1, 1, 1]), ([1, 2], [0, 0]), ([1, 1, 2, 2], [1, 0, 1, 0]), ([0], [1])],
)
def test_km_result_goes_to_json_without_nan(durations, events):
    km = kaplan_meier(durations, events)
    record = {
        f.name: getattr(km, f.name) for f in dataclasses.fields(km) if not f.name.startswith("_")
    }
    record = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in record.items()}
    json.dumps(record, allow_nan=False)  # raises on NaN or infinity


def test_km_result_is_frozen_and_its_arrays_read_only():
    km = kaplan_meier([1, 2, 3], [1, 1, 0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        km.median = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        km.survival[0] = 0.0


@pytest.mark.parametrize(
    ("durations", "events", "message"),
    [
        ([], [], "durations is empty"),
        ([1, -2], [1, 1], r"durations must be >= 0 days; subject at index 1"),
        ([1, float("nan")], [1, 1], "durations must be finite"),
        ([1, 2], [1], "events has 1 values but durations has 2"),
        ([1, 2], [1, 2], r"events must be 0 \(censored\) or 1 \(event\); subject at index 1"),
        ([1, 2], ["yes", "no"], "events must be booleans or 0/1"),
    ],
)
def test_km_rejects_bad_input_with_a_clear_message(durations, events, message):
    with pytest.raises(ValueError, match=message):
        kaplan_meier(durations, events)


@pytest.mark.parametrize("confidence", [0, 1, 95])
def test_km_rejects_a_confidence_outside_zero_and_one(confidence):
    with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
        kaplan_meier([1, 2], [1, 1], confidence=confidence)


def test_km_accepts_boolean_events():
    assert kaplan_meier([1, 2, 3], [True, False, True]).n_events == 2
