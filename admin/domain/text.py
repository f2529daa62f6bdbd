"""Small text helpers shared by the domain rules (standard library only)."""

from __future__ import annotations

from datetime import date

# Full-width ASCII block (U+FF01–U+FF5E) maps 1:1 onto U+0021–U+007E; U+3000 is the
# ideographic space.  Chinese input methods often produce these in ID numbers and dates.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALFWIDTH[0x3000] = 0x20

# Dates before this are typing errors in a K-12 registry (guardians included).
MIN_DATE = date(1900, 1, 1)


def to_halfwidth(text: str) -> str:
    """Full-width letters, digits and punctuation → their ASCII forms; nothing else changes."""
    return text.translate(_HALFWIDTH)


def is_ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts "²" or Arabic-Indic digits, which int() then mishandles.
    return text.isascii() and text.isdigit()


def parse_yyyymmdd(text: str) -> date | None:
    """``"20120229"`` → date; None when it is not 8 ASCII digits or not a calendar date."""
    if len(text) != 8 or not is_ascii_digits(text):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
