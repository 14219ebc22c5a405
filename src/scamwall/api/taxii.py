"""TAXII 2.1 over HTTP at ``/taxii2/``: discovery, one API root, its collections, their objects,
manifests and versions, and the status of writes (``scamwall.exchange.taxii`` holds the logic).

Callers authenticate with the API's tokens, as ``Authorization: Bearer <token>`` or HTTP Basic
with the token as password (for peers that only speak Basic); without credentials a caller is
the public and reads the public collection. Every answer is
``application/taxii+json;version=2.1``; errors are TAXII error messages. A request whose
``Accept`` names neither TAXII 2.1 nor anything is refused with 406.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from scamwall import __version__, wire
from scamwall.api.auth import CallerDep, client_address
from scamwall.errors import InvalidInput, PayloadTooLarge, PermissionDenied, ScamwallError
from scamwall.exchange.legal import DefaultLegalBasis
from scamwall.exchange.reads import MAX_PAGE
from scamwall.exchange.stix import parse_timestamp
from scamwall.exchange.taxii import (
    MEDIA_TAXII,
    ObjectFilter,
    ObjectPage,
    collections_for,
    get_collection,
    get_object,
    get_status,
    object_page,
    write_objects,
)

__all__ = ["ROOT", "router", "taxii_error"]

ROOT = "/taxii2/scamwall/"


class TaxiiErrorBody(BaseModel):
    """A TAXII 2.1 error message."""

    title: str
    description: str
    http_status: str


router = APIRouter(
    tags=["taxii"],
    responses={
        status: {"model": TaxiiErrorBody, "content": {MEDIA_TAXII: {}}}
        for status in (400, 401, 403, 404, 406, 413, 415, 422, 429)
    },
)
#: Ranges of an Accept header that take the TAXII 2.1 media type, besides that type itself.
_ACCEPTED = ("*/*", "application/*")


class TaxiiResponse(JSONResponse):
    """JSON with the TAXII 2.1 media type."""

    media_type = MEDIA_TAXII

    def render(self, content: Any) -> bytes:
        return wire.encode(content)


def taxii_error(status: int, title: str, description: str) -> TaxiiResponse:
    """A TAXII error message."""
    return TaxiiResponse(
        {"title": title, "description": description, "http_status": str(status)},
        status_code=status,
    )


def _media_ranges(header: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The media types of an Accept or Content-Type header, lower case, with their
    parameters."""
    for part in header.split(","):
        kind, *parameters = (piece.strip() for piece in part.split(";"))
        named = dict(p.partition("=")[::2] for p in parameters)
        yield kind.lower(), {k.strip().lower(): v.strip().strip('"') for k, v in named.items()}


def _taxii_21(kind: str, parameters: dict[str, str]) -> bool:
    """The TAXII media type, of version 2.1 or none named."""
    return kind == MEDIA_TAXII.split(";")[0] and parameters.get("version", "2.1") == "2.1"


def _check_accept(request: Request) -> None:
    accept = request.headers.get("accept")
    if not accept:
        return
    for kind, parameters in _media_ranges(accept):
        if parameters.get("q", "1").strip("0.") == "":
            continue  # q=0: "not this one"
        if kind in _ACCEPTED or _taxii_21(kind, parameters):
            return
    raise _NotAcceptable(accept)


class _NotAcceptable(ScamwallError):
    code = "not_acceptable"
    http_status = 406

    def __init__(self, accept: str) -> None:
        super().__init__(f"Accept {accept[:100]!r}: this server answers {MEDIA_TAXII}")


class _UnsupportedMedia(ScamwallError):
    code = "unsupported_media_type"
    http_status = 415

    def __init__(self, content_type: str) -> None:
        super().__init__(f"Content-Type {content_type[:100]!r}: send the envelope as {MEDIA_TAXII}")


def _added_after(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value, "added_after")
    except ScamwallError:
        raise InvalidInput(
            "added_after must be a STIX timestamp such as 2026-11-30T12:00:00.000Z",
            field="added_after",
        ) from None


def _filter(
    ids: str | None, types: str | None, version: str | None, spec: str | None
) -> ObjectFilter | None:
    """The ``match[…]`` filters; None when they exclude everything (another STIX version)."""
    if spec is not None and "2.1" not in spec.split(","):
        return None
    # every object here has one version, so first, last and all all name it: with any of them,
    # every object passes, whatever times are named beside
    asked = {v for v in (version or "").split(",") if v}
    keywords = asked & {"first", "last", "all"}
    times = set() if keywords else asked
    try:
        moments = frozenset(parse_timestamp(t, "match[version]") for t in times)
    except ScamwallError:
        raise InvalidInput(
            "match[version] takes first, last, all or STIX timestamps such as "
            "2026-11-30T12:00:00.000Z",
            field="match[version]",
        ) from None
    return ObjectFilter(
        ids=frozenset(i for i in (ids or "").split(",") if i),
        types=frozenset(t for t in (types or "").split(",") if t),
        versions=moments,
    )


