"""Routes of enforcement: URL screening, feeds, receipts, appeals and the warning page.

Feeds are served to ``feed`` clients (and administrators and analysts) as the file a resolver
or firewall loads, with an ``ETag`` (a client sending it back in ``If-None-Match`` gets 304 until
the next serial) and the serial in ``X-Scamwall-Serial``. The warning page is what the walled
garden points to: ``GET /blocked``, and any request whose ``Host`` is a blocked name.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from scamwall.api.auth import CallerDep, caller_in, client_address, require_role
from scamwall.api.routes import ERRORS
from scamwall.enforcement.appeals import decide_appeal, get_appeal, list_appeals, submit_appeal
from scamwall.enforcement.blocklist import Blocklist
from scamwall.enforcement.configured import RenderedFeed, publish_feeds, render_feed
from scamwall.enforcement.feeds import feed_state, latest_serial
from scamwall.enforcement.formats import FORMATS
from scamwall.enforcement.receipts import RECEIPT_SENDERS, record_receipts
from scamwall.enforcement.warning import (
    negotiate_language,
    render_appeal_error_page,
    render_appeal_received_page,
    render_warning_page,
)
from scamwall.errors import InvalidIndicator, NotFound, PayloadTooLarge, ScamwallError
from scamwall.exchange.policy import CURATORS, SCREENERS, Caller, Role
from scamwall.indicators import IndicatorKind
from scamwall.indicators.network import canonical_domain
from scamwall.screening.web import WebScreener
from scamwall.store import Store

__all__ = [
    "APPEAL_FORM",
    "BlocklistHolder",
    "FeedCache",
    "blocked_host",
    "router",
    "warning_response",
    "warning_router",
]

router = APIRouter(prefix="/v1")
warning_router = APIRouter()
FEED_READERS = frozenset({Role.FEED, Role.ADMIN, Role.ANALYST})
#: Ids and serials are 32-bit integers in the store.
AppealId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The appeal's id.")]
SerialQuery = Annotated[int | None, Query(ge=0, le=2**31 - 1)]
#: Inputs one request of the anonymous public may carry.
PUBLIC_URLS = 100
APPEAL_FORM = "/blocked/appeal"


class BlocklistHolder:
    """The feeds' entries of the newest serial in memory, replaced whole after a publication."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self.current = Blocklist.from_state(feed_state(store))

    def refresh(self) -> Blocklist:
        """Reload if a newer serial was published."""
        with self._store.reading() as connection:
            newest = latest_serial(connection)
        if newest != self.current.serial:
            fresh = Blocklist.from_state(feed_state(self._store, serial=newest))
            with self._lock:
                self.current = fresh
        return self.current


class FeedCache:
    """The last few rendered feeds: resolvers poll often, and a serial never changes. A feed
    missing from the cache is rendered once, however many consumers ask for it at once."""

    def __init__(self, size: int = 8) -> None:
        self._items: OrderedDict[tuple[Any, ...], RenderedFeed] = OrderedDict()
        self._rendering: dict[tuple[Any, ...], threading.Lock] = {}
        self._size = size
        self._lock = threading.Lock()

    def _cached(self, key: tuple[Any, ...]) -> RenderedFeed | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def render(self, key: tuple[Any, ...], make: Callable[[], RenderedFeed]) -> RenderedFeed:
        """The feed under ``key``, made by ``make`` if nobody made it yet (blocking: run it in
        a worker thread)."""
        found = self._cached(key)
        if found is not None:
            return found
        with self._lock:
            turn = self._rendering.setdefault(key, threading.Lock())
        try:
            with turn:
                found = self._cached(key)
                if found is not None:
                    return found
                made = make()
                with self._lock:
                    self._items[key] = made
                    while len(self._items) > self._size:
                        self._items.popitem(last=False)
                return made
        finally:  # made or failed (an unknown serial), the key's turn is over
            with self._lock:
                self._rendering.pop(key, None)


def _store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


class ScreenUrlRequest(BaseModel):
    """URLs, domain names or IP addresses to screen."""

    inputs: list[str] = Field(description="One URL, domain name or IP address each.")


@router.post("/screen/url", responses=ERRORS, tags=["screening"])
async def screen_url(
    request: Request,
    caller: Annotated[Caller, caller_in(SCREENERS, "screen URLs")],
    body: ScreenUrlRequest,
) -> JSONResponse:
    """A verdict for each input, in input order: `{"input", "verdict", "score", "category",
    "reasons"}`, or `{"input", "error"}` for one that is no URL, domain or address."""
    limit = (
        PUBLIC_URLS if caller.role is Role.PUBLIC else int(request.app.state.settings.api_max_batch)
    )
    if len(body.inputs) > limit:
        raise PayloadTooLarge(
            f"{len(body.inputs)} inputs; at most {limit} per request", limit=limit
        )
    screener: WebScreener = request.app.state.web_screener
    snapshot = request.app.state.reputation.current
    blocklist = request.app.state.blocklist.current
    if len(body.inputs) <= 64:
        verdicts = screener.screen(body.inputs, snapshot, blocklist)
    else:
        verdicts = await run_in_threadpool(
            partial(screener.screen, body.inputs), snapshot, blocklist
        )
    return JSONResponse(
        {
            "results": [v.as_dict() for v in verdicts],
            "model": screener.model.version,
            "snapshot": snapshot.version,
            "serial": blocklist.serial,
        }
    )


