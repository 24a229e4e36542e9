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


def test_a_hidden_total_takes_a_part_with_it_so_it_cannot_be_added_up():
    d = Disclosure(threshold=5)
    total, parts = table(d, 6, 3, 3)  # 3 and 3 hidden: total 6 shown is safe
    d.suppress()
    assert not total.suppressed and all(p.suppressed for p in parts)
    d = Disclosure(threshold=5)
    site_total = d.count(100)
    overall = d.count(100 + 2)
    small = d.count(2)
    d.total(overall, [site_total, small])  # the small site hides the big one's total ...
    breakdown = [d.count(60), d.count(40)]
    d.total(site_total, breakdown)  # ... whose parts must then not add up to it
    d.suppress()
    assert small.suppressed and site_total.suppressed
    assert sum(p.suppressed for p in breakdown) >= 1


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
    assert a_not.suppressed and a_done.suppressed  # row
    assert b_not.suppressed and b_done.suppressed  # columns, then the other row
    assert not any(c.suppressed for c in (a, b, done, not_done))


def test_values_derived_from_a_hidden_count_are_hidden_and_flagged():
    d = Disclosure(threshold=5)
    total, (yes, no) = table(d, 45, 42, 3)
    rate = d.derived(42 / 45, yes, total)
    d.suppress()
    out = export({"n": total, "yes": yes, "no": no, "rate": rate, "label": "x"})
    assert out == {
        "n": 45,
        "yes": None,
        "no": None,
        "rate": None,
        "label": "x",
        "suppressed": True,
        "suppressed_fields": ["yes", "no", "rate"],
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
