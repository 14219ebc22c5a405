"""Signals that need no language: the ones read from the text itself."""

from __future__ import annotations

import pytest

from scamwall.indicators import extract_indicators
from scamwall.reputation.allowlist import Allowlist, shipped_entries
from scamwall.screening.prepare import prepare_message
from scamwall.screening.signals import SIGNAL_WEIGHT, SIGNALS, LinkMemo, find_signals


def _names(text: str) -> list[str]:
    return [
        signal.name for signal in find_signals(prepare_message(text).matching, [], Allowlist([]))
    ]


@pytest.mark.parametrize(
    "text",
    [
        "pay $500 now",
        "转账 5000元 到安全账户",
        "โอน 1,500.00 บาท ด่วน",
        "ငွေ ၅၀၀၀၀ ကျပ် လွှဲပါ",  # Burmese digits, folded to ASCII first
        "deposit USDT 300",
        "only 20 usd",
        "win 1,000,000 dollars",
        "1" * 30 + " usd",  # a run longer than the 25 looked at still ends in an amount
    ],
)
def test_an_amount_of_money_is_a_signal_in_any_language(text: str) -> None:
    assert "money" in _names(text)


@pytest.mark.parametrize(
    "text",
    [
        "see you at 5",
        "call 081 234 5678",
        "usd rates today",
        "room 1203, floor 12",
        "1" * 60_000,  # a message of digits: no amount, and no quadratic search
    ],
)
def test_numbers_that_are_no_amount_are_not(text: str) -> None:
    assert "money" not in _names(text)


_SHIPPED = Allowlist(shipped_entries())


def _link_names(text: str) -> list[str]:
    prepared = prepare_message(text)
    found = extract_indicators(prepared.matching)
    return [signal.name for signal in find_signals(prepared.matching, found, _SHIPPED)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a brand inside another name, as the web screener reads it (data/brands.txt included)
        ("ส่วนลดที่ www.shopeeX.com", ["lookalike_link"]),
        ("login l.facebookk.co now", ["lookalike_link"]),
        ("SCB upgrade https://www.scb.xycit33.top", ["lookalike_link", "risky_tld_link"]),
        # a shortener hides the target even though the shortener itself is allowlisted
        ("ให้ฟรี https://bit.ly/3qCniiy", ["shortened_link"]),
        ("เครดิตฟรี mabet99.com", ["gambling_link"]),
        ("verify at secure-login-verify.net", ["phishing_words_link"]),
        ("see http://203.0.113.9/pay", ["ip_link"]),
        ("menu at www.example-bistro.com", ["link"]),
        # the brands' own sites: nothing to say about them
        ("จ่ายบิลที่ https://www.truemoveh.com/bill", []),
        ("โปร https://www.dtac.co.th/s/coin", []),
    ],
)
def test_a_links_host_is_read_as_the_web_screener_reads_it(text: str, expected: list[str]) -> None:
    assert _link_names(text) == expected


def test_each_signal_is_named_once_per_message() -> None:
    names = _link_names("https://bit.ly/a https://bit.ly/b https://tinyurl.com/c")
    assert names == ["shortened_link"]


def test_every_signal_has_a_weight() -> None:
    assert set(SIGNAL_WEIGHT) == set(SIGNALS)


def test_a_batch_reads_each_link_host_once() -> None:
    links: LinkMemo = {}
    first = prepare_message("ส่วนลดที่ www.shopeeX.com/a")
    second = prepare_message("again www.shopeeX.com/b and https://bit.ly/x")
    for prepared in (first, second):
        found = extract_indicators(prepared.matching)
        alone = find_signals(prepared.matching, found, _SHIPPED)
        assert find_signals(prepared.matching, found, _SHIPPED, links) == alone
    assert sorted(links) == ["bit.ly", "www.shopeex.com"]
