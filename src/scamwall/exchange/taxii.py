"""TAXII 2.1 collections over the store: what each collection holds for a caller, in pages of
STIX objects, and what a peer's write adds. The HTTP side is ``scamwall.api.taxii``.

Collections (their ids are UUIDv5, stable on this instance):

==============  =====================================================================  ========
collection      holds (always through :func:`~scamwall.exchange.reads.shared_sightings`:  readers
                what the caller may see, never RED or AMBER+STRICT)
==============  =====================================================================  ========
``public``      TLP:CLEAR sightings                                                    anyone
one per group   sightings reported by the group's agencies, and AMBER ones shared with  members
                the group                                                              of it
==============  =====================================================================  ========

A page is built from sightings in arrival order: each sighting brings the objects it needs
(its TLP marking, the agency's identity, the observable, the indicator, the sighting), each
object once a page, so a page can be read on its own. ``limit`` counts objects; a page ends
before the sighting that would pass it. An object's ``date_added`` is when the sighting that
brought it arrived here, so ``added_after`` resumes where a reader stopped.

Writes: members of a group write to its collection, members to the public one. A write is read
object by object (:func:`~scamwall.exchange.stix_import.import_bundle`); who each sighting is
recorded as follows :mod:`scamwall.exchange.peers`: a user's sightings are its agency's (one
naming another agency is refused); a peer instance's (``Role.PEER``) are its agency's or those of
an agency of its country its identity names (another country's is refused as relayed). The
public collection takes TLP:CLEAR only; AMBER written to a group's collection is shared with that
group.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from scamwall.errors import InvalidInput, NotFound, PayloadTooLarge, PermissionDenied
from scamwall.exchange.legal import DefaultLegalBasis
from scamwall.exchange.peers import RELAYED, peer_claims
from scamwall.exchange.policy import WRITERS, Caller, Role
from scamwall.exchange.reads import (
    MAX_PAGE,
    SharedSighting,
    arrival_cursor,
    shared_sightings,
)
from scamwall.exchange.stix import (
    StixObject,
    agency_stix_id,
    format_timestamp,
    parse_timestamp,
    tlp_marking_definition,
)
from scamwall.exchange.stix_export import agency_identity, export_objects
from scamwall.exchange.stix_import import (
    StixImportOptions,
    import_bundle,
)
from scamwall.intake.submit import AUDIT_IDS_LIMIT
from scamwall.store import Sighting, Store
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog
from scamwall.store.schema import taxii_statuses
from scamwall.vocabulary import Tlp

__all__ = [
    "MEDIA_STIX",
    "MEDIA_TAXII",
    "Collection",
    "ObjectPage",
    "collections_for",
    "get_collection",
    "get_object",
    "get_status",
    "object_page",
    "write_objects",
]

MEDIA_TAXII = "application/taxii+json;version=2.1"
MEDIA_STIX = "application/stix+json;version=2.1"
#: Namespace of this instance's collection ids.
COLLECTION_NAMESPACE = uuid.UUID("5b0d7c1e-3f4a-5e2b-9a6c-8d7e0f1a2b3c")
PUBLIC_ID = str(uuid.uuid5(COLLECTION_NAMESPACE, "public"))
#: Objects one write may carry; a larger envelope is refused whole (413).
MAX_WRITE_OBJECTS = 10_000
#: Roles that may write to a collection: the writers, and peer instances (``Role.PEER``).
TAXII_WRITERS = WRITERS | {Role.PEER}
_RELAYED = (
    "relayed: it names an agency of another country, or one unknown here; its own instance "
    "shares it"
)
_NOT_OWN = (
    "it names another agency: a user reports for its own agency only (a peer instance's token, "
    "role peer, reports for the agencies of its country)"
)
#: Reads of sightings one page may make: with ``match[…]`` filters that keep little, a page
#: ends early (``more`` and a ``next`` token) instead of scanning the whole collection.
MAX_READS_PER_PAGE = 8


@dataclass(frozen=True, slots=True)
class Collection:
    """A TAXII collection as a caller sees it."""

    id: str
    title: str
    description: str
    can_read: bool
    can_write: bool
    #: The sharing group behind it; None for the public collection.
    group_id: int | None = None

    def as_taxii(self) -> dict[str, Any]:
        """The collection resource."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "can_read": self.can_read,
            "can_write": self.can_write,
            "media_types": [MEDIA_STIX],
        }


