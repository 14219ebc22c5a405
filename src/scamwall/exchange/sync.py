"""Sync with a peer instance over TAXII 2.1: pull what it shares with us, push what we share
with it. Resumable and idempotent.

**Pull.** For each collection the peer lets us read, the pages of objects after the stored
position are read and imported (:func:`~scamwall.exchange.stix_import.import_bundle`); who each
sighting is recorded as follows :mod:`scamwall.exchange.peers` (relayed sightings are left
out). Objects that cannot be read are refused one by one; the rest is stored. AMBER from a
group's collection is shared with the local group of the same name.

**Push.** What the peer's agency may see here (:func:`~scamwall.exchange.reads.shared_sightings`:
the sharing policy; never RED or AMBER+STRICT, never disputed or past retention), less the
sightings of agencies of the peer's own country (they came from there, or belong there), is
written to the collections the peer lets us write: TLP:CLEAR to the public one, GREEN to a
group's, AMBER only to the collection of a group it is shared with (matched by name).

**Resuming.** The position is stored in ``sync_positions`` in the transaction that stores what
it counts (a pull writes its pages ``write_batch`` sightings at a time, and what it read before
a failing page): for a pull, the paging under way (``added_after`` and the latest ``next``),
and once it is done the newest ``date_added`` less ``overlap``; for a push, the last sighting
sent, held before the first one the peer offers no collection for yet. A sync that stops goes
on from there. Sightings have deterministic ids on every instance, so a page taken twice stores
nothing new.

**Pipelined.** The next page is asked for as soon as its ``next`` token is known, the page
before is read meanwhile (in a forked process of its own once a pull runs to a second page:
reading hostile objects is most of a pull's CPU), and the pages before are written by a writer
thread.

**A hostile or broken peer** is bounded: every request has a timeout, every answer (errors
too) a size limit, a run a number of pages per collection; a pull ends when the peer repeats a
``next`` token or sends an empty page.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing import get_all_start_methods, get_context
from typing import Any
from urllib.parse import urljoin

import msgspec
import requests
from sqlalchemy.engine import make_url

from scamwall import wire
from scamwall.errors import (
    InvalidInput,
    InvalidRecord,
    PeerUnavailable,
    ScamwallError,
    UsageError,
)
from scamwall.exchange.legal import DefaultLegalBasis
from scamwall.exchange.peers import peer_claims, peer_sightings
from scamwall.exchange.policy import Caller
from scamwall.exchange.reads import MAX_PAGE, SharedSighting, arrival_cursor, shared_sightings
from scamwall.exchange.stix import format_timestamp, parse_timestamp
from scamwall.exchange.stix_export import export_objects
from scamwall.exchange.stix_import import StixImportOptions, import_bundle
from scamwall.exchange.taxii import MEDIA_TAXII
from scamwall.store import Agency, Sighting, Store
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog
from scamwall.store.repository import BULK_LOAD, PreparedBatch, prepare_batch
from scamwall.store.sync_positions import load_position, save_position
from scamwall.vocabulary import Tlp

__all__ = ["SyncLimits", "SyncReport", "sync_with_peer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncLimits:
    """Bounds on what a peer can make a sync do, and how far back a pull looks again."""

    timeout_s: float = 30.0
    max_response_bytes: int = 64 * 1024 * 1024
    #: Pages one run reads per collection; a longer pull goes on at the next run.
    max_pages: int = 2_000
    #: Objects asked for a page: 16 at least, so a page holds whole sightings.
    page_objects: int = MAX_PAGE
    #: A finished pull goes on next time from this long before the newest object it took: a
    #: sighting whose arrival time was stamped before a slow commit is not missed (those taken
    #: twice are recognised by their ids).
    overlap: timedelta = timedelta(minutes=10)
    #: Sightings written in one transaction (with the position after them): a sync that stops
    #: takes again at most this many, and stores none twice.
    write_batch: int = BULK_LOAD

    def __post_init__(self) -> None:
        if self.page_objects < 16:
            raise UsageError("page_objects must be 16 or more: a page holds whole sightings")
        if min(self.max_pages, self.write_batch) < 1 or self.timeout_s <= 0:
            raise UsageError("max_pages, write_batch and timeout_s must be positive")
        if self.max_response_bytes < 1024:
            raise UsageError("max_response_bytes must be 1024 or more")


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
    #: sightings the peer offers no collection for yet (sent by a later sync once it does)
    not_sent: int = 0
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
            "not_sent": self.not_sent,
            "push_failures": len(self.push_failures),
            "collections": self.collections,
        }


#: Answers that say a URL is not where the peer serves TAXII (rather than that the peer is down
#: or refuses our token): a sync given an instance's base URL goes on to its discovery.
NOT_SERVED_HERE = frozenset({404, 405, 406})


class _NotTaxii(PeerUnavailable):
    """The URL answers, but not as a TAXII discovery or API root."""


class _Peer:
    """The peer's TAXII API root, spoken to with our token. ``url`` is where it was found: the
    URL given, or the discovery under it (the key of the sync's stored positions)."""

    def __init__(self, url: str, token: str, limits: SyncLimits) -> None:
        self.limits = limits
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": MEDIA_TAXII})
        self.url = url
        self.root = self._root(url)

    def _root(self, url: str) -> str:
        """The API root: the URL given when it is one, else the discovery's default. A URL that
        is neither, such as an instance's base URL (what ``scamwall match psi`` takes), is tried
        as ``<URL>/taxii2/``, where scamwall serves its discovery; the error names both."""
        try:
            return self._root_at(url)
        except _NotTaxii as first:
            discovery = url.rstrip("/") + "/taxii2/"
            if url.rstrip("/").endswith("/taxii2"):
                raise PeerUnavailable(first.message, **first.details) from None
            try:
                root = self._root_at(discovery)
            except PeerUnavailable as second:
                raise PeerUnavailable(
                    f"{first.message}; tried its discovery too: {second.message}; give the "
                    "peer's base URL, or its TAXII discovery or API root URL",
                    tried=[url, discovery],
                    **second.details,
                ) from None
            self.url = discovery
            return root

    def _root_at(self, url: str) -> str:
        """The API root ``url`` is or names; :class:`_NotTaxii` when it answers as neither."""
        try:
            body = self._body(self._request(url, None), url)
        except PeerUnavailable as exc:
            if exc.details.get("status") in NOT_SERVED_HERE:
                raise _NotTaxii(exc.message, **exc.details) from None
            raise
        try:
            found = wire.decode(body)
        except ValueError:
            raise _NotTaxii(f"{url}: the answer is not JSON") from None
        if not isinstance(found, dict):
            raise _NotTaxii(f"{url}: neither a TAXII discovery nor an API root")
        if "api_roots" in found or "default" in found:
            root = found.get("default") or (found.get("api_roots") or [None])[0]
            if not isinstance(root, str):
                raise PeerUnavailable(f"{url}: the discovery names no API root")
            return urljoin(url, root)
        if "versions" not in found:
            raise _NotTaxii(f"{url}: neither a TAXII discovery nor an API root")
        return url

    def _body(self, response: requests.Response, url: str) -> bytes:
        """The answer's body, at most ``max_response_bytes``; an HTTP error raised."""
        if response.status_code >= 400:
            start = next(response.iter_content(300), b"")  # never the whole of a huge answer
            response.close()
            raise PeerUnavailable(
                f"{url}: HTTP {response.status_code}: {start.decode('utf-8', 'replace')}",
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
        return bytes(body)

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return _json(self._body(self._request(url, params), url), url)

    def page(self, url: str, params: dict[str, Any]) -> _Page:
        """A page of objects: its envelope read, its objects left as JSON for the reader."""
        response = self._request(url, params)
        body = self._body(response, url)
        following, count = _envelope(body, url)
        return _Page(
            following,
            count,
            body,
            response.headers.get("X-TAXII-Date-Added-Last"),
            response.headers.get("X-TAXII-Date-Added-First"),
        )

    def _request(self, url: str, params: dict[str, Any] | None) -> requests.Response:
        try:
            return self.session.get(url, params=params, timeout=self.limits.timeout_s, stream=True)
        except requests.RequestException as exc:
            raise PeerUnavailable(f"{url}: {exc}") from None

    def post(self, url: str, body: dict[str, Any]) -> Any:
        try:
            response = self.session.post(
                url,
                data=wire.encode(body),
                headers={"Content-Type": MEDIA_TAXII},
                timeout=self.limits.timeout_s,
                stream=True,
            )
        except requests.RequestException as exc:
            raise PeerUnavailable(f"{url}: {exc}") from None
        return _json(self._body(response, url), url)

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
    #: who runs the sync, for the audit trail (None: the system, on a schedule)
    actor: Caller | None = None


class _Envelope(msgspec.Struct):
    """What a pull needs of a page before its objects are read (TAXII lets a page with no
    objects leave them out)."""

    more: Any = None
    next: Any = None
    objects: list[msgspec.Raw] = msgspec.field(default_factory=list)


@dataclass(frozen=True)
class _Page:
    """A page of a peer's collection: where the paging goes on, its objects as JSON."""

    #: the ``next`` token when the peer says there is more
    following: Any
    count: int
    body: bytes
    #: the ``X-TAXII-Date-Added-Last`` header
    date_added_last: str | None
    #: the ``X-TAXII-Date-Added-First`` header
    date_added_first: str | None = None


def _json(body: bytes, url: str) -> Any:
    """A peer's answer decoded; :class:`PeerUnavailable` when it is not JSON."""
    try:
        return wire.decode(body)
    except ValueError:
        raise PeerUnavailable(f"{url}: the answer is not JSON") from None


def _envelope(body: bytes, url: str) -> tuple[Any, int]:
    """The ``next`` token to go on with (None: the last page) and the number of objects."""
    try:
        envelope = msgspec.json.decode(body, type=_Envelope)
    except msgspec.ValidationError:
        raise PeerUnavailable(f"{url}: the answer is not a TAXII envelope") from None
    except (msgspec.DecodeError, RecursionError):  # JSON msgspec does not hold, or not JSON
        page = _json(body, url)
        if not isinstance(page, dict) or not isinstance(page.get("objects", []), list):
            raise PeerUnavailable(f"{url}: the answer is not a TAXII envelope") from None
        return _following(bool(page.get("more")), page.get("next")), len(page.get("objects", []))
    return _following(envelope.more, envelope.next), len(envelope.objects)


#: What a page's ``following`` is when the peer says there is more but gives no ``next``: TAXII
#: 2.1 lets a client go on by ``added_after`` and the page's X-TAXII-Date-Added headers
#: (:func:`_by_date`).
BY_DATE = "\x00by-date"


def _following(more: bool, token: Any) -> Any:
    if not more:
        return None
    return token if token is not None else BY_DATE


@dataclass
class _ReadPage:
    """A page read: rows ready for the store, sightings whose markings the store adds, and
    what was left out; or, for a page that is not JSON after all, why."""

    prepared: PreparedBatch
    marked: list[Sighting]
    #: the ids of the sightings ``prepared`` holds
    plain_ids: list[str] = field(default_factory=list)
    relayed: int = 0
    rejected: list[str] = field(default_factory=list)
    unreadable: str | None = None


@dataclass(frozen=True)
class _PageReader:
    """Reads a page's objects as a peer's (hostile) input. Plain data, so a reading process can
    take it with each page: AMBER from a group's collection is shared with ``group_id``."""

    options: StixImportOptions
    local: dict[str, Agency]
    group_id: int | None
    drivername: str

    def __call__(self, body: bytes) -> _ReadPage:
        dialect = make_url(f"{self.drivername}://").get_dialect()()
        try:  # the envelope was read without its objects: they may still not be JSON
            page = wire.decode(body)
        except ValueError as exc:
            return _ReadPage(prepare_batch([], dialect), [], unreadable=f"not JSON: {exc}")
        result = import_bundle({"type": "bundle", "objects": page.get("objects", [])}, self.options)
        shared = () if self.group_id is None else (self.group_id,)
        # a fact once a page: import_bundle keeps the first report of each
        sightings, relayed = peer_sightings(result.facts, self.local, share_amber_with=shared)
        plain = [s for s in sightings if not (s.groups or s.tlp is Tlp.RED)]
        marked = [s for s in sightings if s.groups or s.tlp is Tlp.RED]
        return _ReadPage(
            prepare_batch(plain, dialect),
            marked,
            [s.id for s in plain],
            relayed,
            [str(r) for r in result.rejects],
        )


class _Readers:
    """Reads pulled pages: here, or in a forked process once a pull runs to a second page.
    Reading hostile objects is most of a pull's CPU; in a process of its own it leaves this
    one's interpreter to fetching and writing."""

    def __init__(self, reader: _PageReader) -> None:
        self.reader = reader
        self.pool: ProcessPoolExecutor | None = None

    def submit(self, body: bytes, *, more: bool) -> Future[_ReadPage]:
        if self.pool is None and more and "fork" in get_all_start_methods():
            # forked, not spawned: a spawned process would re-import the caller's main module
            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork"))
        here: Future[_ReadPage] = Future()
        try:
            if self.pool is not None:
                return self.pool.submit(self.reader, body)
            here.set_result(self.reader(body))
        except Exception as exc:  # raised where a reading process's would be: at .result()
            here.set_exception(exc)
        return here

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Unwritten:
    """Pages read and not yet written, and how many objects and sightings they held."""

    prepared: list[PreparedBatch] = field(default_factory=list)
    marked: list[Sighting] = field(default_factory=list)
    objects: int = 0
    sightings: int = 0
    #: ids of the plain and the marked facts of these pages
    plain_ids: set[str] = field(default_factory=set)
    marked_ids: set[str] = field(default_factory=set)
    #: plain reports of a fact an earlier page reported with markings: left out, so the first
    #: report stays the fact (plain rows are written before marked ones)
    shadowed: set[str] = field(default_factory=set)

    def add(self, page: _ReadPage, objects: int) -> None:
        self.marked_ids.update(s.id for s in page.marked if s.id not in self.plain_ids)
        for fact in page.plain_ids:
            (self.shadowed if fact in self.marked_ids else self.plain_ids).add(fact)
        self.prepared.append(page.prepared)
        self.marked.extend(page.marked)
        self.objects += objects
        self.sightings += page.prepared.size + len(page.marked)


def _pull(run: _Run, collection: dict[str, Any]) -> None:
    """Pages of the collection after the stored position, imported; the position is the
    ``added_after`` of the paging under way and its latest ``next``, so a stopped pull resumes
    on the page it stopped at (the ``next`` token alone when the peer still honours it)."""
    store, peer, peer_agency = run.store, run.peer, run.peer_agency
    bounds = peer.limits
    local = {agency.code: agency for agency in store.list_agencies()}
    key = (run.peer_url, str(collection["id"]), "pull")
    saved = json.loads(load_position(store, *key) or "{}")
    after, next_token = saved.get("after"), saved.get("next")
    url = urljoin(peer.root, f"collections/{collection['id']}/objects/")
    # AMBER from a group's collection is shared here with the group of the same name, if any
    groups = {g.name.casefold(): g.id for g in Access(store).list_groups()}
    reader = _PageReader(
        StixImportOptions(
            default_agency=peer_agency.code,
            agencies=peer_claims(peer_agency, local),
            region=peer_agency.country,
        ),
        local,
        groups.get(str(collection.get("title", "")).casefold()),
        store.engine.url.drivername,
    )
    newest = after

    def fetch(token: str | None) -> _Page:
        params: dict[str, Any] = {"limit": bounds.page_objects}
        if after is not None:
            params["added_after"] = after
        if token is not None:
            params["next"] = token
        return peer.page(url, params)

    # fetching, reading and writing overlap (the module's docstring). Pages are written
    # together, with the position after the last of them, in one transaction: one commit of
    # random keys per page would rewrite most of the indexes' pages each time.
    readers = _Readers(reader)
    with ThreadPoolExecutor(max_workers=1) as ahead, ThreadPoolExecutor(max_workers=1) as writer:
        pending = ahead.submit(fetch, next_token)
        #: pages being read: the reading, the page's objects, the position before the page
        reading: deque[tuple[Future[_ReadPage], int, dict[str, Any]]] = deque()
        written: Future[None] | None = None
        unwritten = _Unwritten()

        def collect(keep: int) -> None:
            """Take the pages read, oldest first, until ``keep`` are left being read. A page
            that cannot be read ends the pull: the pages before it are written, with the
            position before it, so the next sync asks for it again."""
            while len(reading) > keep:
                future, objects, before = reading[0]
                try:
                    read = future.result()
                except BrokenProcessPool as exc:  # killed (out of memory, say)
                    reading.clear()
                    flush(before)
                    raise ScamwallError(
                        f"{url}: the process reading the pages stopped ({exc}); the pages "
                        "read before are stored: run the sync again to go on from there"
                    ) from exc
                if read.unreadable is not None:
                    reading.clear()
                    flush(before)
                    raise PeerUnavailable(f"{url}: {read.unreadable}")
                reading.popleft()
                run.report.relayed += read.relayed
                run.report.rejected.extend(read.rejected)
                unwritten.add(read, objects)

        def flush(position: dict[str, Any]) -> None:
            nonlocal written, unwritten
            if written is not None:
                written.result()
            written = writer.submit(_write_pages, run, unwritten, key, json.dumps(position))
            unwritten = _Unwritten()

        def write(position: dict[str, Any]) -> None:
            collect(0)  # the position counts every page asked for so far
            flush(position)

        try:
            for _ in range(bounds.max_pages):
                try:
                    page = pending.result()
                except PeerUnavailable as exc:
                    if next_token is None or exc.details.get("status") not in (400, 404):
                        if reading or unwritten.objects:  # what was read before stays read
                            write({"after": after, "next": next_token})
                        raise
                    next_token = None  # an expired token: the added_after position is enough
                    pending = ahead.submit(fetch, None)
                    continue
                following = page.following
                last = page.date_added_last
                before = {"after": after, "next": next_token}
                if following == BY_DATE:  # more, no next: on by the dates the page spans
                    following = None
                    resume = _by_date(page, after)
                    done = resume is None
                    if resume is not None:
                        after = resume
                else:
                    done = (
                        not isinstance(following, str) or following == next_token or not page.count
                    )
                if not done:
                    pending = ahead.submit(fetch, following)
                if last and (newest is None or last > newest):
                    newest = last
                reading.append((readers.submit(page.body, more=not done), page.count, before))
                if done:
                    write({"after": _earlier(newest, bounds), "next": None})
                    return
                collect(1)  # the reader has the page just given while this one is taken
                next_token = following
                if unwritten.sightings >= bounds.write_batch:
                    write({"after": after, "next": next_token})
            if reading or unwritten.objects:
                write({"after": after, "next": next_token})
        finally:
            readers.close()
            if written is not None:
                written.result()
    log.warning("%s: over %d pages in one sync; the next sync goes on", url, bounds.max_pages)


def _write_pages(run: _Run, pages: _Unwritten, key: tuple[str, str, str], position: str) -> None:
    """Store the sightings of pages read and the position after them, in one transaction."""
    with run.store.transaction() as connection:
        joined = PreparedBatch.joined(pages.prepared).without(pages.shadowed, connection.dialect)
        written = run.store.write_prepared(joined, connection)
        marked = run.store.record_sightings(pages.marked, connection=connection)
        save_position(run.store, *key, position, connection=connection)
        if written.inserted or marked.inserted:  # every write on record, with the data
            AuditLog(run.store).record(
                run.actor,
                "sync_pull",
                target=f"peer:{run.peer_url}",
                detail={
                    "agency": run.peer_agency.code,
                    "collection": key[1],
                    "accepted": written.inserted + marked.inserted,
                    "duplicates": written.duplicates + marked.duplicates,
                },
                origin="sync",
                connection=connection,
            )
    run.report.pulled_objects += pages.objects
    run.report.pulled_new += written.inserted + marked.inserted
    run.report.pulled_known += written.duplicates + marked.duplicates


def _by_date(page: _Page, after: str | None) -> str | None:
    """Where a page with ``more`` and no ``next`` goes on: just before its newest date, so the
    objects added at that moment that did not fit on it come again (``added_after`` is strict;
    ids dedupe the ones read twice). None when that is no progress: the page is empty, gives
    no dates, or holds one moment alone (more objects added at one moment than a page holds;
    the next sync asks again)."""
    first, last = page.date_added_first, page.date_added_last
    if not page.count or not first or not last or first == last:
        if page.count and first and first == last:
            log.warning("a page of objects all added at %s and more of them: not paged", last)
        return None
    try:
        resume = format_timestamp(parse_timestamp(last, "date_added") - timedelta(microseconds=1))
    except InvalidRecord:
        return None
    return None if resume == after else resume


def _earlier(stamp: str | None, bounds: SyncLimits) -> str | None:
    """The position a finished pull goes on from: ``overlap`` before the newest object."""
    if stamp is None:
        return None
    try:
        moment = parse_timestamp(stamp, "date_added")
    except InvalidRecord:
        return None  # a peer's unreadable header: start over, ids dedupe what comes twice
    return format_timestamp(moment - bounds.overlap)


@dataclass(frozen=True)
class _Targets:
    """The peer's collections we may write: the public one, and the groups' by name."""

    public: str | None
    groups: dict[str, str]

    @classmethod
    def of(cls, collections: list[dict[str, Any]]) -> _Targets:
        writable = [c for c in collections if c.get("can_write")]
        public = next((str(c["id"]) for c in writable if c.get("title") == "Public"), None)
        groups = {
            str(c.get("title", "")).casefold(): str(c["id"])
            for c in writable
            if c.get("title") != "Public"
        }
        return cls(public, groups)

    def for_item(
        self, item: SharedSighting, group_names: dict[int, str], entitled: frozenset[int]
    ) -> str | None:
        """Where a sighting goes: TLP:CLEAR to the public collection (or a group's); GREEN to a
        group's; AMBER only to the collection of a group it is shared with and through which
        the peer's agency may see it here (``entitled``: that agency's groups), by name, so the
        peer shares it with that group and no other. None: the peer offers no such place."""
        tlp = item.sighting.tlp
        if tlp is Tlp.AMBER:
            for group_id in sorted(item.sighting.groups & entitled):
                name = group_names.get(group_id, "").casefold()
                if name in self.groups:
                    return self.groups[name]
            return None
        first_group = next(iter(self.groups.values()), None)
        if tlp is Tlp.CLEAR:
            return self.public or first_group
        return first_group


def _push(run: _Run, targets: _Targets) -> None:
    """What the peer's agency may see here, less its own country's, in arrival order after the
    stored position, written to the peer's collections. A sighting the peer offers no place for
    yet holds the position before it (the next sync sends it again; the peer dedupes)."""
    store, peer, peer_agency, report = run.store, run.peer, run.peer_agency, run.report
    reader = Access(store).agency_reader(peer_agency.code)
    group_names = {g.id: g.name for g in Access(store).list_groups()}
    key = (run.peer_url, "*", "push")
    cursor = load_position(store, *key)
    held: str | None = None  # the position before the first sighting not sent
    for _ in range(peer.limits.max_pages):
        page = shared_sightings(
            store,
            reader,
            legal=run.legal,
            cursor=cursor,
            limit=MAX_PAGE // 4,
            not_countries=[peer_agency.country],  # it came from there, or belongs there
        )
        batches: dict[str, list[SharedSighting]] = {}
        for item in page.items:
            target = targets.for_item(item, group_names, reader.group_ids)
            if target is None:
                report.not_sent += 1
                if held is None:
                    held = cursor if item is page.items[0] else _before(page.items, item)
                continue
            batches.setdefault(target, []).append(item)
        for target, items in batches.items():
            _post(run, target, items)
        if page.items:
            cursor = arrival_cursor(page.items[-1])
            save_position(store, *key, held if held is not None else cursor)
        if page.next_cursor is None:
            return


def _before(items: tuple[SharedSighting, ...], item: SharedSighting) -> str:
    """The position just before ``item`` (after the one preceding it on the page)."""
    return arrival_cursor(items[items.index(item) - 1])


def _post(run: _Run, target: str, items: list[SharedSighting]) -> None:
    """Write sightings to one collection of the peer and count what it took."""
    objects = list(export_objects([i.outgoing for i in items], legal_basis=_basis(items)))
    status = run.peer.post(
        urljoin(run.peer.root, f"collections/{target}/objects/"), {"objects": objects}
    )
    run.report.pushed += sum(
        1
        for done in status.get("successes") or []
        if str(done.get("id", "")).startswith("sighting--")
    )
    run.report.push_failures.extend(
        f"{f.get('id')}: {f.get('message')}" for f in status.get("failures") or []
    )


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
    actor: Caller | None = None,
) -> SyncReport:
    """Pull from and push to the peer at ``peer_url`` (its base URL, TAXII discovery or API
    root) with ``token``; ``peer_agency_code`` is the local code of the peer's agency. With
    ``collection_id`` only that collection of the peer is read and written; ``legal`` is the
    basis our sightings without one of their own leave under (the settings' by default);
    ``actor``: who the audit trail names for what the pull writes."""
    bounds = limits or SyncLimits()
    if not peer_url.startswith(("http://", "https://")):
        raise InvalidInput(f"{peer_url!r} is not an http(s) URL", field="peer")
    peer_agency = store.get_agency(peer_agency_code.upper())
    peer = _Peer(peer_url, token, bounds)
    report = SyncReport()
    # kept under the URL the peer was found at: its base URL and its discovery share positions
    run = _Run(store, peer, peer.url, peer_agency, legal or DefaultLegalBasis(), report, actor)
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
        if report.pulled_new >= BULK_LOAD:
            store.refresh_statistics()
    if push:
        _push(run, _Targets.of(found))
    return report
