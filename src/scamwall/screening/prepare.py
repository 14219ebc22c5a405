"""Turn what a gateway hands over into text the screener can read, or say why it cannot.

A message is refused with a reason, never with an exception, when it is empty, larger than
64 KB, binary (at least half of it control characters, NUL included) or not text in a known
encoding (bytes that are not UTF-8, lone surrogates, text made of replacement characters).
Fewer control characters are replaced by spaces and the message screened: a few bell or NUL
characters must not be a way to have a scam refused, and waved through, unread. Everything else is:

1. converted from Zawgyi to Unicode when it is Burmese typed in the Zawgyi font encoding (still
   common on phones in Myanmar), detected with Google's ``myanmartools`` and converted with ICU's
   ``Zawgyi-my`` transliterator (the ``myanmar`` extra; without it the message is screened as
   is and says so);
2. given a *matching form* for keyword rules: NFKC, case-folded, native digits as ASCII.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from myanmartools import ZawgyiDetector

from scamwall.indicators.text import fold_characters, fold_table
from scamwall.screening.features import joined_code_points

__all__ = [
    "MAX_MESSAGE_BYTES",
    "Prepared",
    "fold_many",
    "prepare_message",
    "prepare_messages",
    "zawgyi_converter",
]

MAX_MESSAGE_BYTES = 64 * 1024
_MYANMAR = re.compile(r"[\u1000-\u109f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ZAWGYI_THRESHOLD = 0.95
#: Below this many texts, folding each alone costs less than setting up the arrays.
_FEW = 8


@dataclass(frozen=True, slots=True)
class Prepared:
    """A message ready for screening, or the reason it cannot be."""

    text: str
    matching: str
    error: str | None = None
    detail: str | None = None
    zawgyi: bool = False
    #: Zawgyi was detected but no converter is installed.
    unconverted: bool = False
    #: ``text`` with native digits and full-width forms folded, character for character
    #: (:func:`~scamwall.indicators.text.fold_characters`): where indicators are looked for.
    folded: str = ""
    #: Control characters read as spaces before anything read the message.
    controls: int = 0


@lru_cache(maxsize=1)
def _detector() -> ZawgyiDetector:
    with warnings.catch_warnings():  # it loads its model with a deprecated importlib call
        warnings.filterwarnings("ignore", "open_binary is deprecated", DeprecationWarning)
        return ZawgyiDetector()


@lru_cache(maxsize=1)
def zawgyi_converter() -> Callable[[str], str] | None:
    """ICU's Zawgyi-to-Unicode transliterator, or None when PyICU is not installed."""
    try:
        import icu  # noqa: PLC0415
    except ImportError:
        return None
    transliterator = icu.Transliterator.createInstance("Zawgyi-my")
    return transliterator.transliterate  # type: ignore[no-any-return]


def _refused(error: str, detail: str) -> Prepared:
    return Prepared("", "", error, detail)


def prepare_message(raw: str | bytes) -> Prepared:
    """Check, decode and normalise one message (see the module docstring)."""
    return prepare_messages([raw])[0]


def prepare_messages(raws: Sequence[str | bytes]) -> list[Prepared]:
    """:func:`prepare_message` of each message of a batch: the batch's non-ASCII texts are
    folded together, in a few NumPy operations instead of a ``str.translate`` each."""
    checked = [_checked(raw) for raw in raws]
    wide = [item for item in checked if isinstance(item, _Text) and not item.text.isascii()]
    folded_texts = iter(fold_many([item.text for item in wide]))
    prepared = []
    for item in checked:
        if isinstance(item, Prepared):
            prepared.append(item)
            continue
        text = item.text
        if text.isascii():
            folded = text
            matching = text.lower()  # NFKC leaves ASCII alone; its case folding is lower()
        else:
            # folding first turns full-width forms and native digits to ASCII, which NFKC would
            # have done or leaves alone, so most texts are then normalised already: the quick
            # check answers that in a fraction of the time NFKC itself takes
            folded = next(folded_texts)
            matching = folded
            if not unicodedata.is_normalized("NFKC", matching):
                # and again: NFKC makes some characters the folding maps (superscript minus and
                # vertical dashes to U+2212 and U+2014, a vertical stop to U+3002)
                matching = fold_characters(unicodedata.normalize("NFKC", matching))
            matching = matching.casefold()
        prepared.append(
            Prepared(
                text,
                matching,
                zawgyi=item.zawgyi,
                unconverted=item.unconverted,
                folded=folded,
                controls=item.controls,
            )
        )
    return prepared


class _Text(NamedTuple):
    """A message that passed the checks, Zawgyi converted."""

    text: str
    zawgyi: bool
    unconverted: bool
    controls: int


def _checked(raw: str | bytes) -> _Text | Prepared:
    """The message's text, or its refusal (module docstring)."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_MESSAGE_BYTES:
            return _refused("too_large", f"{len(raw)} bytes; the limit is {MAX_MESSAGE_BYTES}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if b"\x00" in raw:
                return _refused("binary", "NUL bytes and not UTF-8: not a text message")
            return _refused("encoding", f"not UTF-8 (byte {exc.start}); send the text as UTF-8")
    else:
        text = raw
        if len(text) > MAX_MESSAGE_BYTES // 4 and len(text.encode("utf-8", "surrogatepass")) > (
            MAX_MESSAGE_BYTES
        ):
            return _refused("too_large", f"longer than {MAX_MESSAGE_BYTES} bytes in UTF-8")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return _refused("encoding", "contains lone surrogates: not valid Unicode text")
    if not text.strip():
        return _refused("empty", "the message has no text")
    controls = 0
    if _CONTROL.search(text) is not None:
        controls = len(_CONTROL.findall(text))
        if controls * 2 >= len(text):
            return _refused("binary", f"{controls} control characters in {len(text)}: not text")
        text = _CONTROL.sub(" ", text)  # a space: deleted, one would join what it parts
        if not text.strip():
            return _refused("empty", "the message has no text besides control characters")
    if text.count("\ufffd") * 2 > len(text):
        return _refused("encoding", "mostly replacement characters: decoded with the wrong codec")
    zawgyi = unconverted = False
    if (
        _MYANMAR.search(text) is not None
        and _detector().get_zawgyi_probability(text) >= _ZAWGYI_THRESHOLD
    ):
        convert = zawgyi_converter()
        if convert is None:
            unconverted = True
        else:
            text, zawgyi = convert(text), True
    return _Text(text, zawgyi, unconverted, controls)


def fold_many(texts: Sequence[str]) -> list[str]:
    """:func:`~scamwall.indicators.text.fold_characters` of each text, the batch at once: its
    code points looked up in the folding table in NumPy. The texts must hold no NUL (it
    separates them here) and no lone surrogate, as no prepared text does."""
    if len(texts) < _FEW:
        return [fold_characters(text) for text in texts]
    codes, _ = joined_code_points(texts)
    table = _fold_codes()
    inside = codes < len(table)
    folded = codes.copy()
    folded[inside] = table[codes[inside]]
    return folded[:-1].tobytes().decode("utf-32-le").split("\x00")


@lru_cache(maxsize=1)
def _fold_codes() -> npt.NDArray[np.uint32]:
    """The folding table as code points (surrogates map to themselves)."""
    table = fold_table().encode("utf-32-le", "surrogatepass")
    return np.frombuffer(table, dtype=np.uint32)
