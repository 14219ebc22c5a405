"""The ``/v1`` routes. Each is a thin shell over the functions the CLI calls too."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from scamwall.api.auth import CallerDep, caller_in, client_address, require_role
from scamwall.errors import AlreadyExists, PermissionDenied
from scamwall.exchange.policy import OUTSIDERS, READERS, WRITERS, Caller, Role
from scamwall.exchange.reads import list_indicators, lookup
from scamwall.indicators import IndicatorKind, parse_indicator
from scamwall.intake.submit import submit_sightings
from scamwall.store import Store
from scamwall.store.access import MAX_TOKEN_DAYS, MAX_TOKEN_ID, Access
from scamwall.store.audit import AuditLog
from scamwall.vocabulary import AgencyKind, Tlp

__all__ = ["router"]

router = APIRouter(prefix="/v1")
ADMINS = frozenset({Role.ADMIN})
MEMBERS = frozenset({Role.ADMIN, Role.ANALYST, Role.INVESTIGATOR})


def _store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


class ErrorBody(BaseModel):
    """Every error: ``{"error": {"code", "message", "details"}}``."""

    error: dict[str, Any]


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (400, 401, 403, 404, 409, 413, 422, 429)
}


# indicators -------------------------------------------------------------------------------------


@router.get("/indicators/lookup", responses=ERRORS, tags=["indicators"])
async def lookup_indicator(
    request: Request,
    caller: CallerDep,
    value: Annotated[
        str, Query(max_length=4096, description="Raw value, parsed like `scamwall parse`.")
    ],
    kind: Annotated[IndicatorKind | None, Query(description="Kind; guessed if absent.")] = None,
    region: Annotated[
        str | None, Query(max_length=2, description="Region for local numbers.")
    ] = None,
) -> JSONResponse:
    """An indicator and the sightings the caller may see; counts of the others (never RED).

    The hot path of the API: it runs on the event loop (a few indexed queries) and answers with
    a ready JSON body."""
    require_role(caller, READERS, "read sightings (feed clients read feeds)")
    indicator = parse_indicator(value, kind, region)
    view = lookup(_store(request), caller, indicator, origin=client_address(request))
    return JSONResponse({"input": value, **view.as_dict()})


@router.get("/indicators", responses=ERRORS, tags=["indicators"])
def search_indicators(
    request: Request,
    caller: CallerDep,
    kind: IndicatorKind | None = None,
    registered_domain: Annotated[str | None, Query(max_length=253)] = None,
    agency: Annotated[
        str | None, Query(max_length=32, description="Reporting agency code.")
    ] = None,
    tlp: Tlp | None = None,
    observed_after: datetime | None = None,
    observed_before: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Indicators with sightings the caller may see, filtered, paged by ``cursor``."""
    require_role(caller, MEMBERS, "list indicators")
    page = list_indicators(
        _store(request),
        caller,
        kind=kind,
        registered_domain=registered_domain,
        agency_code=agency,
        tlp=tlp,
        observed_after=observed_after,
        observed_before=observed_before,
        cursor=cursor,
        limit=limit,
        origin=client_address(request),
    )
    return {"items": list(page.items), "next_cursor": page.next_cursor}


# sightings --------------------------------------------------------------------------------------


class SightingBatch(BaseModel):
    """Sightings reported by the caller's agency; fields as in bulk intake, plus ``groups``
    (AMBER) and ``recipients`` (RED)."""

    sightings: list[Any] = Field(
        description="Records: value (required), kind, observed_at, confidence, tlp, "
        "source_kind, note, region, evidence_ref, groups, recipients; the legal basis as "
        "jurisdiction (ISO 3166 code, EU, UN or INT) with legal_instrument, and optionally "
        "retain_until (ISO 8601). A bad record is returned in `rejected` with its field."
    )


@router.post("/sightings", responses=ERRORS, tags=["sightings"])
def post_sightings(
    request: Request,
    caller: Annotated[Caller, caller_in(WRITERS, "submit sightings")],
    batch: Annotated[SightingBatch, Body()],
) -> dict[str, Any]:
    """Submit one or many sightings; good ones are stored, bad ones returned with reasons."""
    result = submit_sightings(
        _store(request),
        caller,
        batch.sightings,
        max_batch=request.app.state.settings.api_max_batch,
        origin=client_address(request),
    )
    return result.as_dict()


# agencies, groups, tokens -----------------------------------------------------------------------


class NewAgency(BaseModel):
    """An agency to register."""

    code: str = Field(min_length=2, max_length=32)
    name: str = Field(default="", max_length=200)
    country: str = Field(min_length=2, max_length=2)
    kind: AgencyKind


@router.get("/agencies", responses=ERRORS, tags=["admin"])
def get_agencies(request: Request, caller: CallerDep) -> list[dict[str, str]]:
    """Every agency."""
    require_role(caller, MEMBERS, "list agencies")
    return [
        {"code": a.code, "name": a.name, "country": a.country, "kind": a.kind.value}
        for a in _store(request).list_agencies()
    ]


@router.post("/agencies", status_code=201, responses=ERRORS, tags=["admin"])
def post_agency(
    request: Request,
    caller: Annotated[Caller, caller_in(ADMINS, "register agencies")],
    body: NewAgency,
) -> dict[str, str]:
    """Register an agency (admin)."""
    agency = _store(request).add_agency(
        body.code, name=body.name, country=body.country, kind=body.kind
    )
    AuditLog(_store(request)).record(
        caller, "agency_add", target=f"agency:{agency.code}", origin=client_address(request)
    )
    return {
        "code": agency.code,
        "name": agency.name,
        "country": agency.country,
        "kind": agency.kind.value,
    }


