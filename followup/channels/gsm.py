"""GSM-7 for SMS text: make text GSM-7 safe and count the segments it will cost.

One character outside the GSM 03.38 alphabet switches the whole message to UCS-2, which
more than halves what fits in a segment (70 instead of 160). Reminder text is rendered
from templates in Serbian Latin, Albanian, English and the like, so ``to_gsm7`` folds
typographic punctuation to ASCII and transliterates the few letters that GSM-7 lacks
(``č ć š ž đ ë``), keeping those it has (``é ü Ç Ñ``…).

The tables are written out from 3GPP TS 23.038 (GSM 03.38), default alphabet and its
extension table, without national language shift tables (which many handsets ignore).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = ["GSM7_BASIC", "GSM7_EXTENSION", "is_gsm7", "segments", "septets", "to_gsm7"]

# The default alphabet, by position 0x00..0x7F. Position 0x1B is the escape to the
# extension table, not a character, so it is left out of the set below.
_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(_BASIC_TABLE) == 128

GSM7_BASIC: frozenset[str] = frozenset(_BASIC_TABLE) - {"\x1b"}
"""Characters that cost one septet."""

GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")
"""Characters reached through the escape: each costs two septets."""

_GSM7 = GSM7_BASIC | GSM7_EXTENSION


def _pairwise(source: str, target: str) -> dict[str, str]:
    return dict(zip(source, target, strict=True))


# Folded before anything else. Letters: what a Serbian or Albanian reader writes when
# the phone cannot show the letter (đ is "dj", not "d"). Serbian Cyrillic goes through
# the Latin letters it stands for.
_TRANSLITERATION: dict[str, str] = {
    # Serbian / Croatian / Bosnian Latin, Albanian
    **_pairwise("čćšžČĆŠŽëËç", "ccszCCSZeEc"),
    "đ": "dj",
    "Đ": "Dj",
    # Other Latin letters that do not decompose to a base letter
    **_pairwise("łŁıðÐŋŊħĦŧŦ", "lLidDnNhHtT"),
    **{"œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th"},
    # Serbian Cyrillic
    **_pairwise("абвгдежзијклмнопрстћуфхцчш", "abvgdezzijklmnoprstcufhccs"),
    **_pairwise("АБВГДЕЖЗИЈКЛМНОПРСТЋУФХЦЧШ", "ABVGDEZZIJKLMNOPRSTCUFHCCS"),
    **{"ђ": "dj", "љ": "lj", "њ": "nj", "џ": "dz", "Ђ": "Dj", "Љ": "Lj", "Њ": "Nj", "Џ": "Dz"},
    # Quotes, apostrophes, dashes, minus signs
    **_pairwise("‘’‚‛′‹›`´", "'" * 9),
    **_pairwise("“”„‟″«»", '"' * 7),
    **_pairwise("‐‑‒–—―−⁃", "-" * 8),
    # Other punctuation and symbols
    **{"…": "...", "•": "-", "·": ".", "⁄": "/", "×": "x", "÷": "/", "©": "(c)", "®": "(R)"},
    # Spaces (tab, no-break, en quad .. hair space, narrow, medium, ideographic), breaks
    **{ch: " " for ch in "\t\u00a0\u202f\u205f\u3000"},
    **{chr(c): " " for c in range(0x2000, 0x200B)},
    **{"\u2028": "\n", "\u2029": "\n"},
    # Invisible: soft hyphen, zero-width space and joiners, word joiner, BOM
    **{ch: "" for ch in "\u00ad\u200b\u200c\u200d\u2060\ufeff"},
}

_UNKNOWN = "?"


def _fold_one(ch: str) -> str | None:
    """The GSM-7 spelling of one character without decomposing it, or None."""
    if ch in _GSM7:
        return ch
    if ch in _TRANSLITERATION:
        return _TRANSLITERATION[ch]
    if unicodedata.category(ch) == "Cc":
        return ""  # control characters other than LF, CR and FF carry nothing
    return None


@lru_cache(maxsize=4096)
def _fold(ch: str) -> str:
    folded = _fold_one(ch)
    if folded is not None:
        return folded
    # á → a, ǅ → Dž → Dz, ﬁ → fi, ² → 2: compatibility decomposition without the accents.
    parts = [c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)]
    if not parts or parts == [ch]:
        return _UNKNOWN
    pieces = [_fold_one(c) for c in parts]
    if any(piece is None for piece in pieces):
        return _UNKNOWN
    return "".join(pieces)  # type: ignore[arg-type]


def to_gsm7(text: str) -> str:
    """Text that uses only GSM-7 characters, so the message is sent as GSM-7.

    Typographic punctuation becomes ASCII, letters GSM-7 lacks are transliterated
    (č ć → c, š → s, ž → z, đ → dj, ë → e, Serbian Cyrillic → Latin), accents GSM-7
    lacks are dropped (á → a), and anything left that has no spelling (emoji, other
    scripts) becomes "?". Characters already in GSM-7 (é, ü, Ç, Ñ, €, …) are kept.
    """
    return "".join(_fold(ch) for ch in unicodedata.normalize("NFC", text))


def is_gsm7(text: str) -> bool:
    """Whether the whole text can be sent in the GSM-7 alphabet."""
    return all(ch in _GSM7 for ch in text)


def septets(text: str) -> int:
    """GSM-7 septets the text needs (extension characters count 2).

    Raises ValueError for text that is not GSM-7; call :func:`to_gsm7` first.
    """
    if not is_gsm7(text):
        raise ValueError("text contains characters outside the GSM-7 alphabet")
    return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)


def segments(text: str) -> int:
    """How many SMS segments the text costs (0 for empty text).

    GSM-7: 160 septets in a single message, 153 per part when concatenated; an
    extension character (``€ [ ] { } ^ ~ | \\``) costs 2 and is never split across two
    parts. Otherwise UCS-2: 70 code units single, 67 per part; a character outside the
    Basic Multilingual Plane (most emoji) costs 2 and is never split either.
    """
    if not text:
        return 0
    if is_gsm7(text):
        units = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        single, per_part = 160, 153
    else:
        units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single, per_part = 70, 67
    if sum(units) <= single:
        return 1
    parts, used = 1, 0
    for unit in units:
        if used + unit > per_part:
            parts, used = parts + 1, 0
        used += unit
    return parts
