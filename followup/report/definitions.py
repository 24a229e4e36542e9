"""The definitions a report used, in words and in values, printed with every report."""

from __future__ import annotations

from typing import Any

from followup.report.indicators import Indicators


def _words(items: list[str]) -> str:
    items = [item.replace("_", " ") for item in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


ORIGIN_WORDS = {
    "completion": "the day he completed the programme",
    "admission": "the day he was admitted",
    "enrolment": "the day he was enrolled",
    "end_of_participation": "the day his participation ended (completion, dropout, exclusion or transfer)",
}


def definitions(
    indicators: Indicators,
    *,
    origin: str,
    source: str,
    sources: list[str],
    target: float,
    threshold: int | None,
    indicators_file: str,
) -> dict[str, Any]:
    nv, rc, rt = indicators.non_violence, indicators.recidivism, indicators.retention
    recidivism_parts = [f"a recidivism report from {_words(sources)}"]
    if rc.record_checks and "police" in sources:
        recidivism_parts.append("a police record check that found a new offence")
    informants = [i for i in ("partner", "participant") if i in sources]
    if rc.interviews and informants:
        recidivism_parts.append(
            f"an interview in which the {_words(informants)} reported {_words(list(nv.types))} "
            "violence (dated on the interview)"
        )
    return {
        "indicators_file": indicators_file,
        "confidence": indicators.confidence,
        "completion_target": target,
        "suppression_threshold": threshold,
        "non_violent": {
            "types": list(nv.types),
            "informant": nv.informant,
            "headline_checkpoint": nv.headline_checkpoint,
            "alongside": list(nv.alongside),
            "text": (
                f"Non-violent at a checkpoint: the informant reports no {_words(list(nv.types))} "
                "violence since the last contact. Every type asked is also reported on its own "
                f"({_words([*nv.types, *nv.alongside])}). The headline informant is the "
                f"{nv.informant}. An interview where a type was not asked, and a follow-up "
                "with no interview, are missing: never counted as non-violent. Each interview "
                "counts once (a repeated checkpoint counts each time it was held). Bounds "
                "for the unknown: among the follow-ups at the checkpoint that have ended (the "
                "follow-up rate's denominator), the share non-violent if everyone not reached "
                "or not answering had reported violence (worst case) and if none had (best "
                "case), each with its Wilson interval."
            ),
        },
        "recidivism": {
            "origin": origin,
            "source": source,
            "sources": sources,
            "record_checks": rc.record_checks,
            "interviews": rc.interviews,
            "text": (
                f"Time to first recidivism is counted in days from {ORIGIN_WORDS[origin]}. "
                f"Recidivism is {_words(recidivism_parts)}, dated on the day of the violence "
                "(or of the check), on or after the origin. A man with none is censored at his "
                "last follow-up contact (latest completed interview of him or a partner, or "
                "police record check) on or before the as-of date, never later; a man with no "
                "contact after the origin is censored at 0 days."
            ),
        },
        "retention": {
            "grace_days": rt.grace_days,
            "not_completed": list(rt.not_completed),
            "text": (
                "Completion rate: men admitted by the as-of date who completed, among those "
                "whose programme has had time to end: they completed or left "
                f"({_words(list(rt.not_completed))}), or their first group session (before it "
                "is recorded: admission plus the protocol's expected wait) plus the protocol's "
                f"programme length plus {rt.grace_days} days is on or before the as-of date. "
                "A man past that date with no completion recorded counts as not completed. "
                "Men who left in other ways (e.g. transferred) are left out."
            ),
        },
        "followup": {
            "text": (
                "Follow-ups due on or before the as-of date (placed on a recorded date "
                "rather than an expected one), per checkpoint and informant: completed within "
                "(or before) the window; late (after the window closed); unreachable (tried: "
                "the protocol's number of attempts did not reach the person, or the window "
                "closed after at least one attempt); refused; missed (never tried: the window "
                "closed with no contact attempt); still open. Cancelled follow-ups (consent "
                "withdrawn, do not contact, left the programme, before the window closed) are "
                "counted apart and are not due. Attempted: due follow-ups with at least one "
                "contact attempt; attempts: every attempt on them. The rate is completed (on "
                "time or late) among those that have ended: completed, unreachable, refused "
                "and missed."
            ),
        },
        "dropout": {
            "text": (
                "Time to dropout is counted in days from admission; a dropout is leaving as "
                f"{_words(list(rt.not_completed))}. Completion is a competing event: the "
                "cumulative incidence of dropout and of completion (Aalen-Johansen) is shown "
                "beside the Kaplan-Meier curve, which censors at completion. Men still in the "
                "programme are censored at the as-of date."
            ),
        },
        "suppression": {
            "applied": threshold is not None,
            "text": (
                f"Counts below {threshold} (zero included) are suppressed (shown as "
                f"<{threshold}), and so is enough else (shown as suppressed) that, by linear "
                "programming over every figure the report publishes, no suppressed count can "
                f"be narrowed to fewer than {threshold} possible values; rates, intervals and "
                "curves computed from a suppressed count are suppressed too; a survival curve "
                f"stops where fewer than {threshold} people are still at risk. The counts at "
                "each step of a curve are the curve itself (its step is events / at risk) and "
                "are shown where at least the threshold are at risk."
                if threshold is not None
                else "Not applied: this is an administrator's export with every count shown. Do not "
                "pass it on."
            ),
        },
    }
