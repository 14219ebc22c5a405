"""Sync with a peer instance over TAXII 2.1: pull what it shares with us, push what we share
with it. Resumable and idempotent.

**Pull.** For each collection the peer lets us read, pages of objects after the last
``date_added`` we took are read and imported (:func:`~scamwall.exchange.stix_import.import_bundle`)
as sightings of the peer's agency, or of an agency of the peer's country its identities name.
Sightings naming another country's agency are not taken from this peer (our own coming back,
or a third country's, which that country's instance shares). Objects that cannot be read are
refused one by one; the rest is stored.

**Push.** What the peer's agency may see here (:func:`~scamwall.exchange.reads.shared_sightings`:
the sharing policy; never RED or AMBER+STRICT, never disputed or past retention), less the
sightings of agencies of the peer's own country (they came from there, or belong there), is
written to a collection the peer lets us write: TLP:CLEAR to any, the rest to a group's.

**Resuming.** After every page the position (pull: the last ``date_added``; push: the last
sighting sent) is stored in ``sync_positions``; a sync that stops, however, goes on from there.
Sightings have deterministic ids on every instance, so a page taken twice stores nothing new.

**A hostile or broken peer** is bounded: every request has a timeout, every answer a size limit,
a run a number of pages, and a page that does not move the position forward ends the pull.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin

import requests

from scamwall.errors import InvalidInput, PeerUnavailable
from scamwall.exchange.legal import DefaultLegalBasis
from scamwall.exchange.reads import MAX_PAGE, arrival_cursor, shared_sightings
from scamwall.exchange.stix_export import export_objects
from scamwall.exchange.stix_import import PeerIdentity, StixImportOptions, import_bundle
from scamwall.exchange.taxii import MEDIA_TAXII
from scamwall.store import Agency, Store
from scamwall.store.access import Access
from scamwall.store.sync_positions import load_position, save_position
from scamwall.vocabulary import Tlp

__all__ = ["RELAYED", "SyncLimits", "SyncReport", "peer_claims", "sync_with_peer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncLimits:
    """Bounds on what a peer can make a sync do."""

    timeout_s: float = 30.0
    max_response_bytes: int = 64 * 1024 * 1024
    max_pages: int = 10_000
    page_objects: int = MAX_PAGE


@dataclass
class SyncReport:
    """What a sync did, per direction."""

    pulled_objects: int = 0
    pulled_new: int = 0
    pulled_known: int = 0
    #: sightings of another country's agencies the peer passed on, not taken from it
    relayed: int = 0
    rejected: list[str] = field(default_factory=list)
    pushed: int = 0
    push_failures: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "pulled_objects": self.pulled_objects,
            "pulled_new": self.pulled_new,
            "pulled_known": self.pulled_known,
            "relayed": self.relayed,
            "rejected": len(self.rejected),
            "pushed": self.pushed,
            "push_failures": len(self.push_failures),
            "collections": self.collections,
        }


class _Peer:
    """The peer's TAXII API root, spoken to with our token."""

    def __init__(self, url: str, token: str, limits: SyncLimits) -> None:
        self.limits = limits
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": MEDIA_TAXII})
        self.root = self._root(url)

    def _root(self, url: str) -> str:
        """The API root: the URL given when it is one, else the discovery's default."""
        found = self.get(url)
        if "api_roots" in found or "default" in found:
            root = found.get("default") or (found.get("api_roots") or [None])[0]
            if not isinstance(root, str):
                raise PeerUnavailable(f"{url}: the discovery names no API root")
            return urljoin(url, root)
        if "versions" not in found:
            raise PeerUnavailable(f"{url}: neither a TAXII discovery nor an API root")
        return url

    def _answer(self, response: requests.Response, url: str) -> Any:
        if response.status_code >= 400:
            raise PeerUnavailable(
                f"{url}: HTTP {response.status_code}: {response.text[:300]}",
                status=response.status_code,
            )
        body = bytearray()
        for chunk in response.iter_content(64 * 1024):
            body.extend(chunk)
            if len(body) > self.limits.max_response_bytes:
                response.close()
                raise PeerUnavailable(
                    f"{url}: answer over {self.limits.max_response_bytes} bytes; refused"
                )
        try:
            return json.loads(body)
        except ValueError:
            raise PeerUnavailable(f"{url}: the answer is not JSON") from None

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.get_with_headers(url, params)[0]

    def get_with_headers(
        self, url: str, params: dict[str, Any] | None = None
    ) -> tuple[Any, requests.structures.CaseInsensitiveDict[str]]:
        try:
            response = self.session.get(
                url, params=params, timeout=self.limits.timeout_s, stream=True
            )
        except requests.RequestException as exc:
            raise PeerUnavailable(f"{url}: {exc}") from None
        return self._answer(response, url), response.headers

    def post(self, url: str, body: dict[str, Any]) -> Any:
        try:
            response = self.session.post(
                url,
                data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                headers={"Content-Type": MEDIA_TAXII},
                timeout=self.limits.timeout_s,
                stream=True,
            )
        except requests.RequestException as exc:
            raise PeerUnavailable(f"{url}: {exc}") from None
        return self._answer(response, url)

    def collections(self) -> list[dict[str, Any]]:
        found = self.get(urljoin(self.root, "collections/")).get("collections") or []
        return [c for c in found if isinstance(c, dict) and isinstance(c.get("id"), str)]


