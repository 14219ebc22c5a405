"""Free-text fields (names, notes, descriptions): one rule for every store and every backend."""

from __future__ import annotations

import unicodedata

from scamwall.errors import InvalidInput

__all__ = ["clean_text"]


def clean_text(value: str, *, field: str, max_length: int) -> str:
    """``value`` stripped, or :class:`InvalidInput` when it holds control characters (NUL, which
    PostgreSQL cannot store, among them), lone surrogates (not text: no database or JSON encoder
    takes them) or is longer than ``max_length``."""
    text = value.strip()
    if any(unicodedata.category(ch) == "Cs" for ch in text):
        raise InvalidInput(f"{field} is not valid Unicode text (a lone surrogate)", field=field)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise InvalidInput(f"{field} contains control characters", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    return text
