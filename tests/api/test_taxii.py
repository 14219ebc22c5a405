"""The TAXII 2.1 server, read and written by the OASIS taxii2-client as a real peer over HTTP."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import stix2
from sqlalchemy import select
from taxii2client.common import TokenAuth
from taxii2client.exceptions import AccessError
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from scamwall.api import create_app
from scamwall.exchange.policy import Role
from scamwall.indicators import parse_indicator
from scamwall.settings import Settings
from scamwall.store import Sighting, Store
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog
from scamwall.store.schema import sightings
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp
from tests.serving import serving

T0 = datetime(2026, 11, 1, tzinfo=UTC)
GROUP = "Mekong joint operation"


@dataclass
class Peer:
    url: str
    store: Store
    thai: str
    chinese: str
    lao: str

    def root(self, token: str | None) -> ApiRoot:
        server = Server(f"{self.url}/taxii2/", user="peer" if token else None, password=token)
        return server.default

    def collection(self, token: str | None, title: str) -> Collection:
        for found in self.root(token).collections:
            if found.title == title:
                return found
        raise AssertionError(f"no collection {title}")


def _fact(
    store: Store,
    agency: str,
    value: str,
    tlp: Tlp,
    *,
    groups: frozenset[int] = frozenset(),
    days: int = 0,
) -> Sighting:
    """A police sighting of ``value`` by ``agency``, not recorded (a peer's, to write)."""
    return Sighting(
        indicator=parse_indicator(value, region="TH"),
        agency=store.get_agency(agency),
        observed_at=T0 + timedelta(days=days),
        source_kind=SourceKind.POLICE_CASE,
        confidence=80,
        tlp=tlp,
        groups=groups,
    )


def _report(store: Store, agency: str, value: str, tlp: Tlp, **options: Any) -> Sighting:
    """:func:`_fact`, recorded."""
    fact = _fact(store, agency, value, tlp, **options)
    store.record_sightings([fact])
    return fact


@pytest.fixture
def peer(store: Store, database_url: str) -> Iterator[Peer]:
    store.add_agency("TH-CCIB", name="CCIB", country="TH", kind=AgencyKind.POLICE)
    store.add_agency("CN-MPS", name="MPS", country="CN", kind=AgencyKind.POLICE)
    store.add_agency("LA-MPS", name="MPS Laos", country="LA", kind=AgencyKind.POLICE)
    access = Access(store)
    access.add_group(GROUP, members=["TH-CCIB", "CN-MPS"])
    tokens = {
        name: access.issue_token_for(agency_code=agency, role=Role.ANALYST, user_name=name).secret
        for name, agency in [("somchai", "TH-CCIB"), ("li", "CN-MPS"), ("khamla", "LA-MPS")]
    }
    settings = Settings(database_url=database_url, api_anonymous_per_minute=10_000)
    with serving(create_app(settings, store=store)) as url:
        yield Peer(url, store, tokens["somchai"], tokens["li"], tokens["khamla"])


def _everything(collection: Collection, per_request: int) -> list[dict[str, Any]]:
    objects = []
    for envelope in as_pages(collection.get_objects, per_request=per_request):
        assert len(envelope.get("objects", [])) <= per_request
        objects.extend(envelope.get("objects", []))
    return objects


def test_discovery_and_collections_per_caller(peer: Peer) -> None:
    server = Server(f"{peer.url}/taxii2/")
    assert server.title == "scamwall"
    assert [c.title for c in peer.root(None).collections] == ["Public"]
    assert [c.title for c in peer.root(peer.chinese).collections] == ["Public", GROUP]
    assert [c.title for c in peer.root(peer.lao).collections] == ["Public"]
    group = peer.collection(peer.thai, GROUP)
    assert group.can_read
    assert group.can_write
    assert group.media_types == ["application/stix+json;version=2.1"]
    anonymous = peer.collection(None, "Public")
    assert anonymous.can_read
    assert not anonymous.can_write


def test_objects_pages_follow_the_policy_and_validate(peer: Peer) -> None:
    mekong = Access(peer.store).get_group(GROUP).id
    _report(peer.store, "TH-CCIB", "+66 81 234 5678", Tlp.GREEN)
    _report(peer.store, "TH-CCIB", "scam-bank.example", Tlp.AMBER, groups=frozenset({mekong}))
    _report(peer.store, "TH-CCIB", "hidden.example", Tlp.AMBER)
    _report(peer.store, "TH-CCIB", "+66 81 999 0000", Tlp.RED)
    _report(peer.store, "TH-CCIB", "+66 81 777 0000", Tlp.AMBER_STRICT)
    _report(peer.store, "LA-MPS", "lao-casino.example", Tlp.GREEN)
    for day in range(12):
        _report(peer.store, "CN-MPS", f"fake-shop-{day}.example", Tlp.CLEAR, days=day)

    zeta = Access(peer.store).add_group("Zeta bilateral", members=["TH-CCIB", "CN-MPS"]).id
    _report(peer.store, "TH-CCIB", "zeta-only.example", Tlp.AMBER, groups=frozenset({zeta}))
    group = peer.collection(peer.chinese, GROUP)
    objects = _everything(group, per_request=16)
    ids = [o["id"] for o in objects]
    sightings = [o for o in objects if o["type"] == "sighting"]
    for obj in objects:
        stix2.parse(obj, allow_custom=True)
    values = {o.get("value") or o.get("number") for o in objects}
    assert "scam-bank.example" in values  # AMBER shared with the group
    assert "hidden.example" not in values  # AMBER kept by its agency
    assert "zeta-only.example" not in values  # AMBER of a member, shared with another group
    zeta_values = {
        o.get("value") for o in _everything(peer.collection(peer.chinese, "Zeta bilateral"), 16)
    }
    assert "zeta-only.example" in zeta_values
    assert "lao-casino.example" not in values  # not an agency of the group
    assert not {"+66819990000", "+66817770000"} & values  # RED, AMBER+STRICT never leave
    assert len(sightings) == 2 + 12
    assert len({s["id"] for s in sightings}) == len(sightings)  # no sighting twice
    assert set(ids) == {o["id"] for o in _everything(group, per_request=1000)}
    assert set(ids) == {o["id"] for o in _everything(group, per_request=2)}  # sightings cut

    manifest = group.get_manifest()
    assert {m["id"] for m in manifest["objects"]} == set(ids)
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest["objects"])

    public = _everything(peer.collection(None, "Public"), per_request=5)
    assert {o["type"] for o in public} >= {"sighting", "indicator"}
    assert len([o for o in public if o["type"] == "sighting"]) == 12  # CLEAR only

    later = group.get_objects(added_after=manifest["objects"][-1]["date_added"])
    assert later.get("objects", []) == []

    with pytest.raises(AccessError):
        peer.collection(None, "Public").add_objects({"objects": []})  # the public reads only


