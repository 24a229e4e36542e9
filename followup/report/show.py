"""Showing the report's values to people: the same wording in text, HTML and CSV.

A value is read from the object holding it, because that object says whether a value is
suppressed or simply undefined (a rate of nothing): a typed section (sections.py), whose
Count and Derived leaves know, or an exported JSON object (`suppressed_fields`).
"""

from __future__ import annotations

from typing import Any

from followup.report.disclosure import COMPLEMENTARY, SMALL, Count, Derived
from followup.report.sections import LogRank

DASH = "–"
HIDDEN = "suppressed"


def hidden(obj: Any, key: str) -> bool:
    """Whether the field `key` of `obj` is hidden: `obj` is a typed section (sections.py)
    or an exported JSON object."""
    if not obj:
        return False
    if isinstance(obj, dict):
        return key in obj.get("suppressed_fields", ())
    leaf = getattr(obj, key, None)
    return isinstance(leaf, Count | Derived) and leaf.suppressed


def value(obj: Any, key: str) -> Any:
    """The shown value of a field (None when hidden, undefined or absent)."""
    if obj is None or hidden(obj, key):
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    leaf = getattr(obj, key, None)
    return leaf.value if isinstance(leaf, Count | Derived) else leaf


def reason(obj: Any, key: str, threshold: int | None = None) -> str | None:
    """Why a count is hidden: `small` or `complementary` (None when it is shown). The
    same reason the JSON gives (`suppressed_reasons`, where a section's leaf says it)."""
    if not hidden(obj, key):
        return None
    if isinstance(obj, dict):
        return (obj.get("suppressed_reasons") or {}).get(key, COMPLEMENTARY)
    leaf = getattr(obj, key)
    if isinstance(leaf, Count) or isinstance(leaf.value, int):
        return leaf.reason(threshold) or SMALL
    return COMPLEMENTARY


def hidden_count(obj: Any, key: str, threshold: int | None) -> str | None:
    """How a hidden count reads: `<5` when it is below the threshold, `suppressed` when it
    is hidden to protect another (it is not below the threshold: `<5` would be false)."""
    why = reason(obj, key, threshold)
    if why is None:
        return None
    return f"<{threshold}" if why == "small" and threshold else HIDDEN


def count(obj: Any, key: str, threshold: int | None) -> str:
    """A count; `<5` where it is hidden for being small, `suppressed` where it is hidden to
    protect another."""
    if obj is None:
        return DASH
    shown = hidden_count(obj, key, threshold)
    if shown is not None:
        return shown
    number = value(obj, key)
    return DASH if number is None else f"{number:,}"


def hidden_summary(suppression: dict[str, Any]) -> str | None:
    """How many counts were hidden for each reason, and the disclosure audit's verdict."""
    hidden = suppression.get("counts_hidden")
    if not hidden:
        return None
    t = suppression["threshold"]
    audit = suppression.get("audit") or {}
    verdict = (
        "no hidden count can be worked out from the published figures (linear-programming "
        "audit passed)"
        if audit.get("passed")
        else "WARNING: the linear-programming audit found a hidden count that can be narrowed"
    )
    return (
        f"{hidden['small']} of {suppression['counts_published']} counts hidden as below {t} "
        f"(shown as <{t}), {hidden['complementary']} hidden to protect them (shown as "
        f"suppressed); {verdict}."
    )


def percent(obj: dict[str, Any] | None, key: str, digits: int = 1) -> str:
    if obj is None:
        return DASH
    if hidden(obj, key):
        return HIDDEN
    shown = value(obj, key)
    return DASH if shown is None else f"{100 * shown:.{digits}f}%"


def interval(obj: dict[str, Any] | None, key: str = "ci", digits: int = 1) -> str:
    """A CI of a proportion, as percentages."""
    if obj is None:
        return DASH
    if hidden(obj, key):
        return HIDDEN
    shown = value(obj, key)
    if not shown or shown[0] is None:
        return DASH
    return f"{100 * shown[0]:.{digits}f}–{100 * shown[1]:.{digits}f}%"


def days(obj: dict[str, Any] | None, key: str) -> str:
    if obj is None:
        return DASH
    if hidden(obj, key):
        return HIDDEN
    shown = value(obj, key)
    if shown is None:
        return "not reached"
    return f"{shown:g} days"


def number(obj: dict[str, Any] | None, key: str, digits: int = 2) -> str:
    if obj is None:
        return DASH
    if hidden(obj, key):
        return HIDDEN
    shown = value(obj, key)
    return DASH if shown is None else f"{shown:.{digits}f}"


def p_value(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def logrank_words(test: LogRank | dict[str, Any] | None, by: str | None, what: str) -> str:
    """The log-rank result in a sentence."""
    if not test:
        return ""
    if isinstance(test, dict):  # an exported report (custom templates read the JSON)
        test = LogRank(**test)
    groups = (by or "group").replace("_", " ")
    stat = f"log-rank χ² = {test.statistic:.2f}, df = {test.df}, {p_value(test.p_value)}"
    if test.p_value < 0.05:
        return f"The {what} curves differ by {groups} ({stat})."
    return f"No evidence that the {what} curves differ by {groups} ({stat})."


VERSUS = {
    "above": "above the target (the whole interval is above it)",
    "below": "below the target (the whole interval is below it)",
    "consistent": "consistent with the target (the interval contains it)",
}


def label(name: str) -> str:
    return name.replace("_", " ")


def case_list(case_ids: list[str] | None, most: int = 20) -> str:
    """ " (A-1, A-2 and 3 more)" for an administrator's report; "" when not shown."""
    if not case_ids:
        return ""
    more = len(case_ids) - most
    return f" ({', '.join(case_ids[:most])}{f' and {more:,} more' if more > 0 else ''})"
