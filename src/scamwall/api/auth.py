"""Who is calling: bearer or basic tokens, the anonymous public, and its rate limit."""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections import OrderedDict
from typing import Annotated, Any

from fastapi import Depends, Request

from scamwall.errors import NotAuthenticated, PermissionDenied, TooManyRequests
from scamwall.exchange.policy import Caller, Role
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog

__all__ = ["AnonymousRateLimit", "CallerDep", "client_address", "current_caller", "require_role"]


class AnonymousRateLimit:
    """A token bucket per client address: ``per_minute`` requests, refilled continuously."""

    def __init__(self, per_minute: int, *, max_clients: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, *, now: float | None = None) -> None:
        """Spend one request of ``client``'s allowance or raise :class:`TooManyRequests`."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.capacity, moment))
            tokens = min(self.capacity, tokens + (moment - last) * self.rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, moment)
                wait = (1.0 - tokens) / self.rate
                raise TooManyRequests(
                    f"too many requests without a token; try again in {wait:.0f} s or use a token",
                    retry_after=max(1, round(wait)),
                )
            self._buckets[client] = (tokens - 1.0, moment)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)


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
