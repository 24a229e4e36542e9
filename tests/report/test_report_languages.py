"""The report's words in every language: the same keys and placeholders as English, and
every key the templates ask for is in the English catalogue."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from followup import config
from followup.cli.report import LANGUAGES as CLI_LANGUAGES
from followup.report import words

ANALYSIS = Path(words.CATALOGUES).parent


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_report_has_a_catalogue_for_every_language_the_service_speaks():
    assert set(CLI_LANGUAGES) == set(config.LANGUAGES)
    assert {p.stem for p in words.CATALOGUES.glob("*.toml")} == set(config.LANGUAGES)


@pytest.mark.parametrize("language", ["sr-Latn", "sq"])
def test_every_report_catalogue_has_the_same_keys_and_placeholders_as_english(language):
    english, other = words.catalogue("en"), words.catalogue(language)
    assert sorted(set(english) ^ set(other)) == []
    for key, text in english.items():
        assert placeholders(other[key]) == placeholders(text), key


def test_every_word_the_templates_ask_for_is_in_the_english_catalogue():
    asked = set()
    for path in ANALYSIS.glob("*.j2"):
        asked |= set(re.findall(r"\bw\('([a-z_]+\.[a-z_]+)'", path.read_text()))
    asked |= {f"survival.{what}" for what in ("recidivism", "dropout")}  # w('survival.' ~ what)
    assert asked and sorted(asked - set(words.catalogue("en"))) == []
