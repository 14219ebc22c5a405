"""Two instances on loopback, "CN" and "TH", kept in step by `scamwall sync` over TAXII 2.1."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from scamwall.api import create_app
from scamwall.cli import main
from scamwall.errors import PeerUnavailable
from scamwall.exchange import sync
from scamwall.exchange.policy import Caller, Role
from scamwall.exchange.reads import lookup
from scamwall.exchange.stix import parse_timestamp
from scamwall.exchange.stix_export import export_objects
from scamwall.exchange.sync import SyncLimits, sync_with_peer
from scamwall.indicators import parse_indicator
from scamwall.settings import Settings
from scamwall.store import Agency, Sighting, Store
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog
from scamwall.store.sync_positions import load_position
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp
from tests.serving import serving

GROUP = "Mekong joint operation"
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class Instance:
    store: Store
    url: str
    #: The token the other instance's agency uses here.
    token_for_peer: str

    def report(self, agency: str, value: str, tlp: Tlp, *, shared: bool = False) -> Sighting:
        groups = frozenset({Access(self.store).get_group(GROUP).id}) if shared else frozenset()
        fact = Sighting(
            indicator=parse_indicator(value, region=self.store.get_agency(agency).country),
            agency=self.store.get_agency(agency),
            observed_at=T0,
            source_kind=SourceKind.POLICE_CASE,
            confidence=80,
            tlp=tlp,
            groups=groups,
        )
        self.store.record_sightings([fact])
        return fact

    def reader(self, agency: str) -> Caller:
        return Access(self.store).agency_reader(agency)


def _instance(stack: ExitStack, store: Store, url: str, peer_agency: str) -> Instance:
    for code, country in (("CN-MPS", "CN"), ("TH-CCIB", "TH")):
        store.add_agency(code, name=code, country=country, kind=AgencyKind.POLICE)
    access = Access(store)
    access.add_group(GROUP, members=["CN-MPS", "TH-CCIB"])
    token = access.issue_token_for(
        agency_code=peer_agency, role=Role.PEER, user_name=f"{peer_agency.lower()}-sync"
    ).secret
    settings = Settings(database_url=url, api_anonymous_per_minute=10_000)
    served = stack.enter_context(serving(create_app(settings, store=store)))
    return Instance(store, served, token)


@pytest.fixture
def pair(store: Store, database_url: str, tmp_path: Path) -> Iterator[tuple[Instance, Instance]]:
    """CN on the backend under test, TH on SQLite, each serving TAXII on loopback."""
    thai_url = f"sqlite:///{tmp_path / 'th.db'}"
    thai_store = Store.open(thai_url, require_schema=False)
    thai_store.initialise()
    with ExitStack() as stack:
        chinese = _instance(stack, store, database_url, "TH-CCIB")
        thai = _instance(stack, thai_store, thai_url, "CN-MPS")
        yield chinese, thai
    thai_store.close()


def _values(instance: Instance, agency: str) -> dict[str, Tlp]:
    from scamwall.exchange.legal import DefaultLegalBasis
    from scamwall.exchange.reads import shared_sightings

    page = shared_sightings(instance.store, instance.reader(agency), legal=DefaultLegalBasis())
    return {item.sighting.indicator.canonical: item.sighting.tlp for item in page.items}


def test_a_sighting_made_in_one_appears_in_the_other(pair: tuple[Instance, Instance]) -> None:
    chinese, thai = pair
    chinese.report("CN-MPS", "+86 138 0013 8000", Tlp.GREEN)
    chinese.report("CN-MPS", "scam-bank.example", Tlp.AMBER, shared=True)
    chinese.report("CN-MPS", "kept-at-home.example", Tlp.AMBER)
    chinese.report("CN-MPS", "+86 139 0000 0000", Tlp.RED)
    chinese.report("CN-MPS", "+86 137 0000 0000", Tlp.AMBER_STRICT)
    chinese.store.add_agency("LA-MPS", name="LA-MPS", country="LA", kind=AgencyKind.POLICE)
    chinese.report("LA-MPS", "lao-casino.example", Tlp.CLEAR)  # a third country's
    thai.report("TH-CCIB", "+66 81 234 5678", Tlp.CLEAR)
    thai.report("TH-CCIB", "thai-lottery.example", Tlp.GREEN)

    # TH syncs with CN: pulls what CN shares with TH-CCIB, pushes what TH shares with CN-MPS
    report = sync_with_peer(
        thai.store, f"{chinese.url}/taxii2/", chinese.token_for_peer, peer_agency_code="CN-MPS"
    )
    assert report.pulled_new == 2
    assert report.relayed == 1  # LA-MPS's sighting is Laos's instance's to share
    assert report.pushed == 2
    assert report.push_failures == []

    in_thailand = _values(thai, "TH-CCIB")
    assert in_thailand["+8613800138000"] is Tlp.GREEN
    assert in_thailand["scam-bank.example"] is Tlp.AMBER  # marking kept, shared with the group
    assert "kept-at-home.example" not in in_thailand
    assert not {"+8613900000000", "+8613700000000"} & set(in_thailand)  # never leave
    analyst = Caller("a", Role.ANALYST, agency_id=thai.store.get_agency("TH-CCIB").id,
                     group_ids=thai.reader("TH-CCIB").group_ids)  # fmt: skip
    seen = lookup(thai.store, analyst, parse_indicator("scam-bank.example"))
    assert [s.agency for s in seen.sightings] == ["CN-MPS"]

    in_china = _values(chinese, "CN-MPS")
    assert in_china["+66812345678"] is Tlp.CLEAR
    assert in_china["thai-lottery.example"] is Tlp.GREEN

    # again: nothing new on either side, no duplicates
    again = sync_with_peer(
        thai.store, f"{chinese.url}/taxii2/", chinese.token_for_peer, peer_agency_code="CN-MPS"
    )
    assert again.pulled_new == 0
    assert again.pushed == 0
    assert len(_values(thai, "TH-CCIB")) == len(in_thailand)

    # a new sighting in CN reaches TH on the next sync, and only it is pulled
    chinese.report("CN-MPS", "new-scam.example", Tlp.GREEN)
    later = sync_with_peer(
        thai.store, f"{chinese.url}/taxii2/", chinese.token_for_peer, peer_agency_code="CN-MPS"
    )
    assert later.pulled_new == 1
    assert "new-scam.example" in _values(thai, "TH-CCIB")


def test_sync_resumes_where_it_stopped(pair: tuple[Instance, Instance]) -> None:
    chinese, thai = pair
    for number in range(30):
        chinese.report("CN-MPS", f"shop-{number}.example", Tlp.GREEN)
    tiny = SyncLimits(page_objects=16, max_pages=2)
    first = sync_with_peer(
        thai.store, chinese.url + "/taxii2/", chinese.token_for_peer,
        peer_agency_code="CN-MPS", push=False, limits=tiny,
    )  # fmt: skip
    assert 0 < first.pulled_new < 30
    total = first.pulled_new
    for _ in range(40):
        step = sync_with_peer(
            thai.store, chinese.url + "/taxii2/", chinese.token_for_peer,
            peer_agency_code="CN-MPS", push=False, limits=tiny,
        )  # fmt: skip
        total += step.pulled_new
        if total >= 30:
            break
    assert total == 30
    assert len(_values(thai, "TH-CCIB")) == 30


@pytest.mark.parametrize("reading_process", [True, False], ids=["forked-reader", "in-process"])
def test_a_pull_of_many_pages_stores_the_same_whoever_reads_them(
    pair: tuple[Instance, Instance], monkeypatch: pytest.MonkeyPatch, reading_process: bool
) -> None:
    chinese, thai = pair
    if not reading_process:
        monkeypatch.setattr(sync, "get_all_start_methods", lambda: ["spawn"])
    chinese.store.add_agency("LA-MPS", name="LA-MPS", country="LA", kind=AgencyKind.POLICE)
    for number in range(25):
        chinese.report("CN-MPS", f"green-{number}.example", Tlp.GREEN)
        chinese.report("CN-MPS", f"amber-{number}.example", Tlp.AMBER, shared=True)
        chinese.report("LA-MPS", f"lao-{number}.example", Tlp.CLEAR)  # relayed, left out
    chinese.report("CN-MPS", "green-0.example", Tlp.GREEN)  # the same fact twice: stored once

    report = sync_with_peer(
        thai.store, f"{chinese.url}/taxii2/", chinese.token_for_peer, peer_agency_code="CN-MPS",
        push=False, limits=SyncLimits(page_objects=16, write_batch=7),
    )  # fmt: skip
    assert report.pulled_new == 50
    assert report.relayed == 25
    assert report.rejected == []
    in_thailand = _values(thai, "TH-CCIB")
    assert sorted(in_thailand) == sorted(
        [f"green-{n}.example" for n in range(25)] + [f"amber-{n}.example" for n in range(25)]
    )
    assert all(in_thailand[f"amber-{n}.example"] is Tlp.AMBER for n in range(25))
    thai.store.add_agency("MM-POL", name="MM-POL", country="MM", kind=AgencyKind.POLICE)
    outside_the_group = thai.reader("MM-POL")
    assert not lookup(thai.store, outside_the_group, parse_indicator("amber-3.example")).sightings
    again = sync_with_peer(
        thai.store, f"{chinese.url}/taxii2/", chinese.token_for_peer, peer_agency_code="CN-MPS",
        push=False, limits=SyncLimits(page_objects=16),
    )  # fmt: skip
    assert again.pulled_new == 0


def test_a_page_that_leaves_out_its_objects_is_an_empty_page(store: Store) -> None:
    """TAXII lets an envelope with nothing in it omit ``objects``."""
    store.add_agency("CN-MPS", name="CN-MPS", country="CN", kind=AgencyKind.POLICE)
    with serving(_raw_peer([b'{"more": false}'])) as url:
        report = sync_with_peer(
            store, url + "/taxii2/", "sw_x", peer_agency_code="CN-MPS", push=False
        )
    assert (report.pulled_objects, report.pulled_new, report.rejected) == (0, 0, [])


def test_a_dead_or_wrong_peer_is_refused_with_a_reason(pair: tuple[Instance, Instance]) -> None:
    chinese, thai = pair
    with pytest.raises(PeerUnavailable, match="401"):
        sync_with_peer(thai.store, chinese.url + "/taxii2/", "sw_wrong", peer_agency_code="CN-MPS")
    with pytest.raises(PeerUnavailable):
        sync_with_peer(
            thai.store, "http://127.0.0.1:9/taxii2/", "sw_x", peer_agency_code="CN-MPS",
            limits=SyncLimits(timeout_s=2),
        )  # fmt: skip


def test_the_sync_command(pair: tuple[Instance, Instance], monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:  # fmt: skip
    chinese, _ = pair
    chinese.report("CN-MPS", "+86 138 0013 8000", Tlp.GREEN)
    monkeypatch.setenv("SCAMWALL_DATABASE_URL", f"sqlite:///{tmp_path / 'th.db'}")
    monkeypatch.setenv("SCAMWALL_PEER_TOKEN", chinese.token_for_peer)
    code = main(["sync", "--peer", chinese.url + "/taxii2/", "--agency", "CN-MPS", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["pulled_new"] == 1


def test_the_peer_may_be_named_by_its_base_url(pair: tuple[Instance, Instance]) -> None:
    """The URL `scamwall match psi` takes works for a sync too: its discovery is found under it,
    and the sync goes on from where one given the discovery's URL stopped."""
    chinese, thai = pair
    chinese.report("CN-MPS", "+86 138 0013 8000", Tlp.GREEN)
    first = sync_with_peer(
        thai.store, chinese.url, chinese.token_for_peer, peer_agency_code="CN-MPS", push=False
    )
    assert first.pulled_new == 1
    collection = first.collections[0]
    assert load_position(thai.store, f"{chinese.url}/taxii2/", collection, "pull") is not None
    assert load_position(thai.store, chinese.url, collection, "pull") is None


