"""Private matching: do two agencies both hold a phone number or bank account, without either
showing the rest of its list?

Two modes, both over the canonical form (``kind|canonical``), so ``081 234 5678`` read in Thailand
and ``+66 81-234-5678`` are one element:

* **Keyed tokens** (:func:`keyed_tokens`, :func:`keyed_matches`): HMAC-SHA256 under a key the
  sharing group holds. Fast and one message each way, but whoever holds the key can hash every
  possible phone number and read any published token list.
* **Private set intersection** (:class:`PsiInitiator`, :class:`PsiResponder`): Diffie-Hellman
  blinding in the prime-order subgroup of edwards25519, through libsodium (PyNaCl). Each side's
  secret scalar lives for one session; nothing published can be brute-forced offline.

Messages are plain JSON-serialisable dictionaries, so the same classes run over HTTP. The protocol,
what each side learns and what it does not protect against are in ``docs/private-matching.md``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nacl import bindings as sodium
from nacl import exceptions as sodium_errors

from scamwall.errors import InvalidInput, PayloadTooLarge, UsageError
from scamwall.indicators import Indicator

__all__ = [
    "MAX_ELEMENTS",
    "PSI_PROTOCOL",
    "PsiInitiator",
    "PsiResponder",
    "PsiResult",
    "keyed_matches",
    "keyed_token",
    "keyed_tokens",
    "matching_element",
    "new_group_key",
    "private_intersection",
]

#: Names the group, the hash to the group and the message shapes; both sides must agree on it.
PSI_PROTOCOL = "scamwall-psi/edwards25519-sha512-elligator2x2/v1"
#: The most elements one side may put in or accept from the other, per session.
MAX_ELEMENTS = 1_000_000
MIN_KEY_BYTES = 16
_HASH_DOMAIN = PSI_PROTOCOL.encode() + b"|hash-to-group|"
_POINT_BYTES = sodium.crypto_core_ed25519_BYTES


def matching_element(indicator: Indicator) -> bytes:
    """What both modes compare: ``kind|canonical`` in UTF-8."""
    return f"{indicator.kind.value}|{indicator.canonical}".encode()


# ---------------------------------------------------------------------------- keyed tokens


def new_group_key() -> bytes:
    """A fresh 32-byte sharing-group key, to hand to the group's members out of band."""
    return secrets.token_bytes(32)


def keyed_token(indicator: Indicator, group_key: bytes) -> str:
    """HMAC-SHA256 of the indicator's matching element under the group key, in hex."""
    if not isinstance(group_key, bytes) or len(group_key) < MIN_KEY_BYTES:
        raise UsageError(f"a group key is at least {MIN_KEY_BYTES} random bytes")
    return hmac.new(group_key, matching_element(indicator), hashlib.sha256).hexdigest()


def keyed_tokens(indicators: Iterable[Indicator], group_key: bytes) -> list[str]:
    """The token list to publish: one per distinct indicator, sorted so order tells nothing."""
    return sorted({keyed_token(indicator, group_key) for indicator in indicators})


def keyed_matches(
    indicators: Iterable[Indicator], their_tokens: Iterable[str], group_key: bytes
) -> list[Indicator]:
    """The indicators of ours whose token is in the other side's published list."""
    theirs = {token.strip().lower() for token in their_tokens}
    mine = {keyed_token(indicator, group_key): indicator for indicator in indicators}
    return sorted((mine[t] for t in mine.keys() & theirs), key=_order)


# ---------------------------------------------------------------------------- the group


def _hash_to_group(element: bytes) -> bytes:
    """A point of the prime-order subgroup no one knows the logarithm of.

    Two Elligator 2 maps of independent halves of SHA-512, added: one map alone reaches only
    about half the points and is distinguishable from random, the sum is not. libsodium clears
    the cofactor, so the point lies in the subgroup of order L.
    """
    digest = hashlib.sha512(_HASH_DOMAIN + element).digest()
    first = sodium.crypto_core_ed25519_from_uniform(digest[:32])
    second = sodium.crypto_core_ed25519_from_uniform(digest[32:])
    return bytes(sodium.crypto_core_ed25519_add(first, second))


