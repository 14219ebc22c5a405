"""Private set intersection through the API: the responder answers members only, within its
size limit, over the set the sharing policy lets go to the caller, and audits sizes only."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from scamwall.api import create_app
from scamwall.api.matching import router as matching_router
from scamwall.exchange.legal import DefaultLegalBasis
from scamwall.exchange.matching_sets import MatchKind, matching_set
from scamwall.exchange.policy import Role
from scamwall.exchange.private_matching import PSI_PROTOCOL, PsiInitiator, PsiResult
from scamwall.exchange.reads import MAX_PAGE, shared_sightings
from scamwall.indicators import Indicator, parse_indicator
from scamwall.settings import Settings
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog
from tests.api.conftest import World

PSI = "/v1/match/psi"

# What TH-CCIB reports, and who may be told it holds each number.
REPORTS: list[dict[str, Any]] = [
    {"value": "+66 81 000 0001", "tlp": "green"},
    {"value": "+66 81 000 0002", "tlp": "clear"},
    {"value": "+66 81 000 0003", "tlp": "amber", "groups": ["Mekong joint operation"]},
    {"value": "+66 81 000 0004", "tlp": "amber"},
    {"value": "+66 81 000 0005", "tlp": "amber+strict"},
    {"value": "+66 81 000 0006", "tlp": "red", "recipients": ["li"]},
    {"value": "+66 81 000 0007", "tlp": "red"},
    {"value": "TH:KBANK:123-4-56789-0", "tlp": "green"},
]
SHARED_WITH = {
    "li": {"+66810000001", "+66810000002", "+66810000003"},  # CN-MPS, in the Mekong group
    "vong": {"+66810000001", "+66810000002"},  # LA-MPS, in no group with TH-CCIB
    "somchai": {"+66810000001", "+66810000002", "+66810000003", "+66810000004"},  # TH-CCIB
}


def with_matching(app: FastAPI) -> FastAPI:
    """The app with the matching route, unless ``create_app`` registers it already."""
    if not any(getattr(route, "path", None) == PSI for route in app.routes):
        app.include_router(matching_router)
    return app


@dataclass
class Matching:
    world: World
    client: TestClient
    tokens: dict[str, str]

    def psi(self, token: str | None, kind: str, request: dict[str, Any]) -> Any:
        headers = World.auth(token) if token else {}
        return self.client.post(PSI, json={"kind": kind, "request": request}, headers=headers)

    def run(self, name: str, values: list[Indicator], kind: str = "phone") -> PsiResult:
        initiator = PsiInitiator(values)
        response = self.psi(self.tokens[name], kind, initiator.request())
        assert response.status_code == 200, response.text
        return initiator.finish(response.json())


@pytest.fixture
def matching(world: World, database_url: str) -> Iterator[Matching]:
    access = Access(world.store)
    tokens = {
        "li": world.chinese,
        "somchai": world.thai,
        "root": world.admin,
        "feed": world.feed,
        "vong": access.issue_token_for(
            agency_code="LA-MPS", role=Role.ANALYST, user_name="vong"
        ).secret,
        "public": access.issue_token_for(
            agency_code="LA-MPS", role=Role.PUBLIC, user_name="kiosk"
        ).secret,
    }
    stored = world.client.post(
        "/v1/sightings", json={"sightings": REPORTS}, headers=world.auth(world.thai)
    )
    assert stored.json()["accepted"] == len(REPORTS), stored.text
    settings = Settings(
        database_url=database_url, api_anonymous_per_minute=10_000, match_max_elements=20
    )
    with TestClient(with_matching(create_app(settings, store=world.store))) as client:
        yield Matching(world, client, tokens)


def _phones(*numbers: int) -> list[Indicator]:
    return [parse_indicator(f"+66 81 000 {n:04d}") for n in numbers]


def _canonical(result: PsiResult) -> set[str]:
    return {indicator.canonical for indicator in result.matches}


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code, body
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", sorted(SHARED_WITH))
def test_the_initiator_learns_exactly_what_may_go_to_it(matching: Matching, name: str) -> None:
    ours = _phones(1, 2, 3, 4, 5, 6, 7, 8)  # every number TH-CCIB reported, and one it did not
    result = matching.run(name, ours)
    assert _canonical(result) == SHARED_WITH[name]
    # the size of the responder's set is revealed: it counts only what may go to the caller
    assert (result.own_size, result.their_size) == (8, len(SHARED_WITH[name]))


def test_red_and_amber_strict_never_match_even_for_those_who_may_read_them(
    matching: Matching,
) -> None:
    # li may read the RED sighting of 0006 here, and TH-CCIB its own AMBER+STRICT 0005; the
    # bit "we hold it too" is not told across instances for either marking
    assert matching.run("li", _phones(6)).matches == ()
    assert matching.run("somchai", _phones(5, 6, 7)).matches == ()
    assert matching.run("root", _phones(5, 6, 7)).matches == ()
    lookup = matching.client.get(
        "/v1/indicators/lookup",
        params={"value": "+66810000006"},
        headers=World.auth(matching.tokens["li"]),
    )
    assert [s["tlp"] for s in lookup.json()["sightings"]] == ["red"]


def test_kinds_are_matched_apart(matching: Matching) -> None:
    account = parse_indicator("TH:KBANK:1234567890")
    result = matching.run("li", [account], kind="bank_account")
    assert [i.canonical for i in result.matches] == ["TH:KBANK:1234567890"]
    assert result.their_size == 1
    assert matching.run("li", [account]).matches == ()  # the phone set holds no account
    _error(matching.psi(matching.tokens["li"], "domain", {}), 422, "invalid_request")


@pytest.mark.parametrize("name", sorted(SHARED_WITH))
def test_the_matching_set_is_what_an_export_would_send(matching: Matching, name: str) -> None:
    store = matching.world.store
    caller = Access(store).authenticate(matching.tokens[name])
    exported: set[Indicator] = set()
    cursor = None
    while True:
        page = shared_sightings(
            store, caller, legal=DefaultLegalBasis(), cursor=cursor, limit=MAX_PAGE
        )
        exported |= {item.sighting.indicator for item in page.items}
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    for kind in MatchKind:
        expected = {i for i in exported if i.kind is kind.indicator_kind}
        assert set(matching_set(store, caller, kind, legal=DefaultLegalBasis())) == expected


def test_members_only(matching: Matching) -> None:
    request = PsiInitiator(_phones(1)).request()
    _error(matching.psi(None, "phone", request), 403, "permission_denied")
    _error(matching.psi(matching.tokens["public"], "phone", request), 403, "permission_denied")
    _error(matching.psi(matching.tokens["feed"], "phone", request), 403, "permission_denied")
    _error(matching.psi("sw_not-a-token", "phone", request), 401, "not_authenticated")
    refusals = [e for e in AuditLog(matching.world.store).entries() if e.target == PSI]
    assert {e.action for e in refusals} == {"permission_denied", "auth_failed"}
    assert not [e for e in AuditLog(matching.world.store).entries() if e.action == "match_psi"]


def test_sizes_are_bounded(matching: Matching, database_url: str) -> None:
    at_limit = PsiInitiator(_phones(*range(1, 21))).request()
    assert matching.psi(matching.tokens["li"], "phone", at_limit).status_code == 200
    over = PsiInitiator(_phones(*range(1, 22))).request()
    error = _error(matching.psi(matching.tokens["li"], "phone", over), 413, "payload_too_large")
    assert error["details"]["limit"] == 20
    assert "at most 20" in error["message"]

    small_body = Settings(
        database_url=database_url, api_anonymous_per_minute=10_000, api_max_body_bytes=2048
    )
    with TestClient(with_matching(create_app(small_body, store=matching.world.store))) as client:
        big = client.post(
            PSI,
            json={"kind": "phone", "request": PsiInitiator(_phones(*range(100))).request()},
            headers=World.auth(matching.tokens["li"]),
        )
    _error(big, 413, "payload_too_large")


def test_malformed_and_crafted_requests_are_refused(matching: Matching) -> None:
    token = matching.tokens["li"]
    good = PsiInitiator(_phones(1, 2)).request()
    _error(matching.psi(token, "phone", {**good, "protocol": "other/v0"}), 400, "invalid_input")
    _error(matching.psi(token, "phone", {**good, "kind": "response"}), 400, "invalid_input")
    _error(matching.psi(token, "phone", {**good, "session": "short"}), 400, "invalid_input")
    _error(matching.psi(token, "phone", {**good, "blinded": "AAAA"}), 400, "invalid_input")
    _error(matching.psi(token, "phone", {**good, "blinded": ["AAAA"]}), 400, "invalid_input")
    # the neutral element and a point of small order would leak bits of the responder's scalar
    identity = base64.b64encode(b"\x01" + b"\x00" * 31).decode()
    error = _error(
        matching.psi(token, "phone", {**good, "blinded": [identity]}), 400, "invalid_input"
    )
    assert "prime-order group" in error["message"]
    missing = matching.client.post(PSI, json={"kind": "phone"}, headers=World.auth(token))
    _error(missing, 422, "invalid_request")


def test_each_session_is_audited_with_sizes_only(matching: Matching) -> None:
    initiator = PsiInitiator(_phones(1, 2, 3, 9))
    request = initiator.request()
    response = matching.psi(matching.tokens["li"], "phone", request)
    assert response.status_code == 200
    assert response.json()["protocol"] == PSI_PROTOCOL
    entries = [e for e in AuditLog(matching.world.store).entries() if e.action == "match_psi"]
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.actor, entry.agency, entry.target) == ("li", "CN-MPS", "kind:phone")
    assert entry.detail == {
        "session": request["session"],
        "initiator_size": 4,
        "responder_size": 3,
    }
    assert "+66" not in json.dumps(entry.detail)
    assert AuditLog(matching.world.store).verify() == []
