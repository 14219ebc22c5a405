"""Character n-gram hashing for a whole batch at once, in NumPy.

The statistical model reads characters, not words: Chinese, Thai, Burmese, Lao and Khmer are
written without spaces, and scam texts mix scripts, so a tokenizer per language would be both
slow and wrong. Each message becomes the counts of its character n-grams (1 to 4 by default),
hashed into a fixed number of columns (the hashing trick: no vocabulary to store or to miss),
scaled by ``1 / sqrt(number of n-grams)`` so long and short messages weigh alike. A run of one
punctuation mark, symbol or emoji counts as three of it.

scikit-learn's ``HashingVectorizer(analyzer="char")`` computes the same kind of features one
string at a time in Python (about 6,000 messages/s here); this module hashes every n-gram of the
batch in a handful of vectorised operations over one array of code points (``bench/bench_text.py``
measures both). Digits are folded to ``0`` first (amounts and numbers vary, their shape does not)
and whitespace runs become one space.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix

__all__ = [
    "CODE_POINTS",
    "DEFAULT_BITS",
    "DEFAULT_NGRAMS",
    "SCRIPTS",
    "coverage",
    "distinct_ngram_shares",
    "hash_ngrams",
    "joined_code_points",
    "latin_words",
    "letters",
    "model_text",
    "script_counts",
    "scripts",
    "word_coverage",
]

DEFAULT_BITS = 18
DEFAULT_NGRAMS = (1, 4)
#: Size of the bitmap of characters seen in training that :func:`coverage` asks.
CODE_POINTS = 0x110000

_NONZERO_DIGIT = re.compile("[1-9]")
_SEPARATOR = 0  # code point between messages; cannot occur in a prepared message
_MIX_1, _MIX_2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
_PRIME = np.uint32(0x01000193)
_WIDE_PRIME = np.uint64(0x100000001B3)
_SPLIT_1, _SPLIT_2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
#: An n-gram's key holds its text's number in the top 24 bits and 40 bits of its hash below.
_TEXT_BITS = 24


def model_text(matching: str) -> str:
    """What the model reads of a message's matching form: digits as 0, single spaces."""
    # split() breaks at the same whitespace as the pattern \s, and drops it at both ends
    return " ".join(_NONZERO_DIGIT.sub("0", matching).split())


def _mix(h: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """MurmurHash3's finaliser: spreads nearby n-gram codes over all 32 bits."""
    h = h ^ (h >> np.uint32(16))
    h = h * _MIX_1
    h = h ^ (h >> np.uint32(13))
    h = h * _MIX_2
    return h ^ (h >> np.uint32(16))


def hash_ngrams(
    texts: Sequence[str], *, bits: int = DEFAULT_BITS, ngrams: tuple[int, int] = DEFAULT_NGRAMS
) -> csr_matrix:
    """A ``len(texts) x 2**bits`` sparse matrix of scaled n-gram counts (module docstring).

    Columns may repeat within a row (a repeated n-gram); products with a weight vector add them
    up, which is what counting means. Call ``sum_duplicates()`` where a canonical form matters.
    """
    low, high = ngrams
    if not 1 <= low <= high:
        raise ValueError(f"n-gram sizes must satisfy 1 <= low <= high, not {ngrams}")
    if not 1 <= bits <= 31:
        raise ValueError(f"bits must be 1-31, not {bits}")
    count = len(texts)
    if count == 0:
        return csr_matrix((0, 1 << bits), dtype=np.float32)
    codes, separator = joined_code_points(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=count)
    codes, separator = _runs_cut(codes, separator, lengths)
    mask = np.uint32((1 << bits) - 1)
    length = len(codes)
    # one row per position, one column per n-gram size: read row by row, the hashes come in
    # the order of their texts, as the rows of the matrix want them, with no sort
    hashes = np.empty((length, high - low + 1), dtype=np.int32)
    kept = np.zeros((length, high - low + 1), dtype=bool)
    # n-grams of each text: a text of length L has L - n + 1 of size n, none crossing a separator
    per_doc = np.zeros(count, dtype=np.int64)
    with np.errstate(over="ignore"):
        h = np.zeros(length, dtype=np.uint32)
        blocked = np.zeros(length, dtype=bool)
        for n in range(1, high + 1):
            # h[i] is the hash of codes[i : i + n]; blocked[i] when it crosses a separator
            width = max(length - n + 1, 0)
            h = h[:width] * _PRIME + codes[n - 1 :]
            blocked = blocked[:width] | separator[n - 1 :]
            if n < low:
                continue
            hashes[:width, n - low] = _mix(h ^ np.uint32(n * 0x9E3779B1 & 0xFFFFFFFF)) & mask
            np.logical_not(blocked, out=kept[:width, n - low])
            per_doc += np.maximum(lengths - (n - 1), 0)
    column = hashes.ravel()[kept.ravel()]
    indptr = np.zeros(count + 1, dtype=np.int32 if len(column) < 1 << 31 else np.int64)
    np.cumsum(per_doc, out=indptr[1:])
    scale = (1.0 / np.sqrt(np.maximum(per_doc, 1))).astype(np.float32)
    return csr_matrix((np.repeat(scale, per_doc), column, indptr), shape=(count, 1 << bits))


def _runs_cut(
    codes: npt.NDArray[np.uint32], separator: npt.NDArray[np.bool_], lengths: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.bool_]]:
    """The code points without what follows the third of a run of one punctuation mark, symbol
    or emoji ("!!!!!!!!" reads as "!!!"), and ``lengths`` lowered to match, in place. Counts of
    n-grams grow with their repetitions while the scale shrinks only with the square root of the
    text's length, so a long enough run of "!" outweighed any words beside it ("HAPPY
    BIRTHDAY!!!…" was blocked). Runs of letters and digits stay: the zero every digit reads as
    runs as long as the number, and masked numbers ("xxxx") are written so."""
    same = codes[1:] == codes[:-1]
    fourth = same[2:] & same[1:-1] & same[:-2]  # at j: positions j..j+3 hold one character
    if not fourth.any():
        return codes, separator
    positions = np.flatnonzero(fourth) + 3
    character = codes[positions]
    table = _letter_table()
    cut = positions[
        ~table[np.minimum(character, len(table) - 1)]
        & (character != ord("0"))
        & (character != ord(" "))
        & (character != _SEPARATOR)
    ]
    if not len(cut):
        return codes, separator
    owners = np.searchsorted(np.flatnonzero(separator), cut)
    lengths -= np.bincount(owners, minlength=len(lengths))
    keep = np.ones(len(codes), dtype=bool)
    keep[cut] = False
    return codes[keep], separator[keep]