def _new_scalar() -> bytes:
    """A uniform non-zero scalar modulo L."""
    while True:
        scalar = bytes(sodium.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64)))
        if any(scalar):
            return scalar


def _blind(scalar: bytes, point: bytes) -> bytes:
    """``point`` raised to ``scalar``. libsodium refuses a point that is not canonical, of small
    order or outside the prime-order subgroup, so a peer cannot learn bits of our scalar by
    sending crafted points."""
    try:
        return bytes(sodium.crypto_scalarmult_ed25519_noclamp(scalar, point))
    except sodium_errors.RuntimeError:  # small order, off the curve, or not canonical
        raise InvalidInput("a point is not in the prime-order group") from None


def _encode(point: bytes) -> str:
    return base64.b64encode(point).decode("ascii")


def _decode(points: Any, name: str, limit: int) -> list[bytes]:
    if not isinstance(points, list):
        raise InvalidInput(f"{name} must be a list of base64 points", field=name)
    if len(points) > limit:
        raise PayloadTooLarge(f"{name} holds {len(points)} points, over {limit}", limit=limit)
    decoded = []
    for index, text in enumerate(points):
        try:
            point = base64.b64decode(text, validate=True) if isinstance(text, str) else b""
        except binascii.Error:
            point = b""
        if len(point) != _POINT_BYTES:  # membership of the group is checked when blinding
            raise InvalidInput(f"{name}[{index}] is not a 32-byte point", field=name)
        decoded.append(point)
    return decoded


def _distinct(indicators: Iterable[Indicator], limit: int) -> list[tuple[bytes, Indicator]]:
    """Each indicator once, in a random order: the order of a message must tell nothing."""
    unique = {matching_element(indicator): indicator for indicator in indicators}
    if len(unique) > limit:
        raise PayloadTooLarge(f"{len(unique)} elements, over {limit}", limit=limit)
    items = list(unique.items())
    secrets.SystemRandom().shuffle(items)
    return items


def _check(message: Mapping[str, Any], session: str | None, kind: str) -> None:
    if not isinstance(message, Mapping) or message.get("protocol") != PSI_PROTOCOL:
        raise InvalidInput(f"not a {PSI_PROTOCOL} {kind}", field="protocol")
    if message.get("kind") != kind:
        raise InvalidInput(f"expected a {kind}, got {message.get('kind')!r}", field="kind")
    if session is not None and message.get("session") != session:
        raise InvalidInput("answers another session", field="session")


def _order(indicator: Indicator) -> tuple[str, str]:
    return (indicator.kind.value, indicator.canonical)


# ---------------------------------------------------------------------------- the two parties


@dataclass(frozen=True, slots=True)
class PsiResult:
    """What the initiator learns: the common indicators, and the size of each side's set."""

    matches: tuple[Indicator, ...]
    own_size: int
    their_size: int