@dataclass
class _Run:
    """One sync: the local store, the peer, the peer's agency here, and what it did."""

    store: Store
    peer: _Peer
    peer_url: str
    peer_agency: Agency
    legal: DefaultLegalBasis
    report: SyncReport


#: What :func:`peer_claims` answers for a sighting the peer relays from another country's agency.
RELAYED = "\x00relayed"


def peer_claims(peer_agency: Agency, local: dict[str, Agency]) -> Any:
    """Who a peer's sighting is recorded as: an agency we know of the peer's own country when its
    identity names one; the peer's agency when it names none we know. A sighting naming an
    agency of another country is not taken from this peer (it is relayed: our own sightings
    coming back, or a third country's, which its own instance shares)."""

    def agency_of(identity: PeerIdentity) -> str | None:
        claimed = identity.agency_code
        if claimed not in local:
            return None
        return claimed if local[claimed].country == peer_agency.country else RELAYED

    return agency_of


def _pull(run: _Run, collection: dict[str, Any]) -> None:
    """Pages of the collection after the stored position, imported; the position is the
    ``added_after`` of the paging under way and its latest ``next``, so a stopped pull resumes
    on the page it stopped at (the ``next`` token alone when the peer still honours it)."""
    store, peer, peer_agency, report = run.store, run.peer, run.peer_agency, run.report
    local = {agency.code: agency for agency in store.list_agencies()}
    key = (run.peer_url, str(collection["id"]), "pull")
    saved = json.loads(load_position(store, *key) or "{}")
    after, next_token = saved.get("after"), saved.get("next")
    url = urljoin(peer.root, f"collections/{collection['id']}/objects/")
    options = StixImportOptions(
        default_agency=peer_agency.code,
        agencies=peer_claims(peer_agency, local),
        region=peer_agency.country,
    )
    # AMBER from a group's collection is shared here with the group of the same name, if any
    groups = {g.name.casefold(): g.id for g in Access(store).list_groups()}
    group_id = groups.get(str(collection.get("title", "")).casefold())
    newest = after
    for _ in range(peer.limits.max_pages):
        params: dict[str, Any] = {"limit": peer.limits.page_objects}
        if after is not None:
            params["added_after"] = after
        if next_token is not None:
            params["next"] = next_token
        try:
            page, headers = peer.get_with_headers(url, params)
        except PeerUnavailable as exc:
            if next_token is None or exc.details.get("status") not in (400, 404):
                raise
            next_token = None  # an expired token: the added_after position is enough
            continue
        objects = page.get("objects") if isinstance(page, dict) else None
        if not isinstance(objects, list):
            raise PeerUnavailable(f"{url}: the answer is not a TAXII envelope")
        if objects:
            result = import_bundle({"type": "bundle", "objects": objects}, options)
            direct = [
                f.to_sighting(local.__getitem__) for f in result.facts if f.agency_code != RELAYED
            ]
            report.relayed += len(result.facts) - len(direct)
            sightings = [
                replace(s, groups=s.groups | {group_id})
                if group_id is not None and s.tlp is Tlp.AMBER
                else s
                for s in direct
            ]
            written = store.record_sightings(sightings)
            report.pulled_objects += len(objects)
            report.pulled_new += written.inserted
            report.pulled_known += written.duplicates
            report.rejected.extend(str(reject) for reject in result.rejects)
        last = headers.get("X-TAXII-Date-Added-Last")
        if last and (newest is None or last > newest):
            newest = last
        following = page.get("next") if page.get("more") else None
        if not isinstance(following, str) or following == next_token or not objects:
            save_position(store, *key, json.dumps({"after": newest, "next": None}))
            return
        next_token = following
        save_position(store, *key, json.dumps({"after": after, "next": next_token}))
    log.warning("%s: over %d pages in one sync; the next sync goes on", url, peer.limits.max_pages)


