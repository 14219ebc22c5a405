"""The enforcement routes: feeds with ETags, publication, receipts, appeals, the warning page
and URL screening."""

from __future__ import annotations

from typing import Any

import pytest

from scamwall.store.audit import AuditLog
from tests.api.conftest import World


def _report(world: World, *values: str) -> None:
    response = world.client.post(
        "/v1/sightings",
        json={"sightings": [{"value": v, "tlp": "green", "confidence": 95} for v in values]},
        headers=World.auth(world.thai),
    )
    assert response.status_code == 200, response.text


def _publish(world: World) -> dict[str, Any]:
    response = world.client.post("/v1/feeds/publish", headers=World.auth(world.admin))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_feeds_are_served_to_feed_clients_with_etags(world: World) -> None:
    _report(world, "scam-shop.example", "203.0.113.0/24", "+66812345678")
    assert _publish(world)["added"] == 3
    published = AuditLog(world.store).entries()[-1]
    assert (published.action, published.detail["added"]) == ("feeds_publish", 3)
    assert published.origin is not None
    feed = World.auth(world.feed)
    refused = world.client.get("/v1/feeds/rpz")
    assert refused.status_code == 403
    rpz = world.client.get("/v1/feeds/rpz", headers=feed)
    assert rpz.status_code == 200
    assert rpz.headers["x-scamwall-serial"] == "1"
    assert "scam-shop.example CNAME .\n*.scam-shop.example CNAME ." in rpz.text
    etag = rpz.headers["etag"]
    again = world.client.get("/v1/feeds/rpz", headers={**feed, "If-None-Match": etag})
    assert again.status_code == 304
    listed = world.client.get("/v1/feeds/rpz", headers={**feed, "If-None-Match": f'"x", W/{etag}'})
    assert listed.status_code == 304
    # a consumer may ask whether the feed changed without downloading it
    head = world.client.head("/v1/feeds/rpz", headers=feed)
    assert head.status_code == 200
    assert head.headers["etag"] == etag
    assert head.content == b""
    assert world.client.get("/v1/feeds/nft", headers=feed).text.count("203.0.113.0/24") == 1
    numbers = world.client.get("/v1/feeds/numbers.json", headers=feed).json()
    assert numbers["entries"][0]["value"] == "+66812345678"
    listing = world.client.get("/v1/feeds", headers=feed).json()
    assert listing["serial"] == 1
    assert "rpz" in listing["formats"]
    missing = world.client.get("/v1/feeds/bind", headers=feed)
    assert missing.status_code == 404
    assert "rpz" in missing.json()["error"]["message"]

    _report(world, "second-scam.example")
    assert _publish(world)["serial"] == 2
    changed = world.client.get("/v1/feeds/rpz", headers={**feed, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["x-scamwall-serial"] == "2"
    delta = world.client.get("/v1/feeds/rpz", params={"since": 1}, headers=feed)
    assert "update add second-scam.example.rpz.scamwall." in delta.text
    assert "scam-shop" not in delta.text
    bad = world.client.get("/v1/feeds/rpz", params={"since": 7}, headers=feed)
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["field"] == "since"
    assert "--since" not in bad.json()["error"]["message"]


def test_only_curators_publish(world: World) -> None:
    denied = world.client.post("/v1/feeds/publish", headers=World.auth(world.feed))
    assert denied.status_code == 403


def test_receipts_from_a_resolver_show_on_the_indicator(world: World) -> None:
    _report(world, "scam-shop.example")
    _publish(world)
    response = world.client.post(
        "/v1/feeds/receipts",
        json={
            "consumer": "resolver-bkk-1",
            "period_end": "2026-11-30T00:00:00Z",
            "hits": [{"value": "scam-shop.example", "hits": 12}, {"value": "", "hits": 1}],
        },
        headers=World.auth(world.feed),
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1
    assert response.json()["rejected"][0]["index"] == 1
    page = world.client.get(
        "/v1/indicators/lookup",
        params={"value": "scam-shop.example"},
        headers=World.auth(world.chinese),
    ).json()
    notes = [s["note"] for s in page["sightings"] if s["source_kind"] == "enforcement_receipt"]
    assert notes == ["blocked at resolver-bkk-1: 12 hits (until 2026-11-30T00:00:00+00:00)"]
    analyst = world.client.post(
        "/v1/feeds/receipts",
        json={"consumer": "x", "hits": []},
        headers=World.auth(world.chinese),
    )
    assert analyst.status_code == 403


def test_receipts_with_a_time_out_of_range_are_refused_by_field(world: World) -> None:
    for field, value in (
        ("period_start", "0001-01-01T00:00:00+14:00"),
        ("period_end", "9999-12-31T23:59:59-14:00"),
    ):
        response = world.client.post(
            "/v1/feeds/receipts",
            json={"consumer": "r1", field: value, "hits": [{"value": "x.example", "hits": 1}]},
            headers=World.auth(world.feed),
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["details"]["field"] == field


def test_a_feed_that_fails_to_render_leaves_no_turn_behind() -> None:
    from scamwall.api.enforcement import FeedCache
    from scamwall.errors import InvalidInput

    cache = FeedCache()

    def unknown() -> Any:
        raise InvalidInput("no such serial")

    for serial in range(50):
        with pytest.raises(InvalidInput):
            cache.render(("rpz", serial), unknown)
    assert cache._rendering == {}


def test_an_appeal_from_the_public_decided_by_an_analyst(world: World) -> None:
    _report(world, "school-fees.example")
    _publish(world)
    filed = world.client.post(
        "/v1/appeals",
        json={"value": "pay.school-fees.example", "evidence": "Our school's real fee page."},
    )
    assert filed.status_code == 201, filed.text
    appeal = filed.json()
    assert appeal["status"] == "pending"
    assert "value" not in appeal
    assert "evidence" not in appeal
    assert world.client.get("/v1/appeals").status_code == 403
    pending = world.client.get("/v1/appeals", headers=World.auth(world.thai)).json()
    assert pending[0]["evidence"] == "Our school's real fee page."
    assert pending[0]["value"] == "pay.school-fees.example"
    decided = world.client.post(
        f"/v1/appeals/{appeal['id']}/decision",
        json={"accept": True, "note": "checked with the ministry"},
        headers=World.auth(world.thai),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["removed_at_serial"] == 2
    rpz = world.client.get("/v1/feeds/rpz", headers=World.auth(world.feed))
    assert rpz.headers["x-scamwall-serial"] == "2"
    assert "school-fees" not in rpz.text
    status = world.client.get(f"/v1/appeals/{appeal['id']}").json()
    assert status["status"] == "accepted"
    assert _publish(world)["changed"] is False  # the disputed report does not put it back


def test_a_local_number_is_appealed_with_its_region(world: World) -> None:
    _report(world, "+66812345678")
    _publish(world)
    evidence = {"evidence": "This is my shop's number."}
    unknown = world.client.post("/v1/appeals", json={"value": "0812345678", **evidence})
    assert unknown.status_code == 422
    assert "--region" not in unknown.json()["error"]["message"]  # not a command line
    filed = world.client.post(
        "/v1/appeals", json={"value": "081 234 5678", "region": "th", **evidence}
    )
    assert filed.status_code == 201, filed.text


def test_warning_page_in_the_visitors_language_and_for_blocked_hosts(world: World) -> None:
    _report(world, "fake-bank.example")
    _publish(world)
    thai = world.client.get(
        "/blocked",
        params={"name": "fake-bank.example"},
        headers={"Accept-Language": "th-TH,th;q=0.9,en;q=0.5"},
    )
    assert thai.status_code == 200
    assert '<html lang="th"' in thai.text
    assert "fake-bank.example" in thai.text
    burmese = world.client.get("/blocked", params={"lang": "my"})
    assert '<html lang="my"' in burmese.text
    # its links to other languages keep the entry
    chinese = world.client.get("/blocked", params={"name": "fake-bank.example", "lang": "zh"})
    assert 'href="?lang=th&amp;name=fake-bank.example"' in chinese.text
    # a name in Unicode finds its entry as its punycode form does
    _report(world, "xn--e1afmkfd.com")
    _publish(world)
    for name in ("xn--e1afmkfd.com", "пример.com", "ПРИМЕР.com."):
        unicode_page = world.client.get("/blocked", params={"name": name, "lang": "en"})
        assert "xn--e1afmkfd.com" in unicode_page.text, name
    # the walled garden sends the visitor with the blocked name as Host
    walled = world.client.get("/login.php", headers={"Host": "www.fake-bank.example"})
    assert walled.status_code == 200
    assert "fake-bank.example" in walled.text
    # the entry, not the name asked for: the blocked site's owner writes the labels under it
    assert "www.fake-bank.example" not in walled.text
    lure = "call-0812345678-refund.fake-bank.example"
    for page in (
        world.client.get("/", headers={"Host": lure}),
        world.client.get("/blocked", params={"name": lure}),
    ):
        assert "fake-bank.example" in page.text
        assert "0812345678" not in page.text
    assert "<form" in walled.text
    assert walled.headers["cache-control"] == "no-store"
    # the API itself answers for any other host, and for the API's own paths on any host
    assert world.client.get("/v1/feeds", headers={"Host": "api.example"}).status_code == 403
    api = world.client.post(
        "/v1/feeds/publish", headers={"Host": "fake-bank.example", **World.auth(world.admin)}
    )
    assert api.status_code == 200
    assert api.json()["changed"] is False
    # the page names only what is on the block lists: a link cannot make it say anything else
    lure = world.client.get("/blocked", params={"name": "Refund desk: call +66 81 234 5678"})
    assert lure.status_code == 200
    assert "Refund desk" not in lure.text
    form = world.client.post(
        "/blocked/appeal",
        data={"value": "fake-bank.example", "evidence": "This is my own bakery.", "lang": "vi"},
        headers={"Host": "fake-bank.example"},
    )
    assert form.status_code == 201
    assert '<html lang="vi"' in form.text
    refused = world.client.post(
        "/blocked/appeal", data={"value": "fake-bank.example", "evidence": "x", "lang": "zh"}
    )
    assert refused.status_code == 400
    assert "evidence" in refused.text


def test_screen_url_gives_a_verdict_or_an_error_per_line(world: World) -> None:
    _report(world, "scam-shop.example", "198.51.100.0/24")
    _publish(world)
    response = world.client.post(
        "/v1/screen/url",
        json={
            "inputs": [
                "https://pay.scam-shop.example/checkout",
                "198.51.100.77",
                "google.com",
                "+66812345678",
                "",
            ]
        },
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["input"] for r in results][:3] == [
        "https://pay.scam-shop.example/checkout",
        "198.51.100.77",
        "google.com",
    ]
    assert results[0]["verdict"] == "block"
    assert results[0]["reasons"][0] == {
        "type": "blocked",
        "entry": "scam-shop.example",
        "kind": "domain",
        "serial": 1,
        "expires_at": results[0]["reasons"][0]["expires_at"],
    }
    assert results[1]["verdict"] == "block"
    assert results[2]["verdict"] == "allow"
    assert results[2]["reasons"][0]["type"] == "allowlisted"
    assert "phone" in results[3]["error"]
    assert "empty" in results[4]["error"]
    too_many = world.client.post("/v1/screen/url", json={"inputs": ["a.example"] * 101})
    assert too_many.status_code == 413


def test_one_input_that_is_not_valid_unicode_does_not_fail_the_batch(world: World) -> None:
    # JSON escapes a lone surrogate as any other character; no UTF-8 answer can echo it back
    body = b'{"inputs": ["\\ud800scam.com", "http://x.com/\\udfff", "google.com"]}'
    response = world.client.post(
        "/v1/screen/url", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    first, second, third = response.json()["results"]
    assert first["input"] == "\ufffdscam.com"
    assert "not valid Unicode: a lone surrogate at position 1" in first["error"]
    assert second["input"] == "http://x.com/\ufffd"
    assert "lone surrogate" in second["error"]
    assert third["verdict"] == "allow"


def test_screen_call_answers_one_call(world: World) -> None:
    _report(world, "+66812345678")
    world.client.post("/v1/reputation/refresh", headers=World.auth(world.admin))
    feed = World.auth(world.feed)
    reported = world.client.post(
        "/v1/screen/call", json={"caller": "081-234-5678", "callee": "+66811111111"}, headers=feed
    )
    assert reported.status_code == 200, reported.text
    assert reported.json()["verdict"] == "warn"  # one analyst report: 0.77
    assert reported.json()["flags"] == ["reported"]
    spoofed = world.client.post(
        "/v1/screen/call",
        json={"caller": "+66822222222", "callee": "+66811111111", "trunk_country": "KH"},
        headers=feed,
    )
    assert spoofed.json()["flags"] == ["spoofed_caller_id"]
    bad = world.client.post(
        "/v1/screen/call", json={"caller": "nope", "callee": "+66811111111"}, headers=feed
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_indicator"
