"""The report's formats. Each reads the typed sections and `report.data` (both already
suppressed: see followup/report/__init__.py)."""

from __future__ import annotations

from followup.report.build import Report


def render_text(report: Report) -> str:
    from followup.report.text import render_text as text

    return text(report)


def render_csv(report: Report) -> str:
    from followup.report.tidy import render_csv as tidy

    return tidy(report)


def render_html(report: Report) -> str:
    from followup.report.html import render_html as html

    return html(report)


def render(report: Report, fmt: str) -> str:
    """The report in `fmt`: text, json, html or csv."""
    if fmt == "json":
        return report.dumps() + "\n"
    return {"text": render_text, "csv": render_csv, "html": render_html}[fmt](report)
