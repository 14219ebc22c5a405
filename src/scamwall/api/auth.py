"""Who is calling: bearer or basic tokens, the anonymous public, and its rate limit."""

from __future__ import annotations

import base64
import binascii
import math
import threading
import time
from collections import OrderedDict, deque
from typing import Annotated, Any

from fastapi import Depends, Request

from scamwall.errors import NotAuthenticated, PermissionDenied, TooManyRequests
from scamwall.exchange.policy import Caller, Role
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog

__all__ = ["AnonymousRateLimit", "CallerDep", "client_address", "current_caller", "require_role"]


class AnonymousRateLimit:
    """At most ``per_minute`` requests per client address in any 60 seconds: a sliding window of
    the times of the requests let through. (A token bucket of ``per_minute`` lets a full bucket
    through at once and refills meanwhile: up to twice the limit in a minute.) A client quiet
    for a minute is forgotten, so what is kept is bounded by the requests of the last minute."""

    WINDOW_S = 60.0

    def __init__(self, per_minute: int, *, max_clients: int = 100_000) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        #: per client, the times of the requests let through; the least recently seen first
        self._windows: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, *, now: float | None = None) -> None:
        """Spend one request of ``client``'s allowance or raise :class:`TooManyRequests`."""
        moment = time.monotonic() if now is None else now
        start = moment - self.WINDOW_S
        with self._lock:
            self._forget_quiet(start)
            window = self._windows.pop(client, None) or deque()
            while window and window[0] <= start:
                window.popleft()
            self._windows[client] = window
            if len(window) >= self.per_minute:
                # whole seconds, rounded up, in the message as in Retry-After: a client that
                # waits what it is told is let through
                wait = max(1, math.ceil(window[0] - start))
                raise TooManyRequests(
                    f"too many requests without a token; try again in {wait} s or use a token",
                    retry_after=wait,
                )
            window.append(moment)
            while len(self._windows) > self.max_clients:
                self._windows.popitem(last=False)

    def _forget_quiet(self, start: float) -> None:
        """Drop the least recently seen clients with no request let through since ``start``."""
        while self._windows:
            oldest = next(iter(self._windows.values()))
            if oldest and oldest[-1] > start:
                return
            self._windows.popitem(last=False)


def client_address(request: Request) -> str:
    """The peer address (the API is meant to run behind no proxy, or one that rewrites it)."""
    return request.client.host if request.client else "unknown"


def _secret_from(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "token"):  # taxii2-client's TokenAuth says "Token"
        return value.strip()
    if scheme.lower() == "basic":  # peers that only speak Basic: the token is the password
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise NotAuthenticated("malformed Basic credentials") from None
        return decoded.partition(":")[2]
    raise NotAuthenticated(
        "use 'Authorization: Bearer <token>' (or Basic with the token as password)"
    )


async def current_caller(request: Request) -> Caller:
    """The caller of this request (also kept as ``request.state.caller``, for the audit of a
    refusal); anonymous callers are rate-limited, refused tokens audited.

    Runs on the event loop: one indexed look-up costs less than a hop to the thread pool."""
    state = request.app.state
    header = request.headers.get("authorization")
    if header is None:
        state.anonymous_limit.take(client_address(request))
        caller = Caller.anonymous()
        request.state.caller = caller
        return caller
    try:
        secret = _secret_from(header)
        if not secret:
            raise NotAuthenticated("empty token")
        caller = Access(state.store).authenticate(secret)
        request.state.caller = caller
        return caller
    except NotAuthenticated as exc:
        # a wrong token spends the address's allowance like an anonymous call, so guessing
        # tokens (or flooding the audit trail with refusals) is rate-limited too
        state.anonymous_limit.take(client_address(request))
        AuditLog(state.store).record(
            None,
            "auth_failed",
            target=request.url.path,
            detail={"reason": exc.message},
            origin=client_address(request),
        )
        raise


CallerDep = Annotated[Caller, Depends(current_caller)]


def require_role(caller: Caller, roles: frozenset[Role], what: str) -> None:
    """Refuse with 403 unless the caller's role is one of ``roles`` (every 403 is audited where
    the API answers it: ``app``'s error handler)."""
    if caller.role not in roles:
        raise PermissionDenied(f"role {caller.role.value} may not {what}")


def caller_in(roles: frozenset[Role], what: str) -> Any:
    """A route's caller as a dependency that refuses roles not in ``roles`` (403). Dependencies
    run before a request's body is validated: a caller that may not do something is told so,
    not what its body lacks."""

    async def checked(caller: CallerDep) -> Caller:
        require_role(caller, roles, what)
        return caller

    return Depends(checked)