def distinct_ngram_shares(texts: Sequence[str], n: int = 4) -> npt.NDArray[np.float64]:
    """For each text, the share of its n-grams that are distinct, runs of one symbol cut as
    :func:`hash_ngrams` cuts them (1 for a text too short to hold one): prose repeats few
    4-grams (0.8 and more in nine texts in ten of the shared messages, and no scam or spam
    under 0.25), a unit typed again and again repeats nearly all ("lol lol lol…": 0.04). In
    NumPy for the whole list: each n-gram's hash keyed by its text, sorted once."""
    count = len(texts)
    if not count:
        return np.zeros(0)
    if count >= 1 << _TEXT_BITS:
        raise ValueError(f"at most {(1 << _TEXT_BITS) - 1} texts a call, not {count}")
    codes, separator = joined_code_points(texts)
    codes, separator = _runs_cut(codes, separator, np.fromiter(map(len, texts), np.int64, count))
    wide = codes.astype(np.uint64)
    width = len(wide) - n + 1
    if width <= 0:
        return np.ones(count)
    hashes = np.zeros(width, dtype=np.uint64)
    blocked = np.zeros(width, dtype=bool)
    with np.errstate(over="ignore"):
        for offset in range(n):
            hashes = hashes * _WIDE_PRIME + wide[offset : offset + width]
            blocked |= separator[offset : offset + width]
        # SplitMix64's finaliser: every bit of the n-gram reaches the top 40 kept below (the
        # bare polynomial's top bits miss carries, and mixed scripts made 4-grams collide)
        hashes ^= hashes >> np.uint64(30)
        hashes *= _SPLIT_1
        hashes ^= hashes >> np.uint64(27)
        hashes *= _SPLIT_2
        hashes ^= hashes >> np.uint64(31)
    # the text of each position: separators before it (each text ends with one)
    owners = np.concatenate(([0], np.cumsum(separator[:-1])))[:width][~blocked]
    shift = np.uint64(64 - _TEXT_BITS)
    keys = (owners.astype(np.uint64) << shift) | (hashes[~blocked] >> np.uint64(_TEXT_BITS))
    keys.sort()
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    texts_of = (keys >> shift).astype(np.int64)
    distinct = np.bincount(texts_of[first], minlength=count)
    total = np.bincount(texts_of, minlength=count)
    shares = np.ones(count)
    np.divide(distinct, total, out=shares, where=total > 0)
    return shares


def joined_code_points(
    texts: Sequence[str],
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.bool_]]:
    """The code points of the texts, each followed by a separator (NUL), and where the
    separators are. A text holding a NUL is refused: it would be cut in two."""
    joined = "\x00".join(texts) + "\x00"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    separator = codes == _SEPARATOR
    if np.count_nonzero(separator) != len(texts):
        raise ValueError("a text holds a NUL character, which separates texts here")
    return codes, separator


def letters(texts: Sequence[str]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """The code points of every letter of the batch (Unicode letters and the marks that go with
    them, as far as the ideographic planes: digits, spaces, punctuation, symbols and emoji are
    left out) and the text each belongs to."""
    if not texts:
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int64)
    codes, _ = joined_code_points(texts)
    table = _letter_table()
    keep = table[np.minimum(codes, len(table) - 1)]
    # each text and its separator: letters per text, then their owners, one run a text
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum([len(text) + 1 for text in texts[:-1]], out=starts[1:])
    per_text = np.add.reduceat(keep.view(np.uint8), starts, dtype=np.int64)
    return codes[keep], np.repeat(np.arange(len(texts)), per_text)


