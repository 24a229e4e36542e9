"""`followup report --format html`: one self-contained page from analysis/*.html.j2.

Templates are looked up next to the deployment's indicators file first, then in the
shipped analysis/ folder, so an evaluator can restyle one partial without copying all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from followup.report import show
from followup.report.build import Report
from followup.report.plots import survival_svg
from followup.report.sections import Incidence, KaplanMeier, LogRank, Survival, SurvivalAnalysis
from followup.report.words import term, words


def render_html(report: Report, language: str = "en") -> str:
    """The report as one HTML page in `language` (followup/report/words.py): the words are
    translated, the figures and the JSON behind them are not."""
    w, label = words(language), term(language)
    env = Environment(
        loader=FileSystemLoader([str(folder) for folder in report.template_dirs]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    threshold = report.data["suppression"]["threshold"]
    env.filters["term"] = label
    env.globals.update(
        t=threshold,
        w=w,
        lang=language,
        hidden=show.hidden,
        percent=lambda obj, key, digits=1: _hidden_word(show.percent(obj, key, digits), w),
        interval=lambda obj, key="ci", digits=1: _hidden_word(show.interval(obj, key, digits), w),
        days=lambda obj, key: _days(obj, key, w),
        number=lambda obj, key, digits=2: _hidden_word(show.number(obj, key, digits), w),
        label=label,
        checkpoint_label=lambda name, who=None: report.checkpoint_label(name, who, language),
        versus={key: w(f"versus.{key}") for key in show.VERSUS},
        versus_short=lambda value: label(value) if value else show.DASH,
        logrank_words=lambda test, by, what: _logrank_words(test, by, what, w, label),
        shown=show.value,
        hidden_summary=lambda suppression: _hidden_summary(suppression, w),
        count=lambda obj, key: _hidden_word(show.count(obj, key, threshold), w),
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
        figures=_figures(report.survival, w, label),
        defined=_definition_texts(report.data["definitions"], language, w, label),
        headline=_headline(report),
        **_instruments(report, language, w),
    )


def _instruments(report: Report, language: str, w: Callable[..., str]) -> dict[str, Any]:
    """The instruments section's data, plots and helpers (followup.report.instruments_render)."""
    from followup.report import instruments_render as ir

    instruments = report.data.get("instruments") or {}

    def where(name: str, who: str | None) -> str:
        return report.checkpoint_label(name, who, language)

    return {
        "instruments": instruments,
        "instrument_figures": ir.html_figures(report.data, where, w) if instruments else {},
        "instrument_pools": lambda entry: list(ir.pools(entry)),
        "instrument_bands": ir.bands,
        "instrument_codes": lambda missing: [k for k in missing if k not in ir.HIDDEN_KEYS],
    }


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


def _figures(survival: Survival, w: Callable[..., str], label: Callable[[str], str]) -> dict:
    dropout = survival.dropout
    axes = {"xlabel": w("survival.axis_days"), "suppressed": w("report.suppressed_word")}
    figures = {
        "recidivism": _km(survival.recidivism, w("survival.axis_free"), label, axes),
        "dropout": _km(dropout, w("survival.axis_not_dropped"), label, axes),
        "competing": None,
    }
    risks = dropout.competing_risks.risks() if dropout.competing_risks else {}
    curves = [
        (label(name), _points(risks[name], "cif"))
        for name in ("dropped_out", "completed")
        if name in risks
    ]
    if curves:
        ticks = [p.t for p in dropout.overall.at_risk_table]
        ylabel = w("survival.axis_incidence")
        name = "Plot: cumulative incidence of dropout and of completion by days since admission"
        figures["competing"] = {
            "svg": Markup(
                survival_svg(curves, ticks, ylabel, "cif", label=_alt(name, curves), **axes)
            ),
            "ticks": ticks,
        }
    return figures


