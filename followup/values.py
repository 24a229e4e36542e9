"""Parsing what people type: one set of rules for the CLI, CSV imports and web forms.

Each parser raises ValueError with a message that says what was expected, so the
caller only has to add where (a file and row, an option, a form field).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

# The longest value each kind of field may hold (docs/data.md, "Field lengths"). Ids are
# what staff type and read aloud; names and short fields fit a table cell; an e-mail
# address is at most 254 characters (RFC 5321).
MAX_ID = 64
MAX_NAME = 200
MAX_SHORT = 200
MAX_EMAIL = 254
MAX_NOTES = 10_000

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_.\-/]{{0,{MAX_ID - 1}}}")
# C0 controls (NUL, TAB, LF, CR, ESC …), DEL, the C1 controls (NEL among them) and the
# Unicode line and paragraph separators: everything a terminal, a log or a line-based
# reader may take as the end of a line or as a command.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
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
    if not _ID.fullmatch(value):
        raise ValueError(
            f"{what} {text!r} must be 1-64 letters, digits, '-', '_', '.' or '/', "
            "starting with a letter or digit"
        )
    return value


def parse_phone(text: str | None) -> str | None:
    value = re.sub(r"[\s()-]", "", text or "")
    if not value:
        return None
    if not _E164.fullmatch(value):
        raise ValueError(f"expected an international number such as +381641234567, got {text!r}")
    return value


def parse_email(text: str | None) -> str | None:
    value = refuse_control(text or "", "e-mail address").strip()
    if not value:
        return None
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"expected an e-mail address, got {text!r}")
    return limit_length(value, "e-mail address", MAX_EMAIL)


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


# --- control characters and lengths ------------------------------------------------------


def _name_of(char: str) -> str:
    return unicodedata.name(char, "") or {
        "\x00": "NUL",
        "\t": "TAB",
        "\n": "LF, a line break",
        "\r": "CR, a line break",
        "\x1b": "ESC",
        "\x7f": "DEL",
        "\x85": "NEL, a line break",
    }.get(char, "a control character")


def refuse_control(text: str, what: str = "value", *, allow: str = "") -> str:
    """`text` unchanged, or ValueError naming the first control character in it.

    One rule for every id, name and short field on every path (CSV, CLI, web): a line
    break or an escape sequence in a value could forge a line of the audit trail, a
    console message or a CSV row downstream. Free text passes `allow="\t\n\r"`.
    """
    for found in _CONTROL.finditer(text):
        char = found.group()
        if char not in allow:
            raise ValueError(
                f"{what} contains a control character (U+{ord(char):04X} {_name_of(char)}) "
                f"at position {found.start() + 1}; remove it"
            )
    return text


def limit_length(text: str, what: str, maximum: int) -> str:
    if len(text) > maximum:
        raise ValueError(f"{what} is {len(text)} characters long; at most {maximum} are allowed")
    return text


def parse_short_text(text: str, what: str = "value", maximum: int = MAX_SHORT) -> str:
    """A name or other short field: no control characters, at most `maximum` characters."""
    value = refuse_control(text, what).strip()
    return limit_length(value, what, maximum)


def parse_name(text: str, what: str = "name") -> str:
    return parse_short_text(text, what, MAX_NAME)


def escape_controls(text: str, *, keep: str = "") -> str:
    """`text` with every control character written as an escape (a line feed as \\n),
    except those in `keep`, so a value can never start a line of its own in text output."""

    def escaped(found: re.Match[str]) -> str:
        char = found.group()
        return char if char in keep else char.encode("unicode_escape").decode("ascii")

    return _CONTROL.sub(escaped, text)
