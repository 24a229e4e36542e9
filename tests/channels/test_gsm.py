from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup.channels.gsm import is_gsm7, segments, septets, to_gsm7


def test_160_gsm_characters_fit_in_one_segment() -> None:
    assert segments("a" * 160) == 1


def test_161_gsm_characters_need_two_segments() -> None:
    assert segments("a" * 161) == 2


def test_concatenated_parts_hold_153_characters_each() -> None:
    assert segments("a" * 306) == 2
    assert segments("a" * 307) == 3


def test_extension_characters_count_two() -> None:
    assert septets("€[]{}") == 10
    assert segments("€" * 80) == 1
    assert segments("a" * 159 + "€") == 2


def test_an_extension_character_is_never_split_across_parts() -> None:
    # 152 + 2 + 152 = 306 septets would fit two parts of 153, but the escape and its
    # character must stay together, which pushes one septet into a third part.
    assert segments("a" * 152 + "€" + "a" * 152) == 3


def test_text_outside_gsm7_counts_in_ucs2_segments() -> None:
    assert segments("č" * 70) == 1
    assert segments("č" * 71) == 2
    assert segments("č" * 134) == 2
    assert segments("č" * 135) == 3


def test_an_emoji_counts_two_ucs2_units() -> None:
    assert segments("a" * 68 + "🙂") == 1
    assert segments("a" * 69 + "🙂") == 2


def test_empty_text_costs_no_segment() -> None:
    assert segments("") == 0


def test_septets_refuses_text_outside_gsm7() -> None:
    with pytest.raises(ValueError, match="GSM-7"):
        septets("č")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("čaša ćup šuma žaba đak", "casa cup suma zaba djak"),
        ("ČAŠA ĆUP ŠUMA ŽABA Đorđe", "CASA CUP SUMA ZABA Djordje"),
        ("Mirë dita, Ëngjëll", "Mire dita, Engjell"),
        ("Ђорђе, љубав, њива, џеп, ћерка", "Djordje, ljubav, njiva, dzep, cerka"),
        ("„navodnici“ ‘single’ «guillemets»", '"navodnici" \'single\' "guillemets"'),
        ("a – b — c … d", "a - b - c ... d"),
        ("no\u00a0break\u200bzero", "no breakzero"),
        ("ação, São, Łódź", "acao, Sao, Lodz"),
    ],
)
def test_it_transliterates_what_gsm7_lacks(text: str, expected: str) -> None:
    assert to_gsm7(text) == expected


def test_it_keeps_characters_that_are_in_gsm7() -> None:
    text = "Café über Ça Ñandu Ø Å ß Æ £ ¥ ¿¡ € [x] {y} ~ ^ | \\ Δ Ω"
    assert to_gsm7(text) == text


def test_it_drops_accents_that_gsm7_lacks() -> None:
    assert to_gsm7("Ñandú") == "Ñandu"
    assert to_gsm7("c\u030cas") == "cas"  # c + combining caron


def test_it_replaces_what_has_no_spelling_with_a_question_mark() -> None:
    assert to_gsm7("ok 🙂 好") == "ok ? ?"


def test_serbian_reminder_fits_one_gsm7_segment_after_folding() -> None:
    text = "Podsetnik: razgovor sa učesnikom „A-17“ je zakazan za četvrtak — hvala!"
    assert segments(text) == 2  # UCS-2, 72 characters
    assert segments(to_gsm7(text)) == 1


@given(st.text())
def test_folded_text_is_always_gsm7(text: str) -> None:
    assert is_gsm7(to_gsm7(text))


@given(st.text())
def test_folding_twice_changes_nothing(text: str) -> None:
    once = to_gsm7(text)
    assert to_gsm7(once) == once
