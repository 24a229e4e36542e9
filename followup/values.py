"""Parsing what people type: one set of rules for the CLI, CSV imports and web forms.

Each parser raises ValueError with a message that says what was expected, so the
caller only has to add where (a file and row, an option, a form field).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$")
YES = {"yes": True, "y": True, "true": True, "1": True, "da": True, "po": True}
NO = {"no": False, "n": False, "false": False, "0": False, "ne": False, "jo": False}


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def optional_date(text: str | None) -> date | None:
    return parse_date(text) if text and text.strip() else None


def parse_choice(text: str, choices: Iterable[str], what: str = "value") -> str:
    value = text.strip().lower()
    options = tuple(choices)
    if value not in options:
        raise ValueError(f"unknown {what} {text!r}; expected one of {', '.join(options)}")
    return value


def parse_yes_no(text: str | None) -> bool | None:
    """yes / no / empty (not asked). Serbian da/ne and Albanian po/jo are accepted too."""
    value = (text or "").strip().lower()
    if not value:
        return None
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValueError(f"expected yes, no or empty (not asked), got {text!r}")


def parse_identifier(text: str, what: str = "id") -> str:
    value = text.strip()
    if not _ID.match(value):
        raise ValueError(
            f"{what} {text!r} must be 1-64 letters, digits, '-', '_', '.' or '/', "
            "starting with a letter or digit"
        )
    return value


def parse_phone(text: str | None) -> str | None:
    value = re.sub(r"[\s()-]", "", text or "")
    if not value:
        return None
    if not _E164.match(value):
        raise ValueError(f"expected an international number such as +381641234567, got {text!r}")
    return value


def parse_email(text: str | None) -> str | None:
    value = (text or "").strip()
    if not value:
        return None
    if not _EMAIL.match(value):
        raise ValueError(f"expected an e-mail address, got {text!r}")
    return value


def parse_roles(text: str, known: Iterable[str]) -> str:
    roles = [r.strip().lower() for r in text.split(";") if r.strip()]
    allowed = tuple(known)
    unknown = [r for r in roles if r not in allowed]
    if unknown:
        raise ValueError(
            f"unknown role {unknown[0]!r}; expected some of {', '.join(allowed)} separated by ;"
        )
    if not roles:
        raise ValueError(f"at least one role is needed: {', '.join(allowed)}")
    return ";".join(dict.fromkeys(roles))
