"""`followup report --format csv`: the report in tidy long format.

One row per (measure, group, checkpoint, informant) — and per violence type and time where
the measure has them. Columns (documented in docs/report.md):

    measure        what the row is, e.g. completion_rate, followup_missed, recidivism_km,
                   data_quality_problem (people breaking one rule of their status record)
    group_by       site, referral_source, completion, or empty for everyone (data quality
                   rows: measure, rule, or the rule a data_quality_case row breaks)
    group          the group's name (a site code, a referral source, an ending)
    checkpoint     a protocol checkpoint name
    informant      participant or partner (whose account, or whose follow-up)
    violence_type  definition (the non-violence definition) or one violence type
    t              days after the origin (survival and incidence rows)
    n              the denominator: people, follow-ups, interviews, pairs or people at risk
    count          the numerator: completed, none reported, events, ...
    value          the rate, proportion, survival, median (days), kappa or test statistic
    ci_low, ci_high  its 95% (or the configured) confidence interval
    suppressed     true when anything in the row is suppressed; a count hidden for being
                   small is written <5 (the threshold), one hidden to protect another
                   `suppressed`; a suppressed value or interval is empty
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from typing import Any

from followup.report import instruments_render
from followup.report.build import Report
from followup.report.disclosure import Count, Derived, fields_of
from followup.report.queries import FOLLOWUP_OUTCOMES
from followup.report.sections import (
    Agreement,
    Bounds,
    Cohort,
    Completion,
    DataQuality,
    FollowupRate,
    NonViolence,
    Retention,
    SurvivalAnalysis,
)
from followup.report.show import hidden, hidden_count
from followup.report.show import value as shown

COLUMNS = (
    "measure",
    "group_by",
    "group",
    "checkpoint",
    "informant",
    "violence_type",
    "t",
    "n",
    "count",
    "value",
    "ci_low",
    "ci_high",
    "suppressed",
)


class _Rows:
    def __init__(self, threshold: int | None) -> None:
        self.threshold = threshold
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        measure: str,
        obj: dict[str, Any] | None,
        *,
        n: str | None = None,
        count: str | None = None,
        value: str | None = None,
        ci: str | None = None,
        **keys: Any,
    ) -> None:
        """One row; n/count/value/ci name the fields of `obj` to read."""
        obj = obj or {}
        row = {c: "" for c in COLUMNS}
        row.update({k: "" if v is None else v for k, v in keys.items()})
        row["measure"] = measure
        suppressed = False
        for column, key in (("n", n), ("count", count)):
            if key is None:
                continue
            if hidden(obj, key):
                row[column] = hidden_count(obj, key, self.threshold)
                suppressed = True
            elif shown(obj, key) is not None:
                row[column] = shown(obj, key)
        if value is not None:
            suppressed |= hidden(obj, value)
            row["value"] = _number(shown(obj, value))
        if ci is not None:
            suppressed |= hidden(obj, ci)
            bounds = shown(obj, ci)
            if bounds:
                row["ci_low"], row["ci_high"] = _number(bounds[0]), _number(bounds[1])
        row["suppressed"] = "true" if suppressed else "false"
        self.rows.append(row)


def _number(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # every digit: the CSV is for re-analysis
    return value


def render_csv(report: Report) -> str:
    data = report.data
    out = _Rows(data["suppression"]["threshold"])
    _cohort(out, report.cohort)
    _retention(out, report.retention)
    _followup(out, report.followup)
    _non_violence(out, report.non_violence)
    _agreement(out, report.agreement)
    _survival(out, "recidivism", report.survival.recidivism)
    _survival(out, "dropout", report.survival.dropout)
    _data_quality(out, report.data_quality)
    instruments_render.csv_rows(out, data)  # issue 14: measure = instrument_*
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(out.rows)
    return buffer.getvalue()


def _cohort(out: _Rows, cohort: Cohort) -> None:
    for key in fields_of(cohort):
        out.add(f"cohort_{key}", cohort, count=key)


def _retention(out: _Rows, retention: Retention) -> None:
    def rows(obj: Completion, group_by: str | None, group: str | None) -> None:
        out.add(
            "completion_rate",
            obj,
            n="n",
            count="completed",
            value="completion_rate",
            ci="ci",
            group_by=group_by,
            group=group,
        )
        for key in ("not_completed", "no_end_recorded"):
            out.add(f"retention_{key}", obj, n="n", count=key, group_by=group_by, group=group)

    rows(retention, None, None)
    out.add("completion_target", {"target": retention.target}, value="target")
    for group_by in ("site", "referral_source"):
        for group, obj in retention.by(group_by).items():
            rows(obj, group_by, group)


def _followup(out: _Rows, table: dict[str, dict[str, FollowupRate]]) -> None:
    for checkpoint, by_informant in table.items():
        for informant, f in by_informant.items():
            keys = {"checkpoint": checkpoint, "informant": informant}
            out.add(
                "followup_rate",
                f,
                n="done_or_missed",
                count="done",
                value="rate",
                ci="ci",
                **keys,
            )
            for outcome in FOLLOWUP_OUTCOMES:
                out.add(f"followup_{outcome}", f, n="due", count=outcome, **keys)
            out.add("followup_cancelled", f, count="cancelled", **keys)  # not in due
            out.add("followup_attempted", f, n="due", count="attempted", **keys)
            out.add("followup_attempts", f, n="attempted", count="attempts", **keys)


def _non_violence(out: _Rows, table: dict[str, dict[str, NonViolence]]) -> None:
    for checkpoint, by_informant in table.items():
        for informant, e in by_informant.items():
            keys = {"checkpoint": checkpoint, "informant": informant}
            out.add(
                "non_violence",
                e,
                n="n",
                count="non_violent",
                value="rate",
                ci="ci",
                violence_type="definition",
                **keys,
            )
            for key in ("not_asked", "no_interview"):
                out.add(f"non_violence_{key}", e, count=key, violence_type="definition", **keys)
            _bounds(out, e.bounds, e.non_violent, violence_type="definition", **keys)
            for violence_type, v in e.by_type.items():
                out.add(
                    "non_violence",
                    v,
                    n="n",
                    count="none_reported",
                    value="rate",
                    ci="ci",
                    violence_type=violence_type,
                    **keys,
                )
                _bounds(out, v.bounds, v.none_reported, violence_type=violence_type, **keys)


def _bounds(out: _Rows, b: Bounds | None, none_reported: Count, **keys: Any) -> None:
    """non_violence_not_reached (n ended, count not reached), non_violence_worst (count
    none reported) and non_violence_best (count none reported + not reached), each of the
    follow-ups that have ended; no rows where the report has no bounds."""
    if b is None:
        return
    out.add("non_violence_not_reached", b, n="ended", count="not_reached", **keys)
    worst = _BoundRow(b.ended, none_reported, b.worst.rate, b.worst.ci)
    out.add("non_violence_worst", worst, n="ended", count="count", value="rate", ci="ci", **keys)
    # none reported + not reached: shown when both are (else the row is suppressed anyway)
    parts = (none_reported, b.not_reached)
    best_count = None if any(p.suppressed for p in parts) else sum(p.value for p in parts)
    best = _BoundRow(b.ended, best_count, b.best.rate, b.best.ci)
    out.add("non_violence_best", best, n="ended", count="count", value="rate", ci="ci", **keys)


@dataclass
class _BoundRow:
    """One end of the bounds as a CSV row reads it."""

    ended: Count
    count: Count | int | None
    rate: Derived
    ci: Derived


def _agreement(out: _Rows, table: dict[str, Agreement]) -> None:
    for checkpoint, a in table.items():
        out.add(
            "agreement", a, n="n", count="agree", value="observed_agreement", checkpoint=checkpoint
        )
        out.add("agreement_kappa", a, n="n", value="kappa", checkpoint=checkpoint)
        for cell in (
            "both_non_violent",
            "both_violent",
            "only_partner_reports_violence",
            "only_participant_reports_violence",
        ):
            out.add(f"agreement_{cell}", a, n="n", count=cell, checkpoint=checkpoint)


def _survival(out: _Rows, name: str, survival: SurvivalAnalysis) -> None:
    by = survival.by
    for group, entry in survival.entries():
        keys = {"group_by": by if group is not None else None, "group": group}
        out.add(f"{name}_people", entry, n="n", count="events", **keys)
        out.add(f"{name}_median_days", entry, value="median", ci="median_ci", **keys)
        for point in entry.at:
            out.add(f"{name}_survival_at", point, n="at_risk", value="survival", t=point.t, **keys)
        if hidden(entry, "curve"):
            out.add(f"{name}_km", entry, value="curve", **keys)
        for step in shown(entry, "curve") or []:
            out.add(
                f"{name}_km",
                {**asdict(step), "ci": [step.ci_low, step.ci_high]},
                n="at_risk",
                count="events",
                value="survival",
                ci="ci",
                t=step.t,
                **keys,
            )
    test = shown(survival, "logrank")
    if test:
        for key in ("statistic", "df", "p_value"):
            out.add(f"{name}_logrank_{key}", test, value=key, group_by=by)
    risks = survival.competing_risks.risks() if survival.competing_risks else {}
    for event, risk in risks.items():
        for point in risk.at:
            out.add(f"{name}_cif_{event}_at", point, value="cif", t=point.t)
        for step in shown(risk, "curve") or []:
            out.add(
                f"{name}_cif_{event}",
                {**asdict(step), "ci": [step.ci_low, step.ci_high]},
                n="at_risk",
                count="events",
                value="cif",
                ci="ci",
                t=step.t,
            )


def _data_quality(out: _Rows, q: DataQuality) -> None:
    """People left out for a broken status record: per rule, per measure, and (in an
    administrator's report) one row per case id."""
    out.add("data_quality_people", q, count="people")
    for measure in fields_of(q.left_out):
        out.add(
            "data_quality_left_out",
            q.left_out,
            count=measure,
            group_by="measure",
            group=measure,
        )
    for rule, entry in q.problems.items():
        out.add("data_quality_problem", entry, count="people", group_by="rule", group=rule)
        for case_id in entry.case_ids or []:
            out.add("data_quality_case", None, group_by=rule, group=case_id)