def _group_collection_id(group_id: int) -> str:
    return str(uuid.uuid5(COLLECTION_NAMESPACE, f"group:{group_id}"))


def collections_for(store: Store, caller: Caller) -> list[Collection]:
    """The collections ``caller`` may read or write: the public one, and one per sharing group
    its agency belongs to (an administrator's are those of its agency, like any member's)."""
    writer = caller.role in TAXII_WRITERS and caller.is_member
    found = [
        Collection(
            PUBLIC_ID,
            "Public",
            "TLP:CLEAR sightings: numbers, sites and accounts anyone may be warned about.",
            can_read=caller.role is not Role.FEED,
            can_write=writer,
        )
    ]
    for group in Access(store).list_groups():
        if group.id not in caller.group_ids:
            continue
        found.append(
            Collection(
                _group_collection_id(group.id),
                group.name,
                f"Sightings of the agencies of {group.name}, and AMBER ones shared with it.",
                can_read=caller.is_member,
                can_write=writer,
                group_id=group.id,
            )
        )
    return found


def get_collection(store: Store, caller: Caller, collection_id: str) -> Collection:
    """One collection ``caller`` may use; :class:`NotFound` otherwise (an unknown group's
    collection and one the caller is not in look alike)."""
    for collection in collections_for(store, caller):
        if collection.id == collection_id:
            return collection
    raise NotFound(f"no collection {collection_id} for this caller; GET collections/ lists them")


# ---------------------------------------------------------------------------------------------
# reading


@dataclass(frozen=True, slots=True)
class PageEntry:
    """One object of a page and when it was added to the collection."""

    object: StixObject
    added: datetime


@dataclass(frozen=True, slots=True)
class ObjectPage:
    """Objects of one page, whether more follow and the token to get them."""

    entries: tuple[PageEntry, ...]
    more: bool
    next: str | None

    def envelope(self) -> dict[str, Any]:
        """The TAXII envelope of the objects endpoint."""
        body: dict[str, Any] = {"more": self.more}
        if self.next is not None:
            body["next"] = self.next
        body["objects"] = [entry.object for entry in self.entries]
        return body

    def manifest(self) -> dict[str, Any]:
        """The TAXII manifest of the same objects."""
        body: dict[str, Any] = {"more": self.more}
        if self.next is not None:
            body["next"] = self.next
        body["objects"] = [
            {
                "id": entry.object["id"],
                "date_added": format_timestamp(entry.added),
                "version": _version(entry.object, entry.added),
                "media_type": MEDIA_STIX,
            }
            for entry in self.entries
        ]
        return body

    def added_range(self) -> tuple[str, str] | None:
        """``date_added`` of the first and last objects (the X-TAXII-Date-Added headers)."""
        if not self.entries:
            return None
        return format_timestamp(self.entries[0].added), format_timestamp(self.entries[-1].added)


def _version(stix_object: StixObject, added: datetime) -> str:
    """An object's version: ``modified``, else ``created``; an observable has neither and is
    versioned by when it was added."""
    return _stated_version(stix_object) or format_timestamp(added)


