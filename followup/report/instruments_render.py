"""The instruments section (instruments_section.py) in the report's CSV, text and HTML.

Read from the report's JSON (`report.data["instruments"]`), already suppressed: a hidden
figure is hidden here too, and the plot draws only the published quartiles.

CSV rows (docs/report.md): `measure` is one of

    instrument_score_n          n = scores with a value, count = withheld
    instrument_score_mean | _sd | _median | _q1 | _q3
                                n, value
    instrument_score_band       n, count = scores in the band (group ends /BAND)
    instrument_change           n = people measured at both, value = mean change, CI (t)
    instrument_change_wilcoxon_statistic | instrument_change_wilcoxon_p
    instrument_change_moved_down  n, count = moved down a band, value = their share
    instrument_item_prevalence  n = answered, count = reported, value = share, CI (Wilson)
    instrument_item_missing     count = answers with the missing code (group ends /CODE)
    instrument_agreement        n = pairs, count = agree, value = percent agreement
    instrument_agreement_kappa  n, value = Cohen's kappa

with `group_by` instrument_score, instrument_item or instrument_pair and `group`
`INSTRUMENT/SCORE` (`INSTRUMENT/ITEM`, `INSTRUMENT/PAIR`), `@DEFINITION` appended where the
definition changed between revisions; change rows add `/from=CHECKPOINT`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from markupsafe import Markup

from followup.report import show
from followup.report.plots import COLOURS, STYLE, _inline_svg, named

HIDDEN_KEYS = ("suppressed", "suppressed_fields", "suppressed_reasons")
DESCRIPTION = ("mean", "sd", "median", "q1", "q3")


def pools(entry: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """("", figures) for one definition; ("@DEFINITION", figures) for each where it changed."""
    if entry.get("definition_changed"):
        for definition, pool in entry["by_definition"].items():
            yield f"@{definition}", pool
    else:
        yield "", entry


def _with(cell: dict[str, Any], part: dict[str, Any], keep: str = "n") -> dict[str, Any]:
    """`part`'s fields beside `cell`'s `keep`, each with its own suppression flags."""
    merged = {k: v for k, v in part.items() if k not in HIDDEN_KEYS}
    merged[keep] = cell.get(keep)
    fields = list(part.get("suppressed_fields", ()))
    reasons = dict(part.get("suppressed_reasons") or {})
    if show.hidden(cell, keep):
        fields.append(keep)
        reasons[keep] = (cell.get("suppressed_reasons") or {}).get(keep, "complementary")
    if fields:
        merged.update(suppressed=True, suppressed_fields=fields, suppressed_reasons=reasons)
    return merged


def bands(cell: dict[str, Any]) -> list[str]:
    return [k for k in (cell.get("bands") or {}) if k not in HIDDEN_KEYS]


# --- CSV -----------------------------------------------------------------------------


def csv_rows(out: Any, data: dict[str, Any]) -> None:
    """Add the section's rows to a tidy._Rows."""
    for inst, section in (data.get("instruments") or {}).items():
        for score, entry in section.get("scores", {}).items():
            for suffix, pool in pools(entry):
                group = f"{inst}/{score}{suffix}"
                keys = {"group_by": "instrument_score", "group": group}
                for checkpoint, by_informant in pool["by_checkpoint"].items():
                    for who, cell in by_informant.items():
                        at = {**keys, "checkpoint": checkpoint, "informant": who}
                        out.add("instrument_score_n", cell, n="n", count="withheld", **at)
                        for figure in DESCRIPTION:
                            out.add(f"instrument_score_{figure}", cell, n="n", value=figure, **at)
                        for band in bands(cell):
                            out.add("instrument_score_band", _with(cell, cell["bands"]), n="n",
                                    count=band, **{**at, "group": f"{group}/{band}"})  # fmt: skip
                for checkpoint, by_informant in pool.get("change", {}).items():
                    for who, cell in by_informant.items():
                        at = {"group_by": "instrument_score", "checkpoint": checkpoint,
                              "informant": who, "group": f"{group}/from={cell['from']}"}  # fmt: skip
                        out.add("instrument_change", cell, n="n", value="mean_change", ci="ci",
                                **at)  # fmt: skip
                        for figure in ("wilcoxon_statistic", "wilcoxon_p"):
                            out.add(f"instrument_change_{figure}", cell, n="n", value=figure, **at)
                        if "moved_down" in cell:
                            out.add("instrument_change_moved_down", cell, n="n",
                                    count="moved_down", value="share_moved_down", **at)  # fmt: skip
        for item, entry in section.get("items", {}).items():
            for suffix, pool in pools(entry):
                group = f"{inst}/{item}{suffix}"
                for checkpoint, by_informant in pool["by_checkpoint"].items():
                    for who, cell in by_informant.items():
                        at = {"group_by": "instrument_item", "group": group,
                              "checkpoint": checkpoint, "informant": who}  # fmt: skip
                        out.add("instrument_item_prevalence", cell, n="n", count="reported",
                                value="share", ci="ci", **at)  # fmt: skip
                        missing = cell["missing"]
                        for code in [k for k in missing if k not in HIDDEN_KEYS]:
                            out.add("instrument_item_missing", missing, count=code,
                                    **{**at, "group": f"{group}/{code}"})  # fmt: skip
        for pair, by_checkpoint in section.get("agreement", {}).items():
            for checkpoint, cell in by_checkpoint.items():
                at = {"group_by": "instrument_pair", "group": f"{inst}/{pair}",
                      "checkpoint": checkpoint}  # fmt: skip
                out.add("instrument_agreement", cell, n="n", count="agree",
                        value="percent_agreement", **at)  # fmt: skip
                out.add("instrument_agreement_kappa", cell, n="n", value="kappa", **at)


