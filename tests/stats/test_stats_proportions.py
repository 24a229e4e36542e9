"""Wilson intervals and Cohen's kappa against closed forms and published worked examples."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from followup.stats import agreement, wilson


def wilson_closed_form(x: int, n: int, confidence: float) -> tuple[float, float]:
    # Newcombe (1998), method 3, written as in his paper rather than as in the module.
    z = stats.norm.ppf(0.5 + confidence / 2)
    root = z * math.sqrt(z * z + 4 * x * (n - x) / n)
    return ((2 * x + z * z - root) / (2 * (n + z * z)), (2 * x + z * z + root) / (2 * (n + z * z)))


@pytest.mark.parametrize(
    ("x", "n", "confidence"),
    [(81, 263, 0.95), (15, 148, 0.95), (0, 20, 0.95), (1, 29, 0.95), (29, 29, 0.95),
     (412, 500, 0.9), (3, 7, 0.99), (999_000, 1_000_000, 0.95)],
)  # fmt: skip
def test_wilson_matches_the_closed_form_to_1e_9(x, n, confidence):
    result = wilson(x, n, confidence=confidence)
    low, high = wilson_closed_form(x, n, confidence)
    assert result.rate == pytest.approx(x / n, abs=1e-12)
    assert result.ci_low == pytest.approx(max(low, 0.0), abs=1e-9)
    assert result.ci_high == pytest.approx(min(high, 1.0), abs=1e-9)
    assert (result.n, result.successes, result.confidence) == (n, x, confidence)


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
     (1, 29, 0.0061, 0.1718)],
)  # fmt: skip
def test_wilson_reproduces_newcombe_1998_table_i(x, n, low, high):
    # Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of
    # seven methods. Stat Med 1998;17:857-872, Table I, method 3 (score, no continuity
    # correction), printed to four decimals.
    result = wilson(x, n)
    assert result.ci_low == pytest.approx(low, abs=5e-5)
    assert result.ci_high == pytest.approx(high, abs=5e-5)


def test_wilson_with_no_subjects_has_no_rate_and_no_interval():
    result = wilson(0, 0)
    assert (result.rate, result.ci_low, result.ci_high) == (None, None, None)
    assert (result.n, result.successes) == (0, 0)


def test_wilson_bounds_are_exactly_zero_and_one_at_the_extremes():
    assert wilson(0, 7).ci_low == 0.0
    assert wilson(7, 7).ci_high == 1.0


def test_wilson_names_its_estimator_and_ci_method():
    result = wilson(4, 10)
    assert (result.estimator, result.ci_method) == ("proportion", "wilson")


@pytest.mark.parametrize(
    ("x", "n", "message"),
    [(5, 4, r"successes \(5\) cannot exceed n \(4\)"), (-1, 4, "successes must be >= 0"),
     (1.5, 4, "successes must be a whole number"), (1, True, "n must be a whole number")],
)  # fmt: skip
def test_wilson_rejects_impossible_counts(x, n, message):
    with pytest.raises(ValueError, match=message):
        wilson(x, n)


def pairs_from_table(table: dict[tuple[str, str], int]) -> tuple[list[str], list[str]]:
    a, b = [], []
    for (ra, rb), count in table.items():
        a += [ra] * count
        b += [rb] * count
    return a, b


def test_kappa_reproduces_a_published_two_by_two_example():
    # The worked example of the Wikipedia article "Cohen's kappa" (50 grant proposals, two
    # readers): yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> p_o = 0.70, p_e = 0.50,
    # kappa = 0.40.
    a, b = pairs_from_table({("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10,
                             ("no", "no"): 15})  # fmt: skip
    result = agreement(a, b)
    assert result.observed_agreement == pytest.approx(0.70, abs=1e-12)
    assert result.expected_agreement == pytest.approx(0.50, abs=1e-12)
    assert result.kappa == pytest.approx(0.40, abs=1e-12)
    assert result.percent_agreement == pytest.approx(70.0)
    assert result.categories == ("no", "yes")
    assert result.table == ((15, 10), (5, 20))


def test_kappa_reproduces_fleiss_three_category_diagnosis_example():
    # Fleiss, Levin & Paik, Statistical Methods for Rates and Proportions (3rd ed., 2003),
    # section 18.1: two psychiatrists, 100 patients, psychotic / neurotic / organic.
    # p_o = .75 + .04 + .10 = .89; margins .80/.10/.10 and .80/.05/.15, so
    # p_e = .64 + .005 + .015 = .66 and kappa = (.89 - .66) / (1 - .66) = 23/34 = 0.676.
    a, b = pairs_from_table({
        ("psychotic", "psychotic"): 75, ("psychotic", "neurotic"): 1, ("psychotic", "organic"): 4,
        ("neurotic", "psychotic"): 5, ("neurotic", "neurotic"): 4, ("neurotic", "organic"): 1,
        ("organic", "organic"): 10,
    })  # fmt: skip
    result = agreement(a, b)
    assert result.observed_agreement == pytest.approx(0.89, abs=1e-12)
    assert result.expected_agreement == pytest.approx(0.66, abs=1e-12)
    assert result.kappa == pytest.approx(23 / 34, abs=1e-12)


def test_kappa_on_a_hand_checked_three_category_case_with_missing_answers():
    # Complete pairs: (y,y) (y,y) (n,n) (n,y) (u,u) (u,n)  -> 4 of 6 agree, p_o = 2/3.
    # Rater a: y 2, n 2, u 2; rater b: y 3, n 2, u 1.  p_e = (2*3 + 2*2 + 2*1) / 36 = 1/3.
    # kappa = (2/3 - 1/3) / (1 - 1/3) = 1/2.
    a = ["y", "y", "n", "n", "u", "u", None, "y", float("nan")]
    b = ["y", "y", "n", "y", "u", "n", "n", None, "y"]
    result = agreement(a, b)
    assert (result.n, result.n_missing, result.n_agree) == (6, 3, 4)
    assert result.categories == ("n", "u", "y")
    assert result.observed_agreement == pytest.approx(2 / 3, abs=1e-12)
    assert result.expected_agreement == pytest.approx(1 / 3, abs=1e-12)
    assert result.kappa == pytest.approx(0.5, abs=1e-12)


def test_kappa_is_undefined_when_both_raters_give_one_and_the_same_answer_throughout():
    result = agreement(["no"] * 5, ["no"] * 5)
    assert result.observed_agreement == 1.0
    assert result.kappa is None


def test_kappa_is_zero_when_one_rater_always_gives_the_same_answer():
    result = agreement(["no"] * 4, ["no", "yes", "no", "yes"])
    assert result.kappa == 0.0


def test_agreement_with_no_complete_pair_has_no_figures():
    result = agreement(["yes", None], [None, "no"])
    assert (result.n, result.n_missing) == (0, 2)
    assert result.observed_agreement is None and result.kappa is None
    assert result.percent_agreement is None


def test_agreement_names_its_estimator():
    result = agreement(["a", "b"], ["a", "a"])
    assert (result.estimator, result.ci_method) == ("Cohen's kappa", None)


def test_agreement_rejects_unpaired_answers():
    with pytest.raises(ValueError, match="paired"):
        agreement(["yes", "no"], ["yes"])


def test_agreement_rejects_answers_of_mixed_types():
    with pytest.raises(ValueError, match="one comparable type"):
        agreement(["yes", 1], ["no", 2])