@router.get("/feeds", responses=ERRORS, tags=["feeds"])
def get_feeds(request: Request, caller: CallerDep) -> dict[str, Any]:
    """The newest serial and the formats on offer."""
    require_role(caller, FEED_READERS, "read the feeds")
    blocklist = request.app.state.blocklist.refresh()
    return {
        "serial": blocklist.serial,
        "entries": len(blocklist),
        "formats": {name: f"/v1/feeds/{name}" for name in FORMATS},
    }


@router.get(
    "/feeds/{name}", responses={**ERRORS, 304: {"description": "Not modified."}}, tags=["feeds"]
)
@router.head("/feeds/{name}", include_in_schema=False)  # the headers alone: ETag, serial
async def get_feed(
    request: Request,
    caller: CallerDep,
    name: str,
    since: SerialQuery = None,
    serial: SerialQuery = None,
) -> Response:
    """One feed as its consumer loads it (see the formats in docs/enforcement.md)."""
    require_role(caller, FEED_READERS, "read the feeds")
    if name.lower() not in FORMATS:
        raise NotFound(f"no feed {name!r}; formats: {', '.join(FORMATS)}")
    state = request.app.state
    store = _store(request)
    wanted = serial if serial is not None else await run_in_threadpool(_newest_serial, store)
    form = name.lower()
    rendered = await run_in_threadpool(
        state.feed_cache.render,
        (form, wanted, since),
        partial(render_feed, store, form, state.settings, since=since, serial=wanted),
    )
    headers = {"ETag": rendered.etag, "X-Scamwall-Serial": str(rendered.serial)}
    if _matches(request.headers.get("if-none-match"), rendered.etag):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type=rendered.media_type, headers=headers)


def _newest_serial(store: Store) -> int:
    with store.reading() as connection:
        return latest_serial(connection)


def _matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weakly compared, RFC 9110) or is
    ``*``."""
    if header is None:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


@router.post("/feeds/publish", responses=ERRORS, tags=["feeds"])
async def post_publish(request: Request, caller: CallerDep) -> dict[str, Any]:
    """Publish now: a new serial if the current reputation calls for one."""
    require_role(caller, CURATORS, "publish the feeds")
    state = request.app.state
    snapshot = await run_in_threadpool(state.reputation.refresh)
    result = await run_in_threadpool(
        lambda: publish_feeds(
            _store(request),
            state.settings,
            snapshot,
            caller=caller,
            origin=client_address(request),
        )
    )
    await run_in_threadpool(state.blocklist.refresh)
    return result.as_dict()


class ReceiptBatch(BaseModel):
    """Hit counts of one consumer over one period."""

    consumer: str = Field(min_length=1, max_length=100, description="Resolver, firewall, switch.")
    period_start: str | None = Field(default=None, description="ISO 8601.")
    period_end: str | None = Field(default=None, description="ISO 8601; default now.")
    hits: list[Any] = Field(description='Objects {"value", "kind"?, "hits"}.')


@router.post("/feeds/receipts", responses=ERRORS, tags=["feeds"])
def post_receipts(
    request: Request,
    caller: Annotated[
        Caller, caller_in(RECEIPT_SENDERS, "send enforcement receipts (feed clients do)")
    ],
    body: ReceiptBatch,
) -> dict[str, Any]:
    """Record how often entries were hit; each comes back as a sighting of the value."""
    result = record_receipts(
        _store(request),
        caller,
        consumer=body.consumer,
        hits=body.hits,
        period_start=body.period_start,
        period_end=body.period_end,
        max_batch=int(request.app.state.settings.api_max_batch),
        blocklist=request.app.state.blocklist.refresh(),
        origin=client_address(request),
    )
    return result.as_dict()


class AppealRequest(BaseModel):
    """An appeal against the entry that blocks a value."""

    value: str = Field(min_length=1, max_length=2048)
    evidence: str = Field(min_length=1, max_length=5000)
    contact: str | None = Field(default=None, max_length=200)
    kind: IndicatorKind | None = None
    region: str | None = Field(
        default=None,
        pattern="^[A-Za-z]{2}$",
        description="Country of a phone number written without its +country code (e.g. TH).",
    )


@router.post("/appeals", status_code=201, responses=ERRORS, tags=["appeals"])
def post_appeal(request: Request, caller: CallerDep, body: AppealRequest) -> dict[str, Any]:
    """Anyone may appeal; an analyst decides. Keep the id to follow it."""
    appeal = submit_appeal(
        _store(request),
        body.value,
        evidence=body.evidence,
        contact=body.contact,
        caller=caller,
        kind=body.kind,
        region=body.region.upper() if body.region else None,
        origin=client_address(request),
    )
    return appeal.as_public_dict()


@router.get("/appeals", responses=ERRORS, tags=["appeals"])
def get_appeals(
    request: Request,
    caller: CallerDep,
    status: Annotated[str | None, Query(description="pending, accepted or rejected")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Appeals with their evidence (admin or analyst), oldest first."""
    require_role(caller, CURATORS, "read appeals")
    return [a.as_dict() for a in list_appeals(_store(request), status=status, limit=limit)]