def test_a_url_that_serves_no_taxii_is_refused_naming_what_was_tried(store: Store) -> None:
    store.add_agency("CN-MPS", name="CN-MPS", country="CN", kind=AgencyKind.POLICE)
    nothing = FastAPI()  # answers 404 everywhere: no discovery at the URL nor under it
    with serving(nothing) as url, pytest.raises(PeerUnavailable) as refused:
        sync_with_peer(store, url, "sw_x", peer_agency_code="CN-MPS")
    assert f"{url}: HTTP 404" in refused.value.message
    assert f"{url}/taxii2/: HTTP 404" in refused.value.message
    assert refused.value.details["tried"] == [url, f"{url}/taxii2/"]


PEER_ROOT = "/taxii2/root/"


def _peer_app(name: str, collection_id: str = "c1", title: str = "Public") -> FastAPI:
    """A fake peer's discovery and its one readable collection; the caller adds the objects."""
    app = FastAPI()

    @app.get("/taxii2/")
    def discovery() -> dict[str, object]:
        return {"title": name, "default": PEER_ROOT, "api_roots": [PEER_ROOT]}

    @app.get(PEER_ROOT + "collections/")
    def collections() -> dict[str, object]:
        found = {"id": collection_id, "title": title, "can_read": True, "can_write": False}
        return {"collections": [found]}

    return app


