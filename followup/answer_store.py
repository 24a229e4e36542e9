"""Storing an interview's instrument answers and scores, and reading them back.

The one writer and reader of `instrument_answer` and `interview_score`, for the
operation that records an interview (web form, `--answers FILE.json`) and for
`import answers`. Text items are sealed like every note; everything else is stored as
the checked text `followup.scoring.check_answers` produced. A `core` interview recorded
through the interview's columns has no rows: `answers_of` reads its columns instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.answers import core_answers
from followup.instruments import MISSING_CODES, Instrument
from followup.models import InstrumentAnswer, Interview, InterviewScore
from followup.scoring import ScoreResult


def answer_rows(
    vault: Any, interview_id: int, instrument: Instrument, answers: dict[str, str]
) -> list[dict[str, Any]]:
    """The rows to insert for one interview (bulk writers insert many at once)."""
    rows = []
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None:
            continue
        if item.type == "text" and value not in MISSING_CODES:
            rows.append(
                {"interview_id": interview_id, "item": item.id, "value": None,
                 "value_sealed": vault.seal(value)}
            )  # fmt: skip
        else:
            rows.append(
                {"interview_id": interview_id, "item": item.id, "value": value,
                 "value_sealed": None}
            )  # fmt: skip
    return rows


def score_rows(interview_id: int, results: Iterable[ScoreResult]) -> list[dict[str, Any]]:
    return [
        {
            "interview_id": interview_id,
            "score": r.score,
            "value": r.value,
            "band": r.band,
            "withheld": r.withheld,
            "override_band": None,
            "override_reason_sealed": None,
            "overridden_by": None,
        }
        for r in results
    ]


def write(
    session: Session,
    vault: Any,
    interview_id: int,
    instrument: Instrument,
    answers: dict[str, str],
    results: Iterable[ScoreResult],
) -> None:
    """Replace an interview's answers and scores (a correction writes them again)."""
    for table in (InstrumentAnswer, InterviewScore):
        session.execute(sa.delete(table).where(table.interview_id == interview_id))
    answers_to_write = answer_rows(vault, interview_id, instrument, answers)
    if answers_to_write:
        session.execute(sa.insert(InstrumentAnswer), answers_to_write)
    scores_to_write = score_rows(interview_id, results)
    if scores_to_write:
        session.execute(sa.insert(InterviewScore), scores_to_write)


def override_band(
    session: Session, vault: Any, interview_id: int, score: str, band: str, reason: str, by: str
) -> None:
    """A professional judgement moves a score's band; the computed band stays beside it."""
    session.execute(
        sa.update(InterviewScore)
        .where(InterviewScore.interview_id == interview_id, InterviewScore.score == score)
        .values(override_band=band, override_reason_sealed=vault.seal(reason), overridden_by=by)
    )


def answers_of(session: Session, vault: Any, interview: Interview) -> dict[str, str]:
    """An interview's answers, item by item, whichever way it was recorded. Text items'
    words are opened: call only for a reader the policy allows to see the interview."""
    rows = session.execute(
        sa.select(
            InstrumentAnswer.item, InstrumentAnswer.value, InstrumentAnswer.value_sealed
        ).where(InstrumentAnswer.interview_id == interview.id)
    ).all()
    if not rows and interview.instrument_revision is None:
        return core_answers(interview)
    return {item: value if sealed is None else vault.open(sealed) for item, value, sealed in rows}


def scores_of(session: Session, interview_id: int) -> list[InterviewScore]:
    return list(
        session.scalars(
            sa.select(InterviewScore)
            .where(InterviewScore.interview_id == interview_id)
            .order_by(InterviewScore.id)
        )
    )