@router.get("/appeals/{appeal_id}", responses=ERRORS, tags=["appeals"])
def get_one_appeal(request: Request, caller: CallerDep, appeal_id: AppealId) -> dict[str, Any]:
    """An appeal's status (with its evidence for admins and analysts)."""
    appeal = get_appeal(_store(request), appeal_id)
    return appeal.as_dict() if caller.role in CURATORS else appeal.as_public_dict()


class Decision(BaseModel):
    """An analyst's decision on an appeal."""

    accept: bool
    note: str = Field(min_length=1, max_length=2000)


@router.post("/appeals/{appeal_id}/decision", responses=ERRORS, tags=["appeals"])
def post_decision(
    request: Request,
    caller: Annotated[Caller, caller_in(CURATORS, "decide appeals")],
    appeal_id: AppealId,
    body: Decision,
) -> dict[str, Any]:
    """Accept (the entry leaves every feed at a new serial; its sightings are disputed) or
    reject an appeal."""
    appeal = decide_appeal(
        _store(request),
        appeal_id,
        accept=body.accept,
        note=body.note,
        caller=caller,
        snapshot_version=request.app.state.reputation.current.version,
        origin=client_address(request),
    )
    request.app.state.blocklist.refresh()
    return appeal.as_dict()


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        html,
        status_code=status,
        headers={"Cache-Control": "no-store", "Vary": "Accept-Language"},
    )


def warning_response(request: Request, blocked_name: str | None) -> HTMLResponse:
    """The warning page for a blocked name, in the visitor's language."""
    language = negotiate_language(
        request.headers.get("accept-language"), request.query_params.get("lang")
    )
    return _page(
        render_warning_page(blocked_name=blocked_name, language=language, appeal_url=APPEAL_FORM),
        status=200,
    )


@warning_router.get("/blocked", response_class=HTMLResponse, tags=["warning page"])
def get_warning_page(
    request: Request, name: Annotated[str | None, Query(max_length=253)] = None
) -> HTMLResponse:
    """The page blocked sites lead to: why, what to do, and how to appeal. It shows the entry
    that blocks the name, never the name itself: whoever owns a blocked domain chooses the
    labels under it (``call-0812345678-refund.scam.example``), and the page must not carry any
    text a link gives it."""
    shown = None
    if name:
        try:  # read as the feeds write names: an IDN in its punycode form
            host = canonical_domain(name.strip())
        except InvalidIndicator:
            host = None
        blocklist: Blocklist = request.app.state.blocklist.current
        entry = blocklist.match_domain(host) if host else None
        shown = entry.value if entry is not None else None
    return warning_response(request, shown)


_HTML: dict[str, Any] = {"content": {"text/html": {}}}


@warning_router.post(
    APPEAL_FORM,
    response_class=HTMLResponse,
    status_code=201,
    tags=["warning page"],
    responses={
        201: {**_HTML, "description": "The appeal was received (an HTML page)."},
        400: {**_HTML, "description": "The appeal was refused (an HTML page saying why)."},
        404: {**_HTML, "description": "The value is on no block list (an HTML page)."},
        422: {
            "content": {"text/html": {}, "application/json": {}},
            "description": "The value is no domain, address or number (an HTML page), or "
            "a form field is missing (the JSON error).",
        },
        429: {"description": "Too many requests from this address."},
    },
)
def post_appeal_form(
    request: Request,
    *,
    value: Annotated[str, Form(max_length=2048)],
    evidence: Annotated[str, Form(max_length=5000)],
    contact: Annotated[str | None, Form(max_length=200)] = None,
    lang: Annotated[str | None, Form(max_length=16)] = None,
) -> HTMLResponse:
    """The warning page's appeal form, always as the public (rate-limited per address);
    answers with a page in the visitor's language."""
    request.app.state.anonymous_limit.take(client_address(request))
    caller = Caller.anonymous()
    language = negotiate_language(request.headers.get("accept-language"), lang)
    try:
        appeal = submit_appeal(
            _store(request),
            value,
            evidence=evidence,
            contact=contact or None,
            caller=caller,
            origin=client_address(request),
        )
    except ScamwallError as exc:
        return _page(
            render_appeal_error_page(message=exc.message, language=language), exc.http_status
        )
    return _page(render_appeal_received_page(appeal_id=str(appeal.id), language=language), 201)


def blocked_host(request: Request) -> str | None:
    """The entry blocking the request's Host, when it is a blocked name (the walled garden
    sent the visitor): the entry, not the Host, which its owner writes (``get_warning_page``)."""
    host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip().lower().rstrip(".")
    if not host or "." not in host:
        return None
    blocklist: Blocklist = request.app.state.blocklist.current
    entry = blocklist.match_domain(host)
    return entry.value if entry is not None else None