@lru_cache(maxsize=1)
def _letter_table() -> npt.NDArray[np.bool_]:
    """Whether each code point up to the ideographic planes is a letter or a mark (the general
    categories L and M); the last entry, False, stands for everything above."""
    end = 0x30000
    table = np.zeros(end + 1, dtype=bool)
    table[:end] = [unicodedata.category(chr(code))[0] in "LM" for code in range(end)]
    return table


def coverage(
    texts: Sequence[str],
    seen: npt.NDArray[np.bool_],
    *,
    letters_of: tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]] | None = None,
) -> npt.NDArray[np.float64]:
    """Share of each text's letters whose character occurred in training (``seen`` is indexed
    by code point): whether the model has ever read this script. Burmese, Lao or Khmer text gets
    about 0 from a model trained on Chinese, Thai and English; a text without letters gets 0 too:
    punctuation, digits and emoji alone ("!!", "5555") are no text the model learnt to judge,
    and its n-grams of them, learnt beside words, blocked a lone "!!".
    ``letters_of`` is :func:`letters` of the texts, when the caller has it already."""
    codes, owners = letters_of if letters_of is not None else letters(texts)
    count = len(texts)
    total = np.bincount(owners, minlength=count).astype(np.float64)
    known = np.bincount(owners, weights=seen[codes].astype(np.float64), minlength=count)
    result = np.zeros(count, dtype=np.float64)
    np.divide(known, total, out=result, where=total > 0)
    return result


#: Scripts :func:`scripts` tells apart; ``other`` is everything else (and no letters at all).
SCRIPTS = ("other", "latin", "thai", "han")
#: Where each script of :data:`SCRIPTS` starts and ends, ``[low, high)`` (Latin: ASCII letters,
#: Latin-1 to Latin Extended-B, Latin Extended Additional; Han: CJK radicals to unified
#: ideographs, compatibility ideographs, the supplementary ideographic planes).
_RANGES = (
    (0x41, 0x5B, 1),
    (0x61, 0x7B, 1),
    (0xC0, 0x250, 1),
    (0x0E00, 0x0E80, 2),
    (0x1E00, 0x1F00, 1),
    (0x2E80, 0xA000, 3),
    (0xF900, 0xFB00, 3),
    (0x20000, 0x30000, 3),
)


def _script_table() -> npt.NDArray[np.uint8]:
    """The script of each code point up to the end of the ideographic planes, as an index into
    :data:`SCRIPTS` (one look-up a letter); the last entry, ``other``, stands for all above."""
    table = np.zeros(_RANGES[-1][1] + 1, dtype=np.uint8)
    for low, high, script in _RANGES:
        table[low:high] = script
    return table


_SCRIPT_OF = _script_table()


def script_counts(
    texts: Sequence[str],
    *,
    letters_of: tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]] | None = None,
) -> npt.NDArray[np.int64]:
    """How many of each text's letters are of each script of :data:`SCRIPTS`, one row a text."""
    codes, owners = letters_of if letters_of is not None else letters(texts)
    count = len(texts)
    script = _SCRIPT_OF[np.minimum(codes, len(_SCRIPT_OF) - 1)]
    counts = np.bincount(owners * len(SCRIPTS) + script, minlength=count * len(SCRIPTS))
    return counts.reshape(count, len(SCRIPTS))


def scripts(
    texts: Sequence[str], *, counts: npt.NDArray[np.int64] | None = None
) -> npt.NDArray[np.int64]:
    """The script most of each text's letters are written in, as an index into
    :data:`SCRIPTS` (0, ``other``, for a text without letters or mostly in another script).
    ``counts`` is :func:`script_counts` of the texts, when the caller has it already."""
    if counts is None:
        counts = script_counts(texts)
    return np.asarray(counts.argmax(axis=1), dtype=np.int64)


_LATIN_WORD = re.compile(r"[a-z\u00c0-\u024f\u1e00-\u1eff]{2,}")


def latin_words(text: str) -> list[str]:
    """The Latin-script words of a model text (lower-case already)."""
    return _LATIN_WORD.findall(text)


def word_coverage(
    texts: Sequence[str],
    vocabulary: frozenset[str],
    *,
    least: int = 3,
    latin_letters: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.float64]:
    """Share of each text's Latin-script words the model saw in training. Letters alone cannot
    tell English from Indonesian or Tagalog (same alphabet); words can. Texts with fewer than
    ``least`` Latin words get 1 (nothing to judge by). ``latin_letters``, the count of each
    text's Latin letters (:func:`script_counts`), spares the search where too few are."""
    result = np.ones(len(texts), dtype=np.float64)
    if latin_letters is None:
        candidates: Sequence[int] = range(len(texts))
    else:  # a word has two letters at least, all of them Latin
        candidates = np.flatnonzero(latin_letters >= 2 * least).tolist()
    known = vocabulary.__contains__
    for index in candidates:
        words = _LATIN_WORD.findall(texts[index])
        if len(words) >= least:
            result[index] = sum(map(known, words)) / len(words)
    return result
