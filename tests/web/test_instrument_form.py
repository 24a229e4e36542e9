"""The Record interview page asks the checkpoint's instrument: every item type with its
missing codes, skip rules, required items, each problem next to its item, the scores and
bands after saving for those who may read the interview, a professional override, and a
score in its alert band alerting her worker — never his facilitator, who sees nothing of
her answers or scores."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from followup.models import (
    InstrumentAnswer,
    Interview,
    InterviewScore,
    SafetyAlert,
    UserAccount,
)
from tests.support.instrument_world import FULL, instrument_schedules, risk_answers
from tests.web.conftest import build_team


@pytest.fixture
def team(make_deployment, tmp_path):
    folder = instrument_schedules(tmp_path / "schedules")
    return build_team(make_deployment(protocols_dir=folder, active=("undp-serbia", "wwp-europe")))


def words(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def _posted(answers: dict[str, str], **more: str) -> dict[str, str]:
    """A form as the page sends it: number, date and text items' missing codes in their
    own select, everything else in answer_ITEM."""
    form = {}
    for item, value in answers.items():
        own_select = item in ("calls", "last_seen", "in_his_words")
        if own_select and value in ("dont_know", "refused", "not_asked"):
            form[f"missing_{item}"] = value
        else:
            form[f"answer_{item}"] = value
    return form | more


def _his(team) -> int:
    return team.followup_id("BG-1", "intake_assessment")


def _hers(team) -> int:
    return team.followup_id("BG-1", "partner_first_contact", partner=True)


def _save(browser, followup_id: int, form: dict[str, str], team):
    return browser.post(
        f"/followups/{followup_id}",
        # "Was it safe to talk?" opens every interview with her (ignored for his).
        {"safe_to_talk": "yes", "conducted_on": team.ctx.site_today("BG").isoformat(), **form},
    )


def _count(team, model) -> int:
    with team.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_every_item_type_is_a_field_with_its_missing_codes_and_the_core_fields_are_gone(team):
    page = team.browser("facilitator").get(f"/followups/{_his(team)}").text
    assert 'name="violence_physical"' not in page  # the instrument's items replace them
    assert "The questions ask about: past 3 months." in page
    assert re.search(r'<input type="radio" name="answer_hit" value="yes"', page)
    assert re.search(r'<input type="radio" name="answer_hit" value="dont_know"', page)
    assert 'Did he hit anyone? <span class="required">(required)</span>' in page
    assert re.search(r'<select id="answer_threats" name="answer_threats"', page)
    assert '<optgroup label="Or">' in page and ">1 to 5 times</option>" in page
    assert re.search(r'name="answer_where" value="street"', page) and "In the street" in page
    assert "1 – very unsafe" in page and "5 – very safe" in page
    assert re.search(
        r'<input type="number" id="answer_calls" name="answer_calls" min="0" max="100"', page
    )
    assert re.search(r'<input type="date" id="answer_last_seen"', page)
    assert re.search(r'<textarea id="answer_in_his_words"', page)
    for item in ("calls", "last_seen", "in_his_words"):
        assert f'<select id="missing_{item}" name="missing_{item}"' in page
    assert 'data-show-if="answer_hit" data-show-any="yes"' in page
    assert "Asked only when “Did he hit anyone?” is: Yes." in words(page)
    assert 'name="override_danger"' in page  # the score allows a professional override


def test_labels_are_in_the_users_language_and_english_where_an_item_has_none(team):
    with team.session() as session:
        session.execute(
            sa.update(UserAccount)
            .where(UserAccount.username == "facilitator")
            .values(language="sr-Latn")
        )
    page = team.browser("facilitator").get(f"/followups/{_his(team)}").text
    assert "Da li je nekoga udario?" in page and "Svaka vrsta pitanja" in page
    assert "How often did he threaten anyone?" in page  # no sr-Latn text: English
    assert "Pitanja se odnose na period: poslednja 3 meseca." in page
    assert ">Ne zna</label>" in words(page).replace("> ", ">")


def test_a_full_interview_is_saved_and_its_score_and_band_are_shown(team):
    browser = team.browser("facilitator")
    response = _save(browser, _his(team), _posted(FULL), team)
    assert response.status_code == 303, words(response.text)
    page = words(browser.get(response.headers["location"]).text)
    assert 'id="score-danger"> 16 · <span class="badge band-high">high</span>' in page
    with team.session() as session:
        row = session.scalars(sa.select(Interview)).one()
        assert (row.instrument, row.physical, row.felt_safety) == ("all-types", True, 4)
        stored = dict(
            session.execute(sa.select(InstrumentAnswer.item, InstrumentAnswer.value)).all()
        )
    assert stored["calls"] == "12" and stored["last_seen"] == "2026-01-02"
    assert stored["in_his_words"] is None  # sealed


@pytest.mark.parametrize("code", ["dont_know", "refused", "not_asked"])
def test_every_missing_code_is_accepted_on_every_item_type(team, code):
    answers = {item: code for item in FULL if item != "injured"}
    held = {"held_nothing_asked": "yes", "nothing_asked_reason": "he left"}
    form = _posted(answers, **(held if code == "not_asked" else {}))
    response = _save(team.browser("facilitator"), _his(team), form, team)
    assert response.status_code == 303, words(response.text)
    with team.session() as session:
        stored = dict(
            session.execute(sa.select(InstrumentAnswer.item, InstrumentAnswer.value)).all()
        )
    assert stored == {**answers, "injured": "not_applicable", "in_his_words": code}


def test_problems_are_shown_next_to_their_items_and_what_was_typed_is_kept(team):
    form = _posted({**FULL, "calls": "-4", "last_seen": "yesterday"})
    del form["answer_hit"]
    del form["answer_injured"]
    response = _save(team.browser("facilitator"), _his(team), form, team)
    assert response.status_code == 422
    page = response.text
    assert re.search(r'<fieldset aria-invalid="true" aria-describedby="answer_hit-error">', page)
    assert re.search(r'id="answer_hit-error">required: give an answer or a missing code', page)
    assert 'aria-describedby="answer_calls-error"' in page
    assert re.search(r'id="answer_calls-error">expected a number from 0 to 100', page)
    assert re.search(r'id="answer_last_seen-error">expected a date as YYYY-MM-DD', page)
    assert 'value="-4"' in page  # kept
    assert _count(team, Interview) == 0


def test_answering_an_item_its_skip_rule_hides_is_refused_next_to_it(team):
    form = _posted({**FULL, "hit": "no", "injured": "yes"})
    response = _save(team.browser("facilitator"), _his(team), form, team)
    assert response.status_code == 422
    assert re.search(
        r'id="answer_injured-error">not asked here: it is asked only when hit is yes', response.text
    )
    hidden = dict(form)
    del hidden["answer_injured"]
    assert _save(team.browser("facilitator"), _his(team), hidden, team).status_code == 303
    with team.session() as session:
        injured = session.scalar(
            sa.select(InstrumentAnswer.value).where(InstrumentAnswer.item == "injured")
        )
    assert injured == "not_applicable"


def test_an_answer_and_a_missing_code_together_are_refused(team):
    form = _posted(FULL, missing_calls="refused")
    response = _save(team.browser("facilitator"), _his(team), form, team)
    assert response.status_code == 422
    assert 'id="answer_calls-error">Give an answer or a missing code, not both.' in response.text


def test_her_risk_checklist_at_fourteen_alerts_her_worker_and_his_facilitator_sees_nothing(team):
    worker = team.browser("partner_support")
    hers = _hers(team)
    page = worker.get(f"/followups/{hers}").text
    assert 'name="answer_choking"' in page and 'name="override_risk_total"' in page
    response = _save(worker, hers, _posted(risk_answers(14)), team)
    assert response.status_code == 303, words(response.text)
    page = words(worker.get(response.headers["location"]).text)
    assert 'id="score-risk_total"> 14 · <span class="badge band-high">high</span>' in page
    assert "/alerts/" in page
    with team.session() as session:
        assert _count(team, SafetyAlert) == 1
        interview_id = session.scalars(sa.select(Interview.id)).one()
        alert_id = session.scalars(sa.select(SafetyAlert.id)).one()
    alert = words(worker.get(f"/alerts/{alert_id}").text)
    assert "A score of a partner interview reached its alert band" in alert
    facilitator = team.browser("facilitator")
    assert facilitator.get(f"/followups/{hers}").status_code == 404
    assert facilitator.get(f"/records/interview/{interview_id}").status_code == 404
    his_case = words(facilitator.get("/participants/BG-1").text)
    assert "risk_total" not in his_case and "Risk factors present" not in his_case


def test_her_worker_overrides_the_band_with_a_reason_and_both_bands_are_kept(team):
    worker = team.browser("partner_support")
    hers = _hers(team)
    no_reason = _save(worker, hers, _posted(risk_answers(3), override_risk_total="high"), team)
    assert no_reason.status_code == 422
    assert re.search(
        r'id="override_risk_total-error">say why the band is overridden', no_reason.text
    )
    assert _count(team, Interview) == 0
    form = _posted(
        risk_answers(3), override_risk_total="high", override_reason_risk_total="he bought a gun"
    )
    response = _save(worker, hers, form, team)
    assert response.status_code == 303, words(response.text)
    page = words(worker.get(response.headers["location"]).text)
    assert "band set to high by professional judgement" in page
    with team.session() as session:
        score = session.scalars(sa.select(InterviewScore)).one()
    assert (score.band, score.override_band) == ("standard", "high")
    assert b"gun" not in bytes(score.override_reason_sealed)
    assert _count(team, SafetyAlert) == 1  # the overridden band is the alert band


def test_a_checkpoint_without_an_instrument_keeps_the_core_form(make_deployment):
    team = build_team(make_deployment())
    page = (
        team.browser("facilitator")
        .get(f"/followups/{team.followup_id('BG-1', 'intake_assessment')}")
        .text
    )
    assert 'name="violence_physical"' in page and 'class="instrument"' not in page
