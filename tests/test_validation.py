"""The free-text rule: control characters and lone surrogates are refused, whatever the field."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from scamwall.errors import InvalidInput
from scamwall.validation import clean_text


def test_refuses_exactly_unicode_controls_and_surrogates() -> None:
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        category = unicodedata.category(char)
        refused = category == "Cs" or (category == "Cc" and char not in "\t\n\r")
        try:
            clean_text(f"a{char}b", field="note", max_length=10)
        except InvalidInput:
            assert refused, hex(point)
        else:
            assert not refused, hex(point)


def test_strips_and_bounds() -> None:
    assert clean_text("  ข้อความ\tแจ้ง \n", field="note", max_length=20) == "ข้อความ\tแจ้ง"
    with pytest.raises(InvalidInput, match="longer than 3"):
        clean_text("abcd", field="note", max_length=3)
