"""``POST /v1/screen/call``: fields checked and named, blocks traced to their sightings."""

from __future__ import annotations

from tests.api.conftest import World


def test_a_trunk_country_that_is_no_country_is_refused(world: World) -> None:
    refused = world.client.post(
        "/v1/screen/call",
        json={"caller": "+66822222222", "callee": "+66811111111", "trunk_country": "12"},
        headers=World.auth(world.feed),
    )
    assert refused.status_code == 422, refused.text
    assert "trunk_country" in refused.text


def test_a_bad_number_is_refused_naming_its_field(world: World) -> None:
    refused = world.client.post(
        "/v1/screen/call",
        json={"caller": "+66822222222", "callee": "nope"},
        headers=World.auth(world.feed),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"]["field"] == "callee"
    assert refused.json()["error"]["message"].startswith("callee: ")


def test_a_verdict_carries_its_trace(world: World) -> None:
    answered = world.client.post(
        "/v1/screen/call",
        json={"caller": "+66822222222", "callee": "+66811111111", "trunk_country": "KH"},
        headers=World.auth(world.feed),
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["trace"] == {"snapshot": answered.json()["snapshot"]}
