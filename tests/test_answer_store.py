"""Answers and scores stored and read back (followup.answer_store), on SQLite and
PostgreSQL: text items sealed, a correction replaces, an override keeps both bands."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from followup import answer_store
from followup.models import InstrumentAnswer, Interview, InterviewScore, Participant
from followup.scoring import check_answers, scores


def _interview(deployment) -> int:
    assert deployment.run(
        "enrol", "BG-1", "--site", "BG", "--referral-source", "court",
        "--enrolled-on", "2026-01-05",
    ).exit_code == 0  # fmt: skip
    with deployment.session() as session:
        person = session.scalars(sa.select(Participant)).one()
        interview = Interview(
            participant_id=person.id,
            informant="participant",
            conducted_on=date(2026, 1, 10),
            instrument="risk-checklist",
            instrument_revision=deployment.ctx.instruments["risk-checklist"].revision,
        )
        session.add(interview)
        session.flush()
        return interview.id


def test_answers_and_scores_round_trip_and_a_correction_replaces_them(deployment):
    interview_id = _interview(deployment)
    risk = deployment.ctx.instruments["risk-checklist"]
    ids = [i.id for i in risk.items]
    checked = check_answers(risk, {i: "yes" if n < 15 else "dont_know" for n, i in enumerate(ids)})
    with deployment.session() as session:
        answer_store.write(
            session, deployment.ctx.vault, interview_id, risk, checked.answers,
            scores(risk, checked.answers),
        )  # fmt: skip
    with deployment.session() as session:
        interview = session.get(Interview, interview_id)
        assert answer_store.answers_of(session, deployment.ctx.vault, interview) == checked.answers
        [total] = answer_store.scores_of(session, interview_id)
        assert (total.value, total.band) == (15, "high")
    fewer = check_answers(risk, {i: "no" for i in ids})
    with deployment.session() as session:
        answer_store.write(
            session, deployment.ctx.vault, interview_id, risk, fewer.answers,
            scores(risk, fewer.answers),
        )  # fmt: skip
        answer_store.override_band(
            session, deployment.ctx.vault, interview_id, "risk_total", "high",
            "she described a recent strangulation attempt", "test",
        )  # fmt: skip
    with deployment.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(InstrumentAnswer)) == 20
        [total] = answer_store.scores_of(session, interview_id)
        assert (total.value, total.band, total.override_band) == (0, "standard", "high")
        reason = deployment.ctx.vault.open(total.override_reason_sealed)
        assert reason == "she described a recent strangulation attempt"
        raw = session.execute(sa.select(InterviewScore.override_reason_sealed)).scalar_one()
        assert b"strangulation" not in bytes(raw)


def test_an_interview_recorded_through_its_columns_reads_as_core(deployment):
    interview_id = _interview(deployment)
    with deployment.session() as session:
        interview = session.get(Interview, interview_id)
        interview.instrument, interview.instrument_revision = "core", None
        interview.physical, interview.felt_safety = False, 4
        session.flush()
        answers = answer_store.answers_of(session, deployment.ctx.vault, interview)
    assert answers["physical"] == "no" and answers["felt_safety"] == "4"
    assert answers["sexual"] == "not_asked"