def test_one_object_versions_and_errors(peer: Peer) -> None:
    fact = _report(peer.store, "TH-CCIB", "+66 81 234 5678", Tlp.GREEN)
    group = peer.collection(peer.chinese, GROUP)
    sighting_id = f"sighting--{fact.id}"
    found = group.get_object(sighting_id)
    assert [o["id"] for o in found["objects"]] == [sighting_id]
    assert group.object_versions(sighting_id)["versions"] == [found["objects"][0]["modified"]]
    with pytest.raises(requests.HTTPError) as missing:
        group.get_object(f"sighting--{'0' * 8}-0000-5000-8000-{'0' * 12}")
    assert missing.value.response.status_code == 404
    assert missing.value.response.headers["content-type"].startswith("application/taxii+json")
    assert json.loads(missing.value.response.text)["http_status"] == "404"

    base = f"{peer.url}/taxii2/scamwall/collections/"
    refused = requests.get(base, headers={"Accept": "text/html"}, timeout=10)
    assert refused.status_code == 406
    for accept in ("application/taxii+json;version=2.0", "application/taxii+json;q=0"):
        older = requests.get(base, headers={"Accept": accept}, auth=("any", peer.chinese))
        assert older.status_code == 406, accept
    for accept in ("application/taxii+json", "text/html, application/*;q=0.5"):
        taken = requests.get(base, headers={"Accept": accept}, auth=("any", peer.chinese))
        assert taken.status_code == 200, accept
    feed = (
        Access(peer.store)
        .issue_token_for(agency_code="TH-CCIB", role=Role.FEED, user_name="resolver")
        .secret
    )
    public = f"{base}{peer.collection(None, 'Public').id}/objects/"
    filtered = requests.get(
        public, params={"match[spec_version]": "2.0"}, auth=("any", feed), timeout=10
    )
    assert filtered.status_code == 403  # a filter does not open what the caller may not read
    unread = requests.post(
        public, data="not json", auth=("any", feed), timeout=10, headers={"Content-Type": "x"}
    )
    assert unread.status_code == 403  # told before its body is read
    nobody = f"{base}{'0' * 8}-0000-0000-0000-{'0' * 12}/"
    for path in ("objects/", "manifest/"):
        unknown = requests.get(nobody + path, params={"match[spec_version]": "2.0"}, timeout=10)
        assert unknown.status_code == 404, path
    wrong = requests.get(base, headers={"Authorization": "Bearer sw_nope"}, timeout=10)
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/taxii+json")
    basic = requests.get(base, auth=("any", peer.chinese), timeout=10)
    assert [c["title"] for c in basic.json()["collections"]] == ["Public", GROUP]
    token_auth = Server(f"{peer.url}/taxii2/", auth=TokenAuth(peer.chinese))  # "Token sw_…"
    assert [c.title for c in token_auth.default.collections] == ["Public", GROUP]
    bad = requests.get(
        f"{base}{group.id}/objects/", params={"limit": 0}, auth=("any", peer.chinese), timeout=10
    )
    assert bad.status_code == 400
    assert "limit" in bad.json()["description"]


