"""The ``/v1`` route of private matching: this instance as the responder of a private set
intersection (docs/private-matching.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from scamwall.api.auth import caller_in, client_address
from scamwall.api.routes import ERRORS
from scamwall.errors import PayloadTooLarge
from scamwall.exchange.legal import DefaultLegalBasis
from scamwall.exchange.matching_sets import MatchKind, matching_set
from scamwall.exchange.policy import Caller, Role
from scamwall.exchange.private_matching import PsiResponder
from scamwall.store import Store
from scamwall.store.audit import AuditLog

__all__ = ["router"]

router = APIRouter(prefix="/v1")
MATCHERS = frozenset({Role.ADMIN, Role.ANALYST, Role.INVESTIGATOR})


class PsiMatchRequest(BaseModel):
    """Step 1 of the protocol, and which kind of indicator it compares."""

    kind: MatchKind = Field(description="The kind compared: `phone` or `bank_account`.")
    request: dict[str, Any] = Field(
        description="The initiator's request message as `PsiInitiator.request()` makes it: "
        '`{"protocol", "kind": "request", "session", "blinded"}`.'
    )


@router.post("/match/psi", responses=ERRORS, tags=["exchange"])
def match_psi(
    request: Request,
    caller: Annotated[Caller, caller_in(MATCHERS, "take part in private matching")],
    body: PsiMatchRequest,
) -> JSONResponse:
    """Answer a private set intersection as the responder: the response message
    `{"protocol", "kind": "response", "session", "double_blinded", "blinded"}`.

    This side's set is the indicators of `kind` with a sighting that may go to the caller's
    agency (visible to it, CLEAR, GREEN or AMBER, not disputed): the caller learns which of its
    own values are among them, and how many there are; this instance learns the size of the
    caller's set. Each session is audited with its id and both sizes, never a value. A plain
    function, so the scalar multiplications (about 0.1 ms per element of the request and
    0.16 ms per element of this side's set) run in the thread pool."""
    limit = int(request.app.state.settings.match_max_elements)
    blinded = body.request.get("blinded")
    if isinstance(blinded, list) and len(blinded) > limit:
        raise PayloadTooLarge(
            f"{len(blinded)} elements; at most {limit} per session on this instance",
            limit=limit,
        )
    store: Store = request.app.state.store
    legal = DefaultLegalBasis.from_settings(request.app.state.settings)
    responder = PsiResponder(matching_set(store, caller, body.kind, legal=legal))
    response = responder.respond(body.request)
    AuditLog(store).record(
        caller,
        "match_psi",
        target=f"kind:{body.kind.value}",
        detail={
            "session": response["session"],
            "initiator_size": responder.their_size,
            "responder_size": len(response["blinded"]),
        },
        origin=client_address(request),
    )
    return JSONResponse(response)
