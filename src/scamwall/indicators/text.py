"""Undo the disguises scam texts put on indicators, keeping a map back to the original text.

Three steps, in this order:

1. *fold*: every Unicode decimal digit (Thai ``๐``, Burmese ``၀``, Lao, Khmer, full-width,
   mathematical bold…) becomes its ASCII digit; full-width and mathematical Latin letters and
   punctuation become ASCII; ideographic full stops become ``.``; Unicode dashes become ``-``.
   One character in, one out, so offsets do not move.
2. *strip* invisible characters (zero-width space and joiners, word joiner, BOM, soft hyphen).
3. *refang* the defanging analysts and scammers use: ``hxxp`` -> ``http``, ``[.]``/``(.)``/
   ``[dot]`` -> ``.``, ``[:]`` -> ``:``, ``[at]``/``[@]`` -> ``@``; and ``\\.`` -> ``.`` in a
   name written as a regular expression writes it (``evil\\.example``, ``hxxp://evil\\.example``),
   but not where the backslash ends the host of a live link, as browsers read it
   (:class:`_HostEnds`).

Steps 2 and 3 change lengths, so :class:`NormalizedText` keeps, for each character it holds, where
it came from in the input; extraction reports spans in the caller's text, not ours.
"""

from __future__ import annotations

import bisect
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["NormalizedText", "fold_characters", "fold_table", "normalize_for_matching"]

_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u034f\u2061\u2062\u2063\u2064"

_REWRITE = re.compile(
    "|".join(
        [
            rf"(?P<invisible>[{_INVISIBLE}]+)",
            r"(?P<hxxp>(?<![A-Za-z0-9])h[xX]{2}p(?=s?(?:://|\[:\]//|\[://\])))",
            r"(?P<fxp>(?<![A-Za-z0-9])f[xX]p(?=(?:://|\[:\]//)))",
            r"(?P<dot>\s?(?:\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}|\\\.)\s?)",
            r"(?P<colon>\[:\](?=//)|\[://\])",
            r"(?P<at>\s?(?:\[at\]|\(at\)|\{at\}|\[@\]|\(@\))\s?)",
        ]
    ),
    re.IGNORECASE,
)
# Every rewriting above starts from an invisible character, an opening bracket before '.', ':',
# '@', "dot" or "at", a backslash before '.', or "hx"/"fx": a text without any needs none. Searches
# that each start from a set of characters are several times faster than one with a choice, and
# brackets alone are common (Chinese texts' full-width ones are folded to ASCII).
_MAYBE_BRACKETED = re.compile(rf"[\[({{\\{_INVISIBLE}]")
_BRACKETED = re.compile(rf"[\[({{][.:@dDaA]|\\\.|[{_INVISIBLE}]")
_MAYBE_HXXP = re.compile(r"[hHfF][xX]")
# A '.' not escaped by a backslash; a link's live scheme (not defanged) and its "//"; the
# defanging only analysts write; a run of non-space characters.
_PLAIN_DOT = re.compile(r"(?<![\\\[({])\.")
_LIVE_SCHEME = re.compile(r"(?<![A-Za-z0-9])(?:https?|ftp|wss?)://", re.IGNORECASE)
_DEFANGED = re.compile(r"h[xX]{2}p|f[xX]p|[\[({](?:\.|dot|:|at|@)", re.IGNORECASE)
_RUN = re.compile(r"\S+")
_REPLACEMENT = {"invisible": "", "hxxp": "http", "fxp": "ftp", "dot": ".", "at": "@"}

# Letters and punctuation outside these ranges are left alone: folding CJK, Thai or Burmese text
# would gain nothing (indicators are written in ASCII) and cost time.
_FOLD_RANGES = (
    (0xFF01, 0xFF5E),  # full-width ASCII
    (0x2460, 0x24FF),  # enclosed alphanumerics
    (0x1D400, 0x1D7FF),  # mathematical alphanumeric symbols
)
_DOTS = "\u3002\uff61\u2024\ufe52"  # ideographic / half-width full stops, one-dot leader
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63"


@lru_cache(maxsize=1)
def fold_table() -> str:
    """The folding as a string indexed by code point, for ``str.translate``: a string answers
    every character below its length without the failed look-up (and its ``KeyError``) a
    dictionary makes for each character it does not map, a third of the cost on Thai and
    Chinese text. Characters past its end (emoji, the ideograph planes) are left alone."""
    folds = _folds()
    characters = [chr(codepoint) for codepoint in range(max(folds) + 1)]
    for codepoint, folded in folds.items():
        characters[codepoint] = folded
    return "".join(characters)


