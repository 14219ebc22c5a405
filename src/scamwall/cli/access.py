"""Access commands: tokens, sharing groups, look-ups as a caller, the audit trail, the server."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from scamwall.cli.common import (
    JsonFlag,
    RegionOption,
    app,
    emit,
    err,
    local_operator,
    opened_store,
    out,
)
from scamwall.errors import NotAuthenticated, UsageError
from scamwall.exchange.policy import Caller, Role
from scamwall.exchange.reads import lookup as lookup_indicator
from scamwall.indicators import parse_indicator
from scamwall.settings import get_settings
from scamwall.store.access import MAX_TOKEN_DAYS, MAX_TOKEN_ID, Access
from scamwall.store.audit import AuditLog

token_app = typer.Typer(help="API tokens of users and machine clients.", no_args_is_help=True)
group_app = typer.Typer(help="Sharing groups of agencies.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(group_app, name="group")
app.add_typer(audit_app, name="audit")
user_app = typer.Typer(help="Users and machine clients of agencies.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="The user's name.")]) -> None:
    """Disable a user: all their tokens are refused from the next request on."""
    with opened_store() as store:
        user = Access(store).disable_user(name)
        AuditLog(store).record(
            local_operator(), "user_disable", target=f"user:{user.name}", origin="cli"
        )
    err.print(f"user {user.name} ({user.agency_code}) disabled")


@token_app.command("create")
def token_create(
    agency: Annotated[str, typer.Option(help="Code of the agency the token acts for.")],
    role: Annotated[Role, typer.Option(help="What the token may do.")],
    user: Annotated[
        str | None, typer.Option(help="User name; created if new, generated if absent.")
    ] = None,
    expires_days: Annotated[
        int,
        typer.Option(
            min=0,
            max=MAX_TOKEN_DAYS,
            help=f"Days until it expires (1-{MAX_TOKEN_DAYS}); 0 for never.",
        ),
    ] = 90,
    note: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue a token. Its secret is printed once and stored only as a hash."""
    # the user, its token and the audit entry: all written, or none
    with opened_store() as store, store.transaction() as connection:
        issued = Access(store).issue_token_for(
            agency_code=agency,
            role=role,
            user_name=user,
            expires_in=timedelta(days=expires_days) if expires_days else None,
            note=note,
            connection=connection,
        )
        AuditLog(store).record(
            local_operator(),
            "token_issue",
            target=f"token:{issued.id}",
            detail={"user": issued.user.name, "role": role.value},
            origin="cli",
            connection=connection,
        )
    expires = issued.expires_at.isoformat() if issued.expires_at else None
    if as_json:
        emit(
            {
                "id": issued.id,
                "token": issued.secret,
                "user": issued.user.name,
                "role": role.value,
                "agency": issued.user.agency_code,
                "expires_at": expires,
            }
        )
        return
    err.print(
        f"token {issued.id} for {issued.user.name} ({role.value}, {issued.user.agency_code}),"
        f" expires {expires or 'never'}; it is shown this once:"
    )
    out.print(issued.secret)


@token_app.command("list")
def token_list(as_json: JsonFlag = False) -> None:
    """Every token's metadata; secrets are never shown again."""
    with opened_store() as store:
        tokens = Access(store).list_tokens()
    table = Table("id", "user", "role", "agency", "expires", "revoked")
    for t in tokens:
        row = {
            "id": t.id,
            "user": t.user,
            "role": t.role.value,
            "agency": t.agency_code,
            "expires_at": t.expires_at.isoformat() if t.expires_at else None,
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        }
        if as_json:
            emit(row)
        else:
            table.add_row(*(str(v or "") for v in row.values()))
    if not as_json:
        out.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[
        int, typer.Argument(min=1, max=MAX_TOKEN_ID, help="The token's id (`token list`).")
    ],
) -> None:
    """Revoke a token at once."""
    with opened_store() as store:
        Access(store).revoke_token(token_id)
        AuditLog(store).record(
            local_operator(), "token_revoke", target=f"token:{token_id}", origin="cli"
        )
    err.print(f"token {token_id} revoked")


