"""`followup report` (text): the headline figures in a few lines, for a terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from followup.models import INFORMANTS
from followup.report import instruments_render, show
from followup.report.build import Report
from followup.report.disclosure import fields_of
from followup.report.sections import (
    Agreement,
    Cohort,
    DataQuality,
    FollowupRate,
    KaplanMeier,
    NonViolence,
    Retention,
    SurvivalAnalysis,
)


def render_text(report: Report) -> str:
    data = report.data
    t = data["suppression"]["threshold"]
    lines = [_title(data), ""]
    lines += _cohort(report.cohort, t)
    lines += _retention(report.retention, t)
    name = lambda checkpoint: report.checkpoint_label(checkpoint, None, "en")  # noqa: E731
    lines += _followup(report.followup, t, name)
    lines += _non_violence(report.non_violence, data["definitions"], t, name)
    lines += _agreement(report.agreement, t, name)
    lines += _recidivism(report.survival.recidivism, t)
    lines += _dropout(report.survival.dropout, t)
    lines += _data_quality(report.data_quality, t)
    lines += instruments_render.text_lines(data, t, name)  # issue 14
    lines += [
        "Definitions: `followup report --format html` (or json) prints them in full; they "
        f"come from {data['definitions']['indicators_file']}."
    ]
    return "\n".join(lines) + "\n"


def _title(data: dict[str, Any]) -> str:
    where = f"site {data['site']}" if data["site"] else "all sites"
    t = data["suppression"]["threshold"]
    hidden = (
        f"counts below {t} suppressed, shown as <{t}; counts hidden to protect them shown as "
        "suppressed"
        if t is not None
        else "NOT suppressed: administrators only"
    )
    title = f"Outcome report as of {data['as_of']}, {where} ({hidden})"
    summary = show.hidden_summary(data["suppression"])
    return f"{title}\n{summary}" if summary else title


def _cohort(c: Cohort, t: int | None) -> list[str]:
    parts = ", ".join(
        f"{show.count(c, k, t)} {show.label(k)}"
        for k in (
            "enrolled",
            "admitted",
            "in_programme",
            "completed",
            "dropped_out",
            "excluded",
            "transferred",
        )
    )
    return [f"Cohort: {parts}.", ""]


def _retention(r: Retention, t: int | None) -> list[str]:
    lines = [
        f"Completion: {show.percent(r, 'completion_rate')} (95% CI {show.interval(r)}) of "
        f"{show.count(r, 'n', t)} admitted men whose programme has had time to end; "
        f"target {100 * r.target:.0f}%: "
        f"{show.VERSUS.get(show.value(r, 'versus_target'), 'not known')}."
    ]
    for key, title in (("site", "by site"), ("referral_source", "by referral source")):
        groups = "; ".join(
            f"{name} {show.percent(g, 'completion_rate')} of {show.count(g, 'n', t)}"
            for name, g in r.by(key).items()
        )
        if groups:
            lines.append(f"  {title}: {groups}")
    return [*lines, ""]


def _followup(
    table: dict[str, dict[str, FollowupRate]], t: int | None, name: Callable[[str], str]
) -> list[str]:
    if not table:
        return ["Follow-up: nothing due yet.", ""]
    lines = [
        "Follow-up, per checkpoint (done of due: in window / late / unreachable / refused / "
        "missed, never tried / open; cancelled, not due; due attempted, attempts):"
    ]
    for checkpoint, by_informant in table.items():
        cells = []
        for who in INFORMANTS:
            f = by_informant.get(who)
            if f:
                outcomes = " / ".join(
                    show.count(f, k, t)
                    for k in ("in_window", "late", "unreachable", "refused", "missed", "open")
                )
                cells.append(
                    f"{who} {show.percent(f, 'rate')} of {show.count(f, 'due', t)} "
                    f"({outcomes}; {show.count(f, 'cancelled', t)} cancelled; "
                    f"{show.count(f, 'attempted', t)} attempted, "
                    f"{show.count(f, 'attempts', t)} attempts)"
                )
        lines.append(f"  {name(checkpoint)}: " + "; ".join(cells))
    return [*lines, ""]


def _non_violence(
    table: dict[str, dict[str, NonViolence]],
    definitions: dict[str, Any],
    t: int | None,
    name: Callable[[str], str],
) -> list[str]:
    nv = definitions["non_violent"]
    types = " or ".join(nv["types"])
    if not table:
        return [f"Non-violence (no {types} violence reported): no interviews yet.", ""]
    first, second = nv["informant"], "participant" if nv["informant"] == "partner" else "partner"
    lines = [
        f"Non-violence: no {types} violence since the last contact (headline: the {first}'s "
        "account); [bounds: among the follow-ups ended, worst case if everyone not reached "
        "reported violence – best case if none did]:"
    ]
    for checkpoint, by_informant in table.items():
        cells = []
        for who in (first, second):
            e = by_informant.get(who)
            if e:
                cells.append(
                    f"{who} {show.percent(e, 'rate')} ({show.interval(e)}) of "
                    f"{show.count(e, 'n', t)}{_bounds(e, t)}"
                )
        headline = by_informant.get(first)
        alongside = headline.by_type if headline else {}
        extra = ", ".join(
            f"{show.label(k)} {show.percent(v, 'rate')}"
            for k, v in alongside.items()
            if not v.in_definition and show.value(v, "n") != 0
        )
        lines.append(
            f"  {name(checkpoint)}: "
            + "; ".join(cells)
            + (f"   [{first}, none reported: {extra}]" if extra else "")
        )
    return [*lines, ""]


def _bounds(e: NonViolence, t: int | None) -> str:
    b = e.bounds
    if b is None:
        return ""
    return (
        f" [bounds {show.percent(b.worst, 'rate')} ({show.interval(b.worst)}) – "
        f"{show.percent(b.best, 'rate')} ({show.interval(b.best)}), "
        f"{show.count(b, 'not_reached', t)} of {show.count(b, 'ended', t)} not reached]"
    )


def _agreement(table: dict[str, Agreement], t: int | None, name: Callable[[str], str]) -> list[str]:
    if not table:
        return []
    cells = "; ".join(
        f"{name(checkpoint)} {show.percent(a, 'observed_agreement')} of {show.count(a, 'n', t)} pairs, "
        f"kappa {show.number(a, 'kappa')}, only she reports violence: "
        f"{show.count(a, 'only_partner_reports_violence', t)}"
        for checkpoint, a in table.items()
    )
    return [f"Agreement of his and her accounts: {cells}", ""]


def _survival_at(overall: KaplanMeier) -> str:
    return ", ".join(f"{show.percent(p, 'survival')} at {p.t:g} days" for p in overall.at)


def _recidivism(r: SurvivalAnalysis, t: int | None) -> list[str]:
    o = r.overall
    lines = [
        f"Time to first recidivism (from {show.label(r.origin)}, source {r.source}): "
        f"{show.count(o, 'n', t)} men, {show.count(o, 'events', t)} with recidivism; median "
        f"{show.days(o, 'median')}; free of recidivism: {_survival_at(o) or 'no data'}.",
        f"  {show.count(o, 'no_contact_after_origin', t)} had no contact after the origin "
        "(censored at 0 days).",
    ]
    lines += _logrank(r, "recidivism")
    return [*lines, ""]


def _dropout(r: SurvivalAnalysis, t: int | None) -> list[str]:
    o = r.overall
    lines = [
        f"Time to dropout (from admission): {show.count(o, 'n', t)} admitted, "
        f"{show.count(o, 'events', t)} dropped out; not dropped out: {_survival_at(o) or 'no data'}."
    ]
    risks = r.competing_risks.risks() if r.competing_risks else {}
    if risks:
        at = []
        for name in ("dropped_out", "completed"):
            for point in risks[name].at if name in risks else []:
                at.append(f"{show.label(name)} {show.percent(point, 'cif')} by {point.t:g} days")
        lines.append(
            "  Cumulative incidence (completion competing with dropout): " + ", ".join(at) + "."
        )
    lines += _logrank(r, "dropout")
    return [*lines, ""]


def _data_quality(q: DataQuality, t: int | None) -> list[str]:
    if show.value(q, "people") == 0:
        return ["Data quality: every status record keeps the rules; nobody left out.", ""]
    left_out = ", ".join(
        f"{show.count(q.left_out, m, t)} of the {show.label(m)}"
        for m in fields_of(q.left_out)
        if show.value(q.left_out, m) != 0
    )
    lines = [
        f"Data quality: {show.count(q, 'people', t)} people whose status record breaks a rule "
        f"are left out ({left_out}); {q.hint}:"
    ]
    for entry in q.problems.values():
        if show.value(entry, "people") != 0:
            cases = show.case_list(entry.case_ids)
            lines.append(
                f"  {entry.description}: {show.count(entry, 'people', t)}{cases}, left out "
                "of the " + ", ".join(show.label(m) for m in entry.left_out_of)
            )
    return [*lines, ""]


def _logrank(r: SurvivalAnalysis, what: str) -> list[str]:
    if show.hidden(r, "logrank"):
        return [
            f"  The log-rank test by {show.label(r.by or '')} is suppressed (a group is too small)."
        ]
    test = show.value(r, "logrank")
    if test:
        return ["  " + show.logrank_words(test, r.by, what)]
    return []
