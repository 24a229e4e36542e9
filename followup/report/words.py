"""The report's words in each language: `analysis/i18n/<language>.toml`.

The HTML report (and so the web's Outcomes page) is written in the reader's language:
headings, table labels, captions and the small sentences between them. The JSON document
and the CSV keep their keys and codes (a contract with other programs); only human text is
translated. A key missing in a language reads the English text, so a deployment may
translate part of it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path

CATALOGUES = Path(__file__).resolve().parents[2] / "analysis" / "i18n"
DEFAULT = "en"


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
    path = CATALOGUES / f"{language}.toml"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        return _flatten(tomllib.load(handle))


def words(language: str) -> Callable[..., str]:
    """`w("section.key", name=value)`: the text in `language`, else in English."""
    own, fallback = catalogue(language), catalogue(DEFAULT)

    def w(key: str, **values: object) -> str:
        text = own.get(key) or fallback.get(key)
        if text is None:
            raise KeyError(f"{CATALOGUES / (DEFAULT + '.toml')}: no text for {key!r}")
        return text.format(**values) if values else text

    return w


def term(language: str) -> Callable[[str], str]:
    """A code as readers say it (`dropped_out`, `police`, a site code): its `[term]` text,
    else the code with spaces."""
    own, fallback = catalogue(language), catalogue(DEFAULT)

    def say(code: str) -> str:
        key = f"term.{code}"
        return own.get(key) or fallback.get(key) or str(code).replace("_", " ")

    return say
