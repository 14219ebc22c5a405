"""Private matching: the right intersection, over canonical forms, and nothing reusable leaks."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest

from scamwall.errors import InvalidInput, PayloadTooLarge, UsageError
from scamwall.exchange.private_matching import (
    PSI_PROTOCOL,
    PsiInitiator,
    PsiResponder,
    keyed_matches,
    keyed_token,
    keyed_tokens,
    matching_element,
    new_group_key,
    private_intersection,
)
from scamwall.indicators import Indicator, parse_indicator


def _phones(numbers: range) -> list[Indicator]:
    return [parse_indicator(f"+6681{n:07d}") for n in numbers]


def _accounts(numbers: range) -> list[Indicator]:
    return [parse_indicator(f"TH:KBANK:{n:010d}") for n in numbers]


def _wire(message: dict[str, Any]) -> dict[str, Any]:
    """As it would arrive over HTTP."""
    decoded: dict[str, Any] = json.loads(json.dumps(message))
    return decoded


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_psi_finds_exactly_the_common_elements_of_random_sets(seed: int) -> None:
    rng = random.Random(seed)
    pool = _phones(range(rng.randrange(10**6), 10**7, 7919))[:400] + _accounts(range(300))
    rng.shuffle(pool)
    common = pool[: rng.randrange(0, 60)]
    only_a = pool[100 : 100 + rng.randrange(1, 200)]
    only_b = pool[400 : 400 + rng.randrange(1, 200)]

    result, learned = private_intersection(common + only_a, only_b + common)

    expected = sorted(common, key=lambda i: (i.kind.value, i.canonical))
    assert list(result.matches) == expected
    assert list(learned) == expected
    assert (result.own_size, result.their_size) == (
        len(common) + len(only_a),
        len(common) + len(only_b),
    )


def test_psi_with_an_empty_side_matches_nothing() -> None:
    result, learned = private_intersection([], _phones(range(5)))
    assert (result.matches, learned, result.own_size, result.their_size) == ((), (), 0, 5)


def test_the_same_number_written_two_ways_matches_in_both_modes() -> None:
    thai_local = parse_indicator("081-234 5678", "phone", region="TH")
    international = parse_indicator("+66 81 234 5678")
    spaced_account = parse_indicator("th:kbank:123-4-56789-0")
    compact_account = parse_indicator("TH:KBANK:1234567890")

    result, _ = private_intersection([thai_local, spaced_account], [international, compact_account])
    assert len(result.matches) == 2

    key = new_group_key()
    assert keyed_matches([thai_local], keyed_tokens([international], key), key) == [thai_local]
    assert matching_element(thai_local) == b"phone|+66812345678"


def test_a_phone_and_an_account_with_the_same_digits_do_not_match() -> None:
    phone = parse_indicator("+66812345678")
    sender = parse_indicator("66812345678", "sms_sender")
    result, _ = private_intersection([phone], [sender])
    assert result.matches == ()


def test_each_run_blinds_with_fresh_secrets() -> None:
    same = _phones(range(3))
    first = PsiInitiator(same).request()
    second = PsiInitiator(same).request()
    assert first["session"] != second["session"]
    assert not set(first["blinded"]) & set(second["blinded"])

    request = PsiInitiator(same).request()
    one = PsiResponder(same).respond(_wire(request))
    two = PsiResponder(same).respond(_wire(request))
    assert not set(one["blinded"]) & set(two["blinded"])
    assert not set(one["double_blinded"]) & set(two["double_blinded"])


def test_messages_are_json_and_reveal_only_sizes() -> None:
    side_a = PsiInitiator(_phones(range(4)))
    request = side_a.request()
    assert set(request) == {"protocol", "kind", "session", "blinded"}
    assert request["protocol"] == PSI_PROTOCOL
    assert len(request["blinded"]) == 4
    assert all(len(base64.b64decode(point)) == 32 for point in request["blinded"])
    assert "+66" not in json.dumps(request)


def test_tokens_from_another_group_key_do_not_match() -> None:
    ours = _phones(range(50))
    key, other = new_group_key(), new_group_key()
    assert keyed_matches(ours, keyed_tokens(ours[10:20], key), key) == ours[10:20]
    assert keyed_matches(ours, keyed_tokens(ours, other), key) == []
    assert keyed_token(ours[0], key) != keyed_token(ours[0], other)


def test_keyed_tokens_are_sorted_and_distinct() -> None:
    key = new_group_key()
    phones = _phones(range(20))
    tokens = keyed_tokens(phones + phones, key)
    assert tokens == sorted(tokens)
    assert len(tokens) == 20


def test_a_short_group_key_is_refused() -> None:
    with pytest.raises(UsageError, match="16 random bytes"):
        keyed_tokens(_phones(range(1)), b"password")


def test_a_crafted_point_outside_the_group_is_refused() -> None:
    order_two = bytes([0xEC] + [0xFF] * 30 + [0x7F])  # y = -1: a point of order 2
    request = _wire(PsiInitiator(_phones(range(2))).request())
    request["blinded"][1] = base64.b64encode(order_two).decode()
    with pytest.raises(InvalidInput, match="prime-order group"):
        PsiResponder(_phones(range(2))).respond(request)

    request["blinded"][1] = "bm90IGEgcG9pbnQ="
    with pytest.raises(InvalidInput, match=r"blinded\[1\]"):
        PsiResponder(_phones(range(2))).respond(request)


def test_a_response_to_another_session_or_of_the_wrong_length_is_refused() -> None:
    side_a = PsiInitiator(_phones(range(3)))
    request = _wire(side_a.request())
    response = _wire(PsiResponder(_phones(range(3))).respond(request))

    with pytest.raises(InvalidInput, match="another session"):
        side_a.finish(response | {"session": "0" * 32})
    with pytest.raises(InvalidInput, match="2 double-blinded points for 3 sent"):
        side_a.finish(response | {"double_blinded": response["double_blinded"][:2]})
    with pytest.raises(InvalidInput, match="not a"):
        side_a.finish(response | {"protocol": "something-else"})
    assert len(side_a.finish(response).matches) == 3


def test_steps_run_once_and_in_order() -> None:
    side_a = PsiInitiator(_phones(range(2)))
    side_b = PsiResponder(_phones(range(2)))
    with pytest.raises(UsageError):
        side_a.disclosure()
    request = _wire(side_a.request())
    with pytest.raises(UsageError):
        side_a.request()
    response = _wire(side_b.respond(request))
    with pytest.raises(UsageError):
        side_b.respond(request)
    side_a.finish(response)
    with pytest.raises(UsageError):
        side_a.finish(response)
    assert len(side_b.learn(_wire(side_a.disclosure()))) == 2


def test_a_disclosure_with_positions_out_of_range_is_refused() -> None:
    side_a = PsiInitiator(_phones(range(2)))
    side_b = PsiResponder(_phones(range(2)))
    side_a.finish(_wire(side_b.respond(_wire(side_a.request()))))
    disclosure = _wire(side_a.disclosure())
    with pytest.raises(InvalidInput, match="positions"):
        side_b.learn(disclosure | {"matched": [0, 7]})


def test_sets_over_the_cap_are_refused() -> None:
    with pytest.raises(PayloadTooLarge):
        PsiInitiator(_phones(range(5)), max_elements=4)
    request = _wire(PsiInitiator(_phones(range(5))).request())
    with pytest.raises(PayloadTooLarge):
        PsiResponder(_phones(range(1)), max_elements=4).respond(request)
