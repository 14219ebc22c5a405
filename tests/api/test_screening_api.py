"""The screening and reputation routes: verdicts, limits, allowlist, false positives."""

from __future__ import annotations

from scamwall.store.audit import AuditLog
from tests.api.conftest import World


def _post(world: World, messages: list[object], token: str | None = None) -> dict[str, object]:
    headers = World.auth(token) if token else {}
    response = world.client.post("/v1/screen/text", json={"messages": messages}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_screen_text_answers_every_message_in_order(world: World) -> None:
    body = _post(
        world,
        [
            {"id": "a", "text": "Are we still on for lunch?"},
            {"id": "b", "text": "您好，我是公安局的，您的账户涉嫌洗钱，请立即转账到安全账户"},
            {"id": "c"},
            "not an object",
            {"id": "e", "text": ""},
        ],
        world.feed,
    )
    results = body["results"]
    assert isinstance(results, list)
    assert [r["id"] for r in results] == ["a", "b", "c", "4", "e"]
    assert results[0]["verdict"] == "allow"
    assert results[1]["verdict"] == "block"
    assert [r["category"] for r in results[2:]] == ["error"] * 3
    assert body["model"]
    assert body["snapshot"]
    assert str(body["rules"]).startswith("rules-")


def test_reported_indicators_block_after_a_refresh(world: World) -> None:
    submitted = world.client.post(
        "/v1/sightings",
        json={"sightings": [{"value": "claim-refund.example", "tlp": "clear", "confidence": 95}]},
        headers=World.auth(world.thai),
    )
    assert submitted.status_code == 200, submitted.text
    message = {"id": "m", "text": "Refund ready: https://claim-refund.example/x"}
    before = _post(world, [message], world.feed)["results"][0]  # type: ignore[index]
    refreshed = world.client.post("/v1/reputation/refresh", headers=World.auth(world.admin))
    assert refreshed.status_code == 200
    assert refreshed.json()["indicators"] == 1
    after = _post(world, [message], world.feed)["results"][0]  # type: ignore[index]
    assert after["score"] > before["score"]
    assert any(r["type"] == "indicator" for r in after["reasons"])
    reputation = world.client.get("/v1/reputation", params={"value": "claim-refund.example"}).json()
    assert reputation["agencies"] == 1
    assert reputation["evidence"][0]["agency"] == "TH-CCIB"


def test_the_public_may_screen_small_batches_only(world: World) -> None:
    one = _post(world, [{"id": "x", "text": "hello"}])
    assert one["results"][0]["verdict"] == "allow"  # type: ignore[index]
    many = world.client.post(
        "/v1/screen/text", json={"messages": [{"id": str(i), "text": "hi"} for i in range(101)]}
    )
    assert many.status_code == 413
    assert many.json()["error"]["code"] == "payload_too_large"
    assert "at most 100" in many.json()["error"]["message"]
    heavy = world.client.post(
        "/v1/screen/text", json={"messages": [{"id": "1", "text": "x" * 40_000}] * 2}
    )
    assert heavy.status_code == 413
    assert "characters" in heavy.json()["error"]["message"]
    with_token = world.client.post(
        "/v1/screen/text",
        json={"messages": [{"id": "1", "text": "x" * 40_000}] * 2},
        headers=World.auth(world.feed),
    )
    assert with_token.status_code == 200


def test_allowlist_and_false_positives_need_the_right_roles(world: World) -> None:
    entry = {"value": "ourbank.example", "reason": "the co-op bank's real site"}
    assert world.client.post("/v1/allowlist", json=entry).status_code == 403
    assert (
        world.client.post("/v1/allowlist", json=entry, headers=World.auth(world.feed)).status_code
        == 403
    )
    added = world.client.post("/v1/allowlist", json=entry, headers=World.auth(world.thai))
    assert added.status_code == 201
    assert added.json()["value"] == "ourbank.example"
    listed = world.client.get("/v1/allowlist", headers=World.auth(world.chinese)).json()
    assert [e["value"] for e in listed] == ["ourbank.example"]
    removed = world.client.delete(
        "/v1/allowlist", params={"value": "ourbank.example"}, headers=World.auth(world.admin)
    )
    assert removed.status_code == 200
    again = world.client.delete(
        "/v1/allowlist", params={"value": "ourbank.example"}, headers=World.auth(world.admin)
    )
    assert again.status_code == 404

    report = world.client.post(
        "/v1/false-positives",
        json={"value": "081 234 5678", "region": "TH", "note": "a pharmacy"},
        headers=World.auth(world.chinese),
    )
    assert report.status_code == 201
    assert report.json()["agency"] == "CN-MPS"
    assert report.json()["indicator"]["canonical"] == "+66812345678"
    feed = world.client.post(
        "/v1/false-positives", json={"value": "0812345678"}, headers=World.auth(world.feed)
    )
    assert feed.status_code == 403
    audited = {e.action: e.origin for e in AuditLog(world.store).entries()}
    for action in ("allowlist.add", "allowlist.remove", "false_positive.report"):
        assert audited[action] is not None, action  # the request's address


class _CountingEncoder:
    """Stands in for the encoder: says 0.9 for every text and remembers how many it read."""

    version = "counting"

    def __init__(self) -> None:
        self.read = 0

    def probabilities(self, texts: list[str]) -> list[float]:
        self.read += len(texts)
        return [0.9] * len(texts)


def test_the_encoder_reads_for_callers_with_a_token_never_for_the_public(world: World) -> None:
    # a second of the encoder for a kilobyte of text is no service for anyone who asks
    screener = world.client.app.state.text_screener  # type: ignore[attr-defined]
    encoder = _CountingEncoder()
    screener.encoder = encoder
    try:
        burmese = "မင်္ဂလာပါ၊ သင်သည် ကံထူးရှင်အဖြစ် ရွေးချယ်ခံရပါသည်။ ဆုငွေရယူရန် အခကြေးငွေ ပေးသွင်းပါ"
        batch = [{"id": str(i), "text": f"{burmese} {i}"} for i in range(2)]
        _post(world, batch)
        assert encoder.read == 0
        _post(world, batch, world.thai)
        assert encoder.read >= 1
    finally:
        screener.encoder = None


def test_an_unknown_region_is_refused_as_the_region_field(world: World) -> None:
    response = world.client.post(
        "/v1/screen/text", json={"messages": [{"id": "a", "text": "hi"}], "region": "XX"}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"].startswith("body.region: ")
    assert "unknown region 'XX'" in error["message"]
    screened = _post(world, [{"id": "a", "text": "call 081 234 5678"}], world.thai)
    assert screened["results"][0]["id"] == "a"  # type: ignore[index]
