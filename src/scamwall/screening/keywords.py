"""Which of a fixed set of keywords occur in a text: every keyword of every language, one pass.

:class:`KeywordFinder` answers with the keywords' numbers, each once, in the order their first
occurrence ends in the text (of two ending at the same place, the longer first): the order an
Aho-Corasick automaton reports them in. Two engines give that same answer:

- **Hyperscan** (the ``hyperscan`` package, on x86-64 Linux): the keywords compiled into one
  database of literals, scanned with SIMD instructions; each keyword is reported once
  (``HS_FLAG_SINGLEMATCH``). About 1.5 µs for an SMS against the shipped 3,589 keywords.
- **Aho-Corasick** (``pyahocorasick``), wherever Hyperscan is not installed: an automaton over the
  text's UTF-8 bytes, each byte read as one character. ``pyahocorasick`` looks a character up
  among a trie node's children one by one, and the root of a trie of Chinese, Thai and English
  keywords has over a thousand of them, while a byte has at most 256. About 4.5 µs for the same
  SMS. A set of keywords with at most 256 different first characters reads code points.

Both read bytes where they read bytes: a keyword's UTF-8 bytes occur in a text's bytes exactly
where the keyword occurs in the text (UTF-8 never starts a character inside another). The tests
hold the two engines equal on the project's messages and on fuzzed text.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import ahocorasick

__all__ = ["ENGINES", "KeywordFinder", "default_engine"]

try:
    import hyperscan
except ImportError:  # not built for this platform: the automaton does the same work
    hyperscan = None  # type: ignore[assignment]

#: Engines :class:`KeywordFinder` can use, fastest first.
ENGINES = ("hyperscan", "aho-corasick")


def default_engine() -> str:
    """Hyperscan where it is installed, else Aho-Corasick."""
    return ENGINES[0] if hyperscan is not None else ENGINES[1]


def _utf8(text: str) -> bytes:
    # lone surrogates pass as their three bytes, as they pass when read as code points
    return text.encode("utf-8", "surrogatepass")


def _as_bytes(text: str) -> str:
    """``text`` as its UTF-8 bytes, one character each."""
    return text if text.isascii() else _utf8(text).decode("latin-1")


def _found(number: int, _start: int, end: int, _flags: int, ends: list[tuple[int, int]]) -> None:
    """Hyperscan's call for each keyword found: where it ends, and its number."""
    ends.append((end, number))


class KeywordFinder:
    """The keywords given, numbered in their order; immutable, safe to share across threads."""

    def __init__(self, keywords: Sequence[str], *, engine: str | None = None) -> None:
        engine = engine or default_engine()
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        if engine == "hyperscan" and hyperscan is None:
            raise ValueError("the hyperscan engine needs the hyperscan package")
        if any(not keyword or "\x00" in keyword for keyword in keywords):
            raise ValueError("a keyword must not be empty or hold a NUL character")
        if len(set(keywords)) != len(keywords):
            raise ValueError("keywords must be distinct: each has one number")
        self.engine = engine
        self._keywords = tuple(keywords)
        #: each keyword's length in bytes: Hyperscan's ties at one end go longer first
        self._lengths: list[int] = []
        self._local = threading.local()
        self._database: Any = None
        self._automaton: Any = None
        self._as_bytes = False
        if not keywords:
            return
        if engine == "hyperscan":
            self._lengths = [len(_utf8(keyword)) for keyword in keywords]
            self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._database.compile(
                expressions=[_utf8(keyword) for keyword in keywords],
                ids=list(range(len(keywords))),
                elements=len(keywords),
                flags=hyperscan.HS_FLAG_SINGLEMATCH,
                literal=True,
            )
        else:
            self._as_bytes = len({keyword[0] for keyword in keywords}) > 256
            automaton = ahocorasick.Automaton()
            for number, keyword in enumerate(keywords):
                automaton.add_word(_as_bytes(keyword) if self._as_bytes else keyword, number)
            automaton.make_automaton()
            self._automaton = automaton

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its keywords and engine, and compiled again where it is unpickled (a
        Spark executor, a worker process): neither a Hyperscan database with its scratch nor an
        automaton crosses a process as it is."""
        return (_rebuilt, (self._keywords, self.engine))

    def find(self, text: str) -> list[int]:
        """The numbers of the keywords in ``text`` (module docstring)."""
        if self._database is not None:
            return self._scan(text)
        if self._automaton is None:
            return []
        read = _as_bytes(text) if self._as_bytes else text
        return list(dict.fromkeys(number for _, number in self._automaton.iter(read)))

    def _scan(self, text: str) -> list[int]:
        ends: list[tuple[int, int]] = []
        self._database.scan(
            _utf8(text), match_event_handler=_found, context=ends, scratch=self._scratch()
        )
        if len(ends) < 2:
            return [number for _, number in ends]
        lengths = self._lengths
        ends.sort(key=lambda pair: (pair[0], -lengths[pair[1]]))
        return [number for _, number in ends]

    def _scratch(self) -> Any:
        """Hyperscan's scratch space: one per thread, as a scan writes into it."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        return scratch


def _rebuilt(keywords: tuple[str, ...], engine: str) -> KeywordFinder:
    """A pickled finder, with the engine it had where that engine is installed (the two give
    the same answers)."""
    return KeywordFinder(keywords, engine=engine if engine != "hyperscan" or hyperscan else None)
