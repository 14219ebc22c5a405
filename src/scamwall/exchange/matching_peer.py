"""The initiator of a private set intersection over HTTP: our blinded set to a peer's
``POST /v1/match/psi``, its answer back, the common elements out.

Standard library HTTP (``urllib``): one JSON request per session needs no client library. The
peer's token is sent as ``Authorization: Bearer``; redirects are never followed (they would
carry the token to wherever the answer points), every wait is bounded by ``timeout`` and the
answer's size by what the protocol allows.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scamwall import __version__
from scamwall.errors import (
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PeerUnavailable,
    PermissionDenied,
    ScamwallError,
    TooManyRequests,
    UsageError,
)
from scamwall.exchange.matching_sets import MatchKind
from scamwall.exchange.private_matching import MAX_ELEMENTS, PsiInitiator, PsiResult
from scamwall.indicators import Indicator

__all__ = ["PSI_PATH", "PeerSession", "psi_endpoint", "psi_with_peer", "sent_in_clear"]

log = logging.getLogger(__name__)

PSI_PATH = "/v1/match/psi"
#: Bytes an answer may take per element it carries (a point is 44 base64 characters, quoted,
#: with a separator), plus room for the envelope.
_BYTES_PER_POINT = 64
_ENVELOPE_BYTES = 64 * 1024
#: Of an error answer, only this much is read.
_ERROR_BYTES = 64 * 1024
#: The peer's answer by status, as the same error here (their message is kept).
_PEER_ERRORS: dict[int, type[ScamwallError]] = {
    400: InvalidInput,
    401: NotAuthenticated,
    403: PermissionDenied,
    404: NotFound,
    413: PayloadTooLarge,
    422: InvalidInput,
    429: TooManyRequests,
}


@dataclass(frozen=True, slots=True)
class PeerSession:
    """One session run with a peer: its id, the endpoint, and what the initiator learnt."""

    session: str
    endpoint: str
    result: PsiResult


def psi_endpoint(peer_url: str) -> str:
    """The peer's PSI route from its base URL (``https://scamwall.example:8080``)."""
    parts = urlsplit(peer_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{peer_url!r} is not an http(s) URL of a scamwall instance", field="peer")
    if parts.query or parts.fragment:
        raise UsageError("give the peer's base URL, without query or fragment", field="peer")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}{PSI_PATH}"


def sent_in_clear(endpoint: str) -> bool:
    """True when the token and the blinded points would cross a network unencrypted."""
    parts = urlsplit(endpoint)
    if parts.scheme == "https":
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect ends the session as an error instead of re-sending the token elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects)


def _peer_error(endpoint: str, error: urllib.error.HTTPError) -> ScamwallError:
    """The peer's error answer as ours, with its message when it sent the one error shape."""
    message = error.reason if isinstance(error.reason, str) else "no readable error"
    if getattr(error, "fp", None) is not None:
        try:
            message = str(json.loads(error.read(_ERROR_BYTES))["error"]["message"])
        except (ValueError, KeyError, TypeError, OSError, http.client.HTTPException):
            pass  # not scamwall's error shape: the status line's reason stays
        finally:
            error.close()
    if error.code == 404:
        message += " (is it a scamwall instance that offers private matching?)"
    elif 300 <= error.code < 400:
        message += " (redirects are not followed: give the URL the peer is served at)"
    cls = _PEER_ERRORS.get(error.code, PeerUnavailable)
    return cls(f"the peer {endpoint} answered {error.code}: {message}", status=error.code)


def _post_json(endpoint: str, token: str, body: dict[str, Any], timeout: float, limit: int) -> Any:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked: http or https only
        endpoint,
        data=json.dumps(body, separators=(",", ":")).encode("utf-8"),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"scamwall/{__version__}",
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            data = answer.read(limit + 1)
    except urllib.error.HTTPError as exc:
        raise _peer_error(endpoint, exc) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise PeerUnavailable(f"cannot reach the peer {endpoint}: {reason}") from None
    if len(data) > limit:
        raise PeerUnavailable(f"the peer {endpoint} answered more than {limit} bytes")
    try:
        return json.loads(data)
    except ValueError:
        raise PeerUnavailable(f"the peer {endpoint} answered something that is not JSON") from None


def psi_with_peer(
    peer_url: str,
    token: str,
    kind: MatchKind,
    indicators: Iterable[Indicator],
    *,
    timeout: float = 300.0,
    max_elements: int = MAX_ELEMENTS,
) -> PeerSession:
    """Run one private set intersection with the peer as responder: which of ``indicators``
    (all of ``kind``) the peer holds too, and the size of its set."""
    if not token.strip():
        raise UsageError("the peer's token is empty", field="token")
    if timeout <= 0:
        raise UsageError("the timeout is a number of seconds above 0", field="timeout")
    endpoint = psi_endpoint(peer_url)
    wanted = kind.indicator_kind
    own = list(indicators)
    if any(indicator.kind is not wanted for indicator in own):
        raise UsageError(f"every indicator of a {kind.value} session is a {kind.value}")
    initiator = PsiInitiator(own, max_elements=max_elements)
    request = initiator.request()
    limit = _BYTES_PER_POINT * (len(request["blinded"]) + max_elements) + _ENVELOPE_BYTES
    log.info("PSI with %s: %d %s elements", endpoint, len(request["blinded"]), kind.value)
    response = _post_json(
        endpoint, token.strip(), {"kind": kind.value, "request": request}, timeout, limit
    )
    if not isinstance(response, dict):
        raise PeerUnavailable(f"the peer {endpoint} answered something that is not a message")
    return PeerSession(request["session"], endpoint, initiator.finish(response))
