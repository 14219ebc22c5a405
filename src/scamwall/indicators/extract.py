"""Find every indicator in a message, in any language and through common disguises.

The text is first normalised (:mod:`scamwall.indicators.text`: native and full-width digits,
zero-width characters, ``hxxp``/``[.]`` refanging). Then each matcher proposes candidates, every
candidate is checked by the same parser :func:`~scamwall.indicators.parse_indicator` uses (so a
wallet must pass its checksum and a phone number must be valid for its region), and overlaps are
settled by specificity: a link beats the domain inside it, a wallet beats the digits inside it, a
handle named by a keyword ("QQ 12345678") beats a phone number. Spans are ``[start, end)`` in the
caller's original text, counted in code points.

Boundaries are written with ASCII look-arounds, not ``\\b``: Thai, Chinese or Burmese letters
count as word characters to ``re``, and scam texts glue links and numbers straight to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from scamwall.errors import InvalidIndicator
from scamwall.indicators.accounts import canonical_handle, handle_from_link
from scamwall.indicators.kinds import Indicator, IndicatorKind
from scamwall.indicators.parse import parse_indicator
from scamwall.indicators.phone import check_region, valid_phone_in_text
from scamwall.indicators.text import normalize_for_matching

__all__ = ["FoundIndicator", "extract_indicators"]

_NOT_BEFORE = r"(?<![A-Za-z0-9_.\-@/])"
_NOT_AFTER = r"(?![A-Za-z0-9_\-])"
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9\-]{1,62}"

_SCHEMED_URL = re.compile(rf"(?<![A-Za-z])(?:https?|ftp)://{_URL_CHARS}+", re.IGNORECASE)
_BARE_LINK = re.compile(rf"{_NOT_BEFORE}{_HOST}(?::\d{{2,5}})?/{_URL_CHARS}*")
_EMAIL = re.compile(rf"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{{1,64}}@{_HOST}{_NOT_AFTER}")
_DOMAIN = re.compile(rf"{_NOT_BEFORE}{_HOST}(?![A-Za-z0-9_\-]|\.[A-Za-z0-9])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?![\d]|\.\d)")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:/\d{1,3})?")
_WALLET = re.compile(
    rf"{_NOT_BEFORE}(?:0x[0-9A-Fa-f]{{40}}|(?:bc|ltc)1[02-9ac-hj-np-z]{{8,87}}"
    rf"|[13LMDT9Ar][1-9A-HJ-NP-Za-km-z]{{24,34}}){_NOT_AFTER}"
)
_HASH = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])")
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
)
_PHONE = re.compile(r"(?<![A-Za-z0-9+])(?:\+|00)?\d(?:[\s().\-/]{0,2}\d){6,16}(?![A-Za-z0-9])")

# A keyword naming the platform, an optional "ID"/":"/"号", then the id itself.
_HANDLE_KEYWORDS = {
    "telegram": r"telegram|tg|电报|纸飞机|飞机|เทเลแกรม",
    "line": r"line|ไลน์|ไลน|ไอดีไลน์|แอดไลน์",
    "wechat": r"wechat|weixin|微信|威信|薇信|徽信|vx|v信|wx|加v|加微",
    "whatsapp": r"whatsapp|whats app|wa",
    "qq": r"qq|扣扣|企鹅",
}
_HANDLE = re.compile(
    r"(?<![A-Za-z])(?P<keyword>"
    + "|".join(f"(?P<{name}>{words})" for name, words in _HANDLE_KEYWORDS.items())
    + r")(?P<sep>\s{0,2}(?:id|ID|Id|号|號|是)?\s{0,2}[:=]?\s{0,2}@?)"
    r"(?P<id>\+?\d[\d\s\-]{4,18}\d(?![A-Za-z])|\+?[A-Za-z0-9][A-Za-z0-9._\-]{2,31})",
    re.IGNORECASE,
)
_AT_NAME = re.compile(
    r"(?<![A-Za-z0-9._%+\-@])@(?P<id>[A-Za-z][A-Za-z0-9._]{3,31})(?![A-Za-z0-9@])"
)
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_TRAILING = ".,;:!?'\")]}>*"

# Lower ranks win overlaps.
_RANK_LINK, _RANK_EMAIL, _RANK_EXACT, _RANK_IP, _RANK_HANDLE = 0, 1, 2, 3, 4
_RANK_DOMAIN, _RANK_AT_NAME, _RANK_PHONE = 5, 6, 7


@dataclass(frozen=True, slots=True)
class FoundIndicator:
    """An indicator found in a text, and where: ``[start, end)`` in the original text."""

    indicator: Indicator
    start: int
    end: int

    def as_dict(self) -> dict[str, object]:
        """``{"kind", "canonical", "id", "span": [start, end]}``."""
        return {**self.indicator.as_dict(), "span": [self.start, self.end]}


@dataclass(frozen=True, slots=True)
class _Candidate:
    rank: int
    start: int
    end: int
    indicator: Indicator


def _trim_link(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _TRAILING:
        piece = text[start:end]
        if text[end - 1] == ")" and piece.count("(") >= piece.count(")"):
            break
        end -= 1
    return end


def _parsed(value: str, kind: IndicatorKind, region: str | None) -> Indicator | None:
    try:
        return parse_indicator(value, kind, region)
    except InvalidIndicator:
        return None


def _links(text: str) -> Iterator[_Candidate]:
    for pattern in (_SCHEMED_URL, _BARE_LINK):
        for match in pattern.finditer(text):
            end = _trim_link(text, match.start(), match.end())
            value = text[match.start() : end]
            linked = handle_from_link(value)
            indicator = None
            if linked is not None:
                indicator = _parsed(linked, IndicatorKind.HANDLE, None)
            if indicator is None:
                indicator = _parsed(value, IndicatorKind.URL, None)
            if indicator is not None:
                yield _Candidate(_RANK_LINK, match.start(), end, indicator)


def _simple_matches(text: str, region: str | None) -> Iterator[_Candidate]:
    table = (
        (_EMAIL, IndicatorKind.EMAIL, _RANK_EMAIL),
        (_WALLET, IndicatorKind.CRYPTO_WALLET, _RANK_EXACT),
        (_HASH, IndicatorKind.FILE_HASH, _RANK_EXACT),
        (_IBAN, IndicatorKind.BANK_ACCOUNT, _RANK_EXACT),
        (_IPV4, None, _RANK_IP),
        (_IPV6, None, _RANK_IP),
        (_DOMAIN, IndicatorKind.DOMAIN, _RANK_DOMAIN),
    )
    for pattern, kind, rank in table:
        for match in pattern.finditer(text):
            value = match.group()
            if kind is None:
                kind_here = IndicatorKind.CIDR if "/" in value else IndicatorKind.IP
                indicator = _parsed(value, kind_here, region)
            else:
                indicator = _parsed(value, kind, region)
            if indicator is not None:
                yield _Candidate(rank, match.start(), match.end(), indicator)


def _handles(text: str, region: str | None) -> Iterator[_Candidate]:
    for match in _HANDLE.finditer(text):
        platform = next(name for name in _HANDLE_KEYWORDS if match.group(name))
        keyword, separator = match["keyword"], match["sep"]
        ident = match["id"]
        marked = any(mark in separator for mark in ":=@") or separator.strip().lower() == "id"
        if keyword.isascii() and not marked and not (platform == "qq" and ident.isdigit()):
            continue  # "line up", "wa 5": an English keyword needs a ':', '@' or 'ID' after it
        if platform not in ("whatsapp", "qq") and ident.lstrip("+")[:1].isdigit():
            continue  # digits after "line:" are a phone number, left to the phone matcher
        try:
            handle = canonical_handle(f"{platform}:{ident}", region)
        except InvalidIndicator:
            continue
        indicator = Indicator(IndicatorKind.HANDLE, handle)
        yield _Candidate(_RANK_HANDLE, match.start("id"), match.end("id"), indicator)
        if platform == "whatsapp":  # the account is a phone number too
            phone = Indicator(IndicatorKind.PHONE, handle.split(":", 1)[1])
            yield _Candidate(_RANK_HANDLE, match.start("id"), match.end("id"), phone)


def _at_names(text: str, region: str | None) -> Iterator[_Candidate]:
    if "@" not in text:
        return
    # A bare @name is a LINE id in Thai texts (the common "แอด @abc" invitation) and a Telegram
    # username elsewhere: a guess, and the most useful one for this region's scams.
    platform = "line" if region == "TH" or _THAI.search(text) else "telegram"
    for match in _AT_NAME.finditer(text):
        try:
            handle = canonical_handle(f"{platform}:{match['id']}")
        except InvalidIndicator:
            continue
        yield _Candidate(
            _RANK_AT_NAME, match.start(), match.end(), Indicator(IndicatorKind.HANDLE, handle)
        )


def _phones(text: str, region: str | None) -> Iterator[_Candidate]:
    for match in _PHONE.finditer(text):
        pieces = [(match.start(), match.end())]
        if "/" in match.group() or "  " in match.group():
            pieces = [
                (match.start() + m.start(), match.start() + m.end())
                for m in re.finditer(r"[^/]+?(?=\s*(?:/|  |$))", match.group())
            ]
        for piece_start, piece_end in pieces:
            raw = text[piece_start:piece_end].strip(" -.(")
            start = text.index(raw, piece_start)
            canonical = valid_phone_in_text(raw, region)
            if canonical is not None:
                indicator = Indicator(IndicatorKind.PHONE, canonical)
                yield _Candidate(_RANK_PHONE, start, start + len(raw), indicator)


def extract_indicators(text: str, region: str | None = None) -> list[FoundIndicator]:
    """Every indicator in ``text``, in order of appearance; ``region`` reads local phone numbers."""
    region = check_region(region)
    normalized = normalize_for_matching(text)
    plain = normalized.text
    candidates: list[_Candidate] = []
    has_digit = any(ch.isdigit() for ch in plain)
    if "." in plain or "@" in plain:
        candidates.extend(_links(plain))
        candidates.extend(_simple_matches(plain, region))
    elif has_digit or ":" in plain:
        candidates.extend(c for c in _simple_matches(plain, region) if c.rank != _RANK_DOMAIN)
    candidates.extend(_handles(plain, region))
    candidates.extend(_at_names(plain, region))
    if has_digit:
        candidates.extend(_phones(plain, region))

    taken: list[_Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (c.rank, c.start)):
        overlaps = any(
            candidate.start < other.end
            and other.start < candidate.end
            and not (
                candidate.start == other.start
                and candidate.end == other.end
                and candidate.rank == other.rank == _RANK_HANDLE
            )
            for other in taken
        )
        if not overlaps:
            taken.append(candidate)
    taken.sort(key=lambda c: (c.start, c.end))
    return [FoundIndicator(c.indicator, *normalized.original_span(c.start, c.end)) for c in taken]
