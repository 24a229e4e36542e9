"""Instrument files (followup.instruments), answers and scores (followup.scoring), and
the codebook: the shipped files, the errors a manager sees, and scores worked by hand."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from pathlib import Path

import pytest

from followup.codebook import CSV_COLUMNS, render
from followup.config import LANGUAGES
from followup.errors import ConfigError
from followup.instruments import MISSING_CODES, load_instrument, load_instruments
from followup.scoring import check_answers, score, scores, violence_reported

SHIPPED = Path(__file__).resolve().parents[1] / "schedules" / "instruments"


@pytest.fixture(scope="module")
def shipped():
    return load_instruments(SHIPPED)


def _write(tmp_path: Path, text: str, name: str = "mine") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(textwrap.dedent(text))
    return path


MINIMAL = """\
    id = "mine"
    name = "Mine"

    [[items]]
    id = "hit"
    type = "yes_no"
    label = "Hit?"
    """


def test_the_shipped_instruments_load_and_every_item_speaks_every_language(shipped):
    assert {"core", "partner-followup", "risk-checklist"} <= set(shipped)
    for instrument in shipped.values():
        for item in instrument.items:
            assert isinstance(item.label, dict), f"{instrument.id}.{item.id}"
            assert set(item.label) == set(LANGUAGES), f"{instrument.id}.{item.id}"


def test_the_core_instrument_is_the_interview_followup_always_recorded(shipped):
    core = shipped["core"]
    kinds = {i.counts_as for i in core.items if i.counts_as}
    assert kinds == {"physical", "sexual", "psychological", "economic", "coercive", "stalking"}
    assert core.item("felt_safety").type == "scale"
    assert core.item("risk_level").codes == ("low", "medium", "high")


def test_an_unknown_key_names_the_file_the_item_and_the_fix(tmp_path):
    path = _write(tmp_path, MINIMAL + 'colour = "red"\n')
    with pytest.raises(ConfigError) as error:
        load_instrument(path)
    assert f"{path}: items[0].colour: unknown key" in str(error.value)


def test_a_wrong_type_names_the_item_and_lists_the_types(tmp_path):
    path = _write(tmp_path, MINIMAL.replace('type = "yes_no"', 'type = "yesno"'))
    with pytest.raises(ConfigError) as error:
        load_instrument(path)
    assert f"{path}: items[0].type:" in str(error.value)
    assert "yes_no, choice, scale, frequency, number, date, text" in str(error.value)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (
            '[[items]]\nid = "injured"\ntype = "yes_no"\nlabel = "Injured?"\n'
            'show_if = { item = "later", equals = "yes" }\n',
            '"later" is not an earlier item',
        ),
        (
            '[[items]]\nid = "injured"\ntype = "yes_no"\nlabel = "Injured?"\n'
            'show_if = { item = "hit", equals = "sometimes" }\n',
            '"sometimes" is not an answer of "hit"',
        ),
        (
            '[[items]]\nid = "when"\ntype = "date"\nlabel = "When?"\ncounts_as = "physical"\n',
            "counts_as needs a yes_no or frequency item",
        ),
        (
            '[[items]]\nid = "x"\ntype = "yes_no"\nlabel = "X"\ncounts_as = "verbal"\n',
            '"verbal" is not a violence type',
        ),
        (
            '[[items]]\nid = "x"\ntype = "scale"\nlabel = "X"\nmin = 5\nmax = 1\n',
            "write min and max, min < max",
        ),
        (
            '[[items]]\nid = "x"\ntype = "yes_no"\n',
            "items[1].label is missing",
        ),
        (
            '[[scores]]\nid = "s"\nmethod = "sum"\nitems = ["nope"]\n',
            '"nope" is not an item',
        ),
        (
            '[[scores]]\nid = "s"\nmethod = "count_yes"\nitems = ["hit"]\nalert_at = "high"\n',
            'alert_at "high" is not one of its bands',
        ),
        (
            '[[scores]]\nid = "s"\nmethod = "sum"\nitems = ["hit"]\nmax_missing = 1\n',
            "would let a score stand on no answer",
        ),
    ],
)
def test_a_broken_instrument_is_refused_with_the_reason(tmp_path, extra, says):
    path = _write(tmp_path, MINIMAL + "\n" + extra)
    with pytest.raises(ConfigError) as error:
        load_instrument(path)
    assert says in str(error.value)
    assert str(path) in str(error.value)


def test_a_licensed_instrument_may_leave_its_texts_to_the_licence(tmp_path):
    path = tmp_path / "mine.toml"
    text = textwrap.dedent(MINIMAL).replace('label = "Hit?"\n', "")
    path.write_text(text.replace('name = "Mine"', 'name = "Mine"\nlicensed = true'))
    assert load_instrument(path).licensed
    path.write_text(text)
    with pytest.raises(ConfigError, match="items\\[0\\].label is missing"):
        load_instrument(path)


def test_the_file_name_and_the_id_must_agree(tmp_path):
    path = _write(tmp_path, MINIMAL, name="other")
    with pytest.raises(ConfigError, match='write id = "other"'):
        load_instrument(path)


def test_a_directory_without_core_is_refused(tmp_path):
    _write(tmp_path, MINIMAL)
    with pytest.raises(ConfigError, match="no core.toml"):
        load_instruments(tmp_path)


# --- answers -------------------------------------------------------------------


def test_missing_codes_are_kept_apart_and_never_read_as_no(shipped):
    core = shipped["core"]
    for code in MISSING_CODES:
        checked = check_answers(core, {"physical": code, "sexual": "no"})
        assert checked.ok and checked.answers["physical"] == code
        assert violence_reported(core, checked.answers)["physical"] is None
        assert violence_reported(core, checked.answers)["sexual"] is False


def test_an_empty_item_is_not_asked_and_a_hidden_one_not_applicable(shipped):
    partner = shipped["partner-followup"]
    given = {
        f"{kind}_times": "none"
        for kind in ("physical", "sexual", "psychological", "economic", "coercive", "stalking")
    }
    checked = check_answers(partner, {**given, "felt_safety": "4"})
    assert checked.ok, checked.problems
    assert checked.answers["injured"] == "not_applicable"  # no physical violence: not asked
    assert checked.answers["medical_care"] == "not_applicable"
    assert checked.answers["children_present"] == "not_asked"


def test_answering_a_hidden_item_is_an_error_naming_the_condition(shipped):
    partner = shipped["partner-followup"]
    given = {
        f"{k}_times": "none"
        for k in ("physical", "sexual", "psychological", "economic", "coercive", "stalking")
    }
    checked = check_answers(partner, {**given, "felt_safety": "4", "injured": "yes"})
    assert "asked only when physical_times is one of" in checked.problems["injured"]


def test_each_problem_is_reported_against_its_item(shipped):
    partner = shipped["partner-followup"]
    checked = check_answers(
        partner, {"physical_times": "often", "felt_safety": "9", "colour": "red"}
    )
    assert "expected one of none, once" in checked.problems["physical_times"]
    assert "from 1 to 5" in checked.problems["felt_safety"]
    assert "required" in checked.problems["sexual_times"]
    assert "not an item of partner-followup" in checked.problems["colour"]


# --- scores, worked by hand ----------------------------------------------------------


def _partner_answers(shipped, **overrides):
    given = {
        f"{k}_times": "none"
        for k in ("physical", "sexual", "psychological", "economic", "coercive", "stalking")
    }
    given.update(
        felt_safety="3",
        space_decide="2",
        space_see_people="4",
        space_go_out="3",
        space_money="5",
        space_say_no="1",
    )
    given.update(overrides)
    checked = check_answers(shipped["partner-followup"], given)
    assert checked.ok, checked.problems
    return checked.answers


def test_a_sum_of_frequency_bands_adds_their_midpoints(shipped):
    answers = _partner_answers(
        shipped, physical_times="3_5", psychological_times="over_20", stalking_times="before_only"
    )
    partner = shipped["partner-followup"]
    acts = score(partner, partner.score("violent_acts"), answers)
    assert acts.value == 4 + 25 + 0 and acts.withheld is None
    types = score(partner, partner.score("violence_types"), answers)
    assert types.value == 2  # "not in this period, but before" is not in the period


def test_a_mean_counts_only_answered_items_and_is_withheld_past_max_missing(shipped):
    partner = shipped["partner-followup"]
    answers = _partner_answers(shipped, space_money="dont_know")
    space = score(partner, partner.score("space_for_action"), answers)
    assert space.value == pytest.approx((2 + 4 + 3 + 1) / 4) and space.missing == 1
    answers = _partner_answers(shipped, space_money="dont_know", space_say_no="refused")
    space = score(partner, partner.score("space_for_action"), answers)
    assert space.value is None
    assert space.withheld == "2 of 5 items missing (at most 1 allowed)"


def test_the_risk_checklist_bands_at_ten_and_fourteen(shipped):
    risk = shipped["risk-checklist"]
    ids = [item.id for item in risk.items]
    for yes, band in ((9, "standard"), (10, "medium"), (13, "medium"), (14, "high"), (20, "high")):
        answers = check_answers(risk, {i: "yes" if n < yes else "no" for n, i in enumerate(ids)})
        result = score(risk, risk.score("risk_total"), answers.answers)
        assert (result.value, result.band) == (yes, band)
    assert risk.score("risk_total").alert_at == "high" and risk.score("risk_total").override


def test_dont_know_in_the_checklist_is_not_a_yes_and_too_many_withhold_it(shipped):
    risk = shipped["risk-checklist"]
    ids = [item.id for item in risk.items]
    six = {i: "dont_know" if n < 6 else "yes" for n, i in enumerate(ids)}
    result = score(risk, risk.score("risk_total"), check_answers(risk, six).answers)
    assert (result.value, result.missing) == (14, 6)
    seven = {i: "dont_know" if n < 7 else "yes" for n, i in enumerate(ids)}
    assert score(risk, risk.score("risk_total"), check_answers(risk, seven).answers).value is None


def test_every_score_of_every_shipped_instrument_can_be_computed(shipped):
    answers = _partner_answers(shipped)
    assert [r.withheld for r in scores(shipped["partner-followup"], answers)] == [None] * 3


# --- revisions -----------------------------------------------------------------


def test_rewording_changes_the_revision_but_not_the_score_definition(tmp_path, shipped):
    text = (SHIPPED / "partner-followup.toml").read_text()
    reworded = _write(
        tmp_path,
        text.replace("How safe does she feel now?", "How safe does she feel today?"),
        name="partner-followup",
    )
    before, after = shipped["partner-followup"], load_instrument(reworded)
    assert before.revision != after.revision
    for s in before.scores:
        assert before.score_definition(s.id) == after.score_definition(s.id)
    moved = _write(
        tmp_path, text.replace("midpoint = 25", "midpoint = 30"), name="partner-followup"
    )
    assert load_instrument(moved).score_definition("violent_acts") != before.score_definition(
        "violent_acts"
    )


# --- the codebook ------------------------------------------------------------------


def test_the_codebook_lists_every_item_code_and_missing_code_in_csv(shipped):
    rows = list(csv.DictReader(io.StringIO(render(shipped.values(), "csv"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    items = {(r["instrument"], r["id"]) for r in rows if r["kind"] == "item"}
    assert items == {(i.id, item.id) for i in shipped.values() for item in i.items}
    bands = [r for r in rows if r["kind"] == "band" and r["id"] == "physical_times"]
    assert [(b["code"], b["value"]) for b in bands][:4] == [
        ("none", "0"),
        ("once", "1"),
        ("twice", "2"),
        ("3_5", "4"),
    ]
    for instrument in shipped.values():
        missing = {
            r["code"] for r in rows if r["kind"] == "missing" and r["instrument"] == instrument.id
        }
        assert missing == set(MISSING_CODES)
    high = [r for r in rows if r["kind"] == "score_band" and r["code"] == "high"]
    assert high[0]["value"] == "14" and high[0]["alert"] == "yes"


def test_the_codebook_json_carries_revisions_and_score_definitions(shipped):
    books = json.loads(render(shipped.values(), "json"))
    risk = next(b for b in books if b["id"] == "risk-checklist")
    assert risk["revision"] == shipped["risk-checklist"].revision
    assert risk["missing_codes"] == list(MISSING_CODES)
    assert set(risk["score_definitions"]) == {"risk_total"}


def test_the_codebook_command_prints_and_writes_each_format(deployment, tmp_path):
    markdown = deployment.run("codebook")
    assert markdown.exit_code == 0, markdown.err
    assert "## Risk checklist (`risk-checklist`" in markdown.out
    out = tmp_path / "codebook.csv"
    written = deployment.run("codebook", "--format", "csv", "--out", str(out))
    assert written.exit_code == 0, written.err
    assert out.read_text().startswith(",".join(CSV_COLUMNS))
    assert deployment.run("codebook", "--format", "json").out.lstrip().startswith("[")


# --- the interview's columns and its answers ---------------------------------------------


def test_an_interview_recorded_through_its_columns_reads_as_core_answers(shipped):
    from types import SimpleNamespace

    from followup.answers import core_answers, interview_columns

    interview = SimpleNamespace(
        physical=True, sexual=None, psychological=False, economic=None, coercive=None,
        stalking=False, felt_safety=2, risk_level="high",
    )  # fmt: skip
    answers = core_answers(interview)
    assert answers["physical"] == "yes" and answers["sexual"] == "not_asked"
    assert answers["felt_safety"] == "2" and answers["risk_level"] == "high"
    assert check_answers(shipped["core"], answers).ok
    columns = interview_columns(shipped["core"], answers)
    assert {k: columns[k] for k in ("physical", "sexual", "psychological", "stalking")} == {
        "physical": True, "sexual": None, "psychological": False, "stalking": False,
    }  # fmt: skip
    assert (columns["felt_safety"], columns["risk_level"]) == (2, "high")


def test_any_instrument_fills_the_violence_columns_through_counts_as(shipped):
    from followup.answers import interview_columns

    answers = _partner_answers(
        shipped,
        sexual_times="before_only",
        coercive_times="dont_know",
        physical_times="once",
        injured="no",
    )
    columns = interview_columns(shipped["partner-followup"], answers)
    assert columns["physical"] is True
    assert columns["sexual"] is False  # before the period only
    assert columns["coercive"] is None  # don't know is not no
    assert columns["felt_safety"] == 3 and columns["risk_level"] is None
