"""The ``/v1`` routes of screening and reputation: messages, allowlist, false positives."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from scamwall import wire
from scamwall.api.auth import CallerDep, caller_in, client_address, require_role
from scamwall.api.routes import ERRORS
from scamwall.errors import InvalidIndicator, PayloadTooLarge
from scamwall.exchange.policy import CURATORS, SCREENERS, WRITERS, Caller, Role
from scamwall.indicators import IndicatorKind, parse_indicator
from scamwall.indicators.phone import check_region
from scamwall.reputation.allowlist import (
    add_allowlist_entry,
    operator_entries,
    remove_allowlist_entry,
)
from scamwall.reputation.false_positives import report_false_positive
from scamwall.reputation.snapshot import SnapshotHolder
from scamwall.screening.messages import message_from_json
from scamwall.screening.text import TextScreener
from scamwall.store import Store

__all__ = ["router"]

router = APIRouter(prefix="/v1")
#: Messages, and characters of text, one request of the anonymous public may carry.
PUBLIC_BATCH = 100
PUBLIC_CHARACTERS = 65_536
#: Batches up to this many messages and characters are screened on the event loop; bigger
#: ones in a worker thread, so that a heavy request cannot hold up the others.
_INLINE = 64
_INLINE_CHARACTERS = 16_384


def _store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def _holder(request: Request) -> SnapshotHolder:
    return request.app.state.reputation  # type: ignore[no-any-return]


class ScreenTextRequest(BaseModel):
    """Messages to screen: ``{"id", "text", "sender"?}`` each."""

    messages: list[Any] = Field(description='Objects {"id", "text", "sender"?}.')
    region: str | None = Field(
        default=None, max_length=2, description="Region for local phone numbers."
    )

    @field_validator("region")
    @classmethod
    def _known_region(cls, region: str | None) -> str | None:
        try:
            return check_region(region)
        except InvalidIndicator:
            raise ValueError(
                f"unknown region {region!r}; give an ISO 3166 alpha-2 code such as TH or CN"
            ) from None


def _limit(request: Request, caller: Caller) -> int:
    most = int(request.app.state.settings.api_max_batch)
    return PUBLIC_BATCH if caller.role is Role.PUBLIC else most


def _text_size(messages: list[Any]) -> int:
    return sum(
        len(m["text"]) for m in messages if isinstance(m, dict) and isinstance(m.get("text"), str)
    )


@router.post("/screen/text", responses=ERRORS, tags=["screening"])
async def screen_text(
    request: Request,
    caller: Annotated[Caller, caller_in(SCREENERS, "screen messages")],
    body: Annotated[ScreenTextRequest, Body()],
) -> Response:
    """Verdicts (`allow`, `warn`, `block`) with score, category and reasons, in input order.
    A message that cannot be screened gets an `error` reason; the others are screened."""
    limit = _limit(request, caller)
    if len(body.messages) > limit:
        raise PayloadTooLarge(
            f"{len(body.messages)} messages; at most {limit} per request", limit=limit
        )
    if caller.role is Role.PUBLIC and _text_size(body.messages) > PUBLIC_CHARACTERS:
        raise PayloadTooLarge(
            f"more than {PUBLIC_CHARACTERS} characters of text; the public may send at most "
            f"that much per request (a token lifts it)",
            limit=PUBLIC_CHARACTERS,
        )
    messages = [
        message_from_json(m, str(i), f"message {i}") for i, m in enumerate(body.messages, 1)
    ]
    screener: TextScreener = request.app.state.text_screener
    snapshot = _holder(request).current
    region = body.region
    mode = request.app.state.settings.screen_encoder
    second_stage = mode == "always" or (mode == "batch" and len(messages) > 1)
    # a second of the encoder for a kilobyte of text: not for anyone without a token
    second_stage = second_stage and caller.role is not Role.PUBLIC
    size = sum(len(m.text) for m in messages)
    small = len(messages) <= _INLINE and size <= _INLINE_CHARACTERS
    if small and not (second_stage and screener.encoder is not None):
        verdicts = screener.screen(messages, snapshot, region=region, second_stage=second_stage)
    else:  # big batches or texts, or the encoder (0.1 s a message): off the event loop
        verdicts = await run_in_threadpool(
            partial(screener.screen, region=region, second_stage=second_stage),
            messages,
            snapshot,
        )
    # plain JSON types already: straight to the encoder, without FastAPI's generic walk
    answer = {
        "results": [v.as_dict() for v in verdicts],
        "model": screener.model.version,
        "rules": screener.rules.version,
        "snapshot": snapshot.version,
    }
    return Response(wire.encode(answer), media_type="application/json")


@router.get("/reputation", responses=ERRORS, tags=["reputation"])
def get_reputation(
    request: Request,
    caller: CallerDep,
    value: Annotated[str, Query(max_length=4096, description="Raw value.")],
    kind: Annotated[IndicatorKind | None, Query(description="Kind; guessed if absent.")] = None,
    region: Annotated[str | None, Query(max_length=2)] = None,
) -> dict[str, Any]:
    """A value's score in the current snapshot, with the (policy-safe) evidence behind it."""
    require_role(caller, SCREENERS, "read reputation")
    indicator = parse_indicator(value, kind, region)
    snapshot = _holder(request).current
    found = snapshot.lookup(indicator)
    result: dict[str, Any] = (
        found.as_dict()
        if found is not None
        else {"kind": indicator.kind.value, "canonical": indicator.canonical, "score": 0.0}
    )
    result["snapshot"] = snapshot.version
    return result


