"""The report's instruments section on a hand-built cohort, every figure checked against
numpy and scipy (and a hand computation of kappa), on SQLite and PostgreSQL.

Twelve men answer the risk checklist at intake and at the end of the programme (one of
them only at intake; one answer set withheld for too many don't-knows; one band
overridden); three more answer it at mid-programme (a cell below the threshold); every
man and ten partners were also interviewed at intake through the interview's columns
(core, no answer rows). Quartiles are numpy's "linear" (type 7), SD has ddof = 1, the
change's CI is a t interval, and the signed-rank test is scipy.stats.wilcoxon with
zero_method="wilcox", correction=False, method="auto".
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime

import numpy as np
import pytest
import sqlalchemy as sa
from scipy import stats

from followup import answer_store
from followup.instrument_store import applied
from followup.instruments import MISSING_CODES
from followup.models import Interview, Participant
from followup.report.build import ReportOptions, build_report
from followup.scoring import check_answers, scores

from .attacker import findings

A, MID, B = "intake_assessment", "mid_programme", "end_of_programme"
NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)
WITHHELD_PERSON, OVERRIDDEN_PERSON, ONLY_AT_INTAKE = 3, 5, 11
TOL = 1e-9


def _risk_answers(rng: random.Random, items: list[str], p_yes: float, dont_know: int = 0):
    answers = {}
    for n, item in enumerate(items):
        if n < dont_know:
            answers[item] = "dont_know"
        else:
            draw = rng.random()
            answers[item] = "refused" if draw < 0.05 else ("yes" if draw < p_yes else "no")
    return answers


@pytest.fixture
def cohort(deployment):
    """Builds the cohort and returns what was recorded, to compute the figures from."""
    rng = random.Random(14)
    ctx = deployment.ctx
    for k in range(15):
        assert deployment.run(
            "enrol", f"BG-{k}", "--site", "BG", "--referral-source", "court",
            "--enrolled-on", "2026-01-05",
        ).exit_code == 0  # fmt: skip
    recorded: dict = {"risk": {}, "core": {}, "core_partner": {}}
    with deployment.session() as session:
        risk = applied(session, ctx.instruments, "risk-checklist", NOW)
        core = applied(session, ctx.instruments, "core", NOW)
        ids = list(session.scalars(sa.select(Participant.id).order_by(Participant.id)))
        items = [i.id for i in risk.items]

        def interview(person: int, checkpoint: str, on: date, **columns) -> Interview:
            row = Interview(participant_id=ids[person], checkpoint=checkpoint,
                            conducted_on=on, **columns)  # fmt: skip
            session.add(row)
            session.flush()
            return row

        plan = [(k, A, date(2026, 2, 1), 0.55) for k in range(12)]
        plan += [(k, B, date(2026, 6, 1), 0.3) for k in range(12) if k != ONLY_AT_INTAKE]
        plan += [(k, MID, date(2026, 4, 1), 0.4) for k in (12, 13, 14)]
        for k, checkpoint, on, p_yes in plan:
            withheld = k == WITHHELD_PERSON and checkpoint == B
            answers = _risk_answers(rng, items, p_yes, dont_know=8 if withheld else 0)
            checked = check_answers(risk, answers)
            assert checked.ok, checked.problems
            row = interview(k, checkpoint, on, informant="participant",
                            instrument=risk.id, instrument_revision=risk.revision)  # fmt: skip
            results = scores(risk, checked.answers)
            answer_store.write(session, ctx.vault, row.id, risk, checked.answers, results)
            band = results[0].band
            if k == OVERRIDDEN_PERSON and checkpoint == A:
                answer_store.override_band(session, ctx.vault, row.id, "risk_total", "high",
                                           "she named a new threat", "test")  # fmt: skip
                band = "high"
            recorded["risk"][(k, checkpoint)] = (checked.answers, results[0].value, band)
        # Core interviews through the columns: his at intake, and hers for ten of them.
        for k in range(12):
            said = {t: rng.choice([True, False, False, None]) for t in ("physical", "sexual",
                    "psychological", "economic", "coercive", "stalking")}  # fmt: skip
            interview(k, A, date(2026, 2, 2), informant="participant", **said)
            recorded["core"][k] = said
        for k in range(10):
            said = {"physical": rng.choice([True, False, None]), "sexual": False,
                    "psychological": rng.choice([True, False])}  # fmt: skip
            interview(k, A, date(2026, 2, 3), informant="partner", **said)
            recorded["core_partner"][k] = said
    recorded["core_instrument"] = core
    recorded["risk_instrument"] = risk
    return deployment, recorded


def _report(deployment, suppress: bool) -> dict:
    with deployment.session() as session:
        report = build_report(deployment.ctx, session, ReportOptions(suppress=suppress))
    return report.data


def _close(actual, expected) -> None:
    if expected is None:
        assert actual is None
    else:
        assert actual == pytest.approx(expected, abs=TOL, rel=TOL)


def test_score_figures_per_checkpoint_match_numpy_with_withheld_and_overridden_bands(cohort):
    deployment, recorded = cohort
    data = _report(deployment, suppress=False)
    risk = recorded["risk_instrument"]
    section = data["instruments"]["risk-checklist"]["scores"]["risk_total"]
    assert section["definition_changed"] is False
    assert section["revisions"] == [risk.revision]
    for checkpoint in (A, MID, B):
        rows = [v for (k, c), v in recorded["risk"].items() if c == checkpoint]
        values = np.array([value for _a, value, _b in rows if value is not None])
        cell = section["by_checkpoint"][checkpoint]["participant"]
        assert cell["n"] == values.size
        assert cell["withheld"] == sum(1 for _a, value, _b in rows if value is None)
        assert cell["n"] + cell["withheld"] == len(rows)
        _close(cell["mean"], values.mean())
        _close(cell["sd"], values.std(ddof=1))
        q1, median, q3 = np.percentile(values, [25, 50, 75], method="linear")
        _close(cell["median"], median)
        _close(cell["q1"], q1)
        _close(cell["q3"], q3)
        for band in ("standard", "medium", "high"):
            expected = sum(1 for _a, value, b in rows if value is not None and b == band)
            assert cell["bands"][band] == expected, (checkpoint, band)
    # the withheld score is counted as withheld, never as a zero
    assert section["by_checkpoint"][B]["participant"]["withheld"] == 1
    # the override counts in its new band
    intake = section["by_checkpoint"][A]["participant"]["bands"]
    assert intake["high"] >= 1


def test_change_from_intake_matches_a_t_interval_and_scipy_wilcoxon(cohort):
    deployment, recorded = cohort
    data = _report(deployment, suppress=False)
    section = data["instruments"]["risk-checklist"]["scores"]["risk_total"]
    change = section["change"][B]["participant"]
    before, after, down = [], [], 0
    order = {"standard": 0, "medium": 1, "high": 2}
    for k in range(12):
        first, later = recorded["risk"].get((k, A)), recorded["risk"].get((k, B))
        if first is None or later is None or first[1] is None or later[1] is None:
            continue
        before.append(first[1])
        after.append(later[1])
        down += order[later[2]] < order[first[2]]
    differences = np.array(after) - np.array(before)
    n = differences.size
    assert change["from"] == A and change["n"] == n == 10
    _close(change["mean_change"], differences.mean())
    half = stats.t.ppf(0.975, n - 1) * differences.std(ddof=1) / np.sqrt(n)
    _close(change["ci"][0], differences.mean() - half)
    _close(change["ci"][1], differences.mean() + half)
    test = stats.wilcoxon(differences, zero_method="wilcox", correction=False, method="auto")
    _close(change["wilcoxon_statistic"], float(test.statistic))
    _close(change["wilcoxon_p"], float(test.pvalue))
    assert change["moved_down"] == down
    _close(change["share_moved_down"], down / n)
    # mid-programme is a later checkpoint too, with nobody measured at both
    assert section["change"][MID]["participant"]["n"] == 0
    assert section["change"][MID]["participant"]["mean_change"] is None
    assert data["definitions"]["instruments"]["wilcoxon"] == (
        "scipy.stats.wilcoxon(differences, zero_method='wilcox', correction=False, method='auto')"
    )


def test_item_prevalence_counts_each_missing_code_apart_and_never_as_no(cohort):
    deployment, recorded = cohort
    data = _report(deployment, suppress=False)
    items = data["instruments"]["risk-checklist"]["items"]
    for item in ("injury_now", "weapon", "harmed_animals"):
        for checkpoint in (A, B):
            given = [a[item] for (k, c), (a, _v, _b) in recorded["risk"].items() if c == checkpoint]
            cell = items[item]["by_checkpoint"][checkpoint]["participant"]
            yes, no = given.count("yes"), given.count("no")
            assert (cell["n"], cell["reported"], cell["not_reported"]) == (yes + no, yes, no)
            _close(cell["share"], yes / (yes + no))
            # not_applicable only where a show_if can hide the item (none here)
            assert set(cell["missing"]) == set(MISSING_CODES) - {"not_applicable"}
            assert cell["missing"] == {code: given.count(code) for code in cell["missing"]}
            assert cell["n"] + sum(cell["missing"].values()) == len(given)
    # the withheld interview's don't-knows are in the first items' missing counts
    assert items["injury_now"]["by_checkpoint"][B]["participant"]["missing"]["dont_know"] >= 1


def test_core_interviews_recorded_through_their_columns_are_in_the_core_section(cohort):
    deployment, recorded = cohort
    data = _report(deployment, suppress=False)
    core = data["instruments"]["core"]
    assert core["revisions"] == [recorded["core_instrument"].revision]
    said = [recorded["core"][k]["physical"] for k in range(12)]
    cell = core["items"]["physical"]["by_checkpoint"][A]["participant"]
    assert cell["reported"] == said.count(True)
    assert cell["not_reported"] == said.count(False)
    assert cell["missing"]["not_asked"] == said.count(None)
    # violence_types: count of yes, withheld beyond two types not asked
    values = []
    for k in range(12):
        answers = list(recorded["core"][k].values())
        if answers.count(None) <= 2:
            values.append(answers.count(True))
    score = core["scores"]["violence_types"]["by_checkpoint"][A]["participant"]
    assert score["n"] == len(values) and score["withheld"] == 12 - len(values)
    _close(score["mean"], np.mean(values))
    # the same counts as the non-violence section's, the interviews being all core
    by_type = data["non_violence"][A]["participant"]["by_type"]["physical"]
    assert (by_type["reported"], by_type["none_reported"]) == (
        cell["reported"],
        cell["not_reported"],
    )


def test_paired_items_agreement_matches_a_hand_computed_kappa(cohort):
    deployment, recorded = cohort
    data = _report(deployment, suppress=False)
    for pair in ("physical", "psychological"):
        his, hers = [], []
        for k in range(10):
            a, b = recorded["core"][k][pair], recorded["core_partner"][k][pair]
            if a is not None and b is not None:
                his.append(a)
                hers.append(b)
        cell = data["instruments"]["core"]["agreement"][pair][A]
        his_a, hers_a = np.array(his), np.array(hers)
        n = his_a.size
        observed = float((his_a == hers_a).mean())
        p_yes = his_a.mean() * hers_a.mean() + (1 - his_a.mean()) * (1 - hers_a.mean())
        assert (cell["n"], cell["agree"]) == (n, int((his_a == hers_a).sum()))
        _close(cell["percent_agreement"], 100 * observed)
        _close(cell["kappa"], (observed - p_yes) / (1 - p_yes))


def test_a_cell_below_the_threshold_withholds_its_figures_and_the_attacker_finds_nothing(cohort):
    deployment, _recorded = cohort
    data = _report(deployment, suppress=True)
    assert data["suppression"]["audit"]["passed"] is True
    cell = data["instruments"]["risk-checklist"]["scores"]["risk_total"]["by_checkpoint"][MID]
    cell = cell["participant"]
    assert cell["n"] is None and cell["suppressed_reasons"]["n"] == "small"
    for figure in ("mean", "sd", "median", "q1", "q3"):
        assert cell[figure] is None and figure in cell["suppressed_fields"]
    # a cell of at least the threshold keeps its figures
    intake = data["instruments"]["risk-checklist"]["scores"]["risk_total"]["by_checkpoint"][A]
    assert intake["participant"]["n"] == 12 and intake["participant"]["mean"] is not None
    assert findings(data) == []


def test_the_section_is_in_every_form(cohort):
    deployment, _recorded = cohort
    as_json = deployment.run("report", "--format", "json")
    assert as_json.exit_code == 0, as_json.err
    assert "risk_total" in json.loads(as_json.out)["instruments"]["risk-checklist"]["scores"]
    as_csv = deployment.run("report", "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.err
    measures = {line.split(",")[0] for line in as_csv.out.splitlines()}
    assert {"instrument_score_n", "instrument_score_mean", "instrument_score_band",
            "instrument_change", "instrument_item_prevalence", "instrument_item_missing",
            "instrument_agreement"} <= measures  # fmt: skip
    as_html = deployment.run("report", "--format", "html")
    assert as_html.exit_code == 0, as_html.err
    assert 'id="instruments"' in as_html.out
    assert 'role="img" aria-label="Plot: risk_total' in as_html.out
    as_text = deployment.run("report")
    assert as_text.exit_code == 0, as_text.err
    assert "Instruments" in as_text.out and "risk_total" in as_text.out


def test_revisions_are_pooled_where_the_definition_is_the_same_and_apart_where_it_changed(
    deployment,
):
    ctx = deployment.ctx
    for k in range(6):
        assert deployment.run(
            "enrol", f"BG-{k}", "--site", "BG", "--referral-source", "court",
            "--enrolled-on", "2026-01-05",
        ).exit_code == 0  # fmt: skip
    shipped = ctx.instruments["risk-checklist"]
    data = shipped.model_dump(mode="json")
    data["items"][0]["label"] = {"en": "Reworded: injured now?"}  # wording only: pooled
    reworded = type(shipped).model_validate(data)
    data = reworded.model_dump(mode="json")
    data["scores"][0]["bands"][1]["at_least"] = 12  # a cut-off moved: a new definition
    recut = type(shipped).model_validate(data)
    assert reworded.score_definition("risk_total") == shipped.score_definition("risk_total")
    assert recut.score_definition("risk_total") != shipped.score_definition("risk_total")
    from followup.instrument_store import _store

    with deployment.session() as session:
        for instrument in (shipped, reworded, recut):
            _store(session, instrument, NOW)
        ids = list(session.scalars(sa.select(Participant.id).order_by(Participant.id)))
        answers = {i.id: ("yes" if n % 2 else "no") for n, i in enumerate(shipped.items)}
        for k, person in enumerate(ids):
            for checkpoint, instrument in ((A, shipped if k < 3 else reworded), (B, recut)):
                row = Interview(participant_id=person, checkpoint=checkpoint,
                                conducted_on=date(2026, 3, 1) if checkpoint == A
                                else date(2026, 6, 1), informant="participant",
                                instrument=instrument.id,
                                instrument_revision=instrument.revision)  # fmt: skip
                session.add(row)
                session.flush()
                checked = check_answers(instrument, answers)
                answer_store.write(session, ctx.vault, row.id, instrument, checked.answers,
                                   scores(instrument, checked.answers))  # fmt: skip
    report = _report(deployment, suppress=False)["instruments"]["risk-checklist"]
    score = report["scores"]["risk_total"]
    assert score["definition_changed"] is True
    assert sorted(score["revisions"]) == sorted(
        [shipped.revision, reworded.revision, recut.revision]
    )
    before = score["by_definition"][shipped.score_definition("risk_total")]
    after = score["by_definition"][recut.score_definition("risk_total")]
    assert sorted(before["revisions"]) == sorted([shipped.revision, reworded.revision])
    assert before["by_checkpoint"][A]["participant"]["n"] == 6 and B not in before["by_checkpoint"]
    assert after["revisions"] == [recut.revision]
    assert after["by_checkpoint"][B]["participant"]["n"] == 6 and A not in after["by_checkpoint"]
    assert before["change"] == {} and after["change"] == {}  # never across definitions
    item = report["items"]["injury_now"]
    assert item["definition_changed"] is False and len(item["revisions"]) == 3
    assert item["by_checkpoint"][A]["participant"]["n"] == 6


COUNT_KEYS = {"n", "withheld", "moved_down", "same_band", "moved_up", "reported",
              "not_reported", "agree", "disagree"}  # fmt: skip


def _counts(shown: dict, full: dict, path: str = ""):
    """(path, value, hidden, reason, parent) of every count in the unsuppressed tree."""
    for key, value in full.items():
        if key in ("suppressed", "suppressed_fields", "suppressed_reasons"):
            continue
        here = f"{path}.{key}"
        if isinstance(value, dict):
            yield from _counts(shown.get(key) or {}, value, here)
        elif (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (key in COUNT_KEYS or ".bands" in here or ".missing" in here)
        ):
            hidden = key in shown.get("suppressed_fields", ())
            reason = (shown.get("suppressed_reasons") or {}).get(key)
            yield here, value, hidden, reason, full


def test_every_instrument_count_below_the_threshold_is_hidden_as_small_and_none_at_it(cohort):
    deployment, _recorded = cohort
    deployment.extra = "[analysis]\nsuppression_threshold = 10\n"
    deployment.write_config()
    full = _report(deployment, suppress=False)["instruments"]
    data = _report(deployment, suppress=True)
    assert data["suppression"]["threshold"] == 10
    seen = {"small": 0, "at_or_above": 0}
    for path, value, hidden, reason, parent in _counts(data["instruments"], full):
        # a table of nobody (an item nobody answered, a change nobody has both ends of)
        # shows its zeros: they describe nobody (docs/report.md)
        nobody = (".items." in path or ".change." in path) and parent.get("n") == 0
        nobody = nobody and path.rsplit(".", 1)[1] in (
            "n", "reported", "not_reported", "moved_down", "same_band", "moved_up"
        )  # fmt: skip
        if value < 10 and not nobody:
            assert hidden and reason == "small", (path, value)
            seen["small"] += 1
        elif hidden:
            assert reason == "complementary", (path, value, reason)
        if value >= 10:
            seen["at_or_above"] += 1
    # the boundary itself: risk_total at the end has exactly 10 scores (11 asked, 1 withheld)
    end = full["risk-checklist"]["scores"]["risk_total"]["by_checkpoint"][B]["participant"]
    assert end["n"] == 10
    shown = data["instruments"]["risk-checklist"]["scores"]["risk_total"]["by_checkpoint"][B]
    assert shown["participant"].get("suppressed_reasons", {}).get("n") != "small"
    assert seen["small"] and seen["at_or_above"]
    assert data["suppression"]["audit"]["passed"] is True
    assert findings(data) == []