@dataclass(frozen=True)
class ObjectFilter:
    """The ``match[…]`` filters of a request (every object here is STIX 2.1)."""

    ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    #: Versions asked for by time (``first``, ``last`` and ``all`` ask for the one there is).
    versions: frozenset[datetime] = frozenset()

    def keeps(self, stix_object: StixObject, added: datetime) -> bool:
        """Whether the object, added at ``added``, passes every filter given; its version is
        the one the manifest gives (:func:`_version`), compared as a time, however written."""
        if self.ids and stix_object["id"] not in self.ids:
            return False
        if self.types and stix_object["type"] not in self.types:
            return False
        if not self.versions:
            return True
        return parse_timestamp(_version(stix_object, added), "version") in self.versions


def _objects_of(item: SharedSighting) -> list[StixObject]:
    """Every object a sighting needs, in an order where an object follows those it refers to."""
    return list(export_objects([item.sighting], legal_basis=item.legal_basis))


def _token(cursor: str | None, sent: int) -> str:
    """A ``next`` token: after the sighting at ``cursor``, ``sent`` objects of the following
    one already given (a page may end inside a sighting's objects)."""
    return base64.urlsafe_b64encode(f"{cursor or ''}@{sent}".encode()).decode().rstrip("=")


def _read_token(token: str) -> tuple[str | None, int]:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        cursor, _, sent = text.rpartition("@")
        return cursor or None, int(sent)
    except (ValueError, UnicodeDecodeError, OverflowError):
        raise InvalidInput("next is not a token this server gave out", field="next") from None


