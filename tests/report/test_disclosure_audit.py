"""No hidden count can be worked out from the report that hides it: an attacker who reads
only the published JSON (tests/report/attacker.py, not the report's own audit) solves the
linear programs and must find nothing; and the two leaks found by the disclosure review
stay closed."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from followup.synthetic import cohort
from tests.conftest import Deployment

from .attacker import findings, system
from .conftest import TODAY, import_cohort, report_json

T = 5


def hidden(obj: dict, key: str) -> bool:
    return key in obj.get("suppressed_fields", ())


@pytest.fixture
def demo(deployment):
    result = deployment.run("init", "--demo")
    assert result.exit_code == 0, result.err
    return deployment


def test_agreement_with_every_pair_agreeing_does_not_give_away_its_hidden_cells(demo):
    # The review's case: end of programme showed n = 7 and both_non_violent = 7, so the
    # three hidden cells were 0.
    report = report_json(demo)
    leaks = [f for f in findings(report) if f.startswith("agreement.")]
    assert leaks == []
    for a in report["agreement"].values():
        cells = ("both_non_violent", "both_violent", "only_partner_reports_violence",
                 "only_participant_reports_violence")  # fmt: skip
        if any(hidden(a, c) for c in cells) and a["n"] is not None:
            shown = sum(a[c] for c in cells if not hidden(a, c))
            assert shown <= a["n"] - T, a  # the hidden ones hold at least T between them


def test_a_site_report_does_not_give_away_who_did_not_complete_through_the_cohort(demo):
    # The review's case: with site=BG, retention showed n = 10 beside the cohort's
    # completed = 7 (the same men as retention's completed), which gave the hidden
    # not-completed cells.
    report = report_json(demo, "--site", "BG")
    retention, cohort_ = report["retention"], report["cohort"]
    if hidden(retention, "not_completed") and retention["n"] is not None:
        assert hidden(cohort_, "completed"), (retention, cohort_)
    assert [f for f in findings(report) if "retention" in f or "cohort" in f] == []


def test_the_log_rank_test_is_suppressed_when_a_group_size_is_hidden(small_site):
    report = report_json(small_site, "--by", "site")
    recidivism = report["survival"]["recidivism"]
    assert recidivism["groups"]["NS"]["n"] is None
    assert recidivism["logrank"] is None and hidden(recidivism, "logrank")
    text = small_site.run("report", "--by", "site")
    assert "log-rank test by site is suppressed" in text.out
    assert "χ²" not in text.out.split("Time to first recidivism")[1].split("Time to dropout")[0]


def test_a_count_hidden_to_protect_another_reads_suppressed_never_below_the_threshold(demo):
    report = report_json(demo)
    reasons = {}

    def walk(obj):
        if isinstance(obj, dict):
            for key, why in (obj.get("suppressed_reasons") or {}).items():
                reasons.setdefault(why, []).append((obj, key))
            for value in obj.values():
                walk(value)
        elif isinstance(obj, list):
            for value in obj:
                walk(value)

    walk(report)
    assert reasons["small"] and reasons["complementary"]
    counts = report["suppression"]["counts_hidden"]
    assert counts["small"] > 0 and counts["complementary"] > 0
    assert report["suppression"]["audit"]["passed"] is True
    unsuppressed = report_json(demo, "--no-suppress")
    dropped = unsuppressed["cohort"]["dropped_out"]
    if hidden(report["cohort"], "dropped_out"):
        assert report["cohort"]["suppressed_reasons"]["dropped_out"] == (
            "small" if dropped < T else "complementary"
        )
    text = demo.run("report").out
    html = demo.run("report", "--format", "html").out
    csv_text = demo.run("report", "--format", "csv").out
    assert "suppressed" in text and "<5" in text
    assert re.search(r"\d+ of \d+ counts hidden as below 5", text)
    assert "hidden to protect them" in html and "&lt;5" in html
    assert ",suppressed," in csv_text and ",<5," in csv_text
    # every count of 5 or more that is hidden reads "suppressed" in the text
    if dropped >= T and hidden(report["cohort"], "dropped_out"):
        assert "suppressed dropped out" in text


def test_the_demo_shows_its_follow_up_rates_and_its_recidivism_headline(demo):
    report = report_json(demo)
    busiest = max(
        (f for by in report["followup"].values() for f in by.values()),
        key=lambda f: f["due"] or f["done_or_missed"] or 0,
    )
    assert busiest["rate"] is not None and busiest["ci"] is not None
    overall = report["survival"]["recidivism"]["overall"]
    assert overall["n"] is not None and not hidden(overall, "curve")
    assert any(p["survival"] is not None for p in overall["at"])


COHORTS = st.fixed_dictionaries(
    {
        "size": st.integers(min_value=6, max_value=60),
        "seed": st.integers(min_value=0, max_value=10_000),
        "sites": st.sampled_from([("BG",), ("BG", "NS")]),
    }
)
_counter = itertools.count()


@settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failure is shown as found
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=COHORTS)
def test_no_hidden_count_of_a_generated_cohort_can_be_pinned(tmp_path, database_url, drawn):
    if not database_url.startswith("sqlite"):
        pytest.skip("a fresh database per generated cohort: SQLite files")
    folder = tmp_path / f"cohort-{next(_counter)}"
    folder.mkdir()
    deployment = Deployment(folder, f"sqlite:///{folder / 'followup.db'}")
    deployment.write_config()
    assert deployment.run("init").exit_code == 0
    sites = {code: "en" for code in drawn["sites"]}
    data = cohort(deployment.ctx.protocols, sites, drawn["size"], TODAY, seed=drawn["seed"])
    import_cohort(deployment, data)
    try:
        for args in ((), ("--by", "site"), ("--by", "referral_source"), ("--site", "BG")):
            report = report_json(deployment, *args)
            assert findings(report) == [], (args, json.dumps(report["suppression"]))
            assert report["suppression"]["audit"]["passed"] is True
            assert system(report).cells  # the attacker read the report
    finally:
        if deployment._ctx is not None:
            deployment._ctx.engine.dispose()