@group_app.command("add")
def group_add(
    name: Annotated[str, typer.Argument(help="Group name, e.g. 'Mekong joint operation'.")],
    member: Annotated[
        list[str], typer.Option("--member", "-m", help="Agency code; repeat for more.")
    ],
    description: Annotated[str | None, typer.Option(help="What the group is for.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a sharing group, or add member agencies to it. A name that differs from a
    group's only in case (or spacing) is that group: the output says it was there already."""
    with opened_store() as store:
        access = Access(store)
        existing = {g.id for g in access.list_groups()}
        group = access.add_group(name, members=member, description=description)
        AuditLog(store).record(
            local_operator(),
            "group_add",
            target=f"group:{group.name}",
            detail={"members": list(member)},
            origin="cli",
        )
    created = group.id not in existing
    if as_json:
        emit({"name": group.name, "members": list(group.members), "created": created})
    elif created:
        err.print(f"created group '{group.name}': {', '.join(group.members)}", markup=False)
    else:
        err.print(
            f"added to the existing group '{group.name}': {', '.join(group.members)}",
            markup=False,
        )


@group_app.command("list")
def group_list(as_json: JsonFlag = False) -> None:
    """Every sharing group and its members."""
    with opened_store() as store:
        groups = Access(store).list_groups()
    for group in groups:
        if as_json:
            emit(
                {
                    "name": group.name,
                    "description": group.description,
                    "members": list(group.members),
                }
            )
        else:
            out.print(f"{group.name}: {', '.join(group.members) or '(no members)'}")


@app.command()
def lookup(
    value: Annotated[str, typer.Argument(help="Raw value, parsed like `scamwall parse`.")],
    as_token: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="SCAMWALL_TOKEN",
            help="Look it up as this token's holder (or set SCAMWALL_TOKEN, which keeps the "
            "secret out of the process list); without it, as the public.",
        ),
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", "-k", help="Kind; guessed if absent.")
    ] = None,
    region: RegionOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Look an indicator up as a given caller: exactly what the API would answer."""
    indicator = parse_indicator(value, kind, region or get_settings().default_region)
    with opened_store() as store:
        caller = Caller.anonymous()
        if as_token is not None:
            try:
                caller = Access(store).authenticate(as_token)
            except NotAuthenticated as exc:
                AuditLog(store).record(
                    None,
                    "auth_failed",
                    target="cli lookup",
                    detail={"reason": exc.message},
                    origin="cli",
                )
                raise
        view = lookup_indicator(store, caller, indicator, origin="cli")
    result = {"input": value, **view.as_dict()}
    if as_json:
        emit(result)
        return
    out.print(f"{indicator.kind.value} {indicator.canonical}  (id {indicator.id})")
    if not view.known:
        out.print("no report that you may see")
    table = Table("observed", "agency", "source", "confidence", "TLP", "note")
    for s in view.sightings:
        table.add_row(
            s.observed_at.isoformat(),
            s.agency,
            s.source_kind,
            str(s.confidence),
            s.tlp.value.upper(),
            s.note or "",
        )
    if view.sightings:
        out.print(table)
    if view.hidden_sightings:
        out.print(
            f"{view.hidden_sightings} more sighting(s) by {view.hidden_agencies} "
            "agency(ies): details restricted"
        )


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None, typer.Option(help="SEQ:HASH recorded earlier by `scamwall audit head`.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check the chain: report every edited or deleted entry; exit 65 if any. With --json, a
    line per break, or one line saying the trail is intact (a script reads an answer either
    way)."""
    expected = None
    if anchor is not None:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise UsageError("--anchor is SEQ:HASH, as `scamwall audit head` prints it")
        expected = (int(seq), digest)
    with opened_store() as store:
        problems = AuditLog(store).verify(anchor=expected)
        head = AuditLog(store).head()
    for problem in problems:
        if as_json:
            emit({"seq": problem.seq, "problem": problem.problem})
        else:
            err.print(Text(f"entry {problem.seq}:", style="red"), problem.problem)
    if problems:
        sys.exit(65)
    if as_json:
        emit({"ok": True, "entries": head[0], "head": head[1], "anchor": anchor})
    else:
        out.print(f"audit trail intact: {head[0]} entries, head {head[1]}")


@audit_app.command("head")
def audit_head() -> None:
    """Print SEQ:HASH of the newest entry, to keep somewhere else as an anchor."""
    with opened_store() as store:
        seq, digest = AuditLog(store).head()
    out.print(f"{seq}:{digest}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address [default: setting].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: setting].")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes [default: setting].")
    ] = None,
) -> None:
    """Run the HTTP API (OpenAPI at /openapi.json, routes under /v1).

    Several workers listen on sockets of their own, which the kernel spreads connections
    across."""
    import uvicorn  # noqa: PLC0415 - only the server needs it

    from scamwall.api.workers import reuse_port_available, serve_workers  # noqa: PLC0415

    config = get_settings()
    app = "scamwall.api.app:served_app"
    address = host or config.api_host
    listen_port = port or config.api_port
    count = workers or config.api_workers
    log_level = config.log_level.lower()
    if count > 1 and reuse_port_available():
        serve_workers(
            app,
            host=address,
            port=listen_port,
            workers=count,
            log_level=log_level,
            access_log=False,
        )
    else:
        uvicorn.run(
            app,
            factory=True,
            host=address,
            port=listen_port,
            workers=count,
            log_level=log_level,
            access_log=False,
        )
