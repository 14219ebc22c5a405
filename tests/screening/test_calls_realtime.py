"""Single calls answered from the reputation snapshot and the call itself."""

from __future__ import annotations

import pytest

from scamwall.errors import InvalidIndicator
from scamwall.indicators import IndicatorKind
from scamwall.reputation.allowlist import AllowEntry, Allowlist
from scamwall.reputation.snapshot import Reputation, ReputationSnapshot
from scamwall.screening.calls.realtime import CallScreener

SNAPSHOT = ReputationSnapshot.of(
    "test",
    [
        Reputation(IndicatorKind.PHONE, "+66812345678", 0.95, agencies=2, sightings=3),
        Reputation(IndicatorKind.PHONE, "+66899999999", 0.8, agencies=1, sightings=1),
    ],
    Allowlist([AllowEntry(IndicatorKind.PHONE, "+661441", "the anti-fraud hotline", "operator")]),
)


@pytest.fixture(scope="module")
def screener() -> CallScreener:
    return CallScreener(home_country="TH")


def test_a_reported_caller_is_blocked(screener: CallScreener) -> None:
    verdict = screener.screen("081-234-5678", "+66811111111", SNAPSHOT)
    assert (verdict.verdict, verdict.flags) == ("block", ["reported"])
    assert verdict.caller == "+66812345678"


def test_a_home_number_over_a_foreign_trunk_is_a_warning(screener: CallScreener) -> None:
    spoofed = screener.screen("+66822222222", "+66811111111", SNAPSHOT, trunk_country="KH")
    assert (spoofed.verdict, spoofed.flags) == ("warn", ["spoofed_caller_id"])
    domestic = screener.screen("+66822222222", "+66811111111", SNAPSHOT)
    assert (domestic.verdict, domestic.flags) == ("allow", [])
    foreign = screener.screen("+85512345678", "+66811111111", SNAPSHOT, trunk_country="KH")
    assert foreign.flags == []


def test_premium_ranges_and_reported_callees_raise_flags(screener: CallScreener) -> None:
    one_ring = screener.screen("+882123456789", "+66811111111", SNAPSHOT, trunk_country="GB")
    assert one_ring.flags == ["premium_origin"]
    assert one_ring.verdict == "warn"
    victim = screener.screen("+66811111111", "+66899999999", SNAPSHOT)
    assert victim.flags == ["callee_reported"]
    assert victim.verdict == "allow"


def test_bad_numbers_are_refused(screener: CallScreener) -> None:
    with pytest.raises(InvalidIndicator):
        screener.screen("not a number", "+66811111111", SNAPSHOT)