def test_match_version_takes_the_versions_the_manifest_gives_however_written(
    peer: Peer,
) -> None:
    _report(peer.store, "TH-CCIB", "+66 81 234 5678", Tlp.CLEAR)
    url = f"{peer.url}/taxii2/scamwall/collections/{peer.collection(None, 'Public').id}/"
    headers = {"Accept": "application/taxii+json;version=2.1"}
    manifest = requests.get(url + "manifest/", headers=headers, timeout=10).json()["objects"]
    for entry in manifest:
        found = requests.get(
            url + "objects/",
            params={"match[id]": entry["id"], "match[version]": entry["version"]},
            headers=headers,
            timeout=10,
        ).json()
        assert [o["id"] for o in found["objects"]] == [entry["id"]], entry
    indicator = next(e for e in manifest if e["id"].startswith("indicator--"))
    plain = indicator["version"].replace(".000Z", "Z")  # the same time without milliseconds
    assert plain != indicator["version"]
    again = requests.get(
        url + "objects/",
        params={"match[id]": indicator["id"], "match[version]": plain},
        headers=headers,
        timeout=10,
    ).json()
    assert len(again["objects"]) == 1
    wrong = requests.get(
        url + "objects/", params={"match[version]": "yesterday"}, headers=headers, timeout=10
    )
    assert wrong.status_code == 400
    with_last = requests.get(
        url + "objects/",
        params={"match[version]": "2020-01-01T00:00:00.000Z,last"},
        headers=headers,
        timeout=10,
    ).json()
    assert len(with_last["objects"]) == len(manifest)  # "last" names every object's one version


def test_writes_are_read_object_by_object_with_a_status(peer: Peer) -> None:
    from scamwall.exchange.stix_export import export_objects

    fact = _fact(peer.store, "CN-MPS", "+86 138 0013 8000", Tlp.AMBER)
    objects = list(export_objects([fact]))
    objects.append({"type": "x-unknown-thing", "id": "x-unknown-thing--1", "spec_version": "2.1"})
    group = peer.collection(peer.chinese, GROUP)
    status = group.add_objects({"objects": objects})
    assert status.status == "complete"
    assert status.total_count == len(objects)
    assert f"sighting--{fact.id}" in {done["id"] for done in status.successes}
    assert [failed["id"] for failed in status.failures] == ["x-unknown-thing--1"]
    assert status._raw["x_scamwall_new_sightings"] == 1
    stored = group.get_object(f"sighting--{fact.id}")["objects"]
    assert stored[0]["object_marking_refs"]  # AMBER kept, shared with the group
    thai_view = peer.collection(peer.thai, GROUP).get_object(f"sighting--{fact.id}")
    assert thai_view["objects"][0]["id"] == f"sighting--{fact.id}"

    again = group.add_objects({"objects": objects})
    assert again.success_count == status.success_count
    assert again._raw["x_scamwall_new_sightings"] == 0  # the same fact twice is one fact

    assert all(done["version"] for done in status.successes)

    public = peer.collection(peer.chinese, "Public").add_objects({"objects": objects[:-1]})
    assert public._raw["x_scamwall_new_sightings"] == 0
    assert [failed["id"] for failed in public.failures] == [f"sighting--{fact.id}"]
    assert "CLEAR only" in json.dumps(public.failures)


def test_a_user_writes_for_its_own_agency_only_a_peer_for_its_country(peer: Peer) -> None:
    from scamwall.exchange.stix_export import export_objects

    peer.store.add_agency("TH-NBTC", name="NBTC", country="TH", kind=AgencyKind.TELECOM_REGULATOR)
    access = Access(peer.store)
    regulator = access.issue_token_for(
        agency_code="TH-NBTC", role=Role.ANALYST, user_name="nbtc-analyst"
    ).secret
    thai_instance = access.issue_token_for(
        agency_code="TH-NBTC", role=Role.PEER, user_name="thai-instance"
    ).secret
    police = _fact(peer.store, "TH-CCIB", "+66 92 555 0199", Tlp.CLEAR)
    objects = list(export_objects([police]))

    status = peer.collection(regulator, "Public").add_objects({"objects": objects})
    assert status._raw["x_scamwall_new_sightings"] == 0
    assert [failed["id"] for failed in status.failures] == [f"sighting--{police.id}"]
    assert "reports for its own agency only" in json.dumps(status.failures)

    status = peer.collection(thai_instance, "Public").add_objects({"objects": objects})
    assert status._raw["x_scamwall_new_sightings"] == 1
    with peer.store.engine.connect() as connection:
        stored = connection.execute(select(sightings.c.agency_id, sightings.c.submitted_by)).one()
    assert stored.agency_id == peer.store.get_agency("TH-CCIB").id
    assert stored.submitted_by is not None  # the peer's user, not the agency named
    written = [e for e in AuditLog(peer.store).entries() if e.action == "taxii_write"]
    assert [e.detail["accepted"] for e in written] == [0, 1]
    assert written[1].detail["sightings"] == [police.id]
    assert written[0].origin == "127.0.0.1"


