"""Small-cell suppression, as rules: primary cells, complementary cells, derived values."""

from __future__ import annotations

from followup.report.disclosure import Disclosure, export


def table(d: Disclosure, total: int, *parts: int):
    cells = [d.count(p) for p in parts]
    whole = d.count(total)
    d.total(whole, cells)
    return whole, cells


def test_every_count_below_the_threshold_is_hidden_zero_included():
    d = Disclosure(threshold=5)
    cells = [d.count(v) for v in (0, 1, 4, 5, 120)]
    d.suppress()
    assert [c.suppressed for c in cells] == [True, True, True, False, False]


def test_one_hidden_part_of_a_shown_total_takes_the_smallest_other_part_with_it():
    d = Disclosure(threshold=5)
    total, (small, middle, big) = table(d, 3 + 40 + 400, 3, 40, 400)
    d.suppress()
    assert small.suppressed and middle.suppressed
    assert not big.suppressed and not total.suppressed


def test_hidden_parts_that_add_up_to_less_than_the_threshold_are_not_enough():
    # 0 and 1 hidden: their sum (1) would be 43 - 42 for anyone to read; a third must go.
    d = Disclosure(threshold=5)
    total, (zero, one, forty_two) = table(d, 43, 0, 1, 42)
    d.suppress()
    assert zero.suppressed and one.suppressed and forty_two.suppressed
    assert not total.suppressed


def test_a_small_part_of_a_total_is_protected_by_the_one_cell_that_frees_it():
    # 2 hidden in 102 = 100 + 2: hiding the 100 would not do (it is 60 + 40, both shown),
    # hiding the total does, alone.
    d = Disclosure(threshold=5)
    site_total = d.count(100)
    overall = d.count(100 + 2)
    small = d.count(2)
    d.total(overall, [site_total, small])
    breakdown = [d.count(60), d.count(40)]
    d.total(site_total, breakdown)
    d.suppress()
    assert small.suppressed and overall.suppressed
    assert not site_total.suppressed and not any(p.suppressed for p in breakdown)
    assert d.audit is not None and d.audit.passed


def test_two_small_parts_under_a_shown_total_of_at_least_the_threshold_are_safe():
    d = Disclosure(threshold=5)
    total, parts = table(d, 6, 3, 3)  # each 0..6 for all anyone can tell
    d.suppress()
    assert not total.suppressed and all(p.suppressed for p in parts)
    assert d.audit.passed


def test_protection_propagates_through_every_table_a_cell_belongs_to():
    d = Disclosure(threshold=5)
    # Two sites by two outcomes, with row and column totals.
    a_done, a_not, b_done, b_not = (d.count(v) for v in (50, 2, 60, 30))
    a, b = d.count(52), d.count(90)
    done, not_done = d.count(110), d.count(32)
    d.total(a, [a_done, a_not])
    d.total(b, [b_done, b_not])
    d.total(done, [a_done, b_done])
    d.total(not_done, [a_not, b_not])
    d.suppress()
    # The two totals it is in go with it (no grand total is shown, so they are free):
    # two cells hidden to protect it, where "a second cell in each sum" hid four.
    hidden = [c for c in (a_done, a_not, b_done, b_not, a, b, done, not_done) if c.suppressed]
    assert hidden == [a_not, a, not_done]
    assert d.audit.passed and d.hidden_by_reason() == {"small": 1, "complementary": 2}


def test_values_derived_from_a_hidden_count_are_hidden_and_flagged_with_why():
    d = Disclosure(threshold=5)
    total, (yes, no) = table(d, 45, 42, 3)
    rate = d.derived(42 / 45, yes, total)
    d.suppress()
    out = export({"n": total, "yes": yes, "no": no, "rate": rate, "label": "x"}, 5)
    assert out == {
        "n": 45,
        "yes": None,
        "no": None,
        "rate": None,
        "label": "x",
        "suppressed": True,
        "suppressed_fields": ["yes", "no", "rate"],
        "suppressed_reasons": {"yes": "complementary", "no": "small"},
    }


def test_nothing_is_hidden_without_a_threshold():
    d = Disclosure(threshold=None)
    total, parts = table(d, 3, 1, 2)
    d.suppress()
    assert export({"n": total, "parts": parts}) == {"n": 3, "parts": [1, 2]}


def test_a_count_that_is_never_shown_protects_its_sum_like_a_hidden_one():
    d = Disclosure(threshold=5)
    not_completed = d.count(120)
    no_end = d.count(0)
    d.total(not_completed, [no_end, d.count(120, shown=False)])
    d.suppress()
    assert no_end.suppressed and not not_completed.suppressed