@router.get("/taxii2/", response_class=TaxiiResponse)
async def discovery(request: Request) -> TaxiiResponse:
    """TAXII discovery: this server and its API root."""
    _check_accept(request)
    return TaxiiResponse(
        {
            "title": "scamwall",
            "description": "Fraud indicators and sightings shared between agencies.",
            "default": ROOT,
            "api_roots": [ROOT],
        }
    )


@router.get(ROOT, response_class=TaxiiResponse)
async def api_root(request: Request) -> TaxiiResponse:
    """The API root: versions and the largest write accepted."""
    _check_accept(request)
    return TaxiiResponse(
        {
            "title": "scamwall",
            "description": f"scamwall {__version__}: sightings by collection, per the sharing "
            "policy; RED and AMBER+STRICT never leave.",
            "versions": [MEDIA_TAXII],
            "max_content_length": request.app.state.settings.api_max_body_bytes,
        }
    )


@router.get(ROOT + "status/{status_id}/", response_class=TaxiiResponse)
async def status(request: Request, caller: CallerDep, status_id: str) -> TaxiiResponse:
    """The status of a write, for the agency that wrote it."""
    _check_accept(request)
    store = request.app.state.store
    return TaxiiResponse(await run_in_threadpool(get_status, store, caller, status_id))


@router.get(ROOT + "collections/", response_class=TaxiiResponse)
async def collections(request: Request, caller: CallerDep) -> TaxiiResponse:
    """The collections this caller may read or write."""
    _check_accept(request)
    found = await run_in_threadpool(collections_for, request.app.state.store, caller)
    return TaxiiResponse({"collections": [c.as_taxii() for c in found]})


@router.get(ROOT + "collections/{collection_id}/", response_class=TaxiiResponse)
async def collection(request: Request, caller: CallerDep, collection_id: str) -> TaxiiResponse:
    """One collection."""
    _check_accept(request)
    found = await run_in_threadpool(get_collection, request.app.state.store, caller, collection_id)
    return TaxiiResponse(found.as_taxii())


Limit = Annotated[
    int,
    Query(ge=1, description=f"Most objects in the answer (this server gives {MAX_PAGE} at most)."),
]
AddedAfter = Annotated[str | None, Query(description="Objects added after this time.")]
Next = Annotated[str | None, Query(alias="next", description="The `next` of the page before.")]
MatchId = Annotated[str | None, Query(alias="match[id]")]
MatchType = Annotated[str | None, Query(alias="match[type]")]
MatchVersion = Annotated[str | None, Query(alias="match[version]")]
MatchSpec = Annotated[str | None, Query(alias="match[spec_version]")]


@dataclass(frozen=True)
class PageQuery:
    """What a request for a page of a collection asks: its filters and where to start."""

    added_after: datetime | None
    next_token: str | None
    limit: int
    #: None when the filters exclude everything (another STIX version than 2.1)
    keep: ObjectFilter | None


def page_query(
    added_after: AddedAfter = None,
    limit: Limit = MAX_PAGE,
    next_token: Next = None,
    match_id: MatchId = None,
    match_type: MatchType = None,
    match_version: MatchVersion = None,
    match_spec: MatchSpec = None,
) -> PageQuery:
    """The query parameters of the objects and manifest endpoints, read once for both."""
    keep = _filter(match_id, match_type, match_version, match_spec)
    return PageQuery(_added_after(added_after), next_token, min(limit, MAX_PAGE), keep)


PageQueryDep = Annotated[PageQuery, Depends(page_query)]


async def _paged(
    request: Request,
    caller: Any,
    collection_id: str,
    query: PageQuery,
    render: Callable[[ObjectPage], dict[str, Any]],
) -> TaxiiResponse:
    """A page of the collection as ``render`` shows it, with the X-TAXII-Date-Added headers."""
    _check_accept(request)
    store = request.app.state.store
    found = await run_in_threadpool(get_collection, store, caller, collection_id)
    if query.keep is None:  # a filter nothing here can match, on a collection the caller reads
        if not found.can_read:
            raise PermissionDenied("this collection is not readable by this caller")
        return TaxiiResponse({"more": False, "objects": []})
    legal = DefaultLegalBasis.from_settings(request.app.state.settings)
    page = await run_in_threadpool(
        lambda: object_page(
            store,
            caller,
            found,
            added_after=query.added_after,
            next_token=query.next_token,
            limit=query.limit,
            keep=query.keep,
            legal=legal,
        )
    )
    response = TaxiiResponse(render(page))
    added = page.added_range()
    if added is not None:
        response.headers["X-TAXII-Date-Added-First"] = added[0]
        response.headers["X-TAXII-Date-Added-Last"] = added[1]
    return response