def test_an_object_recorded_for_some_of_its_agencies_is_a_success_naming_the_rest(
    peer: Peer,
) -> None:
    from scamwall.exchange.stix_export import agency_identity, export_objects

    fact = _fact(peer.store, "TH-CCIB", "mixed.example", Tlp.CLEAR)
    objects = list(export_objects([fact]))
    chinese = agency_identity(peer.store.get_agency("CN-MPS"))
    for obj in objects:
        if obj["type"] == "sighting":
            obj["where_sighted_refs"] = [*obj["where_sighted_refs"], chinese["id"]]
    objects.append(chinese)
    status = peer.collection(peer.thai, "Public").add_objects({"objects": objects})
    assert status._raw["x_scamwall_new_sightings"] == 1
    assert status.failure_count == 0
    partly = [s for s in status.successes if s["id"] == f"sighting--{fact.id}"]
    assert partly[0]["message"].startswith("partly: it names another agency")


def test_writes_and_reads_are_bounded(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    from scamwall.exchange import taxii

    group = peer.collection(peer.chinese, GROUP)
    url = f"{peer.url}/taxii2/scamwall/collections/{group.id}/objects/"
    auth = ("any", peer.chinese)
    headers = {"Content-Type": "application/taxii+json;version=2.1"}
    monkeypatch.setattr(taxii, "MAX_WRITE_OBJECTS", 3)
    body = json.dumps({"objects": [1, 2, 3, 4]})
    too_many = requests.post(url, data=body, headers=headers, auth=auth, timeout=10)
    assert too_many.status_code == 413
    for content_type in ("text/plain", "application/json", "application/taxii+json;version=2.0"):
        wrong_type = requests.post(url, data=body, auth=auth, timeout=10,
                                   headers={"Content-Type": content_type})  # fmt: skip
        assert wrong_type.status_code == 415, content_type
    for day in range(40):
        _report(peer.store, "CN-MPS", f"shop-{day}.example", Tlp.GREEN, days=day)
    nothing = requests.get(
        url, params={"match[type]": "nothing", "limit": 1}, auth=auth, timeout=10
    )
    assert nothing.status_code == 200
    assert nothing.json()["objects"] == []
    capped = requests.get(url, params={"limit": 5000}, auth=auth, timeout=10)
    assert capped.status_code == 200
    assert len(capped.json()["objects"]) <= 1000
    early = "0001-01-01T00:00:00+01:00~00000000-0000-5000-8000-000000000000@0"  # before year 1 UTC
    token = base64.urlsafe_b64encode(early.encode()).decode().rstrip("=")
    forged = requests.get(url, params={"next": token}, auth=auth, timeout=10)
    assert forged.status_code == 400


def test_one_object_takes_the_version_filters(peer: Peer) -> None:
    fact = _report(peer.store, "TH-CCIB", "+66 81 234 5678", Tlp.GREEN)
    group = peer.collection(peer.chinese, GROUP)
    sighting_id = f"sighting--{fact.id}"
    url = f"{peer.url}/taxii2/scamwall/collections/{group.id}/objects/{sighting_id}/"
    auth = ("any", peer.chinese)
    stated = group.get_object(sighting_id)["objects"][0]["modified"]

    def found(**params: str) -> list[str]:
        answer = requests.get(url, params=params, auth=auth, timeout=10)
        assert answer.status_code == 200, answer.text
        return [o["id"] for o in answer.json().get("objects", [])]

    assert found(**{"match[version]": stated}) == [sighting_id]
    assert found(**{"match[version]": "last"}) == [sighting_id]
    assert found(**{"match[version]": "2020-01-01T00:00:00.000Z"}) == []
    assert found(**{"match[spec_version]": "2.0"}) == []
    assert found(**{"match[spec_version]": "2.1"}) == [sighting_id]
    versions = requests.get(
        url + "versions/", params={"match[spec_version]": "2.0"}, auth=auth, timeout=10
    )
    assert versions.json()["versions"] == []
    wrong = requests.get(url, params={"match[version]": "yesterday"}, auth=auth, timeout=10)
    assert wrong.status_code == 400
    assert "match[version]" in wrong.json()["description"]
