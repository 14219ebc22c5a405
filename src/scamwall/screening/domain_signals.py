"""Lexical signals of one host name: what the name itself gives away, in any language.

==================  ======================================================================
signal              fires when
==================  ======================================================================
``lookalike``       the name imitates a protected brand without being its site: the brand
                    inside a label, spelt with digits for letters (``paypa1``, ``1cbc``),
                    with look-alike letters of another script (punycode), or one letter off
                    for brands of six letters or more (``kasikornbnk``)
``punycode``        a label is written in punycode (``xn--``): the name shows other letters
                    than it is made of
``shortener``       the host is a URL shortener: the real destination is hidden
``risky_tld``       the top-level domain is one scam sites favour (cheap, unpoliced)
``gambling_words``  the name holds gambling words (casino, baccarat, ``bocai``, ``huay``…)
``scam_words``      the name holds words phishing sites use (login, verify, wallet…)
==================  ======================================================================

Brands are the first labels of the shipped official allowlist (banks, government and payment
services of the region) and the brands scams imitate listed in ``data/brands.txt``. Short tokens
are ordinary syllables of other names, so how a token may match depends on its length (see the
header of ``brands.txt``); vocabulary words follow the same idea. An allowlisted host gets no
signal about its name at all: the allowlist vouches for it. Only ``shortener`` still fires there,
because it says nothing against the shortener, only that the link hides where it leads. A
popular site (:func:`is_popular`: the names of ranks 1,001 to 10,000 of the Tranco list,
``data/popular_sites.txt``, and their ``www``) is not allowlisted, and is blocked where it is
reported, but its name is not taken for a scam's by its looks (a brand inside it, punycode, its
TLD, phishing words: ``microsoftonline.us``, ``arduino.cc``, ``nobelprize.org``); what it says
it is still shows: gambling words (``bingoplus.com``, ``betway.co.bw``: gambling is what such
sites are, and popular ones too; the web screener also keeps the domain model's reading of such
a name as a gambling site's) and a shortener.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import ahocorasick

from scamwall.indicators import IndicatorKind
from scamwall.indicators.network import registered_domain
from scamwall.reputation.allowlist import Allowlist, shipped_entries

__all__ = [
    "DOMAIN_SIGNALS",
    "DOMAIN_SIGNAL_WEIGHT",
    "DomainSignal",
    "domain_brands",
    "domain_signals",
    "is_popular",
]

#: Every signal, in the order they are reported.
DOMAIN_SIGNALS = (
    "lookalike",
    "punycode",
    "shortener",
    "risky_tld",
    "gambling_words",
    "scam_words",
)

#: How strongly each signal alone suggests a fraudulent or illegal site (0-1).
DOMAIN_SIGNAL_WEIGHT = {
    "lookalike": 0.7,
    "punycode": 0.35,
    "shortener": 0.25,
    "risky_tld": 0.3,
    "gambling_words": 0.5,
    "scam_words": 0.3,
}

#: Gambling words as they appear in names: English, pinyin (bocai 博彩, duchang 赌场, caipiao
#: 彩票, yule 娱乐, tyc 太阳城, xpj 新葡京, pujing 葡京, jinsha 金沙, weinisi 威尼斯人), romanised
#: Thai (huay หวย, ruay), Vietnamese without tones (xoso xổ số, nohu nổ hũ, taixiu tài xỉu,
#: gamebai, danhbai đánh bài, cacuoc cá cược) and Indonesian (judi, togel).
GAMBLING_WORDS = frozenset(
    [
        "casino",
        "baccarat",
        "poker",
        "lottery",
        "jackpot",
        "roulette",
        "blackjack",
        "sportsbook",
        "bookmaker",
        "betting",
        "gamble",
        "gambling",
        "slots",
        "slotxo",
        "pgslot",
        "ufabet",
        "sbobet",
        "dafabet",
        "bocai",
        "duchang",
        "caipiao",
        "pujing",
        "jinsha",
        "weinisi",
        "taiyangcheng",
        "xoso",
        "nohu",
        "taixiu",
        "gamebai",
        "danhbai",
        "cacuoc",
        "togel",
        "bingo",
        "lotto",
        "huay",
        "ruay",
        "judi",
        "keno",
        "slot",
        "bet",
        "bets",
        "yule",
        "tyc",
        "xpj",
    ]
)
#: Words phishing and scam sites put in their names to look official or urgent.
SCAM_WORDS = frozenset(
    [
        "login",
        "logon",
        "signin",
        "verify",
        "verification",
        "validate",
        "secure",
        "account",
        "update",
        "wallet",
        "airdrop",
        "refund",
        "support",
        "helpdesk",
        "unlock",
        "suspend",
        "restore",
        "recovery",
        "confirm",
        "billing",
        "invoice",
        "password",
        "authenticate",
        "webscr",
        "claim",
        "reward",
        "giveaway",
        "prize",
        "customs",
        "kyc",
        "otp",
    ]
)
#: Names that contain a short word without meaning it (``alphabet`` is not a bet).
_NOT_WORDS = frozenset(["better", "betty", "alphabet", "abet", "tibet", "beta", "diabetes"])
#: Common words one letter away from a brand; they name their own sites, not the brand.
_NOT_TYPOS = frozenset(
    [
        "shoppe",
        "webchat",
        "finance",
        "united",
        "unitec",
        "inpost",
        "telegra",
        "telegraf",
        "applied",
        "paypay",
    ]
)
#: First letters a reader takes for one another (lcloud for icloud, lnstagram for instagram).
_SIMILAR_FIRST = frozenset(["il", "li", "ij", "ji", "lj", "jl"])

# Lower-case letters of other scripts that render like Latin ones (a small, common subset of
# Unicode's confusables), and Latin letters that only differ by a stroke.
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "і": "i",
        "ї": "i", "ј": "j", "к": "k", "ӏ": "l", "м": "m", "п": "n", "о": "o", "р": "p",
        "ԛ": "q", "г": "r", "ѕ": "s", "т": "t", "у": "y", "х": "x", "ԝ": "w", "ь": "b",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "μ": "u",
        "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ց": "g", "զ": "q",
        "ı": "i", "ł": "l", "ɡ": "g", "ɑ": "a", "ø": "o", "đ": "d", "ħ": "h",
    }
)  # fmt: skip
# Digits and letter pairs that stand in for letters; "1" is "l" or "i", so both are tried.
_LEET_L = str.maketrans("01345789", "oleastbg")
_LEET_I = str.maketrans("01345789", "oieastbg")
_PAIRS = (("rn", "m"), ("vv", "w"))
_PARTS = re.compile(r"[a-z]+")
_DIGIT = re.compile(r"[0-9]")
_FULL_PARTS = re.compile(r"[^-]+")


SHORTENERS = frozenset(
    [
        "bit.ly",
        "tinyurl.com",
        "t.co",
        "cutt.ly",
        "is.gd",
        "rb.gy",
        "shorturl.at",
        "s.id",
        "t.ly",
        "ow.ly",
        "goo.gl",
        "u.to",
        "rebrand.ly",
        "tiny.cc",
        "v.gd",
        "dwz.cn",
        "t.cn",
        "url.cn",
        "suo.im",
        "buff.ly",
        "shorte.st",
        "lnkd.in",
        "qr.net",
        "bitly.com",
        "tinyurl.one",
        "2.gp",
        "soo.gd",
        "clck.ru",
    ]
)
RISKY_TLDS = frozenset(
    [
        "top",
        "xyz",
        "vip",
        "icu",
        "shop",
        "club",
        "buzz",
        "cyou",
        "sbs",
        "cfd",
        "fun",
        "online",
        "site",
        "work",
        "rest",
        "bond",
        "win",
        "bet",
        "cc",
        "tk",
        "ml",
        "ga",
        "cf",
        "gq",
        "pw",
        "loan",
        "click",
        "link",
        "live",
        "life",
        "asia",
        "kim",
        "ltd",
        "men",
        "mom",
        "party",
        "quest",
    ]
)


@lru_cache(maxsize=1)
def _official_brands() -> frozenset[str]:
    """Names of protected brands: the first label of every shipped official domain with at
    least four letters (``kasikornbank``, ``icbc``, ``kbzpay``…), hyphens dropped as names are
    searched (``sf-express`` is ``sfexpress``)."""
    tokens = set()
    for entry in shipped_entries():
        if entry.kind is IndicatorKind.DOMAIN and entry.source == "shipped:official":
            label = entry.value.split(".")[0].replace("-", "")
            if len(label) >= 4 and not label.isdigit() and label not in {"cert"}:
                tokens.add(label)
    return frozenset(tokens)


@dataclass(frozen=True, slots=True)
class DomainSignal:
    """One lexical signal of a host name."""

    name: str
    weight: float
    detail: str

    def as_reason(self) -> dict[str, object]:
        """The reason a screener reports for it."""
        return {"type": "signal", "signal": self.name, "weight": self.weight, "text": self.detail}


def _signal(name: str, detail: str) -> DomainSignal:
    return DomainSignal(name, DOMAIN_SIGNAL_WEIGHT[name], detail)


def _data_tokens(name: str) -> Iterator[str]:
    text = resources.files("scamwall.screening").joinpath("data").joinpath(name).read_text("utf-8")
    for line in text.splitlines():
        token = line.split("#", 1)[0].strip()
        if token:
            yield token


@lru_cache(maxsize=1)
def _popular() -> frozenset[str]:
    return frozenset(_data_tokens("popular_sites.txt"))


def is_popular(host: str) -> bool:
    """Whether a canonical host is a popular site or its ``www`` (module docstring); not its
    other subdomains, which may be a platform's users' (``fc2.com`` hosts blogs)."""
    popular = _popular()
    return host in popular or (host.startswith("www.") and host[4:] in popular)


@lru_cache(maxsize=1)
def domain_brands() -> frozenset[str]:
    """Every protected brand token: the official allowlist's and ``data/brands.txt``'s."""
    return _official_brands() | frozenset(_data_tokens("brands.txt"))


def _automaton(words: Iterable[str]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


@dataclass(frozen=True)
class _Lexicon:
    """The brand and word tables, built once."""

    long_brands: ahocorasick.Automaton
    short_brands: frozenset[str]
    prefix_brands: frozenset[str]
    #: brands of six letters or more by their first two letters, and by their last two
    typo_starts: dict[str, tuple[str, ...]]
    typo_ends: dict[str, tuple[str, ...]]
    gambling: ahocorasick.Automaton
    scam: ahocorasick.Automaton


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    brands = domain_brands()
    starts: dict[str, tuple[str, ...]] = {}
    ends: dict[str, tuple[str, ...]] = {}
    for brand in sorted(b for b in brands if len(b) >= 6 and b.isalpha()):
        starts[brand[:2]] = (*starts.get(brand[:2], ()), brand)
        ends[brand[-2:]] = (*ends.get(brand[-2:], ()), brand)
    return _Lexicon(
        long_brands=_automaton(b for b in brands if len(b) >= 5),
        short_brands=frozenset(b for b in brands if len(b) < 5),
        prefix_brands=frozenset(b for b in brands if len(b) == 4),
        typo_starts=starts,
        typo_ends=ends,
        gambling=_automaton(GAMBLING_WORDS),
        scam=_automaton(SCAM_WORDS),
    )


def _brand_in(label: str, lexicon: _Lexicon) -> str | None:
    """The brand a label spells out, by the length rules of ``brands.txt``."""
    found = [str(brand) for _, brand in lexicon.long_brands.iter(label.replace("-", ""))]
    if found:
        return max(found, key=len)  # kerryexpress, not the kerry inside it
    part: str
    for part in _FULL_PARTS.findall(label):
        if part in lexicon.short_brands:
            return part
        if part[:4] in lexicon.prefix_brands:
            return part[:4]
        piece: str
        for piece in _PARTS.findall(part):
            if piece in lexicon.short_brands:
                return piece
    return None


def _one_edit(written: str, brand: str) -> bool:
    """Whether ``written`` is ``brand`` with one letter dropped, added or changed, or two
    neighbouring letters swapped."""
    if len(written) == len(brand):
        diffs = [i for i, (a, b) in enumerate(zip(written, brand, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and written[diffs[0]] == brand[diffs[1]]
            and written[diffs[1]] == brand[diffs[0]]
        )
    shorter, longer = sorted((written, brand), key=len)
    if len(longer) - len(shorter) != 1:
        return False
    i = next(
        (i for i, (a, b) in enumerate(zip(shorter, longer, strict=False)) if a != b), len(shorter)
    )
    return shorter[i:] == longer[i + 1 :]


def _one_letter_off(label: str, lexicon: _Lexicon) -> str | None:
    """The brand of six letters or more that a part of the label misspells by one edit."""
    for piece in dict.fromkeys([label.replace("-", ""), *_PARTS.findall(label)]):
        if len(piece) < 6 or piece in _NOT_TYPOS or not piece.isalpha():
            continue
        # one edit leaves the first two or the last two letters of a long name in place
        near = lexicon.typo_starts.get(piece[:2], ()) + lexicon.typo_ends.get(piece[-2:], ())
        if piece in near:  # a brand of its own (mbbank is not a misspelt cbbank)
            continue
        for brand in near:
            if not _one_edit(piece, brand):
                continue
            # another first letter makes another word (pcloud, zaobao), unless the letters look
            # alike or the name is long enough to be recognised without it (tacebook)
            first = piece[0] + brand[0]
            if first[0] != first[1] and len(brand) < 8 and first not in _SIMILAR_FIRST:
                continue
            return brand
    return None


def _shown(label: str) -> str | None:
    """How a punycode label is displayed, or None when it does not decode."""
    try:
        return label.encode("ascii").decode("idna")
    except UnicodeError:
        return None


def _skeleton(shown: str) -> str:
    """What a displayed label looks like in plain Latin letters (accents dropped)."""
    folded = unicodedata.normalize("NFKD", shown.lower().translate(_CONFUSABLES))
    return "".join(c for c in folded if not unicodedata.combining(c))


def _disguises(label: str) -> Iterator[tuple[str, str]]:
    """The label as a reader sees it, with how it was disguised: as written, with look-alike
    letters read as Latin, with digits read as letters."""
    yield label, ""
    if label.startswith("xn--"):
        shown = _shown(label)
        if shown is not None:
            yield _skeleton(shown), " in look-alike letters"
        return
    if _DIGIT.search(label):
        yield label.translate(_LEET_L), " with digits for letters"
        yield label.translate(_LEET_I), " with digits for letters"
    for pair, letter in _PAIRS:
        if pair in label:
            yield label.replace(pair, letter), f" with {pair!r} for {letter!r}"


def _lookalike(host: str, registered: str, lexicon: _Lexicon) -> DomainSignal | None:
    own_label, _, suffix = registered.partition(".")
    risky_suffix = suffix.rsplit(".", 1)[-1] in RISKY_TLDS
    labels = host[: len(host) - len(suffix)].rstrip(".").split(".")
    for label in labels:
        for shown, how in _disguises(label):
            brand = _brand_in(shown, lexicon)
            if brand is None:
                continue
            # the brand's bare name on an ordinary suffix is most often the brand's own site in
            # another country (shopee.vn, lazada.co.th): left to the allowlist and reputation;
            # not on a platform's suffix (kasikornbank.web.app), where anyone may take it
            if (
                label == own_label
                and label.replace("-", "") == brand
                and not how
                and not risky_suffix
                and registered_domain(host, icann_only=True) == registered
            ):
                continue
            return _signal("lookalike", f"{host} uses the name {brand!r}{how} but is not its site")
    for label in labels:
        for shown, how in _disguises(label):
            brand = _one_letter_off(shown, lexicon)
            if brand is not None:
                detail = f"{host} looks like {brand!r}{how}, one letter off, but is not its site"
                return _signal("lookalike", detail)
    return None


def _words_in(name: str, automaton: ahocorasick.Automaton) -> list[str]:
    """Vocabulary words in a name: long ones anywhere, words of four letters or fewer only as
    a run of letters of their own or at the edge of a short one (``shbet``, ``betway``)."""
    found: list[str] = []
    for piece in _PARTS.findall(name):
        if piece in _NOT_WORDS:
            continue
        for end, word in automaton.iter(piece):
            start = end - len(word) + 1
            short = len(word) <= 4
            at_edge = start == 0 or end == len(piece) - 1
            if (not short or (at_edge and len(piece) <= len(word) + 3)) and word not in found:
                found.append(str(word))
    # "bet" inside "ufabet" is not a second word
    return [w for w in found if not any(w != other and w in other for other in found)]


def domain_signals(host: str, allowlist: Allowlist) -> list[DomainSignal]:
    """The lexical signals of one canonical host name (module docstring), strongest first."""
    registered = registered_domain(host) or host
    signals: list[DomainSignal] = []
    if host in SHORTENERS or registered in SHORTENERS:
        signals.append(_signal("shortener", f"{registered} is a URL shortener: it hides the link"))
    if allowlist.match_domain(host) is not None:
        return signals
    popular = is_popular(host)
    lexicon = _lexicon()
    lookalike = None if popular else _lookalike(host, registered, lexicon)
    if lookalike is not None:
        signals.append(lookalike)
    if "xn--" in host and not popular:
        shown = ".".join(_shown(label) or label for label in host.split("."))
        signals.append(_signal("punycode", f"{host} is written in punycode; it reads {shown!r}"))
    tld = host.rsplit(".", 1)[-1]
    if tld in RISKY_TLDS and not popular:
        signals.append(
            _signal("risky_tld", f"{host} ends in .{tld}, a top-level domain scam sites favour")
        )
    name = host[: len(host) - len(tld)]
    gambling = _words_in(host if tld in GAMBLING_WORDS else name, lexicon.gambling)
    if gambling:
        words = ", ".join(gambling)
        signals.append(_signal("gambling_words", f"{host} has gambling words in it: {words}"))
    scam = [] if popular else _words_in(name, lexicon.scam)
    if scam:
        words = ", ".join(scam)
        signals.append(_signal("scam_words", f"{host} has words phishing sites use: {words}"))
    signals.sort(key=lambda s: -s.weight)
    return signals