class NewGroup(BaseModel):
    """A sharing group, or members to add to one."""

    name: str = Field(min_length=1, max_length=100)
    members: list[str] = Field(default_factory=list, max_length=1000)
    description: str | None = Field(default=None, max_length=2000)


def _group_dict(group: Any) -> dict[str, Any]:
    return {"name": group.name, "description": group.description, "members": list(group.members)}


@router.get("/groups", responses=ERRORS, tags=["admin"])
def get_groups(request: Request, caller: CallerDep) -> list[dict[str, Any]]:
    """Every sharing group and its members."""
    require_role(caller, MEMBERS, "list sharing groups")
    return [_group_dict(g) for g in Access(_store(request)).list_groups()]


@router.post("/groups", status_code=201, responses=ERRORS, tags=["admin"])
def post_group(
    request: Request,
    caller: Annotated[Caller, caller_in(ADMINS, "manage sharing groups")],
    body: NewGroup,
) -> dict[str, Any]:
    """Create a sharing group or add members to it (admin)."""
    group = Access(_store(request)).add_group(
        body.name, members=body.members, description=body.description
    )
    AuditLog(_store(request)).record(
        caller,
        "group_add",
        target=f"group:{group.name}",
        detail={"members": body.members},
        origin=client_address(request),
    )
    return _group_dict(group)


class NewToken(BaseModel):
    """A token to issue; the user is created when it does not exist."""

    agency: str = Field(min_length=2, max_length=32)
    role: Role
    user: str | None = Field(default=None, max_length=64)
    expires_days: int = Field(default=90, ge=1, le=MAX_TOKEN_DAYS)
    note: str | None = Field(default=None, max_length=200)


@router.post("/tokens", status_code=201, responses=ERRORS, tags=["admin"])
def post_token(
    request: Request, caller: Annotated[Caller, caller_in(ADMINS, "issue tokens")], body: NewToken
) -> dict[str, Any]:
    """Issue a token for a new user or machine client (admin). The secret is in this response
    only: it is stored hashed. Tokens for existing users come from the server's operator
    (`scamwall token create`): through the API, an admin cannot act as somebody else."""
    if body.role is Role.PEER:  # it would report for every agency of its country
        raise PermissionDenied(
            "a peer instance's token is issued on the server with `scamwall token create "
            "--role peer`, not through the API"
        )
    if body.role not in OUTSIDERS and body.agency.strip().upper() != caller.agency_code:
        # a reading token of another agency would read that agency's AMBER: administration is
        # not a way around TLP. The server's operator, who holds the database, issues those.
        raise PermissionDenied(
            f"through the API, an admin issues {body.role.value} tokens for its own agency only; "
            f"a token that reads {body.agency}'s sightings is issued on the server with "
            "`scamwall token create`"
        )
    if body.user is not None and Access(_store(request)).user_exists(body.user):
        raise AlreadyExists(
            f"user {body.user} exists; a token for an existing user is issued on the server "
            "with `scamwall token create`",
            user=body.user,
        )
    store = _store(request)
    with store.transaction() as connection:  # the user, its token and their audit entry
        issued = Access(store).issue_token_for(
            agency_code=body.agency,
            role=body.role,
            user_name=body.user,
            expires_in=timedelta(days=body.expires_days),
            note=body.note,
            connection=connection,
        )
        AuditLog(store).record(
            caller,
            "token_issue",
            target=f"token:{issued.id}",
            detail={"user": issued.user.name, "role": issued.user.role.value},
            origin=client_address(request),
            connection=connection,
        )
    return {
        "id": issued.id,
        "token": issued.secret,
        "user": issued.user.name,
        "role": issued.user.role.value,
        "agency": issued.user.agency_code,
        "expires_at": issued.expires_at.isoformat() if issued.expires_at else None,
    }


@router.get("/tokens", responses=ERRORS, tags=["admin"])
def get_tokens(request: Request, caller: CallerDep) -> list[dict[str, Any]]:
    """Every token's metadata (admin); secrets are never shown again."""
    require_role(caller, ADMINS, "list tokens")
    return [
        {
            "id": t.id,
            "user": t.user,
            "role": t.role.value,
            "agency": t.agency_code,
            "created_at": t.created_at.isoformat(),
            "expires_at": t.expires_at.isoformat() if t.expires_at else None,
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            "note": t.note,
        }
        for t in Access(_store(request)).list_tokens()
    ]


@router.delete("/tokens/{token_id}", status_code=204, responses=ERRORS, tags=["admin"])
def delete_token(
    request: Request, caller: CallerDep, token_id: Annotated[int, Path(ge=1, le=MAX_TOKEN_ID)]
) -> None:
    """Revoke a token at once (admin)."""
    require_role(caller, ADMINS, "revoke tokens")
    Access(_store(request)).revoke_token(token_id)
    AuditLog(_store(request)).record(
        caller, "token_revoke", target=f"token:{token_id}", origin=client_address(request)
    )


@router.get("/whoami", responses=ERRORS, tags=["admin"])
def whoami(request: Request, caller: CallerDep) -> dict[str, Any]:
    """Who the API thinks the caller is."""
    require_role(caller, READERS | {Role.FEED}, "ask")
    return {"name": caller.name, "role": caller.role.value, "agency": caller.agency_code}