def object_page(
    store: Store,
    caller: Caller,
    collection: Collection,
    *,
    added_after: datetime | None = None,
    next_token: str | None = None,
    limit: int = MAX_PAGE,
    keep: ObjectFilter | None = None,
    legal: DefaultLegalBasis | None = None,
) -> ObjectPage:
    """One page of the collection's objects for ``caller`` (see the module docstring): up to
    ``limit`` objects, each once a page. A page ends between sightings, so each page holds
    every object its sightings refer to; only a sighting needing more objects than ``limit``
    (about 7 at most) is cut, and goes on on the next page."""
    if not collection.can_read:
        raise PermissionDenied("this collection is not readable by this caller")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1-{MAX_PAGE}", field="limit")
    keep = keep or ObjectFilter()
    cursor, skip = _read_token(next_token) if next_token else (None, 0)
    entries: list[PageEntry] = []
    seen: set[str] = set()
    for _ in range(MAX_READS_PER_PAGE):
        # a sighting brings about three objects: read about as many as the page has room for
        wanted = max(8, (limit - len(entries)) // 3 + 2)
        page = shared_sightings(
            store,
            caller,
            legal=legal or DefaultLegalBasis(),
            added_after=added_after,
            cursor=cursor,
            limit=min(MAX_PAGE, wanted),
            group_id=collection.group_id,
            tlps=(Tlp.CLEAR,) if collection.group_id is None else None,
        )
        groups = _groups_of(page.items)
        for item in page.items:
            group = next(groups)
            if skip:  # the rest of a sighting cut on the page before: its objects alone
                group = _objects_of(item)
            fresh = [
                (n, o)
                for n, o in enumerate(group)
                if n >= skip and o["id"] not in seen and keep.keeps(o, item.added)
            ]
            room = limit - len(entries)
            if len(fresh) > room and entries:  # the page ends before this sighting
                return ObjectPage(tuple(entries), True, _token(cursor, 0))
            for _, obj in fresh[:room]:
                seen.add(obj["id"])
                entries.append(PageEntry(obj, item.added))
            if len(fresh) > room:  # one sighting needs more than the limit: it goes on
                return ObjectPage(tuple(entries), True, _token(cursor, fresh[room][0]))
            cursor, skip = arrival_cursor(item), 0
            if len(entries) == limit:
                more = page.next_cursor is not None or item is not page.items[-1]
                return ObjectPage(tuple(entries), more, _token(cursor, 0) if more else None)
        if page.next_cursor is None:
            return ObjectPage(tuple(entries), False, None)
    # filters that keep little: a short page now rather than a scan of the whole collection
    return ObjectPage(tuple(entries), True, _token(cursor, 0))


def _groups_of(items: tuple[SharedSighting, ...]) -> Iterator[list[StixObject]]:
    """The objects of each sighting of a batch, in order: one export over the batch (markings
    and identities built once), cut after each ``sighting`` object, which ends its group."""
    basis = {item.sighting.id: item.legal_basis for item in items}
    walk = export_objects([item.sighting for item in items], legal_basis=lambda s: basis[s.id])
    group: list[StixObject] = []
    for obj in walk:
        group.append(obj)
        if obj["type"] == "sighting":
            yield group
            group = []


def get_object(
    store: Store,
    caller: Caller,
    collection: Collection,
    object_id: str,
    *,
    legal: DefaultLegalBasis | None = None,
) -> list[StixObject]:
    """The object with this id in the collection, if the caller may see it (every object has
    one version). Sightings, the agencies' identities and the TLP markings are found by id;
    indicators and observables only in object pages (their ids are hashes of their pattern
    and value, which the store does not keep)."""
    object_type, _, ident = object_id.partition("--")
    if object_type == "sighting":
        try:
            uuid.UUID(ident)
        except ValueError:
            raise NotFound(f"no object {object_id}") from None
        page = shared_sightings(
            store,
            caller,
            legal=legal or DefaultLegalBasis(),
            limit=1,
            group_id=collection.group_id,
            tlps=(Tlp.CLEAR,) if collection.group_id is None else None,
            sighting_ids=(ident,),
        )
        for item in page.items:
            for obj in export_objects([item.sighting], legal_basis=item.legal_basis):
                if obj["id"] == object_id:
                    return [obj]
    elif object_type == "marking-definition":
        for tlp in Tlp:
            marking = tlp_marking_definition(tlp)
            if marking["id"] == object_id:
                return [marking]
    elif object_type == "identity" and caller.is_member:  # as /v1/agencies: members only
        for agency in store.list_agencies():
            if agency_stix_id(agency.code) == object_id:
                return [agency_identity(agency)]
    raise NotFound(f"no object {object_id} in this collection for this caller")


# ---------------------------------------------------------------------------------------------
# writing


def write_objects(
    store: Store,
    caller: Caller,
    collection: Collection,
    envelope: Any,
    *,
    region: str | None = None,
    origin: str | None = None,
) -> dict[str, Any]:
    """Record the sightings of a peer's envelope ``{"objects": [...]}``; returns the TAXII
    status resource, which is also kept for ``GET status/{id}``. Audited, with the status, in
    the transaction that records the sightings."""
    if not collection.can_write or caller.agency_code is None or caller.agency_id is None:
        raise PermissionDenied("this caller may not write to this collection")
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise InvalidInput('a TAXII write is an envelope {"objects": [...]}', field="objects")
    objects = envelope["objects"]
    if len(objects) > MAX_WRITE_OBJECTS:
        raise PayloadTooLarge(
            f"{len(objects)} objects in one write; send at most {MAX_WRITE_OBJECTS} a request",
            limit=MAX_WRITE_OBJECTS,
        )
    requested = datetime.now(UTC)
    writer = store.get_agency(caller.agency_code)
    local = {agency.code: agency for agency in store.list_agencies()}
    peer = caller.role is Role.PEER
    options = StixImportOptions(
        default_agency=writer.code,
        # a peer instance speaks for its country's agencies; a user only for its own
        agencies=peer_claims(writer, local if peer else {writer.code: writer}),
        region=region or writer.country,
        received_at=requested,
        max_objects=MAX_WRITE_OBJECTS,
    )
    result = import_bundle({"type": "bundle", "objects": objects}, options)
    problems: dict[int, list[str]] = {}
    for reject in result.rejects:
        if reject.index is not None:
            problems.setdefault(reject.index, []).append(str(reject))
    accepted: list[Sighting] = []
    taken: set[int] = set()  # objects with at least one fact recorded
    for fact in result.facts:
        problem = (
            (_RELAYED if peer else _NOT_OWN)
            if fact.agency_code == RELAYED
            else _collection_refuses(collection, fact.tlp)
        )
        if problem is not None:
            problems.setdefault(fact.index, []).append(problem)
            continue
        sighting = replace(fact.to_sighting(local.__getitem__), submitted_by=caller.user_id)
        if collection.group_id is not None and sighting.tlp is Tlp.AMBER:
            sighting = _shared_with(sighting, collection.group_id)
        accepted.append(sighting)
        taken.add(fact.index)
    # every object is accounted for: read (a sighting recorded, or context it needed) or not;
    # one recorded for some of the agencies it names and refused for others is a success that
    # names what was refused (a peer must not send it again)
    stamp = format_timestamp(requested)
    successes, failures = [], []
    for index, obj in enumerate(objects):
        ident = obj.get("id") if isinstance(obj, dict) else None
        name = ident[:200] if isinstance(ident, str) else f"object {index}"
        version = _stated_version(obj) or stamp
        if index in problems:
            message = "; ".join(problems[index])[:1000]
            if index in taken:
                successes.append({"id": name, "version": version, "message": f"partly: {message}"})
            else:
                failures.append({"id": name, "version": version, "message": message})
        else:
            successes.append({"id": name, "version": version})
    status_id = str(uuid.uuid4())
    with store.transaction() as connection:
        written = store.record_sightings(accepted, connection=connection)
        status = {
            "id": status_id,
            "status": "complete",
            "request_timestamp": format_timestamp(requested),
            "total_count": len(objects),
            "success_count": len(successes),
            "successes": successes,
            "failure_count": len(failures),
            "failures": failures,
            "pending_count": 0,
            "pendings": [],
            "x_scamwall_new_sightings": written.inserted,
        }
        connection.execute(
            insert(taxii_statuses).values(
                id=status_id,
                agency_id=caller.agency_id,
                created_at=requested,
                body=json.dumps(status, ensure_ascii=False),
            )
        )
        AuditLog(store).record(
            caller,
            "taxii_write",
            target=f"collection:{collection.id}",
            detail={
                "status": status_id,
                "objects": len(objects),
                "refused": len(failures),
                "accepted": written.inserted,
                "duplicates": written.duplicates,
                "sightings": [s.id for s in accepted[:AUDIT_IDS_LIMIT]],
            },
            origin=origin,
            connection=connection,
        )
    return status


def _stated_version(obj: object) -> str | None:
    """The version an object states (``modified``, else ``created``), if it is text."""
    if not isinstance(obj, dict):
        return None
    version = obj.get("modified") or obj.get("created")
    return version[:40] if isinstance(version, str) else None


def _collection_refuses(collection: Collection, tlp: Tlp) -> str | None:
    if tlp in (Tlp.RED, Tlp.AMBER_STRICT):
        return f"TLP:{tlp.value.upper()} is never exchanged; it stays with its agency"
    if collection.group_id is None and tlp is not Tlp.CLEAR:
        return f"the public collection takes TLP:CLEAR only, not TLP:{tlp.value.upper()}"
    return None


def _shared_with(sighting: Sighting, group_id: int) -> Sighting:
    return replace(sighting, groups=sighting.groups | {group_id})


def get_status(store: Store, caller: Caller, status_id: str) -> dict[str, Any]:
    """A write's status, for the agency that wrote it."""
    with store.reading() as connection:
        row = connection.execute(
            select(taxii_statuses.c.agency_id, taxii_statuses.c.body).where(
                taxii_statuses.c.id == status_id
            )
        ).one_or_none()
    if row is None or row.agency_id != caller.agency_id:
        raise NotFound(f"no status {status_id} for this caller")
    body: dict[str, Any] = json.loads(row.body)
    return body