@router.post("/reputation/refresh", responses=ERRORS, tags=["reputation"])
async def refresh_reputation(request: Request, caller: CallerDep) -> dict[str, Any]:
    """Rebuild the snapshot now instead of at the next scheduled refresh."""
    require_role(caller, CURATORS, "refresh reputation")
    snapshot = await run_in_threadpool(_holder(request).refresh)
    return {"snapshot": snapshot.version, "indicators": len(snapshot)}


class AllowRequest(BaseModel):
    """A value to allowlist."""

    value: str = Field(min_length=1, max_length=2048)
    reason: str = Field(min_length=1, max_length=500)
    kind: IndicatorKind | None = None


@router.get("/allowlist", responses=ERRORS, tags=["reputation"])
def get_allowlist(request: Request, caller: CallerDep) -> list[dict[str, str]]:
    """The operator's allowlist (the shipped entries are in the package)."""
    require_role(caller, WRITERS, "read the allowlist")
    return [e.as_dict() for e in operator_entries(_store(request))]


@router.post("/allowlist", status_code=201, responses=ERRORS, tags=["reputation"])
def post_allowlist(
    request: Request,
    caller: Annotated[Caller, caller_in(CURATORS, "change the allowlist")],
    body: AllowRequest,
) -> dict[str, str]:
    """Allowlist a value (admin or analyst); it takes effect at the next snapshot."""
    entry = add_allowlist_entry(
        _store(request),
        body.value,
        reason=body.reason,
        caller=caller,
        kind=body.kind,
        origin=client_address(request),
    )
    return entry.as_dict()


@router.delete("/allowlist", responses=ERRORS, tags=["reputation"])
def delete_allowlist(
    request: Request,
    caller: CallerDep,
    value: Annotated[str, Query(max_length=2048)],
    kind: Annotated[IndicatorKind | None, Query()] = None,
) -> dict[str, str]:
    """Take a value off the operator's allowlist (admin or analyst)."""
    require_role(caller, CURATORS, "change the allowlist")
    removed = remove_allowlist_entry(
        _store(request), value, caller=caller, kind=kind, origin=client_address(request)
    )
    return removed.as_dict()


class FalsePositiveRequest(BaseModel):
    """A value the caller's agency holds to be no fraud."""

    value: str = Field(min_length=1, max_length=2048)
    kind: IndicatorKind | None = None
    region: str | None = Field(default=None, max_length=2)
    note: str | None = Field(default=None, max_length=2000)


@router.post("/false-positives", status_code=201, responses=ERRORS, tags=["reputation"])
def post_false_positive(
    request: Request,
    caller: Annotated[Caller, caller_in(WRITERS, "report false positives")],
    body: FalsePositiveRequest,
) -> dict[str, object]:
    """Report, for the caller's agency, that a value is not fraud; it lowers the score."""
    assert caller.agency_code is not None
    report = report_false_positive(
        _store(request),
        body.value,
        agency_code=caller.agency_code,
        caller=caller,
        note=body.note,
        kind=body.kind,
        region=body.region,
        origin=client_address(request),
    )
    return report.as_dict()
