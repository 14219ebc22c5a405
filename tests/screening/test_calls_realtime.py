"""Single calls answered from the reputation snapshot and the call itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scamwall.errors import InvalidIndicator, InvalidRecord
from scamwall.indicators import IndicatorKind
from scamwall.reputation.allowlist import AllowEntry, Allowlist
from scamwall.reputation.snapshot import Evidence, Reputation, ReputationSnapshot
from scamwall.screening.calls.realtime import CallScreener

SNAPSHOT = ReputationSnapshot.of(
    "test",
    [
        Reputation(IndicatorKind.PHONE, "+66812345678", 0.95, agencies=2, sightings=3),
        Reputation(IndicatorKind.PHONE, "+66899999999", 0.8, agencies=1, sightings=1),
    ],
    Allowlist(
        [
            AllowEntry(IndicatorKind.PHONE, "+661441", "the anti-fraud hotline", "operator"),
            AllowEntry(IndicatorKind.PHONE, "+6621234567", "a bank's hotline", "operator"),
        ]
    ),
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


def test_bad_numbers_are_refused_naming_the_field(screener: CallScreener) -> None:
    with pytest.raises(InvalidIndicator, match=r"^caller: not a valid phone") as caught:
        screener.screen("not a number", "+66811111111", SNAPSHOT)
    assert caught.value.details["field"] == "caller"
    with pytest.raises(InvalidIndicator, match=r"^callee: ") as caught:
        screener.screen("+66811111111", "nope", SNAPSHOT)
    assert caught.value.details["field"] == "callee"


@pytest.mark.parametrize("trunk", ["12", "XX", "", "THA"])
def test_a_trunk_country_must_be_an_iso_3166_code(screener: CallScreener, trunk: str) -> None:
    with pytest.raises(InvalidRecord, match="not an ISO 3166 alpha-2") as caught:
        screener.screen("+66822222222", "+66811111111", SNAPSHOT, trunk_country=trunk)
    assert caught.value.field == "trunk_country"
    assert screener.screen("+66822222222", "+66811111111", SNAPSHOT, trunk_country="kh").flags


def test_an_allowlisted_number_from_abroad_is_still_a_spoofing_warning(
    screener: CallScreener,
) -> None:
    listed = screener.screen("+6621234567", "+66811111111", SNAPSHOT, trunk_country="KH")
    unlisted = screener.screen("+6621234568", "+66811111111", SNAPSHOT, trunk_country="KH")
    assert (listed.verdict, listed.flags) == ("warn", ["spoofed_caller_id"])
    assert listed.score == unlisted.score
    assert listed.reasons[0]["type"] == "allowlisted"
    assert "still checked for a spoofed caller id" in listed.reasons[0]["text"]
    at_home = screener.screen("+6621234567", "+66811111111", SNAPSHOT)
    assert (at_home.verdict, at_home.score) == ("allow", 0.0)


def test_a_block_is_traced_to_its_clear_sightings(screener: CallScreener) -> None:
    seen = datetime(2026, 11, 30, tzinfo=UTC)
    evidence = (
        Evidence("11111111-1111-4111-8111-111111111111", "analyst", 0.8, seen, "TH-POLICE"),
        Evidence("22222222-2222-4222-8222-222222222222", "analyst", 0.7, seen, None),
    )
    snapshot = ReputationSnapshot.of(
        "v7",
        [Reputation(IndicatorKind.PHONE, "+66812345678", 0.95, 2, 2, evidence=evidence)],
        Allowlist(()),
    )
    verdict = screener.screen("+66812345678", "+66811111111", snapshot)
    assert verdict.verdict == "block"
    assert verdict.trace == {
        "snapshot": "v7",
        "sightings": ["11111111-1111-4111-8111-111111111111"],
        "restricted_sightings": 1,
    }
    assert verdict.as_dict()["trace"] == verdict.trace
    assert verdict.reasons[0]["sightings"][1] == {"restricted": True, "weight": 0.7}
    unreported = screener.screen("+66811111111", "+66822222222", snapshot)
    assert unreported.trace == {"snapshot": "v7"}