@router.get(ROOT + "collections/{collection_id}/objects/", response_class=TaxiiResponse)
async def objects(
    request: Request, caller: CallerDep, collection_id: str, query: PageQueryDep
) -> TaxiiResponse:
    """A page of the collection's objects, oldest added first."""
    return await _paged(request, caller, collection_id, query, ObjectPage.envelope)


@router.get(ROOT + "collections/{collection_id}/manifest/", response_class=TaxiiResponse)
async def manifest(
    request: Request, caller: CallerDep, collection_id: str, query: PageQueryDep
) -> TaxiiResponse:
    """The manifest of a page: id, date added, version and media type of each object."""
    return await _paged(request, caller, collection_id, query, ObjectPage.manifest)


@router.post(
    ROOT + "collections/{collection_id}/objects/",
    response_class=TaxiiResponse,
    status_code=202,
)
async def add_objects(request: Request, caller: CallerDep, collection_id: str) -> TaxiiResponse:
    """Add a peer's objects (an envelope); answers the status of the write, 202."""
    _check_accept(request)
    store = request.app.state.store
    found = await run_in_threadpool(get_collection, store, caller, collection_id)
    if not found.can_write:  # told before its body is read
        raise PermissionDenied("this caller may not write to this collection")
    content_type = request.headers.get("content-type", "")
    if not any(_taxii_21(kind, parameters) for kind, parameters in _media_ranges(content_type)):
        raise _UnsupportedMedia(content_type)
    raw = await request.body()
    limit = request.app.state.settings.api_max_body_bytes
    if len(raw) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes")
    try:
        envelope = wire.decode(raw)
    except ValueError as exc:
        raise InvalidInput(f"the body is not JSON ({exc})", field="body") from None
    result = await run_in_threadpool(
        lambda: write_objects(store, caller, found, envelope, origin=client_address(request))
    )
    return TaxiiResponse(result, status_code=202)


async def _object(
    request: Request,
    caller: Any,
    collection_id: str,
    object_id: str,
    match_version: str | None,
    match_spec: str | None,
) -> list[dict[str, Any]]:
    """The object with this id in the collection, as the caller may see it, if it passes the
    ``match[version]`` and ``match[spec_version]`` filters (none: an empty list)."""
    _check_accept(request)
    keep = _filter(None, None, match_version, match_spec)  # a bad filter: 400 before a read
    store = request.app.state.store
    found = await run_in_threadpool(get_collection, store, caller, collection_id)
    legal = DefaultLegalBasis.from_settings(request.app.state.settings)
    stix = await run_in_threadpool(lambda: get_object(store, caller, found, object_id, legal=legal))
    if keep is None:
        return []
    # what is found by id (sightings, identities, markings) states its version, so the time
    # of adding, the version of observables alone, is never read
    return [o for o in stix if keep.keeps(o, datetime.now(UTC))]


@router.get(ROOT + "collections/{collection_id}/objects/{object_id}/", response_class=TaxiiResponse)
async def one_object(
    request: Request,
    caller: CallerDep,
    collection_id: str,
    object_id: str,
    match_version: MatchVersion = None,
    match_spec: MatchSpec = None,
) -> TaxiiResponse:
    """One object by id, in an envelope (every object here has one version; the filters
    ``match[version]`` and ``match[spec_version]`` may leave it out)."""
    stix = await _object(request, caller, collection_id, object_id, match_version, match_spec)
    return TaxiiResponse({"more": False, "objects": stix})


@router.get(
    ROOT + "collections/{collection_id}/objects/{object_id}/versions/",
    response_class=TaxiiResponse,
)
async def versions(
    request: Request,
    caller: CallerDep,
    collection_id: str,
    object_id: str,
    match_spec: MatchSpec = None,
) -> TaxiiResponse:
    """The versions of one object: one, its ``modified`` (or ``created``) time."""
    stix = await _object(request, caller, collection_id, object_id, None, match_spec)
    return TaxiiResponse(
        {"more": False, "versions": [o.get("modified") or o.get("created") for o in stix]}
    )


def is_taxii(request: Request) -> bool:
    """Whether an error on this request is answered as a TAXII error message."""
    return request.url.path.startswith("/taxii2/")
