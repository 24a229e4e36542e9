"""The web interface's words in English, Serbian (Latin script) and Albanian.

One TOML catalogue per language in followup/web/i18n/ (`[section]` tables of `key =
"text"`, with `{name}` placeholders), read once. Templates call `t("section.key",
name=value)`. tests/web/test_i18n.py fails when a key used anywhere is missing from a
catalogue, or when the catalogues do not have the same keys and placeholders. Gettext
would need a compile step at build time for three languages of a few hundred strings;
this keeps the texts in files a translator can edit and the test can check.

Dates are shown as ISO dates with a weekday (unambiguous in every language), times in
the person's site time zone.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

CATALOGUES = Path(__file__).resolve().parent / "i18n"
LANGUAGES = ("en", "sr-Latn", "sq")
DEFAULT = "en"
NAMES = {"en": "English", "sr-Latn": "Srpski (latinica)", "sq": "Shqip"}
MISSING: set[str] = set()  # keys asked for that no catalogue has


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@cache
def catalogue(language: str) -> dict[str, str]:
    with (CATALOGUES / f"{language}.toml").open("rb") as handle:
        return _flatten(tomllib.load(handle))


def supported(language: str | None) -> str:
    """The interface language for a staff language (English for one it does not know)."""
    return language if language in LANGUAGES else DEFAULT


def translator(language: str) -> Callable[..., str]:
    words = catalogue(supported(language))
    fallback = catalogue(DEFAULT)

    def t(key: str, **values: object) -> str:
        text = words.get(key) or fallback.get(key)
        if text is None:
            MISSING.add(key)  # tests/web/test_i18n.py fails on any
            return key
        return text.format(**values) if values else text

    return t


def format_date(day: date | None, language: str) -> str:
    if day is None:
        return ""
    weekday = catalogue(supported(language))[f"weekday.{day.weekday()}"]
    return f"{weekday} {day.isoformat()}"


def format_instant(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
