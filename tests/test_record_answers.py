"""Recording an interview as its checkpoint's instrument's answers (the operation and
`followup record interview --answers FILE.json`), on SQLite and PostgreSQL: every item
type and missing code stored, skip rules applied, problems item by item with nothing
written, scores and their override (reason required and sealed, both bands kept, the
audit without the reason), and a score in its alert band raising a safety alert to her
worker — never to his facilitator."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from followup import answer_store, record
from followup.errors import InvalidAnswers, InvalidRecord
from followup.instruments import MISSING_CODES
from followup.models import (
    Audit,
    FollowUp,
    InstrumentAnswer,
    Interview,
    InterviewScore,
    Outbox,
    SafetyAlert,
    Staff,
)
from tests.support.instrument_world import FULL, instrument_schedules, risk_answers
from tests.web.conftest import build_team


@pytest.fixture
def team(make_deployment, tmp_path):
    folder = instrument_schedules(tmp_path / "schedules")
    return build_team(make_deployment(protocols_dir=folder, active=("undp-serbia", "wwp-europe")))


def _record(team, informant: str, answers: dict, **more) -> Interview:
    with team.session() as session:
        return record.record_interview(
            session,
            team.ctx,
            case_id="BG-1",
            informant=informant,
            on=team.ctx.site_today("BG"),
            checkpoint="intake_assessment"
            if informant == "participant"
            else "partner_first_contact",
            answers=answers,
            **more,
        )


def _stored(team, interview_id: int) -> dict[str, str | None]:
    with team.session() as session:
        return dict(
            session.execute(
                sa.select(InstrumentAnswer.item, InstrumentAnswer.value).where(
                    InstrumentAnswer.interview_id == interview_id
                )
            ).all()
        )


def _count(team, model) -> int:
    with team.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_every_item_type_is_stored_and_the_columns_and_scores_follow_from_it(team):
    interview = _record(team, "participant", FULL)
    stored = _stored(team, interview.id)
    assert {k: v for k, v in stored.items() if k != "in_his_words"} == {
        k: v for k, v in FULL.items() if k != "in_his_words"
    }
    assert stored["in_his_words"] is None  # text is sealed, never stored in clear
    with team.session() as session:
        row = session.get(Interview, interview.id)
        assert (row.instrument, row.instrument_revision) == (
            "all-types",
            team.ctx.instruments["all-types"].revision,
        )
        assert (row.physical, row.psychological, row.sexual, row.felt_safety) == (
            True,
            True,
            None,
            4,
        )
        assert (
            answer_store.answers_of(session, team.ctx.vault, row)["in_his_words"]
            == (FULL["in_his_words"])
        )
        [danger] = answer_store.scores_of(session, interview.id)
        assert (danger.value, danger.band) == (16, "high")
        followup = session.get(FollowUp, row.followup_id)
        assert followup.status == "completed"


@pytest.mark.parametrize("code", MISSING_CODES)
def test_every_missing_code_is_kept_apart_on_every_item_type(team, code):
    given = {item: code for item in FULL}
    # Don't know and refused were asked; not asked and not applicable everywhere is an
    # interview held with nothing asked, which needs its reason.
    held = {"nothing_asked_reason": "he left"} if code in ("not_asked", "not_applicable") else {}
    interview = _record(team, "participant", given, **held)
    stored = _stored(team, interview.id)
    # injured is asked only when hit is yes: with hit missing it was not applicable.
    assert stored == {**given, "injured": "not_applicable"}
    with team.session() as session:
        row = session.get(Interview, interview.id)
        assert row.physical is None and row.psychological is None  # missing is never "no"
        [danger] = answer_store.scores_of(session, interview.id)
        assert danger.value is None and "3 of 3 items missing" in danger.withheld


def test_an_item_hidden_by_its_skip_rule_is_not_applicable_and_answering_it_is_refused(team):
    with pytest.raises(InvalidAnswers) as refused:
        _record(team, "participant", {**FULL, "hit": "no"})
    assert refused.value.problems == {"injured": "not asked here: it is asked only when hit is yes"}
    hidden = {**FULL, "hit": "no"}
    del hidden["injured"]
    interview = _record(team, "participant", hidden)
    assert _stored(team, interview.id)["injured"] == "not_applicable"


def test_problems_are_given_item_by_item_and_nothing_is_written(team):
    before = (_count(team, Interview), _count(team, InstrumentAnswer))
    bad = {**FULL, "threats": "weekly", "felt_safety": "9", "calls": "lots", "shoe_size": "42"}
    del bad["hit"]
    with pytest.raises(InvalidAnswers) as refused:
        _record(team, "participant", bad)
    problems = refused.value.problems
    assert set(problems) == {"hit", "threats", "felt_safety", "calls", "shoe_size"}
    assert problems["hit"].startswith("required")
    assert "expected one of none, few, many" in problems["threats"]
    assert "from 1 to 5" in problems["felt_safety"]
    assert "not an item of all-types" in problems["shoe_size"]
    assert (_count(team, Interview), _count(team, InstrumentAnswer)) == before


def test_answers_and_the_columns_together_are_refused(team):
    with pytest.raises(InvalidRecord, match="not both"):
        _record(team, "participant", FULL, felt_safety=3)


def test_an_override_keeps_both_bands_its_reason_sealed_and_out_of_the_audit(team):
    reason = "he described a plan to find her at her sister's"
    answers = {**FULL, "hit": "no", "threats": "none", "calls": "1"}
    del answers["injured"]
    interview = _record(team, "participant", answers, score_overrides={"danger": ("high", reason)})
    with team.session() as session:
        [danger] = answer_store.scores_of(session, interview.id)
        assert (danger.value, danger.band, danger.override_band) == (1, "low", "high")
        assert team.ctx.vault.open(danger.override_reason_sealed) == reason
        assert b"sister" not in bytes(danger.override_reason_sealed)
        assert danger.overridden_by == "test"
        lines = session.scalars(sa.select(Audit.detail).where(Audit.detail.is_not(None))).all()
    assert not any("sister" in line or "police" in line for line in lines)
    [line] = [json.loads(x) for x in lines if '"overridden"' in x]
    assert line["overridden"] == ["danger"] and line["instrument"] == "all-types"


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ({"danger": ("high", "  ")}, "say why"),
        ({"danger": ("extreme", "a reason")}, "band 'extreme' is not one of low, high"),
        ({"width": ("high", "a reason")}, "not a score of all-types"),
    ],
)
def test_an_override_needs_a_reason_a_band_of_the_score_and_a_score(team, override, problem):
    with pytest.raises(InvalidAnswers) as refused:
        _record(team, "participant", FULL, score_overrides=override)
    [(score, said)] = refused.value.override_problems.items()
    assert score in override and problem in said
    assert _count(team, Interview) == 0


def test_a_score_that_may_not_be_overridden_is_refused(team):
    # core's violence_types has no override; an unscheduled contact asks core.
    with (
        pytest.raises(InvalidAnswers, match="does not let a professional judgement"),
        team.session() as session,
    ):
        record.record_interview(
            session,
            team.ctx,
            case_id="BG-1",
            informant="participant",
            on=team.ctx.site_today("BG"),
            unscheduled=True,
            answers={"physical": "no"},
            score_overrides={"violence_types": ("low", "a reason")},
        )


def _alerts(team) -> list[tuple[int, list[str]]]:
    with team.session() as session:
        alerts = session.scalars(sa.select(SafetyAlert.id).order_by(SafetyAlert.id)).all()
        told = {
            alert: sorted(
                session.scalars(
                    sa.select(Staff.staff_id)
                    .join(Outbox, Outbox.staff_id == Staff.id)
                    .where(Outbox.alert_id == alert)
                )
            )
            for alert in alerts
        }
    return list(told.items())


def test_her_risk_checklist_below_the_alert_band_raises_no_alert(team):
    _record(team, "partner", risk_answers(13))  # medium: no alert
    assert _alerts(team) == []


def test_her_risk_checklist_at_fourteen_raises_one_alert_to_her_worker(team):
    interview = _record(team, "partner", risk_answers(14))
    [(alert, told)] = _alerts(team)
    assert "PS1" in told and "F1" not in told
    with team.session() as session:
        assert session.get(SafetyAlert, alert).interview_id == interview.id
        line = session.scalars(sa.select(Audit.detail).where(Audit.action == "safety_alert")).one()
    assert json.loads(line)["reason"] == "risk-checklist.risk_total: high"


def test_a_band_raised_to_high_by_her_worker_alerts_as_a_computed_one_does(team):
    _record(
        team,
        "partner",
        risk_answers(4),
        score_overrides={"risk_total": ("high", "he has bought a gun this week")},
    )
    [(_, told)] = _alerts(team)
    assert "PS1" in told and "F1" not in told


def test_his_interview_in_an_alert_band_raises_no_alert_as_his_interviews_never_do(team):
    _record(team, "participant", FULL)  # danger 16: high, the alert band
    assert _alerts(team) == []


# --- the CLI ----------------------------------------------------------------------------


def _cli(team, path, *more: str):
    return team.deployment.run(
        "record", "interview", "BG-1", "--informant", "participant",
        "--checkpoint", "intake_assessment", "--on", team.ctx.site_today("BG").isoformat(),
        "--answers", str(path), *more,
    )  # fmt: skip


def test_answers_from_a_json_file_are_recorded_with_numbers_as_numbers(team, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({**FULL, "felt_safety": 4, "calls": 12}))
    result = _cli(team, path)
    assert result.exit_code == 0, result.err
    assert "intake_assessment completed" in result.out and "danger: 16 (high)" in result.out
    with team.session() as session:
        interview_id = session.scalars(sa.select(Interview.id)).one()
    assert _stored(team, interview_id)["calls"] == "12"


def test_a_json_file_with_problems_lists_each_as_file_item_problem_and_writes_nothing(
    team, tmp_path
):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({**FULL, "hit": "maybe", "calls": -3}))
    result = _cli(team, path)
    assert result.exit_code == 1
    lines = result.err.splitlines()
    assert lines[0].startswith(f"{path}: hit: expected one of yes, no or a missing code")
    assert lines[1].startswith(f"{path}: calls: expected a number from 0 to 100")
    assert "nothing was recorded" in lines[-1]
    assert _count(team, Interview) == 0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[1, 2]", "expected one JSON object"),
        ("{not json", "not JSON"),
        ('{"hit": true}', "hit: expected text or a number, got true"),
    ],
)
def test_a_file_that_is_not_an_object_of_answers_is_refused_naming_it(
    team, tmp_path, text, problem
):
    path = tmp_path / "answers.json"
    path.write_text(text)
    result = _cli(team, path)
    assert result.exit_code != 0 and str(path) in result.err and problem in result.err
    assert _count(team, Interview) == 0


def test_an_override_from_the_cli_needs_its_reason_and_is_stored(team, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(FULL))
    refused = _cli(team, path, "--override", "danger=low")
    assert refused.exit_code != 0 and "--override-reason" in refused.err
    wrong = _cli(team, path, "--override", "danger=none", "--override-reason", "x")
    assert wrong.exit_code == 1 and "--override danger: band 'none'" in wrong.err
    done = _cli(team, path, "--override", "danger=low", "--override-reason", "known history")
    assert done.exit_code == 0, done.err
    assert "band overridden to low" in done.out
    with team.session() as session:
        row = session.scalars(sa.select(InterviewScore)).one()
    assert (row.band, row.override_band) == ("high", "low")


def test_answers_and_violence_options_together_are_refused(team, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(FULL))
    result = _cli(team, path, "--physical", "yes")
    assert result.exit_code != 0 and "not both" in result.err


def test_columns_still_record_a_checkpoint_that_asks_an_instrument_as_core(team):
    result = team.deployment.run(
        "record", "interview", "BG-1", "--informant", "participant",
        "--checkpoint", "intake_assessment", "--on", team.ctx.site_today("BG").isoformat(),
        "--physical", "no",
    )  # fmt: skip
    assert result.exit_code == 0, result.err
    with team.session() as session:
        row = session.scalars(sa.select(Interview)).one()
    assert (row.instrument, row.instrument_revision, row.physical) == ("core", None, False)


def test_a_correction_of_an_instrument_interviews_columns_says_to_record_a_new_one(team):
    interview = _record(team, "participant", FULL)
    result = team.deployment.run(
        "record", "correct", "interview", str(interview.id), "--felt-safety", "2",
        "--reason", "typo",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "recorded with the all-types questionnaire" in result.err
    assert "record a new interview" in result.err
    moved = team.deployment.run(
        "record", "correct", "interview", str(interview.id),
        "--on", (team.ctx.site_today("BG")).isoformat(), "--mode", "phone", "--reason", "typo",
    )  # fmt: skip
    assert moved.exit_code == 0, moved.err
    voided = team.deployment.run(
        "record", "void", "interview", str(interview.id), "--reason", "wrong case"
    )
    assert voided.exit_code == 0, voided.err


def test_a_text_answer_is_in_no_audit_line_and_not_in_clear_in_the_database(team):
    words = "she keeps the spare key under the blue pot"
    interview = _record(team, "participant", {**FULL, "in_his_words": words})
    with team.session() as session:
        lines = session.scalars(sa.select(Audit.detail).where(Audit.detail.is_not(None))).all()
        sealed = session.scalar(
            sa.select(InstrumentAnswer.value_sealed).where(
                InstrumentAnswer.interview_id == interview.id,
                InstrumentAnswer.item == "in_his_words",
            )
        )
    assert not any("blue pot" in line for line in lines)
    assert b"blue pot" not in bytes(sealed)
    assert team.ctx.vault.open(sealed) == words


@pytest.mark.parametrize("code", MISSING_CODES)
def test_every_missing_code_comes_through_a_json_file(team, tmp_path, code):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({item: code for item in FULL}))
    held = ("--nothing-asked", "he left") if code in ("not_asked", "not_applicable") else ()
    result = _cli(team, path, *held)
    assert result.exit_code == 0, result.err
    assert "danger: withheld (3 of 3 items missing" in result.out
    with team.session() as session:
        interview_id = session.scalars(sa.select(Interview.id)).one()
    assert _stored(team, interview_id) == {
        **{item: code for item in FULL},
        "injured": "not_applicable",
    }


def test_refusing_every_question_is_an_interview_and_not_asking_any_needs_a_reason(team):
    refused = {item: "refused" for item in FULL}
    with pytest.raises(InvalidRecord, match="'held, nothing asked' is for an interview with none"):
        _record(team, "participant", refused, nothing_asked_reason="he left")
    with pytest.raises(InvalidRecord, match="nothing was asked"):
        _record(team, "participant", {item: "not_asked" for item in FULL})
    assert _record(team, "participant", refused).followup_id is not None


def test_the_message_of_a_band_alert_says_a_score_reached_it_not_new_violence(team):
    _record(team, "partner", risk_answers(14))
    sent = team.deployment.run("dispatch", "--once")
    assert sent.exit_code == 0, sent.err
    said = (sent.out + sent.err).lower()
    assert "a risk score reached its alert band in case bg-1" in said
    assert "new violence" not in said