def _endless_peer(collection_id: str) -> FastAPI:
    """A broken peer: every page says there is more, with a new token, and the same objects."""
    app = _peer_app("endless", collection_id)

    @app.get(PEER_ROOT + "collections/{ident}/objects/")
    def objects(next: str = "0") -> JSONResponse:
        body = {"more": True, "next": str(int(next) + 1), "objects": [{"type": "x-junk"}]}
        return JSONResponse(body, headers={"X-TAXII-Date-Added-Last": "2026-11-01T00:00:00Z"})

    return app


def test_a_peer_that_pages_forever_or_hangs_is_bounded(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    store.add_agency("CN-MPS", name="CN-MPS", country="CN", kind=AgencyKind.POLICE)
    with serving(_endless_peer("0b5d2c8e-1f7a-4c3b-9e6d-2a1b3c4d5e6f")) as url:
        report = sync_with_peer(
            store, url + "/taxii2/", "sw_x", peer_agency_code="CN-MPS", push=False,
            limits=SyncLimits(max_pages=5),
        )  # fmt: skip
    assert report.pulled_objects == 5  # five pages, then the run stops
    assert len(report.rejected) == 5  # each junk object refused with its reason
    assert report.pulled_new == 0

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(PeerUnavailable, match="timed out"):
            sync_with_peer(
                store, f"http://127.0.0.1:{port}/taxii2/", "sw_x", peer_agency_code="CN-MPS",
                limits=SyncLimits(timeout_s=1),
            )  # fmt: skip
        assert time.monotonic() - started < 10


def _failing_peer(collection_id: str, pages: list[list[dict[str, object]]], health: dict[str, bool],
                  asked: list[str]) -> FastAPI:  # fmt: skip
    """A peer whose pages are ``pages``; while ``health["up"]`` is False, the third fails."""
    app = _peer_app("flaky", collection_id)

    @app.get(PEER_ROOT + "collections/{ident}/objects/")
    def objects(next: str = "0") -> JSONResponse:
        asked.append(next)
        number = int(next)
        if number == 2 and not health["up"]:
            return JSONResponse({"title": "down"}, status_code=503)
        more = number + 1 < len(pages)
        body: dict[str, object] = {"more": more, "objects": pages[number]}
        if more:
            body["next"] = str(number + 1)
        return JSONResponse(body, headers={"X-TAXII-Date-Added-Last": "2026-11-01T00:00:00Z"})

    return app


def test_what_was_read_before_a_failing_page_is_kept_and_the_sync_goes_on_from_there(
    store: Store,
) -> None:
    agency = store.add_agency("CN-MPS", name="CN-MPS", country="CN", kind=AgencyKind.POLICE)
    reported = [
        Sighting(
            indicator=parse_indicator(f"shop-{number}.example"),
            agency=agency,
            observed_at=T0,
            source_kind=SourceKind.POLICE_CASE,
            confidence=80,
            tlp=Tlp.GREEN,
        )
        for number in range(4)
    ]
    pages = [list(export_objects([fact])) for fact in reported]  # one sighting a page
    health, asked = {"up": False}, []
    peer = _failing_peer("0b5d2c8e-1f7a-4c3b-9e6d-2a1b3c4d5e6f", pages, health, asked)
    with serving(peer) as url:
        with pytest.raises(PeerUnavailable, match="503"):
            sync_with_peer(store, url + "/taxii2/", "sw_x", peer_agency_code="CN-MPS", push=False)
        assert _stored(store) == {
            "shop-0.example",
            "shop-1.example",
        }  # the two pages read before it
        health["up"], asked[:] = True, []
        report = sync_with_peer(
            store, url + "/taxii2/", "sw_x", peer_agency_code="CN-MPS", push=False
        )
    assert asked == ["2", "3"]  # on from the failed page, not from the start
    assert report.pulled_new == 2
    assert _stored(store) == {f"shop-{number}.example" for number in range(4)}


def _stored(store: Store) -> set[str]:
    from scamwall.exchange.legal import DefaultLegalBasis
    from scamwall.exchange.reads import shared_sightings

    page = shared_sightings(store, Access(store).agency_reader("CN-MPS"), legal=DefaultLegalBasis())
    return {item.sighting.indicator.canonical for item in page.items}


def _raw_peer(pages: list[bytes], *, title: str = "Public") -> FastAPI:
    """A peer whose collection answers ``pages`` as they are, ``next`` counting them."""
    app = _peer_app("raw", title=title)

    @app.get(PEER_ROOT + "collections/{ident}/objects/")
    def objects(next: str = "0") -> Response:
        return Response(pages[int(next)], media_type="application/taxii+json;version=2.1")

    return app


def _page(objects: list[dict[str, object]], number: int, last: int) -> bytes:
    more = number < last
    return json.dumps({"more": more, "next": str(number + 1), "objects": objects}).encode()


def _report(agency: Agency, value: str, tlp: Tlp = Tlp.GREEN) -> Sighting:
    return Sighting(
        indicator=parse_indicator(value), agency=agency, observed_at=T0,
        source_kind=SourceKind.POLICE_CASE, confidence=80, tlp=tlp,
    )  # fmt: skip


def test_a_page_whose_objects_are_not_json_ends_the_pull_and_keeps_what_came_before(
    store: Store,
) -> None:
    agency = store.add_agency("CN-MPS", name="CN-MPS", country="CN", kind=AgencyKind.POLICE)
    good = [list(export_objects([_report(agency, f"shop-{n}.example")])) for n in range(4)]
    broken = b'{"more": true, "next": "3", "objects": [{"type": "note", "x": "\xff"}]}'
    pages = [_page(good[0], 0, 3), _page(good[1], 1, 3), broken, _page(good[3], 3, 3)]
    with serving(_raw_peer(pages)) as url:
        with pytest.raises(PeerUnavailable, match="not JSON"):
            sync_with_peer(store, url + "/taxii2/", "sw_x", peer_agency_code="CN-MPS", push=False)
        assert _stored(store) == {"shop-0.example", "shop-1.example"}
        pages[2] = _page(good[2], 2, 3)  # the peer mends its page: the pull goes on from it
        report = sync_with_peer(
            store, url + "/taxii2/", "sw_x", peer_agency_code="CN-MPS", push=False
        )
    assert report.pulled_new == 2
    assert _stored(store) == {f"shop-{n}.example" for n in range(4)}


def test_a_fact_pulled_twice_in_one_batch_keeps_its_first_report(store: Store) -> None:
    agency = store.add_agency("CN-MPS", name="CN-MPS", country="CN", kind=AgencyKind.POLICE)
    store.add_agency("TH-CCIB", name="TH-CCIB", country="TH", kind=AgencyKind.POLICE)
    Access(store).add_group(GROUP, members=["CN-MPS", "TH-CCIB"])
    first = list(export_objects([_report(agency, "same.example", Tlp.AMBER)]))
    again = list(export_objects([_report(agency, "same.example", Tlp.GREEN)]))  # the same fact
    with serving(_raw_peer([_page(first, 0, 1), _page(again, 1, 1)], title=GROUP)) as url:
        report = sync_with_peer(
            store, url + "/taxii2/", "sw_x", peer_agency_code="CN-MPS", push=False
        )
    assert (report.pulled_new, report.pulled_known) == (1, 1)
    shared = lookup(store, Access(store).agency_reader("TH-CCIB"), parse_indicator("same.example"))
    assert [s.tlp for s in shared.sightings] == [Tlp.AMBER]  # not widened to GREEN
    store.add_agency("MM-POL", name="MM-POL", country="MM", kind=AgencyKind.POLICE)
    outside = lookup(store, Access(store).agency_reader("MM-POL"), parse_indicator("same.example"))
    assert outside.sightings == ()


def test_amber_goes_only_to_a_group_the_peer_agency_sees_it_through() -> None:
    """A sighting shared with Other (not the peer's) and Zulu (the peer's): Zulu's collection,
    never Other's, though both exist on the peer and Other comes first."""
    targets = sync._Targets(public="public", groups={"other": "c-other", "zulu": "c-zulu"})
    item = SimpleNamespace(sighting=SimpleNamespace(tlp=Tlp.AMBER, groups=frozenset({1, 2})))
    names = {1: "Other", 2: "Zulu"}
    assert targets.for_item(item, names, frozenset({2})) == "c-zulu"  # type: ignore[arg-type]
    assert targets.for_item(item, names, frozenset({3})) is None  # type: ignore[arg-type]


def test_a_peer_that_says_more_without_next_is_paged_by_date_added(store: Store) -> None:
    """TAXII 2.1: with ``more`` and no ``next``, go on by X-TAXII-Date-Added-Last. Objects
    added at one moment may not all fit on a page: the next page asks from just before that
    moment, so none is lost (``added_after`` is strict), and the ids dedupe the rest."""
    agency = store.add_agency("CN-MPS", name="CN-MPS", country="CN", kind=AgencyKind.POLICE)
    moments = ["2026-11-01T00:01:00.000Z"] * 2 + ["2026-11-01T00:02:00.000Z"] * 2
    moments.append("2026-11-01T00:03:00.000Z")
    added = [
        (moment, obj)
        for n, moment in enumerate(moments)
        for obj in export_objects([_report(agency, f"shop-{n}.example")])
    ]
    asked: list[str | None] = []
    app = _peer_app("by-date")

    @app.get(PEER_ROOT + "collections/{ident}/objects/")
    def objects(limit: int, added_after: str | None = None) -> Response:
        asked.append(added_after)
        after = parse_timestamp(added_after, "added_after") if added_after else None
        left = [(m, o) for m, o in added if after is None or parse_timestamp(m, "m") > after]
        page = left[:limit]
        return Response(
            json.dumps({"more": len(left) > limit, "objects": [o for _, o in page]}),
            media_type="application/taxii+json;version=2.1",
            headers={
                "X-TAXII-Date-Added-First": page[0][0],
                "X-TAXII-Date-Added-Last": page[-1][0],
            },
        )

    with serving(app) as url:
        report = sync_with_peer(
            store, url + "/taxii2/", "sw_x", peer_agency_code="CN-MPS", push=False,
            limits=SyncLimits(page_objects=16),  # three sightings and a part of the fourth
        )  # fmt: skip
    assert _stored(store) == {f"shop-{n}.example" for n in range(5)}
    assert report.rejected == []
    assert asked[0] is None
    assert asked[1] == "2026-11-01T00:01:59.999999Z"  # just before the moment cut
    pulled = [e for e in AuditLog(store).entries() if e.action == "sync_pull"]
    assert sum(e.detail["accepted"] for e in pulled) == report.pulled_new
