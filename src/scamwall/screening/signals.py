"""Signals that do not depend on the language a message is written in.

They carry the screener where neither the model nor the rules can read the text (Burmese, Lao,
Khmer…): what the message *contains*, not what it says. A link's host is read as the web
screener reads a name (:func:`scamwall.screening.domain_signals.domain_signals`): the same brands,
vocabulary, shorteners and top-level domains, the same allowlist guard.

========================  ========================================================================
signal                    fires when
========================  ========================================================================
``lookalike_link``        a link's host imitates a protected brand without being its site
``punycode_link``         a link's host is written in punycode (``xn--``): homoglyph disguise
``ip_link``               a link goes to a bare IP address
``shortened_link``        a link goes through a URL shortener: the real target is hidden
``risky_tld_link``        a link's top-level domain is one scam sites favour (cheap, unpoliced)
``gambling_link``         a link's host has gambling words in it (casino, ``bet``, ``huay``…)
``phishing_words_link``   a link's host has words phishing sites use (login, verify, wallet…)
``link``                  any other link, unless an allowlist vouches for its host
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

from scamwall.indicators import IndicatorKind
from scamwall.indicators.extract import FoundIndicator
from scamwall.indicators.network import is_ip_host, url_host
from scamwall.reputation.allowlist import Allowlist
from scamwall.screening.domain_signals import DOMAIN_SIGNAL_WEIGHT, domain_signals

__all__ = ["SIGNALS", "SIGNAL_WEIGHT", "LinkMemo", "Signal", "find_signals"]

#: Every signal, in the order the combiner's features use.
SIGNALS = (
    "lookalike_link",
    "punycode_link",
    "ip_link",
    "shortened_link",
    "risky_tld_link",
    "gambling_link",
    "phishing_words_link",
    "link",
    "wallet",
    "chat_handle",
    "phone",
    "money",
)

#: The message signal each lexical signal of a link's host (the web screener's) becomes.
_LINK_SIGNAL = {
    "lookalike": "lookalike_link",
    "punycode": "punycode_link",
    "shortener": "shortened_link",
    "risky_tld": "risky_tld_link",
    "gambling_words": "gambling_link",
    "scam_words": "phishing_words_link",
}

#: How strongly each signal alone suggests fraud where nothing else can read the message; a
#: link's host weighs what it weighs in the web screener.
SIGNAL_WEIGHT = {
    **{_LINK_SIGNAL[name]: weight for name, weight in DOMAIN_SIGNAL_WEIGHT.items()},
    "ip_link": 0.4,
    "link": 0.1,
    "wallet": 0.35,
    "chat_handle": 0.2,
    "phone": 0.05,
    "money": 0.15,
}

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


def _link_signals(host: str, allowlist: Allowlist) -> list[Signal]:
    """What a link's host gives away: the web screener's lexical signals of the name, or
    ``link`` when it gives nothing away and no allowlist vouches for it."""
    if not host:
        return []
    if is_ip_host(host):
        return [Signal("ip_link", f"link to the bare address {host}")]
    found = [Signal(_LINK_SIGNAL[s.name], s.detail) for s in domain_signals(host, allowlist)]
    if not found and allowlist.match_domain(host) is None:
        found.append(Signal("link", f"link to {host}"))
    return found


#: The signals of each link host already read, for the messages of one batch (one allowlist).
LinkMemo = dict[str, list[Signal]]


def find_signals(
    matching: str,
    found: Sequence[FoundIndicator],
    allowlist: Allowlist,
    links: LinkMemo | None = None,
) -> list[Signal]:
    """The signals of one message (its matching form and the indicators found in it).
    ``links``: the hosts read for the other messages of its batch, screened against the same
    ``allowlist`` (a campaign's host, in many messages, is read once)."""
    signals: dict[str, Signal] = {}
    for item in found:
        kind, value = item.indicator.kind, item.indicator.canonical
        signal: Signal | None = None
        if kind is IndicatorKind.URL or kind is IndicatorKind.DOMAIN:
            host = url_host(value) if kind is IndicatorKind.URL else value
            read = links.get(host) if links is not None else None
            if read is None:
                read = _link_signals(host, allowlist)
                if links is not None:
                    links[host] = read
            for link in read:
                signals.setdefault(link.name, link)
        elif allowlist.match(kind, value) is not None:
            continue  # the bank's own hotline is no sign of fraud, as its own site is not
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
