"""`followup report --format html`: one self-contained page from analysis/*.html.j2.

Templates are looked up next to the deployment's indicators file first, then in the
shipped analysis/ folder, so an evaluator can restyle one partial without copying all.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from followup.report import show
from followup.report.build import Report
from followup.report.plots import survival_svg
from followup.report.sections import Incidence, KaplanMeier, Survival, SurvivalAnalysis


def render_html(report: Report) -> str:
    env = Environment(
        loader=FileSystemLoader([str(folder) for folder in report.template_dirs]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    threshold = report.data["suppression"]["threshold"]
    env.globals.update(
        t=threshold,
        hidden=show.hidden,
        percent=show.percent,
        interval=show.interval,
        days=show.days,
        number=show.number,
        label=show.label,
        versus=show.VERSUS,
        logrank_words=show.logrank_words,
        shown=show.value,
        hidden_summary=show.hidden_summary,
        count=lambda obj, key: show.count(obj, key, threshold),
    )
    return env.get_template("report.html.j2").render(
        r=report.data,
        cohort=report.cohort,
        retention=report.retention,
        followup=report.followup,
        non_violence=report.non_violence,
        agreement=report.agreement,
        survival=report.survival,
        data_quality=report.data_quality,
        figures=_figures(report.survival),
        headline=_headline(report),
    )


def _headline(report: Report) -> dict[str, Any] | None:
    """The headline informant's non-violence at the headline checkpoint (the indicators
    file says which), or, until that has answers, at the checkpoint with the most."""
    definition = report.data["definitions"]["non_violent"]
    informant = definition["informant"]
    answered = {
        checkpoint: by_informant[informant]
        for checkpoint, by_informant in report.non_violence.items()
        if informant in by_informant and show.value(by_informant[informant], "rate") is not None
    }
    if not answered:
        return None
    checkpoint = definition["headline_checkpoint"]
    if checkpoint not in answered:
        checkpoint = max(answered, key=lambda name: show.value(answered[name], "n") or 0)
    return {"checkpoint": checkpoint, "informant": informant, "entry": answered[checkpoint]}


def _figures(survival: Survival) -> dict[str, Any]:
    dropout = survival.dropout
    figures = {
        "recidivism": _km(survival.recidivism, "free of recidivism"),
        "dropout": _km(dropout, "not dropped out"),
        "competing": None,
    }
    risks = dropout.competing_risks.risks() if dropout.competing_risks else {}
    curves = [
        (show.label(name), _points(risks[name], "cif"))
        for name in ("dropped_out", "completed")
        if name in risks
    ]
    if curves:
        ticks = [p.t for p in dropout.overall.at_risk_table]
        name = "Plot: cumulative incidence of dropout and of completion by days since admission"
        figures["competing"] = {
            "svg": Markup(
                survival_svg(curves, ticks, "cumulative incidence", "cif", label=_alt(name, curves))
            ),
            "ticks": ticks,
        }
    return figures


def _km(section: SurvivalAnalysis, ylabel: str) -> dict[str, Any]:
    overall = section.overall
    rows = [("everyone", overall), *section.groups.items()]
    drawn = list(section.groups.items()) or [("everyone", overall)]
    ticks = [p.t for p in overall.at_risk_table]
    curves = [(show.label(name), _points(entry, "survival")) for name, entry in drawn]
    cut = any(show.value(entry, "curve_truncated") for _, entry in rows)
    name = f"Plot: share {ylabel} by days since {show.label(section.origin)}"
    return {
        "svg": Markup(survival_svg(curves, ticks, ylabel, label=_alt(name, curves))),
        "ticks": ticks,
        "rows": rows,
        "cut": cut,
    }


def _points(entry: KaplanMeier | Incidence, value: str) -> list[dict[str, Any]] | None:
    if show.hidden(entry, "curve"):
        return None
    return [
        {"t": p.t, value: getattr(p, value), "ci_low": p.ci_low, "ci_high": p.ci_high}
        for p in show.value(entry, "curve") or []
    ]


def _alt(name: str, curves: list) -> str:
    """A plot's accessible name: what it shows, its curves, and where its numbers are."""
    shown = ", ".join(curve for curve, _points in curves)
    return f"{name} ({shown}); the table below gives the numbers at risk."