def _push(run: _Run, targets: dict[str, str | None]) -> None:
    """What the peer's agency may see here, less its own country's, in arrival order after the
    stored position, written to the peer's collections (``targets``: public, group)."""
    store, peer, peer_agency, report = run.store, run.peer, run.peer_agency, run.report
    reader = Access(store).agency_reader(peer_agency.code)
    key = (run.peer_url, "*", "push")
    cursor = load_position(store, *key)
    for _ in range(peer.limits.max_pages):
        page = shared_sightings(store, reader, legal=run.legal, cursor=cursor, limit=MAX_PAGE // 4)
        mine = [i for i in page.items if i.sighting.agency.country != peer_agency.country]
        for tlp_public, items in _by_target(mine):
            target = targets["public"] if tlp_public else targets["group"]
            if target is None:
                continue
            outgoing = [i.outgoing for i in items]
            objects = list(export_objects(outgoing, legal_basis=_basis(items)))
            written = urljoin(peer.root, f"collections/{target}/objects/")
            status = peer.post(written, {"objects": objects})
            report.pushed += sum(
                1
                for done in status.get("successes") or []
                if str(done.get("id", "")).startswith("sighting--")
            )
            report.push_failures.extend(
                f"{f.get('id')}: {f.get('message')}" for f in status.get("failures") or []
            )
        if page.items:
            cursor = arrival_cursor(page.items[-1])
            save_position(store, *key, cursor)
        if page.next_cursor is None:
            return


def _by_target(items: list[Any]) -> Iterator[tuple[bool, list[Any]]]:
    """The items for the public collection (TLP:CLEAR), then the rest."""
    public = [i for i in items if i.sighting.tlp is Tlp.CLEAR]
    rest = [i for i in items if i.sighting.tlp is not Tlp.CLEAR]
    if public:
        yield True, public
    if rest:
        yield False, rest


def _basis(items: list[Any]) -> Any:
    """Each sighting's legal basis as the shared view gave it."""
    by_id = {i.sighting.id: i.legal_basis for i in items}
    return lambda sighting: by_id.get(sighting.id)


def sync_with_peer(
    store: Store,
    peer_url: str,
    token: str,
    *,
    peer_agency_code: str,
    collection_id: str | None = None,
    pull: bool = True,
    push: bool = True,
    limits: SyncLimits | None = None,
    legal: DefaultLegalBasis | None = None,
) -> SyncReport:
    """Pull from and push to the peer at ``peer_url`` (its discovery or API root) with
    ``token``; ``peer_agency_code`` is the local code of the peer's agency. With
    ``collection_id`` only that collection of the peer is read and written; ``legal`` is the
    basis our sightings without one of their own leave under (the settings' by default)."""
    bounds = limits or SyncLimits()
    if not peer_url.startswith(("http://", "https://")):
        raise InvalidInput(f"{peer_url!r} is not an http(s) URL", field="peer")
    peer_agency = store.get_agency(peer_agency_code.upper())
    peer = _Peer(peer_url, token, bounds)
    report = SyncReport()
    run = _Run(store, peer, peer_url, peer_agency, legal or DefaultLegalBasis(), report)
    found = peer.collections()
    if collection_id is not None:
        found = [c for c in found if c["id"] == collection_id]
        if not found:
            raise InvalidInput(
                f"the peer offers no collection {collection_id} to this token", field="collection"
            )
    report.collections = [str(c["id"]) for c in found]
    if pull:
        for collection in found:
            if collection.get("can_read"):
                _pull(run, collection)
    if push:
        writable = [c for c in found if c.get("can_write")]
        public = next((c["id"] for c in writable if c.get("title") == "Public"), None)
        group = next((c["id"] for c in writable if c.get("title") != "Public"), None)
        targets = {"public": public or group, "group": group}
        _push(run, targets)
    return report
