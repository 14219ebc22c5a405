"""The API end to end on each backend: sharing, tokens, errors, limits, audit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from scamwall.api import create_app
from scamwall.api.auth import AnonymousRateLimit
from scamwall.errors import TooManyRequests
from scamwall.settings import Settings
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog
from tests.api.conftest import World

ERROR_KEYS = {"code", "message", "details"}


def _assert_error(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == ERROR_KEYS
    assert body["error"]["code"] == code
    return body["error"]  # type: ignore[no-any-return]


def _submit(world: World, token: str, records: list[dict[str, object]]) -> dict[str, object]:
    response = world.client.post(
        "/v1/sightings", json={"sightings": records}, headers=world.auth(token)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _lookup(world: World, value: str, token: str | None) -> dict[str, object]:
    headers = world.auth(token) if token else {}
    response = world.client.get("/v1/indicators/lookup", params={"value": value}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_submission_keeps_the_good_part_and_explains_the_rest(world: World) -> None:
    result = _submit(
        world,
        world.thai,
        [
            {"value": "081-234-5678", "tlp": "green", "observed_at": "2026-11-02T09:15:00+07:00"},
            {"value": "0812-"},
            {"value": "+66 92 555 0101", "tlp": "amber", "groups": ["Mekong joint operation"]},
            {"value": "+66 92 555 0102", "tlp": "green", "groups": ["Mekong joint operation"]},
            {"value": "+66 92 555 0103", "tlp": "amber", "groups": ["No such group"]},
            "not an object",
        ],
    )
    assert result["accepted"] == 2
    rejected = {r["index"]: r for r in result["rejected"]}  # type: ignore[union-attr]
    assert set(rejected) == {1, 3, 4, 5}
    assert rejected[3]["field"] == "groups"
    assert "No such group" in rejected[4]["error"]
    assert result["ids"][1] is None  # type: ignore[index]
    again = _submit(
        world,
        world.thai,
        [{"value": "+66 81 234 5678", "tlp": "green", "observed_at": "2026-11-02T02:15:00Z"}],
    )
    assert (again["accepted"], again["duplicates"]) == (0, 1)


def test_a_submission_may_name_its_legal_basis_and_a_bad_one_is_refused_by_field(
    world: World,
) -> None:
    basis = {
        "jurisdiction": "th",
        "legal_instrument": "Computer Crime Act B.E. 2560 s.20",
        "retain_until": "2028-11-02T00:00:00+07:00",
    }
    result = _submit(
        world,
        world.thai,
        [
            {"value": "+66 92 555 0301", "tlp": "green", **basis},
            {"value": "+66 92 555 0302", "tlp": "green"},
            {"value": "+66 92 555 0303", **basis, "jurisdiction": "Thailand"},
            {"value": "+66 92 555 0304", "jurisdiction": "TH"},
            {"value": "+66 92 555 0305", "legal_instrument": "MLA request"},
            {"value": "+66 92 555 0306", "retain_until": "2028-01-01"},
            {"value": "+66 92 555 0307", **basis, "retain_until": "soon"},
            {"value": "+66 92 555 0308", **basis, "legal_instrument": "x" * 501},
        ],
    )
    assert (result["accepted"], result["ids"][2:]) == (2, [None] * 6)  # type: ignore[index]
    fields = [(r["index"], r["field"]) for r in result["rejected"]]  # type: ignore[union-attr]
    assert fields == [
        (2, "jurisdiction"),
        (3, "legal_instrument"),
        (4, "jurisdiction"),
        (5, "retain_until"),
        (6, "retain_until"),
        (7, "legal_instrument"),
    ]
    # those who may see the sighting see the basis it was reported under
    (seen,) = _lookup(world, "+66925550301", world.chinese)["sightings"]  # type: ignore[misc]
    assert seen["legal_basis"] == {
        "jurisdiction": "TH",
        "instrument": "Computer Crime Act B.E. 2560 s.20",
        "retain_until": "2028-11-01T17:00:00+00:00",
    }
    (plain,) = _lookup(world, "+66925550302", world.chinese)["sightings"]  # type: ignore[misc]
    assert plain["legal_basis"] is None
    assert _lookup(world, "+66925550301", None)["sightings"] == []  # GREEN: not the public's


def test_each_caller_sees_what_the_policy_allows(world: World) -> None:
    _submit(
        world,
        world.thai,
        [
            {"value": "+66 92 555 0101", "tlp": "amber", "groups": ["Mekong joint operation"]},
            {
                "value": "+66 92 555 0101",
                "tlp": "amber+strict",
                "observed_at": "2026-11-01T00:00:00Z",
            },
            {
                "value": "+66 92 555 0101",
                "tlp": "red",
                "recipients": ["li"],
                "observed_at": "2026-11-01T01:00:00Z",
            },
            {"value": "+66 92 555 0101", "tlp": "clear", "observed_at": "2026-11-01T02:00:00Z"},
        ],
    )
    thai = _lookup(world, "+66925550101", world.thai)
    chinese = _lookup(world, "+66925550101", world.chinese)
    public = _lookup(world, "+66925550101", None)
    assert sorted(s["tlp"] for s in thai["sightings"]) == ["amber", "amber+strict", "clear", "red"]  # type: ignore[union-attr]
    assert sorted(s["tlp"] for s in chinese["sightings"]) == ["amber", "clear", "red"]  # type: ignore[union-attr]
    assert chinese["hidden_sightings"] == 1
    assert [s["tlp"] for s in public["sightings"]] == ["clear"]  # type: ignore[union-attr]
    assert (public["hidden_sightings"], public["hidden_agencies"]) == (2, 1)  # RED not counted
    feed = world.client.get(
        "/v1/indicators/lookup", params={"value": "+66925550101"}, headers=world.auth(world.feed)
    )
    _assert_error(feed, 403, "permission_denied")


def test_red_only_indicator_is_unknown_to_those_not_named(world: World) -> None:
    _submit(world, world.thai, [{"value": "scam-red.example", "tlp": "red"}])
    assert _lookup(world, "scam-red.example", world.thai)["known"] is True
    hidden = _lookup(world, "scam-red.example", world.chinese)
    assert (hidden["known"], hidden["hidden_sightings"], hidden["sightings"]) == (False, 0, [])


def test_listing_pages_with_a_cursor_and_filters(world: World) -> None:
    _submit(
        world,
        world.thai,
        [{"value": f"+66 92 555 {i:04d}", "tlp": "green"} for i in range(7)]
        + [{"value": "pay.scam.example", "tlp": "green"}],
    )
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3, "kind": "phone"}
        if cursor:
            params["cursor"] = cursor
        page = world.client.get("/v1/indicators", params=params, headers=world.auth(world.chinese))
        body = page.json()
        seen += [item["canonical"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    by_domain = world.client.get(
        "/v1/indicators",
        params={"registered_domain": "scam.example"},
        headers=world.auth(world.chinese),
    ).json()
    assert [i["canonical"] for i in by_domain["items"]] == ["pay.scam.example"]
    _assert_error(world.client.get("/v1/indicators"), 403, "permission_denied")
    _assert_error(
        world.client.get("/v1/indicators", params={"cursor": "x"}, headers=world.auth(world.thai)),
        400,
        "invalid_input",
    )


def test_wrong_expired_revoked_and_underprivileged_tokens(world: World) -> None:
    before = len(AuditLog(world.store).entries())
    bad = world.client.get("/v1/whoami", headers=world.auth("sw_nope"))
    assert "unknown token" in str(_assert_error(bad, 401, "not_authenticated")["message"])
    assert bad.headers["WWW-Authenticate"].startswith("Bearer")
    _assert_error(
        world.client.get("/v1/whoami", headers={"Authorization": "Digest x"}),
        401,
        "not_authenticated",
    )

    access = Access(world.store)
    user = access.get_user("somchai")
    expired = access.issue_token(user, expires_in=timedelta(seconds=-1)).secret
    assert "expired" in str(
        _assert_error(
            world.client.get("/v1/whoami", headers=world.auth(expired)), 401, "not_authenticated"
        )["message"]
    )

    issued = world.client.post(
        "/v1/tokens",
        json={"agency": "TH-CCIB", "role": "analyst", "user": "wang"},
        headers=world.auth(world.admin),
    )
    assert issued.status_code == 201
    token, token_id = issued.json()["token"], issued.json()["id"]
    assert world.client.get("/v1/whoami", headers=world.auth(token)).json()["agency"] == "TH-CCIB"
    assert (
        world.client.delete(f"/v1/tokens/{token_id}", headers=world.auth(world.admin)).status_code
        == 204
    )
    revoked = world.client.get("/v1/whoami", headers=world.auth(token))
    assert "revoked" in str(_assert_error(revoked, 401, "not_authenticated")["message"])

    denied = world.client.post(
        "/v1/tokens", json={"agency": "CN-MPS", "role": "admin"}, headers=world.auth(world.thai)
    )
    _assert_error(denied, 403, "permission_denied")
    listed = world.client.get("/v1/tokens", headers=world.auth(world.admin)).json()
    assert all("token" not in t and "secret" not in str(t) for t in listed)

    actions = [e.action for e in AuditLog(world.store).entries()][before:]
    assert actions.count("auth_failed") == 4
    assert "permission_denied" in actions
    assert {"token_issue", "token_revoke"} <= set(actions)


def test_basic_auth_carries_the_token_as_password(world: World) -> None:
    response = world.client.get("/v1/whoami", auth=("anyone", world.chinese))
    assert response.json()["name"] == "li"


def test_tokens_are_stored_hashed(world: World) -> None:
    from sqlalchemy import select

    from scamwall.store.schema import tokens

    with world.store.engine.connect() as connection:
        stored = connection.execute(select(tokens.c.secret_sha256)).scalars().all()
    assert world.thai not in stored
    assert all(len(s) == 64 for s in stored)


def test_errors_have_one_shape(world: World) -> None:
    _assert_error(world.client.get("/v1/nowhere"), 404, "not_found")
    _assert_error(world.client.put("/v1/indicators/lookup"), 405, "method_not_allowed")
    _assert_error(
        world.client.get(
            "/v1/indicators/lookup",
            params={"value": "GB82 WEST 1234 5698 7654 33", "kind": "bank_account"},
        ),
        422,
        "invalid_indicator",
    )
    _assert_error(world.client.get("/v1/indicators/lookup"), 422, "invalid_request")
    _assert_error(
        world.client.post(
            "/v1/sightings",
            content=b"{",
            headers={**world.auth(world.thai), "content-type": "application/json"},
        ),
        422,
        "invalid_request",
    )
    _assert_error(
        world.client.post(
            "/v1/agencies",
            json={"code": "TH-CCIB", "country": "TH", "kind": "police"},
            headers=world.auth(world.admin),
        ),
        409,
        "already_exists",
    )


def test_request_size_and_batch_limits(world: World, database_url: str) -> None:
    settings = Settings(database_url=database_url, api_max_body_bytes=2048, api_max_batch=3)
    with TestClient(create_app(settings, store=world.store)) as client:
        big = client.post(
            "/v1/sightings",
            json={"sightings": [{"value": "x" * 4000}]},
            headers=world.auth(world.thai),
        )
        _assert_error(big, 413, "payload_too_large")
        assert big.headers["x-content-type-options"] == "nosniff"  # the limit's own answer too
        many = client.post(
            "/v1/sightings",
            json={"sightings": [{"value": "+66 92 555 0101"}] * 4},
            headers=world.auth(world.thai),
        )
        _assert_error(many, 413, "payload_too_large")


def _admitted(limit: AnonymousRateLimit, moments: list[float]) -> list[float]:
    let_through = []
    for moment in moments:
        try:
            limit.take("198.51.100.7", now=moment)
        except TooManyRequests:
            continue
        let_through.append(moment)
    return let_through


def test_the_anonymous_limit_holds_in_any_minute() -> None:
    """SCAMWALL_API_ANONYMOUS_PER_MINUTE=60 is 60 in any 60 seconds: not a full bucket at once
    and its refill on top (70 rapid requests let 62 through)."""
    rapid = _admitted(AnonymousRateLimit(60), [1000 + n * 2 / 70 for n in range(70)])
    assert len(rapid) == 60
    steady = _admitted(AnonymousRateLimit(60), [1000 + n / 2 for n in range(600)])  # 2 a second
    assert max(sum(1 for t in steady if s <= t < s + 60) for s in steady) == 60
    assert len(steady) == 5 * 60  # and every minute its 60 again


def test_the_anonymous_limit_says_the_wait_it_sends_rounded_up() -> None:
    limit = AnonymousRateLimit(60)
    _admitted(limit, [1000.0] * 60)
    for moment, wait in ((1000.0, 60), (1030.0, 30), (1059.6, 1)):
        with pytest.raises(TooManyRequests) as refused:
            limit.take("198.51.100.7", now=moment)
        assert refused.value.details["retry_after"] == wait
        assert f"try again in {wait} s" in refused.value.message
    limit.take("198.51.100.7", now=1060.0)  # waiting what it was told is enough


def test_anonymous_callers_are_rate_limited(world: World, database_url: str) -> None:
    settings = Settings(database_url=database_url, api_anonymous_per_minute=3)
    with TestClient(create_app(settings, store=world.store)) as client:
        codes = [
            client.get("/v1/indicators/lookup", params={"value": "scam.example"}).status_code
            for _ in range(5)
        ]
        assert codes == [200, 200, 200, 429, 429]
        limited = client.get("/v1/indicators/lookup", params={"value": "scam.example"})
        assert int(limited.headers["retry-after"]) >= 1
        _assert_error(limited, 429, "too_many_requests")
        said = limited.json()["error"]["message"]
        assert f"try again in {limited.headers['retry-after']} s" in said  # the same wait
        # a token is not rate limited
        authed = client.get(
            "/v1/indicators/lookup",
            params={"value": "scam.example"},
            headers=world.auth(world.thai),
        )
        assert authed.status_code == 200


def test_reads_of_amber_and_red_are_audited_and_the_chain_verifies(world: World) -> None:
    _submit(
        world,
        world.thai,
        [
            {"value": "+66 92 555 0101", "tlp": "amber", "groups": ["Mekong joint operation"]},
            {"value": "+66 92 555 0102", "tlp": "green"},
        ],
    )
    log = AuditLog(world.store)
    before = len(log.entries())
    _lookup(world, "+66925550102", world.chinese)  # GREEN: not a sensitive read
    assert len(log.entries()) == before
    _lookup(world, "+66925550101", world.chinese)
    entry = log.entries()[-1]
    assert (entry.action, entry.actor, entry.agency) == ("read", "li", "CN-MPS")
    assert entry.origin == "testclient"
    assert log.verify() == []


def test_openapi_is_served(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    assert "/v1/indicators/lookup" in spec["paths"]
    assert datetime.now(UTC).year >= 2026


def test_answers_are_not_stored_sniffed_or_framed(world: World) -> None:
    looked_up = world.client.get(
        "/v1/indicators/lookup", params={"value": "+66925550101"}, headers=world.auth(world.thai)
    )
    assert looked_up.headers["cache-control"] == "no-store"
    assert looked_up.headers["x-content-type-options"] == "nosniff"
    page = world.client.get("/blocked", params={"name": "scam.example", "lang": "en"})
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    feeds = world.client.get("/v1/feeds", headers=world.auth(world.feed))
    assert feeds.headers["cache-control"] == "no-store"  # the list of serials: not a feed file
    rpz = world.client.get("/v1/feeds/rpz", headers=world.auth(world.feed))
    assert "no-store" not in rpz.headers.get("cache-control", "")


def test_control_characters_are_refused_not_crashing_the_database(world: World) -> None:
    admin = world.auth(world.admin)
    bad_name = world.client.post(
        "/v1/agencies",
        json={"code": "KH-NPA", "name": "a\x00b", "country": "KH", "kind": "police"},
        headers=admin,
    )
    assert "control characters" in str(_assert_error(bad_name, 400, "invalid_input")["message"])
    bad_filter = world.client.get(
        "/v1/indicators", params={"agency": "TH\x00"}, headers=world.auth(world.thai)
    )
    _assert_error(bad_filter, 400, "invalid_input")
    note = _submit(world, world.thai, [{"value": "+66 92 555 0199", "note": "x\x00y"}])
    assert note["rejected"][0]["field"] == "note"  # type: ignore[index]


def test_odd_values_are_refused_per_record_never_a_server_error(world: World) -> None:
    """Values found by review: each used to end in a 500."""
    records = [
        {"value": "+66812345678", "observed_at": "0001-01-01T00:00:00+01:00"},
        {"value": "+66812345678", "note": "\ud800"},
        {"value": "+66812345678", "evidence_ref": "\udfff"},
        {"value": "+66812345678", "tlp": "amber", "groups": ["\ud800"]},
        {"value": "+66812345678", "confidence": 10**400},
    ]
    response = world.client.post(  # json.dumps escapes the lone surrogates, as a client would
        "/v1/sightings",
        content=json.dumps({"sightings": records}),
        headers={**world.auth(world.thai), "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    fields = [r["field"] for r in response.json()["rejected"]]
    assert fields == ["observed_at", "note", "evidence_ref", "groups", "confidence"]
    naive = world.client.get(
        "/v1/indicators",
        params={"observed_after": "2024-01-01T00:00:00"},
        headers=world.auth(world.thai),
    )
    assert naive.status_code == 200
    huge = world.client.delete("/v1/tokens/99999999999999999999", headers=world.auth(world.admin))
    _assert_error(huge, 422, "invalid_request")


def test_a_token_id_past_the_column_is_refused_not_a_server_error(world: World) -> None:
    """tokens.id is a 32-bit integer on PostgreSQL: a larger id had ended in a 500 there."""
    for too_large in (2**31, 3_000_000_000, 2**62):
        refused = world.client.delete(f"/v1/tokens/{too_large}", headers=world.auth(world.admin))
        _assert_error(refused, 422, "invalid_request")
    largest = world.client.delete(f"/v1/tokens/{2**31 - 1}", headers=world.auth(world.admin))
    _assert_error(largest, 404, "not_found")


def test_a_re_report_in_the_same_batch_never_widens_a_fact(world: World) -> None:
    fact = {"value": "+66 92 555 0177", "observed_at": "2026-11-01T00:00:00Z"}
    result = _submit(
        world,
        world.thai,
        [
            {**fact, "tlp": "amber"},
            {**fact, "tlp": "amber", "groups": ["Mekong joint operation"]},
        ],
    )
    assert (result["accepted"], result["duplicates"]) == (1, 1)
    assert _lookup(world, "+66925550177", world.chinese)["sightings"] == []
    red = {"value": "+66 92 555 0178", "observed_at": "2026-11-01T00:00:00Z"}
    _submit(world, world.thai, [{**red, "tlp": "red"}, {**red, "tlp": "amber"}])
    assert [s["tlp"] for s in _lookup(world, "+66925550178", world.thai)["sightings"]] == ["red"]  # type: ignore[union-attr]


def test_group_names_are_one_name_whatever_the_case(world: World) -> None:
    response = world.client.post(
        "/v1/groups",
        json={"name": "mekong JOINT operation", "members": []},
        headers=world.auth(world.admin),
    )
    assert response.status_code == 201
    assert response.json()["name"] == "Mekong joint operation"  # the existing group
    groups = world.client.get("/v1/groups", headers=world.auth(world.admin)).json()
    assert [g["name"] for g in groups] == ["Mekong joint operation"]


def test_an_admin_cannot_read_another_agency_through_a_token_it_issues(world: World) -> None:
    for role in ("analyst", "investigator", "admin", "peer"):
        refused = world.client.post(
            "/v1/tokens",
            json={"agency": "CN-MPS", "role": role, "user": f"shadow-{role}"},
            headers=world.auth(world.admin),
        )
        assert "scamwall token create" in str(
            _assert_error(refused, 403, "permission_denied")["message"]
        )
    assert AuditLog(world.store).entries()[-1].action == "permission_denied"
    own_peer = world.client.post(
        "/v1/tokens",
        json={"agency": "TH-CCIB", "role": "peer", "user": "th-instance"},
        headers=world.auth(world.admin),
    )
    assert "--role peer" in str(_assert_error(own_peer, 403, "permission_denied")["message"])
    resolver = world.client.post(
        "/v1/tokens",
        json={"agency": "cn-mps", "role": "feed", "user": "cn-resolver"},
        headers=world.auth(world.admin),
    )
    assert resolver.status_code == 201, resolver.text


def test_refusals_decided_past_the_role_check_are_audited(world: World) -> None:
    log = AuditLog(world.store)
    refused = world.client.post(
        "/v1/feeds/receipts",
        json={"consumer": "r1", "hits": [{"value": "scam.example", "hits": 3}]},
        headers=world.auth(world.thai),
    )
    _assert_error(refused, 403, "permission_denied")
    last = log.entries()[-1]
    assert (last.action, last.target) == ("permission_denied", "/v1/feeds/receipts")
    assert last.origin is not None


def test_a_caller_that_may_not_write_is_told_so_before_its_body_is_checked(
    world: World,
) -> None:
    for path in ("/v1/agencies", "/v1/groups", "/v1/tokens", "/v1/sightings", "/v1/allowlist"):
        for headers in ({}, world.auth(world.feed)):
            refused = world.client.post(path, json={"code": "X"}, headers=headers)
            _assert_error(refused, 403, "permission_denied")
    receipts = world.client.post(
        "/v1/feeds/receipts", json={"nothing": 1}, headers=world.auth(world.thai)
    )
    _assert_error(receipts, 403, "permission_denied")
    allowed = world.client.post("/v1/agencies", json={"code": "X"}, headers=world.auth(world.admin))
    _assert_error(allowed, 422, "invalid_request")  # an admin is told what the body lacks
    nowhere = world.client.post(
        "/v1/agencies",
        json={"code": "ZZ-POL", "name": "Nowhere police", "country": "ZZ", "kind": "police"},
        headers=world.auth(world.admin),
    )
    error = _assert_error(nowhere, 400, "invalid_input")
    assert error["details"] == {"field": "country"}


def test_a_body_without_length_over_the_limit_is_413(world: World, database_url: str) -> None:
    settings = Settings(database_url=database_url, api_max_body_bytes=2048)

    def chunks() -> object:
        yield b'{"sightings": ['
        for _ in range(100):
            yield b'{"value": "+66 92 555 0101"},'
        yield b'{"value": "+66 92 555 0102"}]}'

    with TestClient(create_app(settings, store=world.store)) as client:
        big = client.post(
            "/v1/sightings",
            content=chunks(),
            headers={**world.auth(world.thai), "Content-Type": "application/json"},
        )
    _assert_error(big, 413, "payload_too_large")


def test_the_api_does_not_issue_tokens_for_existing_users(world: World) -> None:
    response = world.client.post(
        "/v1/tokens",
        json={"agency": "TH-CCIB", "role": "analyst", "user": "somchai"},
        headers=world.auth(world.admin),
    )
    _assert_error(response, 409, "already_exists")


def test_wrong_tokens_spend_the_anonymous_allowance(world: World, database_url: str) -> None:
    settings = Settings(database_url=database_url, api_anonymous_per_minute=3)
    before = len(AuditLog(world.store).entries())
    with TestClient(create_app(settings, store=world.store)) as client:
        codes = [
            client.get("/v1/whoami", headers=world.auth("sw_guess")).status_code for _ in range(5)
        ]
    assert codes == [401, 401, 401, 429, 429]
    assert len(AuditLog(world.store).entries()) - before == 3


def test_feed_refusals_and_sensitive_listings_are_audited(world: World) -> None:
    log = AuditLog(world.store)
    world.client.get(
        "/v1/indicators/lookup", params={"value": "+66925550101"}, headers=world.auth(world.feed)
    )
    assert log.entries()[-1].action == "permission_denied"
    _submit(world, world.thai, [{"value": "+66 92 555 0190", "tlp": "amber+strict"}])
    world.client.get(
        "/v1/indicators", params={"tlp": "amber+strict"}, headers=world.auth(world.thai)
    )
    assert log.entries()[-1].action == "list"
    _submit(world, world.thai, [{"value": "+66 92 555 0191", "tlp": "clear"}])
    before = len(log.entries())
    listed = world.client.get("/v1/indicators", headers=world.auth(world.thai)).json()
    assert len(listed["items"]) == 2
    last = log.entries()[-1]
    assert len(log.entries()) == before + 1  # no filter, AMBER+STRICT among the answers
    assert last.action == "list"
    assert len(last.detail["indicators"]) == 1  # the AMBER+STRICT one, not the CLEAR one
    before = len(log.entries())
    world.client.get("/v1/indicators", params={"tlp": "clear"}, headers=world.auth(world.thai))
    assert len(log.entries()) == before
    out_of_range = world.client.get(
        "/v1/indicators",
        params={"observed_after": "0001-01-01T00:00:00+01:00"},
        headers=world.auth(world.thai),
    )
    _assert_error(out_of_range, 400, "invalid_input")
