"""Signals that need no language: the ones read from the text itself."""

from __future__ import annotations

import pytest

from scamwall.reputation.allowlist import Allowlist
from scamwall.screening.prepare import prepare_message
from scamwall.screening.signals import find_signals


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
