"""`followup report --format json --by site` on a cohort imported through the CSV contract
gives the Kaplan-Meier estimate, its CI and the log-rank test that lifelines gives for the
same data, extracted here independently (plain SQL and Python dates, no report code)."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

import numpy as np
import pytest
import sqlalchemy as sa
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times

from followup.models import Event, Interview, Participant

from .conftest import TODAY, report_json

TOL = 1e-6


def recidivism_from_completion(deployment, as_of: date, sources=None) -> dict[str, list[tuple]]:
    """(days, event) per site, by the documented rules, from the tables themselves."""
    with deployment.session() as session:
        people = session.execute(
            sa.select(Participant.id, Participant.site_code, Participant.completed_on)
        ).all()
        events = session.execute(
            sa.select(
                Event.participant_id,
                Event.kind,
                Event.source,
                Event.occurred_on,
                Event.new_offence,
            ).where(Event.kind.in_(["recidivism", "record_check"]))
        ).all()
        interviews = session.execute(
            sa.select(Interview.participant_id, Interview.conducted_on)
        ).all()
    violence, contacts = defaultdict(list), defaultdict(list)
    for e in events:
        if e.occurred_on > as_of:
            continue
        if e.kind == "record_check":
            contacts[e.participant_id].append(e.occurred_on)
            if e.new_offence and (sources is None or "police" in sources):
                violence[e.participant_id].append(e.occurred_on)
        elif sources is None or e.source in sources:
            violence[e.participant_id].append(e.occurred_on)
    for i in interviews:
        if i.conducted_on <= as_of:
            contacts[i.participant_id].append(i.conducted_on)
    by_site = defaultdict(list)
    for person in people:
        origin = person.completed_on
        if origin is None or origin > as_of:
            continue
        after = [d for d in violence[person.id] if d >= origin]
        if after:
            by_site[person.site_code].append(((min(after) - origin).days, 1))
            continue
        last = max(contacts[person.id], default=None)
        by_site[person.site_code].append(
            ((last - origin).days if last and last >= origin else 0, 0)
        )
    return by_site


def lifelines_fit(rows):
    durations = np.array([d for d, _ in rows], dtype=float)
    events = np.array([e for _, e in rows], dtype=int)
    return KaplanMeierFitter(alpha=0.05).fit(durations, event_observed=events), durations, events


def assert_curve_matches(entry: dict, rows: list[tuple]) -> None:
    fit, durations, events = lifelines_fit(rows)
    assert entry["n"] == len(rows)
    assert entry["events"] == int(events.sum())
    curve = entry["curve"]
    table = fit.event_table
    with_events = table[table["observed"] > 0]
    assert [p["t"] for p in curve] == list(with_events.index.to_numpy()[: len(curve)])
    times = [p["t"] for p in curve]
    survival = fit.survival_function_.loc[times].iloc[:, 0].to_numpy()
    ci = fit.confidence_interval_.loc[times].to_numpy()
    np.testing.assert_allclose([p["survival"] for p in curve], survival, atol=TOL)
    np.testing.assert_allclose([p["ci_low"] for p in curve], ci[:, 0], atol=TOL)
    np.testing.assert_allclose([p["ci_high"] for p in curve], ci[:, 1], atol=TOL)
    assert [p["at_risk"] for p in curve] == list(with_events["at_risk"].iloc[: len(curve)])
    assert [p["events"] for p in curve] == list(with_events["observed"].iloc[: len(curve)])


def optional(x) -> float | None:
    return None if math.isinf(x) else float(x)


def test_report_by_site_gives_the_lifelines_curves_ci_median_and_logrank(imported):
    report = report_json(imported, "--by", "site", "--no-suppress")
    expected = recidivism_from_completion(imported, TODAY)
    survival = report["survival"]["recidivism"]
    everyone = [row for rows in expected.values() for row in rows]
    assert sum(e for _, e in everyone) >= 10, "the cohort should have recidivism to compare"

    assert_curve_matches(survival["overall"], everyone)
    assert len(survival["overall"]["curve"]) == sum(1 for d in set(d for d, e in everyone if e))
    for site, rows in expected.items():
        assert_curve_matches(survival["groups"][site], rows)

    fit, _, _ = lifelines_fit(everyone)
    median_ci = median_survival_times(fit.confidence_interval_).to_numpy().ravel()
    assert survival["overall"]["median"] == optional(fit.median_survival_time_)
    assert survival["overall"]["median_ci"] == [optional(median_ci[0]), optional(median_ci[1])]

    durations = [d for rows in expected.values() for d, _ in rows]
    events = [e for rows in expected.values() for _, e in rows]
    groups = [site for site, rows in expected.items() for _ in rows]
    test = multivariate_logrank_test(durations, groups, events)
    assert survival["logrank"]["statistic"] == pytest.approx(test.test_statistic, abs=TOL)
    assert survival["logrank"]["p_value"] == pytest.approx(test.p_value, abs=TOL)
    assert survival["logrank"]["df"] == test.degrees_of_freedom == 1


def test_the_suppressed_report_shows_the_same_curve_up_to_where_fewer_than_five_are_at_risk(
    imported,
):
    full = report_json(imported, "--by", "site", "--no-suppress")["survival"]["recidivism"][
        "overall"
    ]
    shown = report_json(imported, "--by", "site")["survival"]["recidivism"]["overall"]
    kept = [p for p in full["curve"] if p["at_risk"] >= 5]
    assert shown["curve"] == kept
    assert len(kept) < len(full["curve"]), "the synthetic tail should have fewer than 5 at risk"
    assert shown["curve_truncated"] is True


def test_survival_from_a_single_source_counts_only_that_source(imported):
    report = report_json(imported, "--source", "police", "--no-suppress")
    expected = recidivism_from_completion(imported, TODAY, sources={"police"})
    assert_curve_matches(
        report["survival"]["recidivism"]["overall"],
        [row for rows in expected.values() for row in rows],
    )
    assert report["survival"]["recidivism"]["source"] == "police"


def test_an_earlier_as_of_date_reads_the_cohort_as_it_stood_then(imported):
    as_of = date(2026, 6, 30)
    report = report_json(imported, "--as-of", as_of.isoformat(), "--no-suppress")
    expected = recidivism_from_completion(imported, as_of)
    assert_curve_matches(
        report["survival"]["recidivism"]["overall"],
        [row for rows in expected.values() for row in rows],
    )


def test_time_to_dropout_and_its_competing_risk_match_lifelines(imported):
    report = report_json(imported, "--no-suppress")
    with imported.session() as session:
        people = session.execute(
            sa.select(
                Participant.admitted_on,
                Participant.completed_on,
                Participant.ended_on,
                Participant.end_reason,
            )
        ).all()
    durations, codes = [], []
    for p in people:
        if p.admitted_on is None:
            continue
        if p.completed_on:
            durations.append((p.completed_on - p.admitted_on).days)
            codes.append(1)
        elif p.ended_on:
            durations.append((p.ended_on - p.admitted_on).days)
            codes.append(2 if p.end_reason in ("dropped_out", "excluded") else 0)
        else:
            durations.append((TODAY - p.admitted_on).days)
            codes.append(0)
    dropout = report["survival"]["dropout"]
    assert_curve_matches(
        dropout["overall"], [(d, int(c == 2)) for d, c in zip(durations, codes, strict=True)]
    )

    # lifelines' Aalen-Johansen jitters tied times (and this cohort is full of ties), so
    # check the identity it must satisfy instead: at every time the incidences of the two
    # kinds add up to 1 - S(t) of "any event", which KaplanMeierFitter gives exactly.
    risks = dropout["competing_risks"]
    assert risks["completed"]["events"] == codes.count(1)
    assert risks["dropped_out"]["events"] == codes.count(2)
    any_event = KaplanMeierFitter().fit(durations, event_observed=[int(c != 0) for c in codes])
    completed = {p["t"]: p["cif"] for p in risks["completed"]["curve"]}
    dropped = {p["t"]: p["cif"] for p in risks["dropped_out"]["curve"]}
    assert completed.keys() == dropped.keys()
    times = sorted(completed)
    expected = 1 - any_event.survival_function_.loc[times].iloc[:, 0].to_numpy()
    np.testing.assert_allclose([completed[t] + dropped[t] for t in times], expected, atol=TOL)
