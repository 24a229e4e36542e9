"""The status rules, read per person (recording, importing, doctor) and over the report's
columns, find the same people on any combination of dates."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.checks import STATUS_DATES, status_masks, status_problems
from followup.models import ENDINGS
from followup.report.columns import day_number

START = date(2026, 1, 1)
a_day = st.one_of(st.none(), st.integers(0, 6).map(lambda n: START + timedelta(days=n)))
a_record = st.fixed_dictionaries(
    {
        "case_id": st.just("A-1"),
        "enrolled_on": st.integers(0, 6).map(lambda n: START + timedelta(days=n)),
        **{name: a_day for name in STATUS_DATES[1:]},
        "end_reason": st.one_of(st.none(), st.sampled_from([*ENDINGS, "moved"])),
    }
)


def columns(records: list[dict]) -> tuple[dict, np.ndarray]:
    dates = {
        name: np.array([np.nan if r[name] is None else float(day_number(r[name])) for r in records])
        for name in STATUS_DATES
    }
    known = np.array([r["end_reason"] in ENDINGS for r in records])
    return dates, known


@settings(max_examples=300, deadline=None)
@given(st.lists(a_record, min_size=1, max_size=20))
def test_per_person_and_column_rules_find_the_same_people(records):
    masks = status_masks(*columns(records))
    for i, record in enumerate(records):
        # A reason without a date is invisible to the report (its query drops it), so
        # the columns see it only with a date.
        rules = {
            p.rule
            for p in status_problems(SimpleNamespace(**record))
            if record["ended_on"] is not None or p.rule != "end_without_reason"
        }
        assert {rule for rule, mask in masks.items() if mask[i]} == rules


def test_a_date_before_several_earlier_ones_is_named_against_the_first():
    person = SimpleNamespace(
        case_id="A-1",
        enrolled_on=date(2026, 1, 10),
        admitted_on=date(2026, 1, 12),
        programme_start_on=None,
        completed_on=None,
        ended_on=date(2026, 1, 5),
        end_reason="dropped_out",
    )
    assert [p.what for p in status_problems(person)] == [
        "dropped_out on 2026-01-05 is before enrolment on 2026-01-10"
    ]
