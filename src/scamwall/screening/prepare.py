"""Turn what a gateway hands over into text the screener can read, or say why it cannot.

What is wrong with a message is mended where it can be, and the rest screened: whoever writes a
scam chooses its bytes, and a few control characters, a stray invalid byte or padding must not be
a way to have it refused and waved through unread. So:

- bytes that are not UTF-8 are read with replacement characters, and those are left out;
- control characters (NUL included) are read as spaces;
- a message over 64 KB is read with its whitespace runs as one space and, if still over, screened
  by its beginning and its end: where a gateway's message ends, and where a scam pads before its
  point (what lies between is not read, and the reason says so);
- invisible characters (zero-width spaces and joiners, soft hyphens, direction marks, variation
  selectors: Unicode's default-ignorable code points) are left out, so that a keyword split by
  them still reads as the keyword.

Each of these is said in the verdict: the first three as ``error`` reasons (``encoding``,
``binary`` when control characters are half the message, ``too_large``), with the verdict of
what could be read (the screener makes the last two a warning at least); the rest as notes. Only a
message with nothing left to read is refused, with its reason: empty, or nothing but control or
replacement characters. Everything else is then:

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
    "KEPT_HEAD",
    "KEPT_TAIL",
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
#: Unicode's default-ignorable code points (DerivedCoreProperties.txt), which render as nothing:
#: broader than what extraction strips (it keeps a map to the original text for spans; the
#: matching form needs none), since a rule's keyword can be split by any of them.
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]+"
)
_REPLACED = re.compile("\ufffd+")
#: What of a message over :data:`MAX_MESSAGE_BYTES` is screened: characters from its start and
#: from its end (a scam padded at either side still shows its point).
KEPT_HEAD, KEPT_TAIL = 16_384, 4_096
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
    #: What was wrong with the message and mended before it was screened, as ``(error,
    #: detail)``: the verdict gives each as an ``error`` reason.
    mended: tuple[tuple[str, str], ...] = ()
    #: What else preparation did to the text, for the verdict's notes.
    notes: tuple[str, ...] = ()


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
    wide = [
        index
        for index, item in enumerate(checked)
        if isinstance(item, _Text) and not item.text.isascii()
    ]
    folded_texts, hiding = _fold_wide([checked[index].text for index in wide])
    folds: dict[int, str] = {}
    for index, folded, hidden in zip(wide, folded_texts, hiding, strict=True):
        if not hidden:
            folds[index] = folded
            continue
        # few texts: found for the whole batch in the folding's own pass
        item = checked[index]
        assert isinstance(item, _Text)
        visible = _visible(item.text, item.notes)
        if isinstance(visible, Prepared):
            checked[index] = visible
            continue
        text, notes = visible
        checked[index] = item._replace(text=text, notes=notes)
        # the folding maps each invisible character to itself and nothing else to one: the
        # folded form loses the same characters and stays aligned with the text
        folds[index] = _IGNORABLE.sub("", folded)
    prepared = []
    for index, item in enumerate(checked):
        if isinstance(item, Prepared):
            prepared.append(item)
            continue
        text = item.text
        if index not in folds:
            folded = text
            matching = text.lower()  # NFKC leaves ASCII alone; its case folding is lower()
        else:
            # folding first turns full-width forms and native digits to ASCII, which NFKC would
            # have done or leaves alone, so most texts are then normalised already: the quick
            # check answers that in a fraction of the time NFKC itself takes
            folded = folds[index]
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
                mended=item.mended,
                notes=item.notes,
            )
        )
    return prepared


class _Text(NamedTuple):
    """A message that passed the checks, mended and Zawgyi converted."""

    text: str
    zawgyi: bool
    unconverted: bool
    mended: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]


def _checked(raw: str | bytes) -> _Text | Prepared:
    """The message's text, mended, or its refusal (module docstring)."""
    mended: list[tuple[str, str]] = []
    notes: list[str] = []
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", "replace")
            problem = f"not UTF-8 from byte {exc.start}: read without the bytes that are not"
            mended.append(("encoding", f"{problem}; send the text as UTF-8"))
    else:
        text = raw
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # a pair of surrogates becomes its character, a lone one a replacement character
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            mended.append(("encoding", "lone surrogates, not valid Unicode: read without them"))
    unreadable = bool(mended)
    if "\ufffd" in text:  # they stand for what could not be read: nothing to screen
        length = len(text)
        text, runs = _REPLACED.subn(" ", text)
        unreadable = True
        if not mended and (length - len(text) + runs) * 2 > length:
            mended.append(("encoding", "mostly replacement characters: decoded with a wrong codec"))
    if not text.strip():
        if unreadable:
            return _refused("encoding", "nothing in the message could be read as text")
        return _refused("empty", "the message has no text")
    if len(text) > MAX_MESSAGE_BYTES // 4 and len(text.encode("utf-8")) > MAX_MESSAGE_BYTES:
        size = len(text.encode("utf-8"))
        text = " ".join(text.split())
        read = "read whole once its runs of whitespace were one space each"
        if len(text.encode("utf-8")) > MAX_MESSAGE_BYTES:
            text = f"{text[:KEPT_HEAD]} {text[-KEPT_TAIL:]}"
            read = (
                f"screened by its first {KEPT_HEAD} and last {KEPT_TAIL} characters "
                "(whitespace runs as one space); what lies between was not read"
            )
        mended.append(("too_large", f"{size} bytes, over the limit of {MAX_MESSAGE_BYTES}: {read}"))
    if _CONTROL.search(text) is not None:
        length = len(text)
        text, controls = _CONTROL.subn(" ", text)  # a space: deleted, one would join what it parts
        if not text.strip():
            if controls * 2 >= length:
                return _refused("binary", f"{controls} control characters and no text")
            return _refused("empty", "the message has no text besides control characters")
        if controls * 2 >= length:
            mended.append(("binary", f"{controls} control characters in {length}: read as spaces"))
        else:
            notes.append(f"{controls} control characters read as spaces")
    zawgyi = unconverted = False
    burmese = _MYANMAR.search(text) is not None
    if burmese and _IGNORABLE.search(text) is not None:
        # before the detector and the converter read it: zero-width spaces between Zawgyi
        # syllables hide the encoding from one and reorder the other's output
        visible = _visible(text, tuple(notes))
        if isinstance(visible, Prepared):
            return visible
        text, notes = visible[0], list(visible[1])
    if burmese and _detector().get_zawgyi_probability(text) >= _ZAWGYI_THRESHOLD:
        convert = zawgyi_converter()
        if convert is None:
            unconverted = True
            notes.append("Zawgyi-encoded; screened unconverted (install scamwall[myanmar])")
        else:
            text, zawgyi = convert(text), True
            notes.append("converted from Zawgyi to Unicode")
    return _Text(text, zawgyi, unconverted, tuple(mended), tuple(notes))


