"""Showing the report's values to people: the same wording in text, HTML and CSV.

A value is read from the object holding it, because that object says whether a null is
suppressed (`suppressed_fields`) or simply undefined (a rate of nothing).
"""

from __future__ import annotations

from typing import Any

DASH = "–"
HIDDEN = "suppressed"


def hidden(obj: dict[str, Any] | None, key: str) -> bool:
    return bool(obj) and key in obj.get("suppressed_fields", ())


def count(obj: dict[str, Any] | None, key: str, threshold: int | None) -> str:
    """A count; `<5` where it is suppressed."""
    if obj is None:
        return DASH
    if hidden(obj, key):
        return f"<{threshold}" if threshold else HIDDEN
    value = obj.get(key)
    return DASH if value is None else f"{value:,}"


def percent(obj: dict[str, Any] | None, key: str, digits: int = 1) -> str:
    if obj is None:
        return DASH
    if hidden(obj, key):
        return HIDDEN
    value = obj.get(key)
    return DASH if value is None else f"{100 * value:.{digits}f}%"


def interval(obj: dict[str, Any] | None, key: str = "ci", digits: int = 1) -> str:
    """A CI of a proportion, as percentages."""
    if obj is None:
        return DASH
    if hidden(obj, key):
        return HIDDEN
    value = obj.get(key)
    if not value or value[0] is None:
        return DASH
    return f"{100 * value[0]:.{digits}f}–{100 * value[1]:.{digits}f}%"


def days(obj: dict[str, Any] | None, key: str) -> str:
    if obj is None:
        return DASH
    if hidden(obj, key):
        return HIDDEN
    value = obj.get(key)
    if value is None:
        return "not reached"
    return f"{value:g} days"


def number(obj: dict[str, Any] | None, key: str, digits: int = 2) -> str:
    if obj is None:
        return DASH
    if hidden(obj, key):
        return HIDDEN
    value = obj.get(key)
    return DASH if value is None else f"{value:.{digits}f}"


def p_value(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def logrank_words(test: dict[str, Any] | None, by: str | None, what: str) -> str:
    """The log-rank result in a sentence."""
    if not test:
        return ""
    groups = (by or "group").replace("_", " ")
    stat = f"log-rank χ² = {test['statistic']:.2f}, df = {test['df']}, {p_value(test['p_value'])}"
    if test["p_value"] < 0.05:
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
