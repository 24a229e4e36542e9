"""Outcome reports: retention, follow-up, non-violence and survival, suppressed for evaluators.

    report = build_report(ctx, session, ReportOptions(as_of=..., by="site"))
    report.to_json()          # the JSON document (DESIGN.md "Report JSON")
    render_text(report)       # a short summary for a terminal
    render_html(report)       # one self-contained HTML file
    render_csv(report)        # tidy long CSV

The renderers read the report's typed sections (report/sections.py: cohort, retention,
follow-up, agreement, survival; non-violence and data quality still from `report.data`).
Their Count and Derived leaves carry the suppression, and `show.hidden` / `show.reason`
say whether and why a field is hidden; `report.data` is exported from the same leaves once
(disclosure.export), so every format (and the web's Outcomes page) shows the same numbers.

Names are loaded on first use: registering `followup report` with the CLI must not pull
numpy, scipy and matplotlib into every other command.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BY_CHOICES": "followup.report.build",
    "FORMATS": "followup.report.build",
    "SOURCE_CHOICES": "followup.report.build",
    "Report": "followup.report.build",
    "ReportError": "followup.report.build",
    "ReportOptions": "followup.report.build",
    "build_report": "followup.report.build",
    "default_origin": "followup.report.build",
    "latest_as_of": "followup.report.build",
    "render": "followup.report.render",
    "render_csv": "followup.report.render",
    "render_html": "followup.report.render",
    "render_text": "followup.report.render",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'followup.report' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