def _visible(text: str, notes: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | Prepared:
    """The text without its invisible characters and the notes saying so, or the refusal of a
    text that held nothing else."""
    visible = _IGNORABLE.sub("", text)
    if not visible.strip():
        return _refused("empty", "the message has no text besides invisible characters")
    if inside := _inside_words(text):  # an emoji's joiners and variation selectors: no news
        notes = (*notes, f"{inside} invisible characters inside words left out")
    return visible, notes


def _inside_words(text: str) -> int:
    """How many runs of invisible characters sit between two letters or digits."""
    last = len(text) - 1
    return sum(
        1
        for found in _IGNORABLE.finditer(text)
        if found.start() > 0
        and found.end() <= last
        and text[found.start() - 1].isalnum()
        and text[found.end()].isalnum()
    )


def fold_many(texts: Sequence[str]) -> list[str]:
    """:func:`~scamwall.indicators.text.fold_characters` of each text, the batch at once: its
    code points looked up in the folding table in NumPy. The texts must hold no NUL (it
    separates them here) and no lone surrogate, as no prepared text does."""
    return _fold_wide(texts)[0]


def _fold_wide(texts: Sequence[str]) -> tuple[list[str], list[bool]]:
    """:func:`fold_many` of the texts, and whether each holds an invisible character, found in
    the same pass over their code points (a search of each text cost a microsecond)."""
    if len(texts) < _FEW:
        return (
            [fold_characters(text) for text in texts],
            [_IGNORABLE.search(text) is not None for text in texts],
        )
    codes, separator = joined_code_points(texts)
    ignorable = _ignorable_codes()
    hidden = ignorable[np.minimum(codes, len(ignorable) - 1)]
    starts = np.flatnonzero(separator) - np.fromiter(map(len, texts), np.int64, len(texts))
    holding = np.add.reduceat(hidden.view(np.uint8), starts) > 0
    table = _fold_codes()
    inside = codes < len(table)
    folded = codes.copy()
    folded[inside] = table[codes[inside]]
    return folded[:-1].tobytes().decode("utf-32-le").split("\x00"), holding.tolist()


@lru_cache(maxsize=1)
def _ignorable_codes() -> npt.NDArray[np.bool_]:
    """Whether each code point is one :data:`_IGNORABLE` removes; the last entry, False, stands
    for every code point above the table."""
    end = 0xE1000
    table = np.zeros(end + 1, dtype=bool)
    found = _IGNORABLE.finditer(
        "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, end)))
    )
    for match in found:
        low = match.start() if match.start() < 0xD800 else match.start() + 0x800
        table[low : low + len(match.group())] = True
    return table


@lru_cache(maxsize=1)
def _fold_codes() -> npt.NDArray[np.uint32]:
    """The folding table as code points (surrogates map to themselves)."""
    table = fold_table().encode("utf-32-le", "surrogatepass")
    return np.frombuffer(table, dtype=np.uint32)
