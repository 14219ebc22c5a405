"""Free-text fields (names, notes, descriptions): one rule for every store and every backend."""

from __future__ import annotations

import re

from scamwall.errors import InvalidInput

__all__ = ["clean_text"]

# Unicode's categories Cs (surrogates) and Cc (controls) are these fixed ranges; a regular
# expression finds them in C, where a check of each character's category costs microseconds.
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # Cc less tab, LF, CR


def clean_text(value: str, *, field: str, max_length: int) -> str:
    """``value`` stripped, or :class:`InvalidInput` when it holds control characters (NUL, which
    PostgreSQL cannot store, among them), lone surrogates (not text: no database or JSON encoder
    takes them) or is longer than ``max_length``."""
    text = value.strip()
    if _SURROGATE.search(text):
        raise InvalidInput(f"{field} is not valid Unicode text (a lone surrogate)", field=field)
    if _CONTROL.search(text):
        raise InvalidInput(f"{field} contains control characters", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    return text