# --- text ----------------------------------------------------------------------------


def text_lines(data: dict[str, Any], t: int | None, name: Callable[[str], str]) -> list[str]:
    """A short table per score: n, mean (SD), median [quartiles], and the change."""
    sections = data.get("instruments") or {}
    if not sections:
        return []
    lines = ["Instruments (scores by checkpoint; `--format json|csv|html` for items, bands, "
             "agreement):"]  # fmt: skip
    for inst, section in sections.items():
        for score, entry in section.get("scores", {}).items():
            for suffix, pool in pools(entry):
                changed = " (definition changed: revisions apart)" if suffix else ""
                lines.append(f"  {inst} {score}{suffix}{changed}")
                # As wide as the longest label: a cut label can name two checkpoints alike.
                wide = max([10, *(len(name(c)) for c in pool["by_checkpoint"])])
                lines.append(f"    {'checkpoint':<{wide}} {'informant':<12} {'n':>6} "
                             f"{'withheld':>8} {'mean (SD)':>16} {'median [Q1-Q3]':>20} "
                             f"{'change':>24}")  # fmt: skip
                for checkpoint, by_informant in pool["by_checkpoint"].items():
                    for who, cell in by_informant.items():
                        change = pool.get("change", {}).get(checkpoint, {}).get(who)
                        lines.append(
                            f"    {name(checkpoint):<{wide}} {who:<12} "
                            f"{show.count(cell, 'n', t):>6} {show.count(cell, 'withheld', t):>8} "
                            f"{_mean_sd(cell):>16} {_median(cell):>20} {_change(change, t):>24}"
                        )
    lines.append("")
    return lines


def _mean_sd(cell: dict[str, Any]) -> str:
    return f"{show.number(cell, 'mean')} ({show.number(cell, 'sd')})"


def _median(cell: dict[str, Any]) -> str:
    return f"{show.number(cell, 'median')} [{show.number(cell, 'q1')}-{show.number(cell, 'q3')}]"


def _change(cell: dict[str, Any] | None, t: int | None) -> str:
    if not cell:
        return show.DASH
    return (
        f"{show.number(cell, 'mean_change')} (n {show.count(cell, 'n', t)}, "
        f"p {show.number(cell, 'wilcoxon_p', 3)})"
    )


# --- HTML ----------------------------------------------------------------------------


def html_figures(
    data: dict[str, Any],
    checkpoint_label: Callable[[str, str | None], str],
    w: Callable[..., str],
) -> dict[str, Markup]:
    """Per `INSTRUMENT/SCORE@DEFINITION`: a box plot of the published quartiles by
    checkpoint and informant (a hidden cell is left out, and its label says so)."""
    figures: dict[str, Markup] = {}
    for inst, section in (data.get("instruments") or {}).items():
        for score, entry in section.get("scores", {}).items():
            for suffix, pool in pools(entry):
                boxes = []
                for checkpoint, by_informant in pool["by_checkpoint"].items():
                    for who, cell in by_informant.items():
                        label = f"{checkpoint_label(checkpoint, who)} ({show.label(who)})"
                        boxes.append((label, None if show.hidden(cell, "median") else cell))
                name = w("instruments.plot_name", score=score, instrument=inst)
                figures[f"{inst}/{score}{suffix}"] = Markup(
                    distribution_svg(boxes, score, name, w("report.suppressed_word"))
                )
    return figures


def distribution_svg(
    boxes: list[tuple[str, dict[str, Any] | None]], ylabel: str, name: str, suppressed: str
) -> str:
    """Boxes from the published median and quartiles (whiskers at the quartiles: the
    extremes are not published), the mean as a dot; a hidden cell as an empty slot."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    stats, labels = [], []
    for label, cell in boxes:
        if cell is None or cell.get("median") is None:
            labels.append(f"{label}\n({suppressed})")
            stats.append(None)
            continue
        labels.append(label)
        stats.append({"med": cell["median"], "q1": cell["q1"], "q3": cell["q3"],
                      "whislo": cell["q1"], "whishi": cell["q3"], "mean": cell["mean"],
                      "fliers": []})  # fmt: skip
    with plt.rc_context(STYLE):
        figure = Figure(figsize=(7.0, 3.2))
        axes = figure.subplots()
        drawn = [(k + 1, s) for k, s in enumerate(stats) if s is not None]
        if drawn:
            axes.bxp(
                [s for _, s in drawn],
                positions=[k for k, _ in drawn],
                showmeans=True,
                patch_artist=True,
                boxprops={"facecolor": COLOURS[0] + "33", "edgecolor": COLOURS[0]},
                medianprops={"color": COLOURS[1]},
                meanprops={"marker": "o", "markerfacecolor": COLOURS[2], "markeredgecolor": "none"},
            )
        axes.set_xticks(range(1, len(labels) + 1), labels, rotation=20, ha="right", fontsize=7)
        axes.set_xlim(0.4, len(labels) + 0.6)
        axes.set_ylabel(ylabel)
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        figure.tight_layout()
        shown = ", ".join(label.replace("\n", " ") for label in labels)
        alt = f"{name} ({shown}); the table below gives the numbers."
        return named(_inline_svg(figure), alt)
