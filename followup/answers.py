"""An interview's answers, whichever way it was recorded — a pure core.

Interviews recorded through the interview's own columns (the events CSV, `record
interview --physical …`, and every interview from before instruments) are `core`
interviews whose answers ARE those columns: `core_answers` reads them as `core` items.
Interviews recorded through an instrument store one row per item; `interview_columns`
says what their items mean for the columns every report, alert and agreement figure
already reads (violence by type from `counts_as`, felt safety, risk level), so those
keep working whatever instrument a programme asks.
"""

from __future__ import annotations

from typing import Any

from followup.instruments import MISSING_CODES, Instrument
from followup.scoring import NOT_ASKED, violence_reported
from followup.vocab import RISK_LEVELS, VIOLENCE_TYPES


def core_answers(interview: Any) -> dict[str, str]:
    """The `core` items of an interview recorded through its columns."""
    answers = {}
    for kind in VIOLENCE_TYPES:
        said = getattr(interview, kind)
        answers[kind] = NOT_ASKED if said is None else ("yes" if said else "no")
    safety = getattr(interview, "felt_safety", None)
    answers["felt_safety"] = NOT_ASKED if safety is None else str(safety)
    risk = getattr(interview, "risk_level", None)
    answers["risk_level"] = risk if risk in RISK_LEVELS else NOT_ASKED
    return answers


def interview_columns(instrument: Instrument, answers: dict[str, str]) -> dict[str, Any]:
    """The interview columns an instrument's answers fill: each violence type some item
    counts as (True / False / None for not known), and felt safety and risk level when the
    instrument has items of those ids. A type no item asks about stays None (not asked)."""
    reported = violence_reported(instrument, answers)
    columns: dict[str, Any] = {kind: reported.get(kind) for kind in VIOLENCE_TYPES}
    safety = answers.get("felt_safety")
    columns["felt_safety"] = (
        int(safety) if safety and safety not in MISSING_CODES and safety.isdigit() else None
    )
    risk = answers.get("risk_level")
    columns["risk_level"] = risk if risk in RISK_LEVELS else None
    return columns