class PsiInitiator:
    """Side A. ``request()`` to send, ``finish(response)`` for the result, then optionally
    ``disclosure()`` to tell side B which of its elements matched."""

    def __init__(
        self, indicators: Iterable[Indicator], *, max_elements: int = MAX_ELEMENTS
    ) -> None:
        self._max = max_elements
        self._items = _distinct(indicators, max_elements)
        self._scalar: bytes | None = _new_scalar()
        self._session = secrets.token_hex(16)
        self._sent = False
        self._matched_positions: list[int] | None = None

    def request(self) -> dict[str, Any]:
        """Step 1: H(x)^a for each of our elements, in a random order."""
        if self._sent or self._scalar is None:
            raise UsageError("one request per session: start a new PsiInitiator")
        self._sent = True
        blinded = [_encode(_blind(self._scalar, _hash_to_group(e))) for e, _ in self._items]
        return {
            "protocol": PSI_PROTOCOL,
            "kind": "request",
            "session": self._session,
            "blinded": blinded,
        }

    def finish(self, response: Mapping[str, Any]) -> PsiResult:
        """Step 3: raise B's H(y)^b to a and compare with (H(x)^a)^b."""
        if not self._sent or self._scalar is None:
            raise UsageError("finish follows request, once")
        _check(response, self._session, "response")
        doubled = _decode(response.get("double_blinded"), "double_blinded", self._max)
        if len(doubled) != len(self._items):
            raise InvalidInput(
                f"{len(doubled)} double-blinded points for {len(self._items)} sent",
                field="double_blinded",
            )
        theirs = _decode(response.get("blinded"), "blinded", self._max)
        scalar, self._scalar = self._scalar, None  # the secret is not needed again
        theirs_raised = {_blind(scalar, point): index for index, point in enumerate(theirs)}
        ours = {point: index for index, point in enumerate(doubled)}
        self._matched_positions = sorted(theirs_raised[p] for p in theirs_raised.keys() & ours)
        matches = [self._items[ours[p]][1] for p in ours.keys() & theirs_raised.keys()]
        return PsiResult(tuple(sorted(matches, key=_order)), len(self._items), len(theirs))

    def disclosure(self) -> dict[str, Any]:
        """Optional step 4: the positions in B's list that matched, so B learns the result too."""
        if self._matched_positions is None:
            raise UsageError("disclosure follows finish")
        return {
            "protocol": PSI_PROTOCOL,
            "kind": "disclosure",
            "session": self._session,
            "matched": self._matched_positions,
        }


class PsiResponder:
    """Side B. ``respond(request)`` answers; ``learn(disclosure)`` reads A's optional step 4."""

    def __init__(
        self, indicators: Iterable[Indicator], *, max_elements: int = MAX_ELEMENTS
    ) -> None:
        self._max = max_elements
        self._items = _distinct(indicators, max_elements)
        self._scalar: bytes | None = _new_scalar()
        self._session: str | None = None
        self.their_size: int | None = None

    def respond(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Step 2: (H(x)^a)^b in A's order, and H(y)^b for our elements in a random order."""
        if self._scalar is None or self._session is not None:
            raise UsageError("one response per session: start a new PsiResponder")
        _check(request, None, "request")
        session = request.get("session")
        if not isinstance(session, str) or not 16 <= len(session) <= 64:
            raise InvalidInput("a session id is 16-64 characters", field="session")
        theirs = _decode(request.get("blinded"), "blinded", self._max)
        scalar, self._scalar = self._scalar, None
        self._session = session
        self.their_size = len(theirs)
        return {
            "protocol": PSI_PROTOCOL,
            "kind": "response",
            "session": session,
            "double_blinded": [_encode(_blind(scalar, point)) for point in theirs],
            "blinded": [_encode(_blind(scalar, _hash_to_group(e))) for e, _ in self._items],
        }

    def learn(self, disclosure: Mapping[str, Any]) -> tuple[Indicator, ...]:
        """Our indicators that A reports as common (A could lie: B takes its word for it)."""
        if self._session is None:
            raise UsageError("learn follows respond")
        _check(disclosure, self._session, "disclosure")
        positions = disclosure.get("matched")
        if not isinstance(positions, list) or not all(
            isinstance(p, int) and not isinstance(p, bool) and 0 <= p < len(self._items)
            for p in positions
        ):
            raise InvalidInput("matched must list positions in our blinded list", field="matched")
        return tuple(sorted({self._items[p][1] for p in positions}, key=_order))


def private_intersection(
    initiator: Iterable[Indicator], responder: Iterable[Indicator]
) -> tuple[PsiResult, tuple[Indicator, ...]]:
    """Both sides in one process, every message through JSON as over HTTP: A's result and what
    B learns from A's disclosure."""
    side_a = PsiInitiator(initiator)
    side_b = PsiResponder(responder)
    response = side_b.respond(json.loads(json.dumps(side_a.request())))
    result = side_a.finish(json.loads(json.dumps(response)))
    return result, side_b.learn(json.loads(json.dumps(side_a.disclosure())))
