"""Kaplan-Meier and cumulative-incidence plots as inline SVG (matplotlib, Agg backend).

Plots are drawn from the report's JSON, never from the raw data: a curve that is cut or
suppressed there is cut or missing here too. The SVG is made fit to paste into an HTML
page that must open offline: no XML prolog or DOCTYPE, no metadata, no namespace URLs,
text as text (no embedded font), and ids salted so two runs give the same file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

COLOURS = ("#1f5f8b", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#7f8c8d", "#b7950b", "#17a589")
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "followup-report",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def survival_svg(
    curves: Sequence[tuple[str, list[dict[str, Any]] | None]],
    ticks: Sequence[float],
    ylabel: str,
    value: str = "survival",
    label: str = "",
    xlabel: str = "days",
    suppressed: str = "suppressed",
) -> str:
    """Step curves with their CI bands; `curves` are (name, points or None if suppressed).

    `label` is the plot's accessible name (the SVG is an image to a screen reader: role
    "img", aria-label and a <title>); the page puts the numbers in a table beside it.

    Points are {t, value, ci_low, ci_high}; each curve starts at t = 0 with 1 (survival) or
    0 (incidence) and is drawn no further than its last point.
    """
    start = 1.0 if value == "survival" else 0.0
    with plt.rc_context(STYLE):
        figure = Figure(figsize=(7.0, 3.4))
        axes = figure.subplots()
        for index, (name, points) in enumerate(curves):
            colour = COLOURS[index % len(COLOURS)]
            if not points:
                axes.plot(
                    [], [], color=colour, label=f"{name} ({suppressed})" if points is None else name
                )
                continue
            t = [0.0, *(p["t"] for p in points)]
            y = [start, *(p[value] for p in points)]
            low = [start, *(p["ci_low"] for p in points)]
            high = [start, *(p["ci_high"] for p in points)]
            axes.step(t, y, where="post", color=colour, linewidth=1.6, label=name)
            axes.fill_between(t, low, high, step="post", color=colour, alpha=0.15, linewidth=0)
        axes.set_ylim(0, 1.02)
        axes.set_xlim(left=0, right=max([*ticks, 1]))
        axes.set_xticks(list(ticks))
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        if curves:
            axes.legend(
                loc="lower left" if value == "survival" else "upper left", frameon=False, fontsize=8
            )
        figure.tight_layout()
        return named(_inline_svg(figure), label)


def named(svg: str, label: str) -> str:
    """The SVG as an image with an accessible name (and a <title>, shown on hover)."""
    if not label:
        return svg
    text = escape(label)
    opening = svg.index(">", svg.index("<svg")) + 1
    head = svg[:opening].replace("<svg", f'<svg role="img" aria-label="{text}"', 1)
    return f"{head}\n <title>{text}</title>{svg[opening:]}"


def _inline_svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(
        buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None}
    )
    return clean_svg(buffer.getvalue())


_PROLOG = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*|<!--.*?-->\s*", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_NAMESPACES = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')


def clean_svg(svg: str) -> str:
    """An SVG document as an element for an HTML page: no URLs, nothing to fetch."""
    svg = _PROLOG.sub("", svg)
    svg = _METADATA.sub("", svg)
    svg = _NAMESPACES.sub("", svg)
    svg = svg.replace("xlink:href=", "href=")  # SVG 2: plain href, no xlink namespace
    return svg.strip()
