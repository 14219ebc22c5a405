"""The FastAPI application: one error shape, request size limits, the ``/v1`` routes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scamwall import __version__
from scamwall.api.auth import AnonymousRateLimit, client_address
from scamwall.api.calls import router as calls_router
from scamwall.api.enforcement import (
    BlocklistHolder,
    FeedCache,
    blocked_host,
    warning_response,
    warning_router,
)
from scamwall.api.enforcement import router as enforcement_router
from scamwall.api.matching import router as matching_router
from scamwall.api.routes import router
from scamwall.api.screening import router as screening_router
from scamwall.api.taxii import is_taxii, taxii_error
from scamwall.api.taxii import router as taxii_router
from scamwall.enforcement.configured import publish_feeds
from scamwall.errors import NotAuthenticated, PayloadTooLarge, PermissionDenied, ScamwallError
from scamwall.reputation import snapshot_for
from scamwall.reputation.snapshot import SnapshotHolder
from scamwall.runtime import freeze_long_lived
from scamwall.screening.calls.realtime import CallScreener
from scamwall.screening.configured import text_screener
from scamwall.screening.web import WebScreener
from scamwall.settings import Settings, get_settings
from scamwall.store import Store
from scamwall.store.audit import AuditLog

__all__ = ["create_app", "error_body"]

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "invalid_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one JSON shape of every error the API returns."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


class BodySizeLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before reading them whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise PayloadTooLarge(f"request body over {self.limit} bytes")
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send: Send) -> None:
        body = JSONResponse(
            error_body("payload_too_large", f"request body over {self.limit} bytes; split it"),
            status_code=413,
        )
        await body({"type": "http"}, _no_receive, send)


#: The schemes a caller may answer a 401 with: the token as a bearer token, or as the password
#: of Basic (peers that speak only Basic).
_CHALLENGE = 'Bearer realm="scamwall", Basic realm="scamwall"'


def _audit_refusal(request: Request, exc: PermissionDenied) -> None:
    AuditLog(request.app.state.store).record(
        getattr(request.state, "caller", None),
        "permission_denied",
        target=request.url.path,
        detail={"reason": exc.message},
        origin=client_address(request),
    )


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


#: Seconds after which `serve` publishes even when the snapshot's inputs did not change (scores
#: decay and entries expire with time alone).
REPUBLISH_SECONDS = 600.0


def _refresh_every(app: FastAPI, seconds: float, stop: threading.Event) -> None:
    """Rebuild the reputation snapshot every ``seconds`` until ``stop`` is set; publish the
    feeds from it when the settings say so and its inputs changed (or time alone might have
    changed what is listed)."""
    state = app.state
    published: tuple[str, float] = ("", 0.0)
    while not stop.wait(seconds):
        try:
            snapshot = state.reputation.refresh()
            inputs = snapshot.version.partition(".")[2]  # the digest of what it was built from
            if state.settings.enforcement_auto_publish and (
                inputs != published[0] or time.monotonic() - published[1] >= REPUBLISH_SECONDS
            ):
                publish_feeds(state.store, state.settings, snapshot)
                published = (inputs, time.monotonic())
            state.blocklist.refresh()
            if getattr(state, "freeze_long_lived", False):
                freeze_long_lived()
        except Exception:  # the old snapshot stays in service; the next round tries again
            log.exception("reputation snapshot refresh or feed publication failed")


class SecurityHeaders:
    """Headers every answer carries: no content sniffing, no framing (the warning page and the
    appeal form are not to be put inside another site's page), and, for the API's answers
    outside the feeds, no storing in caches (look-ups carry AMBER and RED data, a token's
    secret is in one answer). Feeds keep their ETags for conditional requests."""

    _ALWAYS = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", b"frame-ancestors 'none'"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        private = path.startswith(("/v1/", "/taxii2/")) and not path.startswith("/v1/feeds/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self._ALWAYS if h[0] not in present)
                if private and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class WalledGarden:
    """Answer a page request (GET or HEAD, outside the API's ``/v1``) whose Host is a blocked
    name with the warning page: resolvers send visitors of blocked sites here (the RPZ's
    walled-garden CNAME). The appeal form and the API go through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and not scope["path"].startswith(("/v1/", "/blocked"))
        ):
            request = Request(scope)
            name = blocked_host(request)
            if name is not None:
                await warning_response(request, name)(scope, receive, send)
                return
        await self.app(scope, receive, send)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    stop = threading.Event()
    refresher = threading.Thread(
        target=_refresh_every,
        args=(app, app.state.settings.reputation_refresh_seconds, stop),
        name="reputation-refresh",
        daemon=True,
    )
    refresher.start()
    try:
        yield
    finally:
        stop.set()


def served_app() -> FastAPI:
    """The app ``scamwall serve`` runs in each worker: :func:`create_app`, with what it loaded
    frozen out of the garbage collector's way (:func:`~scamwall.runtime.freeze_long_lived`),
    and so each reputation snapshot after it."""
    app = create_app()
    app.state.freeze_long_lived = True
    freeze_long_lived()
    return app


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """The API over ``store`` (by default the database the settings name)."""
    config = settings or get_settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="scamwall",
        version=__version__,
        summary="Pool, look up and share cross-border fraud indicators between agencies.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = config
    app.state.store = store or Store.open(config.database_url)
    app.state.anonymous_limit = AnonymousRateLimit(config.api_anonymous_per_minute)
    opened = app.state.store
    app.state.reputation = SnapshotHolder(lambda: snapshot_for(opened, config))
    app.state.text_screener = text_screener(config)
    app.state.web_screener = WebScreener(block_threshold=config.screen_block_threshold)
    app.state.call_screener = CallScreener(home_country=config.calls_home_country)
    app.state.blocklist = BlocklistHolder(opened)
    app.state.feed_cache = FeedCache()

    @app.exception_handler(ScamwallError)
    async def _scamwall_error(request: Request, exc: ScamwallError) -> JSONResponse:
        headers = {}
        if "retry_after" in exc.details:
            headers["Retry-After"] = str(exc.details["retry_after"])
        if isinstance(exc, NotAuthenticated):
            headers["WWW-Authenticate"] = _CHALLENGE
        if isinstance(exc, PermissionDenied):  # every refusal, wherever it was decided
            await run_in_threadpool(_audit_refusal, request, exc)
        if is_taxii(request):
            answer = taxii_error(exc.http_status, exc.code, exc.message)
            answer.headers.update(headers)
            return answer
        return JSONResponse(exc.to_dict(), status_code=exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "error": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"where": "request", "error": "invalid"}
        message = f"{first['where']}: {first['error']}"
        if is_taxii(request):
            return taxii_error(400, "invalid_request", message)
        return JSONResponse(
            error_body("invalid_request", message, {"errors": problems}), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, PayloadTooLarge):
            # a body without Content-Length, over the limit while FastAPI read it: the 413 the
            # limit answers, not the 400 FastAPI makes of any error while it reads a body
            return await _scamwall_error(request, exc.__cause__)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        if is_taxii(request):
            return taxii_error(exc.status_code, code, str(exc.detail))
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal", "unexpected error; it was logged"), status_code=500
        )

    app.include_router(router)
    app.include_router(screening_router)
    app.include_router(enforcement_router)
    app.include_router(calls_router)
    app.include_router(matching_router)
    app.include_router(taxii_router)
    app.include_router(warning_router)
    app.add_middleware(WalledGarden)
    app.add_middleware(BodySizeLimit, limit=config.api_max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, a 413 of the limit too
    return app
