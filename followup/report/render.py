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


def render_html(report: Report, language: str = "en") -> str:
    from followup.report.html import render_html as html

    return html(report, language)


def render(report: Report, fmt: str, language: str = "en") -> str:
    """The report in `fmt`: text, json, html or csv. The HTML is written in `language`;
    the JSON and CSV keep their keys and codes whatever the language."""
    if fmt == "json":
        return report.dumps() + "\n"
    if fmt == "html":
        return render_html(report, language)
    return {"text": render_text, "csv": render_csv}[fmt](report)
