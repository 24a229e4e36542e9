"""The one set of rules for what people type: control characters, lengths."""

from __future__ import annotations

import pytest

from followup.values import (
    escape_controls,
    parse_email,
    parse_identifier,
    parse_name,
    refuse_control,
)


@pytest.mark.parametrize("char", ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\u2028"])
def test_every_control_character_is_refused_in_a_short_field(char):
    with pytest.raises(ValueError, match="contains a control character"):
        parse_name(f"Ana{char}Jovanović")


def test_free_text_may_keep_line_breaks_and_tabs_but_nothing_else():
    assert refuse_control("a\r\n\tb", "notes", allow="\t\n\r") == "a\r\n\tb"
    with pytest.raises(ValueError, match=r"U\+0000 NUL"):
        refuse_control("a\n\x00", "notes", allow="\t\n\r")


def test_names_ids_and_addresses_have_a_maximum_length():
    assert parse_name("N" * 200) == "N" * 200
    with pytest.raises(ValueError, match="201 characters long; at most 200"):
        parse_name("N" * 201)
    with pytest.raises(ValueError, match="must be 1-64 letters"):
        parse_identifier("F" * 65)
    with pytest.raises(ValueError, match="at most 254"):
        parse_email("a" * 250 + "@x.org")


def test_an_id_with_a_line_break_inside_is_refused():
    with pytest.raises(ValueError, match="must be 1-64 letters"):
        parse_identifier("BG-1\nBG-2")


def test_escaping_writes_each_control_character_as_an_escape_and_keeps_what_is_asked():
    assert escape_controls("a\nb\r\x00\x1b\x7f\u2028č") == "a\\nb\\r\\x00\\x1b\\x7f\\u2028č"
    assert escape_controls("a\nb\tc", keep="\n") == "a\nb\\tc"
