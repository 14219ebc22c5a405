"""Signals that do not depend on the language a message is written in.

They carry the screener where neither the model nor the rules can read the text (Burmese, Lao,
Khmer…): what the message *contains*, not what it says.

========================  ========================================================================
signal                    fires when
========================  ========================================================================
``lookalike_link``        a link's host borrows a protected brand (a bank, a government service:
                          the names on the shipped allowlist) without being that brand's site
``punycode_link``         a link's host is written in punycode (``xn--``): homoglyph disguise
``ip_link``               a link goes to a bare IP address
``shortened_link``        a link goes through a URL shortener: the real target is hidden
``risky_tld_link``        a link's top-level domain is one scam sites favour (cheap, unpoliced)
``link``                  any other link
``wallet``                a crypto-currency wallet address
``chat_handle``           a Telegram, LINE, WhatsApp, WeChat or QQ account to "contact"
``phone``                 a phone number
``money``                 an amount of money (with a currency sign, code or word)
========================  ========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from scamwall.indicators import IndicatorKind
from scamwall.indicators.extract import FoundIndicator
from scamwall.indicators.network import is_ip_host, registered_domain, url_host
from scamwall.reputation.allowlist import Allowlist, shipped_entries

__all__ = ["SIGNALS", "Signal", "brand_tokens", "find_signals"]

#: Every signal, in the order the combiner's features use.
SIGNALS = (
    "lookalike_link",
    "punycode_link",
    "ip_link",
    "shortened_link",
    "risky_tld_link",
    "link",
    "wallet",
    "chat_handle",
    "phone",
    "money",
)

#: How strongly each signal alone suggests fraud where nothing else can read the message.
SIGNAL_WEIGHT = {
    "lookalike_link": 0.7,
    "punycode_link": 0.4,
    "ip_link": 0.4,
    "shortened_link": 0.25,
    "risky_tld_link": 0.3,
    "link": 0.1,
    "wallet": 0.35,
    "chat_handle": 0.2,
    "phone": 0.05,
    "money": 0.15,
}

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
#: An amount is a currency sign before digits, digits before a currency, or a currency code
#: before digits: three searches, each of which can skip ahead to where it may start, instead of
#: one alternation tried at every character.
_MONEY = (
    re.compile(r"[$¥€£฿₭៛₫]\s?\d"),
    # the digit run is bounded: unbounded, a long run of digits would be re-scanned from every
    # digit (quadratic: seconds for a message of digits); and possessive: no currency starts
    # with a digit, ',' or '.', so giving part of the run back could never let one match
    re.compile(
        r"\d[\d,.]{0,24}+\s?(?:[$¥€£฿₭៛₫]|usd|usdt|rmb|cny|thb|mmk|lak|khr|vnd|baht|bath|บาท"
        r"|元|块|万|美元|dollars?|kyats?|ks\b|kip|กีบ|riels?|đồng|dong|ကျပ်|ກີບ|រៀល)"
    ),
    re.compile(r"(?:usd|usdt|rmb|thb|mmk|lak|khr|vnd)\s?\d"),
)
#: Every amount has a digit, and a digit is far cheaper to look for than an amount.
_DIGIT = re.compile(r"\d")
_HANDLE_KINDS = ("telegram:", "line:", "whatsapp:", "wechat:", "qq:")


@dataclass(frozen=True, slots=True)
class Signal:
    """One language-independent signal in a message."""

    name: str
    detail: str

    def as_reason(self) -> dict[str, object]:
        """The reason the screener reports for it."""
        return {
            "type": "signal",
            "signal": self.name,
            "weight": SIGNAL_WEIGHT[self.name],
            "text": self.detail,
        }


@lru_cache(maxsize=1)
def brand_tokens() -> frozenset[str]:
    """Names of protected brands: the first label of every shipped official domain with at
    least four letters (``kasikornbank``, ``icbc``, ``kbzpay``…)."""
    tokens = set()
    for entry in shipped_entries():
        if entry.kind is IndicatorKind.DOMAIN and entry.source == "shipped:official":
            label = entry.value.split(".")[0]
            if len(label) >= 4 and not label.isdigit() and label not in {"cert"}:
                tokens.add(label)
    return frozenset(tokens)


def _link_signal(host: str, allowlist: Allowlist) -> Signal | None:
    if not host:
        return None
    if is_ip_host(host):
        return Signal("ip_link", f"link to the bare address {host}")
    if allowlist.match_domain(host) is not None:
        return None
    if "xn--" in host:
        return Signal("punycode_link", f"link to {host}, a name written in punycode")
    compact = host.replace("-", "")
    for brand in brand_tokens():
        if brand in compact:
            return Signal(
                "lookalike_link", f"{host} borrows the name {brand!r} but is not its site"
            )
    registered = registered_domain(host) or host
    if registered in SHORTENERS:
        return Signal("shortened_link", f"link through the shortener {registered}")
    if host.rsplit(".", 1)[-1] in RISKY_TLDS:
        return Signal("risky_tld_link", f"link to {host} under .{host.rsplit('.', 1)[-1]}")
    return Signal("link", f"link to {host}")


def find_signals(
    matching: str, found: Sequence[FoundIndicator], allowlist: Allowlist
) -> list[Signal]:
    """The signals of one message (its matching form and the indicators found in it)."""
    signals: dict[str, Signal] = {}
    for item in found:
        kind, value = item.indicator.kind, item.indicator.canonical
        signal: Signal | None = None
        if kind is IndicatorKind.URL:
            signal = _link_signal(url_host(value), allowlist)
        elif kind is IndicatorKind.DOMAIN:
            signal = _link_signal(value, allowlist)
        elif kind is IndicatorKind.CRYPTO_WALLET:
            signal = Signal("wallet", f"crypto-currency wallet {value}")
        elif kind is IndicatorKind.HANDLE and value.startswith(_HANDLE_KINDS):
            signal = Signal("chat_handle", f"asks to contact {value}")
        elif kind is IndicatorKind.PHONE:
            signal = Signal("phone", f"phone number {value}")
        if signal is not None and signal.name not in signals:
            signals[signal.name] = signal
    if _DIGIT.search(matching) is not None and _names_money(matching):
        signals["money"] = Signal("money", "names an amount of money")
    return [signals[name] for name in SIGNALS if name in signals] if signals else []


def _names_money(matching: str) -> bool:
    sign_first, digits_first, code_first = _MONEY
    return (
        sign_first.search(matching) is not None
        or digits_first.search(matching) is not None
        or code_first.search(matching) is not None
    )