def _folds() -> dict[int, str]:
    table: dict[int, str] = {}
    for codepoint in range(0x80, sys.maxunicode + 1):
        if 0xD800 <= codepoint <= 0xF8FF or 0x20000 <= codepoint <= 0xDFFFF:
            continue  # surrogates, private use and the CJK ideograph planes hold no digits
        digit = unicodedata.decimal(chr(codepoint), None)
        if digit is not None:
            table[codepoint] = str(digit)
    for low, high in _FOLD_RANGES:
        for codepoint in range(low, high + 1):
            if codepoint in table:
                continue
            folded = unicodedata.normalize("NFKC", chr(codepoint))
            if len(folded) == 1 and folded.isascii():
                table[codepoint] = folded
    table.update({ord(ch): "." for ch in _DOTS})
    table.update({ord(ch): "-" for ch in _DASHES})
    table[0x3000] = " "  # ideographic space
    table[0x00A0] = " "  # no-break space
    return table


def fold_characters(text: str) -> str:
    """Step 1 alone (native digits to ASCII, full-width to ASCII…); length is kept."""
    return text if text.isascii() else text.translate(fold_table())


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """Text ready for matching, and the way back to the caller's offsets."""

    text: str
    _starts: tuple[int, ...] | None = None
    _ends: tuple[int, ...] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map ``text[start:end]`` back to the ``[start, end)`` it came from in the input."""
        if self._starts is None or self._ends is None:
            return start, end
        if end <= start:
            return self._starts[start], self._starts[start]
        return self._starts[start], self._ends[end - 1]


class _HostEnds:
    """Where a '\\.' ends the host of a link rather than escaping a dot (``evil\\.example``,
    as a regular expression writes it): browsers read a '\\' in an http link as '/', so
    ``http://198.51.100.7\\.bank.example/`` and a linkified ``scam.example\\.bank.example``
    open the address and scam.example, not bank.example. That is the case when the run of
    non-space characters before it holds a live scheme's "//" (whatever else the run holds:
    what follows is the sender's to write), or a dot of its own, not escaped, with no
    defanging before it: ``hxxp://evil\\.example`` and ``evil[.]example\\.com`` are an
    analyst's, which no browser opens. Each run is read once, whatever the number of '\\.'
    in it (a text of them had been read again for each)."""

    def __init__(self, text: str) -> None:
        self._text = text
        #: per run of non-space characters: its start and end, and where in it a live scheme,
        #: a plain dot and defanging are first found (the run's end where none is)
        self._runs: list[tuple[int, int, int, int, int]] = []
        self._starts: list[int] = []

    def __call__(self, backslash: int) -> bool:
        if not self._runs:
            self._read()
        index = bisect.bisect_right(self._starts, backslash) - 1
        if index < 0:
            return False
        _, end, live, dot, defanged = self._runs[index]
        if backslash >= end:
            return False
        return live < backslash or (dot < backslash and not defanged < backslash)

    def _read(self) -> None:
        text = self._text
        for run in _RUN.finditer(text):
            start, end = run.span()
            first = [
                end if found is None else found.start()
                for found in (
                    _LIVE_SCHEME.search(text, start, end),
                    _PLAIN_DOT.search(text, start, end),
                    _DEFANGED.search(text, start, end),
                )
            ]
            self._runs.append((start, end, first[0], first[1], first[2]))
            self._starts.append(start)
        if not self._runs:
            self._runs.append((0, 0, 0, 0, 0))
            self._starts.append(0)


def normalize_for_matching(text: str, *, folded: bool = False) -> NormalizedText:
    """Fold, strip and refang ``text`` (see the module docstring); ``folded``: it is folded
    already (:func:`fold_characters`)."""
    plain = text if folded else fold_characters(text)
    if (
        _MAYBE_BRACKETED.search(plain) is None or _BRACKETED.search(plain) is None
    ) and _MAYBE_HXXP.search(plain) is None:
        return NormalizedText(plain)  # the common case: nothing to undo
    first = _REWRITE.search(plain)
    if first is None:
        return NormalizedText(plain)
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    match: re.Match[str] | None = first
    host_ends = _HostEnds(plain)
    while match is not None:
        begin, finish = match.span()
        said = match.group()
        if (
            match.lastgroup == "dot"
            and "\\" in said
            and (said != said.strip() or host_ends(begin + said.index("\\")))
        ):
            # left as written: the link reads it so; and an escaped dot is a regular
            # expression's, never spaced out as analysts space "[.]"
            match = _REWRITE.search(plain, finish)
            continue
        if begin > position:
            parts.append(plain[position:begin])
            starts.extend(range(position, begin))
            ends.extend(range(position + 1, begin + 1))
        group = match.lastgroup or ""
        if group == "colon":
            replacement = "://" if match.group().endswith("//]") else ":"
        else:
            replacement = _REPLACEMENT[group]
        parts.append(replacement)
        starts.extend([begin] * len(replacement))
        ends.extend([finish] * len(replacement))
        position = finish
        match = _REWRITE.search(plain, position)
    parts.append(plain[position:])
    starts.extend(range(position, len(plain)))
    ends.extend(range(position + 1, len(plain) + 1))
    return NormalizedText("".join(parts), tuple(starts), tuple(ends))