def _km(
    section: SurvivalAnalysis, ylabel: str, label: Callable[[str], str], axes: dict[str, str]
) -> dict[str, Any]:
    overall = section.overall
    rows = [("everyone", overall), *section.groups.items()]
    drawn = list(section.groups.items()) or [("everyone", overall)]
    ticks = [p.t for p in overall.at_risk_table]
    curves = [(label(name), _points(entry, "survival")) for name, entry in drawn]
    cut = any(show.value(entry, "curve_truncated") for _, entry in rows)
    name = f"Plot: share {ylabel} by days since {show.label(section.origin)}"
    return {
        "svg": Markup(survival_svg(curves, ticks, ylabel, label=_alt(name, curves), **axes)),
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


def _hidden_word(shown: str, w: Callable[..., str]) -> str:
    """show's values in the reader's language: only the word for a hidden figure differs."""
    return w("report.suppressed_word") if shown == show.HIDDEN else shown


def _days(obj: Any, key: str, w: Callable[..., str]) -> str:
    if obj is None or show.hidden(obj, key):
        return _hidden_word(show.days(obj, key), w)
    value = show.value(obj, key)
    return w("report.not_reached") if value is None else w("report.days", n=f"{value:g}")


def _logrank_words(
    test: Any, by: str | None, what: str, w: Callable[..., str], label: Callable[[str], str]
) -> str:
    """show.logrank_words in the reader's language."""
    if not test:
        return ""
    if isinstance(test, dict):
        test = LogRank(**test)
    stat = f"log-rank χ² = {test.statistic:.2f}, df = {test.df}, {show.p_value(test.p_value)}"
    key = "survival.logrank_differ" if test.p_value < 0.05 else "survival.logrank_same"
    return w(key, what=w(f"survival.{what}"), by=label(by or "group"), stat=stat)


def _hidden_summary(suppression: dict[str, Any], w: Callable[..., str]) -> str | None:
    """show.hidden_summary in the reader's language."""
    hidden = suppression.get("counts_hidden")
    if not hidden:
        return None
    passed = (suppression.get("audit") or {}).get("passed")
    return w(
        "report.hidden_summary",
        small=hidden["small"],
        published=suppression["counts_published"],
        t=suppression["threshold"],
        complementary=hidden["complementary"],
        verdict=w("report.audit_passed" if passed else "report.audit_failed"),
    )


def _definition_texts(
    d: dict[str, Any], language: str, w: Callable[..., str], label: Callable[[str], str]
) -> dict[str, str]:
    """The definitions in words: in English the JSON's own `text`; in another language
    built from the same values with that language's `[definition_text]` sentences."""
    names = ("non_violent", "recidivism", "retention", "followup", "dropout", "suppression")
    if language == "en":
        return {name: d[name]["text"] for name in names}

    def join(said: list[str]) -> str:  # "a, b or c"
        if len(said) <= 1:
            return "".join(said)
        return ", ".join(said[:-1]) + w("non_violence.or") + said[-1]

    def either(codes: list[str]) -> str:
        return join([label(code) for code in codes])

    nv, rc, rt = d["non_violent"], d["recidivism"], d["retention"]
    types = either(nv["types"])
    parts = [w("definition_text.report_from", sources=either(rc["sources"]))]
    if rc["record_checks"] and "police" in rc["sources"]:
        parts.append(w("definition_text.record_check"))
    informants = [i for i in ("partner", "participant") if i in rc["sources"]]
    if rc["interviews"] and informants:
        parts.append(w("definition_text.interview", informants=either(informants), types=types))
    left = either(rt["not_completed"])
    return {
        "non_violent": w(
            "definition_text.non_violent",
            types=types,
            all_types=either([*nv["types"], *nv["alongside"]]),
            informant=label(nv["informant"]),
        ),
        "recidivism": w(
            "definition_text.recidivism",
            origin=w(f"definition_text.origin_{rc['origin']}"),
            parts=join(parts),
        ),
        "retention": w(
            "definition_text.retention", not_completed=left, grace_days=rt["grace_days"]
        ),
        "followup": w("definition_text.followup"),
        "dropout": w("definition_text.dropout", not_completed=left),
        "suppression": w("definition_text.suppression", t=d["suppression_threshold"])
        if d["suppression"]["applied"]
        else w("definition_text.unsuppressed"),
    }
