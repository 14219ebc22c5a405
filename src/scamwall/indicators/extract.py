"""Find every indicator in a message, in any language and through common disguises.

The text is first normalised (:mod:`scamwall.indicators.text`: native and full-width digits,
zero-width characters, ``hxxp``/``[.]`` refanging). Then each matcher proposes candidates, every
candidate is checked by the same parser :func:`~scamwall.indicators.parse_indicator` uses (so a
wallet must pass its checksum and a phone number must be valid for its region), and overlaps are
settled by specificity: a link beats the domain inside it, a wallet beats the digits inside it, a
handle named by a keyword ("QQ 12345678") beats a phone number. Spans are ``[start, end)`` in the
caller's original text, counted in code points.

Most messages hold no indicator at all, so a matcher runs only where a cheap search of what all
its matches must contain (a '.' inside a word, seven digits, a keyword and its ':') finds it.
Links, addresses, wallets and domains are looked for only inside runs of printable ASCII.
``_extract(..., exhaustive=True)`` runs every matcher everywhere: the tests hold the two equal.

Boundaries are written with ASCII look-arounds, not ``\\b``: Thai, Chinese or Burmese letters
count as word characters to ``re``, and scam texts glue links and numbers straight to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice

from scamwall.errors import InvalidIndicator
from scamwall.indicators.accounts import canonical_handle, handle_from_link
from scamwall.indicators.kinds import Indicator, IndicatorKind
from scamwall.indicators.parse import parse_indicator
from scamwall.indicators.phone import check_region, valid_phone_in_text
from scamwall.indicators.text import normalize_for_matching

__all__ = ["FoundIndicator", "ParseMemo", "extract_indicators"]

# Latin letters with diacritics (bücher, Vietnamese) continue a word; CJK, Thai or Burmese
# letters do not: scam texts glue links straight to them.
_LATIN = "A-Za-z\u00c0-\u024f\u1e00-\u1eff"
_NOT_BEFORE = rf"(?<![{_LATIN}0-9_.\-@/])"
_NOT_AFTER = rf"(?![{_LATIN}0-9_\-])"
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9\-]{1,62}"

_SCHEMED_URL = re.compile(rf"(?<![A-Za-z])(?:https?|ftp)://{_URL_CHARS}+", re.IGNORECASE)
_BARE_LINK = re.compile(rf"{_NOT_BEFORE}{_HOST}(?::\d{{2,5}})?/{_URL_CHARS}*")
_EMAIL = re.compile(rf"(?<![{_LATIN}0-9._%+\-])[A-Za-z0-9._%+\-]{{1,64}}@{_HOST}{_NOT_AFTER}")
_DOMAIN = re.compile(rf"{_NOT_BEFORE}{_HOST}(?![{_LATIN}0-9_\-]|\.[A-Za-z0-9])")
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
# Spaced digits ("0 8 1 2 …") make up to 15 groups; no number is longer than 17 digits with its
# prefix. Trying a run costs a libphonenumber parse: a text gets a fixed budget of tries, so a
# message of 64 KB of digits cannot turn extraction into minutes of work.
_MAX_GROUPS, _MAX_DIGITS, _PHONE_TRIES = 16, 17, 64
# Candidates of one matcher looked at per text: a 64 KB message of a link repeated a thousand
# times must not cost a thousand parses (no real message carries hundreds of indicators).
_HANDLE_TRIES = _MATCH_TRIES = 256
# Runs of a text that may hold links and addresses, scanned at most: a 64 KB text of "a.b a.b …"
# costs about 10 ms, not 150. An indicator after a thousand such runs is not looked for.
_RUN_TRIES = 4 * _MATCH_TRIES
_PIECE = re.compile(r"(?:(?!\s{2,}|/).)+")
_DIGIT_GROUP = re.compile(r"(?:\+|\()?\d+")
_IDN_URL = re.compile(
    r"(?<![A-Za-z])https?://(?P<host>(?=[^/\s]*[^\x00-\x7f])[\w\-]+(?:\.[\w\-]+)+)"
    r"(?P<rest>(?::\d{2,5})?(?:/[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*)?)",
    re.IGNORECASE,
)
# A run of digits and separators, as long as it goes: it is split at '/' and wide gaps, then
# searched group by group for valid numbers (a cap would cut the next number in two).
_PHONE = re.compile(r"(?<![A-Za-z0-9+])(?:\+|00)?\d(?:[\s().\-/]{0,2}\d){6,}(?![A-Za-z0-9])")

# A keyword naming the platform, an optional "ID"/":"/"号", then the id itself.
_HANDLE_KEYWORDS = {
    "telegram": r"telegram|tg|电报|纸飞机|飞机|เทเลแกรม",
    "line": r"line|ไลน์|ไลน|ไอดีไลน์|แอดไลน์",
    "wechat": r"wechat|weixin|微信|威信|薇信|徽信|vx|v信|wx|加v|加微",
    "whatsapp": r"whatsapp|whats app|wa",
    "qq": r"qq|扣扣|企鹅",
}
#: Each platform's keywords; every keyword, and "id", are never an id themselves.
_PLATFORM_WORDS = {
    name: frozenset(words.lower().split("|")) for name, words in _HANDLE_KEYWORDS.items()
}
_KEYWORD_WORDS = frozenset().union(*_PLATFORM_WORDS.values()) | {"id"}
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
# Dates and versions are digit runs a region's plan may read as numbers ("20261208" is a
# Bangkok line, "10.0.19041" too): a date (YYYYMMDD, or YYYY-MM-DD with one separator) is
# never a number found in text, nor is a run inside a version. Numbers are written with dots
# too ("1.800.555.0199", "+66.81.234.5678", "06.12.34.56.78"), so a version is dotted groups,
# the first without a trunk 0 and no '+' before them: three after a version word ("build
# 10.0.19041"), or four or more that follow one or are shaped as no number is: a first group
# of 1-2 digits, and a last one of 1-2 digits after one of 4 or more ("10.0.19041.1", where
# "49.30.1234.56.78" is a Berlin number), or a number that is only a piece of the run. Given
# to parse_indicator, such values are still read as an agency reports them.
_DATE = re.compile(r"((?:19|20)\d\d)(?:(\d\d)(\d\d)|([-./ ])(\d{1,2})\4(\d{1,2}))")
_VERSION = re.compile(r"(?:0|[1-9]\d*)(?:\.\d+){2,}")
_DOTTED_DIGITS = frozenset("0123456789.")
# No version is longer: the run around a number is read at most this far each way, so each of
# a text's tries costs the same in a 64 KB run of digits and dots as in "10.0.19041.1".
_VERSION_REACH = 40
# A dotted quad or run after one of these is a version ("version 1.2.3.4", "v1.2.3.4"), not a host.
# Only words that say nothing else: "FW:" forwards a mail, "rev" and "rel" are names too, and a
# "v" only marks a version written against it ("v1.2.3.4", not "Login now v 45.67.89.10").
_VERSION_WORD = re.compile(
    r"(?<![A-Za-z])(?:(?:version|ver|build|release|revision|firmware|patch|版本号?|เวอร์ชั่?น)"
    r"\s{0,2}[.:#]?\s{0,2}|v)$",
    re.IGNORECASE,
)
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_HAS_DIGIT = re.compile(r"\d")


def _handle_hints() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """What a text must hold for the handle matcher to find anything, in its lower-case form: a
    Latin keyword ("line", "wa") followed by what marks an id after it (':', '=', '@', "id";
    digits for QQ), as :func:`_handles` asks, or a keyword in a script of its own (微信, ไลน์)
    followed by the start of an id.
    Two searches that each start from a few letters, instead of the matcher's case-blind choice
    of two dozen keywords: far faster, and far rarer to pass ("wa" and "line" are in many English
    messages, "wa:" is not)."""
    latin: list[str] = []
    other: list[str] = []
    for words in _HANDLE_KEYWORDS.values():
        for word in words.split("|"):
            (latin if word.isascii() else other).append(re.escape(word))
    # as the separator of _HANDLE allows: "id" alone, or a mark or digits after up to six
    # spaces and one of the Chinese words for "number" / "is"; any keyword needs an id after it
    marked = r"\s{0,2}(?:id|(?:号|號|是)?\s{0,4}(?:[:=@]|\+?\d))"
    any_id = r"\s{0,2}(?:id|号|號|是)?\s{0,2}[:=]?\s{0,2}@?\+?[a-z0-9]"
    return (
        re.compile(rf"(?:{'|'.join(latin)}){marked}"),
        re.compile(rf"(?:{'|'.join(other)}){any_id}"),
    )


_LATIN_HANDLE_HINT, _OTHER_HANDLE_HINT = _handle_hints()
# Characters `re` matches case-blind to a Latin letter of a keyword where lower() does not
# ("lıne", the long s of "whatſapp"): texts holding them skip the pre-check.
_CASE_ODDITIES = re.compile("[\u0130\u0131\u017f\u212a]")
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


class ParseMemo:
    """What the parsers said of each candidate, kept across the texts of one batch: a
    campaign's link or number, sent in many messages of a batch, is parsed once. Parsing is
    most of what an indicator costs to extract (libphonenumber, the URL's normal form). Keep
    one for a batch, not for ever: it holds every candidate it was asked about."""

    __slots__ = ("_indicators", "_phones")

    def __init__(self) -> None:
        self._indicators: dict[tuple[str, IndicatorKind, str | None], Indicator | None] = {}
        self._phones: dict[tuple[str, str | None], str | None] = {}

    def indicator(self, value: str, kind: IndicatorKind, region: str | None) -> Indicator | None:
        """``value`` parsed as ``kind``, or None where it is not one."""
        key = (value, kind, region)
        try:
            return self._indicators[key]
        except KeyError:
            found = self._indicators[key] = _parsed(value, kind, region)
            return found

    def phone(self, text: str, region: str | None) -> str | None:
        """The number written in ``text`` in E.164, or None where it is not a valid one."""
        key = (text, region)
        try:
            return self._phones[key]
        except KeyError:
            found = self._phones[key] = valid_phone_in_text(text, region)
            return found


#: Matches each pattern may still look at in one text (parsing them is the costly part): shared
#: by all the runs of the text, so a run cannot use up another's, and an indicator after many
#: runs is still found.
_Tries = dict[re.Pattern[str], int]


def _looked_at(pattern: re.Pattern[str], text: str, tries: _Tries) -> Iterator[re.Match[str]]:
    if tries[pattern] <= 0:
        return  # spent: not even a scan
    for match in pattern.finditer(text):
        if tries[pattern] <= 0:
            return
        tries[pattern] -= 1
        yield match


def _links(text: str, tries: _Tries, memo: ParseMemo) -> Iterator[_Candidate]:
    for pattern in (_SCHEMED_URL, _BARE_LINK):
        for match in _looked_at(pattern, text, tries):
            end = _trim_link(text, match.start(), match.end())
            value = text[match.start() : end]
            linked = handle_from_link(value)
            indicator = None
            if linked is not None:
                indicator = memo.indicator(linked, IndicatorKind.HANDLE, None)
            if indicator is None:
                indicator = memo.indicator(value, IndicatorKind.URL, None)
            if indicator is not None:
                yield _Candidate(_RANK_LINK, match.start(), end, indicator)


_Table = tuple[tuple[re.Pattern[str], IndicatorKind | None, int], ...]
#: Patterns whose matches never hold a space or a non-ASCII character: scanned in runs.
_COMPACT: _Table = (
    (_EMAIL, IndicatorKind.EMAIL, _RANK_EMAIL),
    (_WALLET, IndicatorKind.CRYPTO_WALLET, _RANK_EXACT),
    (_HASH, IndicatorKind.FILE_HASH, _RANK_EXACT),
    (_IPV4, None, _RANK_IP),
    (_IPV6, None, _RANK_IP),
    (_DOMAIN, IndicatorKind.DOMAIN, _RANK_DOMAIN),
)
#: IBANs may be written in groups of four with spaces: scanned in the whole text.
_IBAN_ONLY: _Table = ((_IBAN, IndicatorKind.BANK_ACCOUNT, _RANK_EXACT),)
#: A text's budget before any match
_ALL_TRIES: _Tries = dict.fromkeys(
    (_SCHEMED_URL, _BARE_LINK, *(pattern for pattern, _, _ in _COMPACT + _IBAN_ONLY)),
    _MATCH_TRIES,
)
# A run of printable ASCII (with the accented Latin letters that decide its boundaries): the
# only places links, addresses, wallets and domains can be, in any text. None of the patterns'
# look-arounds reads a character outside such a run, so a run matches as the whole text would.
# Every link, domain, e-mail and IP address has inside its run a '.' or '@' before a letter or
# digit (a host's '.' before its top-level name, an IPv4 address's dots, the '@' before a host),
# or a ':' before '/', ':' or a hex digit ("://", IPv6 groups); every wallet and hash is a run of
# 25 letters and digits, or a Bech32 address. A text with none of these, most messages, has no
# run worth scanning: a few cheap searches rule them all out.
_ISLAND = re.compile(rf"[!-~{_LATIN[6:]}]{{3,}}")
_INNER_MARK = re.compile(r"[.@:][/:0-9A-Za-z]")  # one set to start from: the fastest search
_LONG_WORD = re.compile(r"[0-9A-Za-z]{25}")
# a Bech32 address of a later SegWit version may be as short as 14 characters
_SHORT_BECH32 = re.compile(r"(?:bc|ltc)1[02-9ac-hj-np-z]{8}")
# An IBAN starts with two capitals and two digits; a phone number has seven digits with at most
# two separators between them. Far cheaper to look for than the patterns themselves.
_IBAN_START = re.compile(r"[A-Z]{2}\d\d")
_SEVEN_DIGITS = re.compile(r"\d(?:[\s().\-/]{0,2}\d){6}")


def _worth_scanning(text: str) -> bool:
    return (
        _INNER_MARK.search(text) is not None
        or _LONG_WORD.search(text) is not None
        or ("c1" in text and _SHORT_BECH32.search(text) is not None)
    )


def _islands(text: str, *, every: bool = False) -> Iterator[tuple[int, str]]:
    if not every and not _worth_scanning(text):
        return
    for match in _ISLAND.finditer(text):
        piece = match.group()
        if every or _worth_scanning(piece):
            yield match.start(), piece


def _shifted(candidates: Iterator[_Candidate], offset: int) -> Iterator[_Candidate]:
    for c in candidates:
        yield _Candidate(c.rank, c.start + offset, c.end + offset, c.indicator)


def _simple_matches(
    text: str, region: str | None, table: _Table, tries: _Tries, memo: ParseMemo
) -> Iterator[_Candidate]:
    skip = set()
    if "@" not in text:
        skip.add(_EMAIL)
    if len(text) < 64:
        skip.add(_HASH)
    if text.count(":") < 2:
        skip.add(_IPV6)
    if _HAS_DIGIT.search(text) is None:
        skip.update((_IPV4, _IBAN))
    for pattern, kind, rank in table:
        if pattern in skip:
            continue
        for match in _looked_at(pattern, text, tries):
            value = match.group()
            if kind is None:
                kind_here = IndicatorKind.CIDR if "/" in value else IndicatorKind.IP
                indicator = memo.indicator(value, kind_here, region)
            else:
                indicator = memo.indicator(value, kind, region)
            if indicator is not None:
                yield _Candidate(rank, match.start(), match.end(), indicator)


def _handles(text: str, region: str | None, *, exhaustive: bool = False) -> Iterator[_Candidate]:
    if (
        not exhaustive
        and _LATIN_HANDLE_HINT.search(lowered := text.lower()) is None
        and (
            text.isascii()
            or (_OTHER_HANDLE_HINT.search(lowered) is None and _CASE_ODDITIES.search(text) is None)
        )
    ):
        return
    position = 0
    for _ in range(_HANDLE_TRIES):  # a bounded amount of work per text, as for phone numbers
        match = _HANDLE.search(text, position)
        if match is None:
            return
        position = match.end()
        platform = next(name for name in _HANDLE_KEYWORDS if match.group(name))
        keyword, separator = match["keyword"], match["sep"]
        ident = match["id"]
        if ident.lower() in _KEYWORD_WORDS:
            # "加微信 WeChat: kefu_2026": the platform named twice; the id follows the second.
            # Another platform's name ("Telegram line: x") leaves it unclear which: neither
            if ident.lower() in _PLATFORM_WORDS[platform]:
                position = match.start("id")
            continue
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
    for match in islice(_AT_NAME.finditer(text), _MATCH_TRIES):
        try:
            handle = canonical_handle(f"{platform}:{match['id']}")
        except InvalidIndicator:
            continue
        yield _Candidate(
            _RANK_AT_NAME, match.start(), match.end(), Indicator(IndicatorKind.HANDLE, handle)
        )


def _phone_pieces(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Split a digit run at '/' and at wide gaps: "081-234-5678 / 02-123-4567" is two numbers."""
    for piece in _PIECE.finditer(text, start, end):
        yield piece.start(), piece.end()


def _is_date(candidate: str) -> bool:
    shape = _DATE.fullmatch(candidate)
    if shape is None:
        return False
    month, day = shape[2] or shape[5], shape[3] or shape[6]
    try:
        date(int(shape[1]), int(month), int(day))
    except ValueError:
        return False
    return True


def _dotted_run_is_version(text: str, at: int, begin: int, finish: int) -> bool:
    """Whether the run of digits and dots around ``text[at]`` is a version (see ``_VERSION``)
    that the number ``text[begin:finish]`` is in; a run going on past ``_VERSION_REACH``
    characters either way is none."""
    low, high = max(0, at - _VERSION_REACH), min(len(text), at + _VERSION_REACH)
    start = end = at
    while start > low and text[start - 1] in _DOTTED_DIGITS:
        start -= 1
    while end < high and text[end] in _DOTTED_DIGITS:
        end += 1
    if (start == low > 0 and text[start - 1] in _DOTTED_DIGITS) or (
        end == high < len(text) and text[end] in _DOTTED_DIGITS
    ):
        return False
    if start > 0 and text[start - 1] == "+":
        return False  # "+1.415.555.0123": a country code
    while start < end and text[start] == ".":
        start += 1
    while end > start and text[end - 1] == ".":
        end -= 1
    run = text[start:end]
    if run.count(".") < 2 or _VERSION.fullmatch(run) is None:
        return False
    groups = run.split(".")
    if len(groups) == 3:  # "10.0.19041" after "build"; "081.234.5678" alone is a number
        return _after_version_word(text, start)
    # a number is the whole run, never a piece ("16.0.4266.1001" holds a Thai one from "0" on,
    # a browser's "120.0.6099.109" another)
    piece = begin > start or finish < end
    no_number_shape = piece or (
        len(groups[0]) <= 2 and len(groups[-2]) >= 4 and len(groups[-1]) <= 2
    )
    return no_number_shape or _after_version_word(text, start)


def _after_version_word(text: str, at: int) -> bool:
    return _VERSION_WORD.search(text, max(0, at - 16), at) is not None


def _is_date_or_version(text: str, begin: int, finish: int) -> bool:
    return (
        _is_date(text[begin:finish])
        or _dotted_run_is_version(text, begin, begin, finish)
        or _dotted_run_is_version(text, finish - 1, begin, finish)
    )


def _valid_phones(
    text: str, start: int, end: int, region: str | None, budget: list[int], *, memo: ParseMemo
) -> Iterator[_Candidate]:
    """The valid numbers in ``text[start:end]``, trying the longest runs of digit groups first,
    so "081-234-5678 24 ชม." still yields the number without the "24" after it."""
    groups = [(m.start(), m.end()) for m in _DIGIT_GROUP.finditer(text, start, end)]
    first = 0
    while first < len(groups) and budget[0] > 0:
        for last in range(min(len(groups) - 1, first + _MAX_GROUPS), first - 1, -1):
            begin, finish = groups[first][0], groups[last][1]
            digits = sum(ch.isdigit() for ch in text[begin:finish])
            if digits > _MAX_DIGITS:
                continue
            if digits < 7 or budget[0] <= 0:
                break
            budget[0] -= 1
            canonical = memo.phone(text[begin:finish], region)
            if canonical is None or _is_date_or_version(text, begin, finish):
                continue
            if begin > 0 and text[begin - 1] == "(" and ")" in text[begin:finish]:
                begin -= 1  # "(02) 123 4567": the bracket belongs to the number
            yield _Candidate(_RANK_PHONE, begin, finish, Indicator(IndicatorKind.PHONE, canonical))
            first = last
            break
        first += 1


def _phones(text: str, region: str | None, memo: ParseMemo) -> Iterator[_Candidate]:
    budget = [_PHONE_TRIES]
    for match in _PHONE.finditer(text):
        for start, end in _phone_pieces(text, match.start(), match.end()):
            yield from _valid_phones(text, start, end, region, budget, memo=memo)


def _idn_links(text: str, memo: ParseMemo) -> Iterator[_Candidate]:
    """Links whose host is written in its own script (https://例子.中国/…), backing off when the
    host runs into the text after it."""
    for match in islice(_IDN_URL.finditer(text), _MATCH_TRIES):
        host_end = match.end("host")
        for cut in range(host_end, max(match.start("host") + 3, host_end - 12), -1):
            value = text[match.start() : cut] + (match["rest"] if cut == host_end else "")
            indicator = memo.indicator(value, IndicatorKind.URL, None)
            if indicator is not None:
                end = match.end() if cut == host_end else cut
                yield _Candidate(_RANK_LINK, match.start(), end, indicator)
                break


def extract_indicators(
    text: str,
    region: str | None = None,
    *,
    folded: bool = False,
    memo: ParseMemo | None = None,
) -> list[FoundIndicator]:
    """Every indicator in ``text``, in order of appearance; ``region`` reads local phone numbers.
    ``folded``: the caller has passed ``text`` through
    :func:`~scamwall.indicators.text.fold_characters` already (spans are the same: folding
    keeps every character's place). ``memo``: the parses of the batch ``text`` is one of
    (:class:`ParseMemo`)."""
    return _extract(text, region, folded=folded, memo=memo)


def _extract(
    text: str,
    region: str | None,
    *,
    folded: bool = False,
    exhaustive: bool = False,
    memo: ParseMemo | None = None,
) -> list[FoundIndicator]:
    """:func:`extract_indicators`; ``exhaustive`` skips every pre-check and scans every run,
    the reference the pre-checks are tested against (same result, many times the work)."""
    region = check_region(region)
    if memo is None:
        memo = ParseMemo()
    normalized = normalize_for_matching(text, folded=folded)
    plain = normalized.text
    candidates: list[_Candidate] = []
    has_digit = _HAS_DIGIT.search(plain) is not None
    # scan only the runs where compact indicators can be (same matches, far less text)
    tries = _ALL_TRIES.copy()
    runs = _islands(plain, every=exhaustive)
    for offset, piece in runs if exhaustive else islice(runs, _RUN_TRIES):
        candidates.extend(_shifted(_links(piece, tries, memo), offset))
        candidates.extend(_shifted(_simple_matches(piece, region, _COMPACT, tries, memo), offset))
    if exhaustive or ("://" in plain and not plain.isascii()):
        # after the ASCII links: on a tie of rank and start, the first one stays
        candidates.extend(_idn_links(plain, memo))
    if exhaustive or (has_digit and _IBAN_START.search(plain) is not None):
        candidates.extend(_simple_matches(plain, region, _IBAN_ONLY, tries, memo))
    candidates.extend(_handles(plain, region, exhaustive=exhaustive))
    candidates.extend(_at_names(plain, region))
    if exhaustive or (has_digit and _SEVEN_DIGITS.search(plain) is not None):
        candidates.extend(_phones(plain, region, memo))

    taken: list[_Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (c.rank, c.start)):
        if (
            candidate.indicator.kind is IndicatorKind.IP
            and "." in candidate.indicator.canonical
            and _after_version_word(plain, candidate.start)
        ):
            continue
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
