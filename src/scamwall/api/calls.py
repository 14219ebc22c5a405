"""The ``/v1`` route of call screening: one call, answered in real time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from scamwall.api.auth import CallerDep, require_role
from scamwall.api.routes import ERRORS
from scamwall.exchange.policy import SCREENERS
from scamwall.screening.calls.realtime import CallScreener

__all__ = ["router"]

router = APIRouter(prefix="/v1")


class CallRequest(BaseModel):
    """A call being set up."""

    caller: str = Field(min_length=1, max_length=64, description="The calling number.")
    callee: str = Field(min_length=1, max_length=64, description="The called number.")
    trunk_country: str | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        pattern="^[A-Za-z]{2}$",
        description="ISO 3166 alpha-2 country of the trunk the call arrives over; absent: "
        "domestic.",
    )


@router.post("/screen/call", responses=ERRORS, tags=["screening"])
async def screen_call(request: Request, caller: CallerDep, body: CallRequest) -> dict[str, Any]:
    """`{"caller", "callee", "verdict", "score", "flags", "reasons", "trace", "snapshot"}` for
    one call, from the current reputation snapshot and the call itself (docs/calls.md)."""
    require_role(caller, SCREENERS, "screen calls")
    screener: CallScreener = request.app.state.call_screener
    verdict = screener.screen(
        body.caller,
        body.callee,
        request.app.state.reputation.current,
        trunk_country=body.trunk_country,
    )
    result = verdict.as_dict()
    result["snapshot"] = request.app.state.reputation.current.version
    return result
