"""Private matching commands: which phone numbers or bank accounts a peer holds too, by PSI
with its API or by keyed tokens under a sharing-group key (docs/private-matching.md).

Each side's set is what the sharing policy lets go to the agency named by ``--as``
(:func:`scamwall.exchange.matching_sets.matching_set`); every run is audited with its sizes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from scamwall.cli.common import JsonFlag, app, emit, err, local_operator, opened_store
from scamwall.errors import InvalidInput, NotFound
from scamwall.exchange.legal import DefaultLegalBasis
from scamwall.exchange.matching_peer import psi_endpoint, psi_with_peer, sent_in_clear
from scamwall.exchange.matching_sets import MatchKind, matching_set
from scamwall.exchange.private_matching import MIN_KEY_BYTES, keyed_matches, keyed_tokens
from scamwall.indicators import Indicator
from scamwall.settings import get_settings
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog

match_app = typer.Typer(
    help="Private matching: which numbers or accounts a peer holds too, without the rest.",
    no_args_is_help=True,
)
app.add_typer(match_app, name="match")

#: Unreadable lines of a token file printed by number (all are counted).
REJECTS_SHOWN = 20
_TOKEN = re.compile(r"[0-9a-f]{64}")

KindOption = Annotated[
    MatchKind, typer.Option("--kind", "-k", help="What is compared: phone or bank_account.")
]
AsOption = Annotated[
    str,
    typer.Option(
        "--as",
        help="Code of the local agency matching: its set is what the sharing policy lets go "
        "to it (CLEAR, GREEN, AMBER it may see; never RED or AMBER+STRICT).",
    ),
]
KeyFileOption = Annotated[
    Path,
    typer.Option(
        "--key-file",
        help="The sharing group's key, in hex on one line (e.g. `openssl rand -hex 32`).",
    ),
]


def _own_set(agency_code: str, kind: MatchKind) -> list[Indicator]:
    with opened_store() as store:
        reader = Access(store).agency_reader(agency_code.upper())
        return matching_set(
            store, reader, kind, legal=DefaultLegalBasis.from_settings(get_settings())
        )


def _audit(action: str, target: str, detail: dict[str, object]) -> None:
    with opened_store() as store:
        AuditLog(store).record(local_operator(), action, target=target, detail=detail, origin="cli")


def _print_values(found: list[Indicator] | tuple[Indicator, ...], as_json: bool) -> None:
    for indicator in found:
        if as_json:
            emit(indicator.as_dict())
        else:
            typer.echo(indicator.canonical)


def _group_key(path: Path) -> bytes:
    if not path.is_file():
        raise NotFound(f"no key file {path}")
    text = path.read_text(encoding="utf-8").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise InvalidInput(
            f"{path} must hold the group key in hex on one line (`openssl rand -hex 32`)",
            field="key_file",
        ) from None
    if len(key) < MIN_KEY_BYTES:
        raise InvalidInput(
            f"the key in {path} is {len(key)} bytes; a group key is at least {MIN_KEY_BYTES}",
            field="key_file",
        )
    return key


@match_app.command("psi")
def match_psi(
    peer: Annotated[
        str, typer.Option(help="Base URL of the peer's scamwall API (https://host:port).")
    ],
    token: Annotated[
        str,
        typer.Option(
            envvar="SCAMWALL_PEER_TOKEN",
            help="A token the peer issued to this agency (or set SCAMWALL_PEER_TOKEN, which "
            "keeps the secret out of the process list).",
        ),
    ],
    kind: KindOption,
    as_agency: AsOption,
    timeout: Annotated[
        float,
        typer.Option(min=1, help="Seconds to wait for the peer: to connect, then its answer."),
    ] = 300.0,
    as_json: JsonFlag = False,
) -> None:
    """Run a private set intersection with a peer instance (POST /v1/match/psi) and print the
    values both hold, one a line. The peer learns how many values this side has, nothing else;
    this side learns the common values and how many the peer has."""
    endpoint = psi_endpoint(peer)  # a wrong URL fails before anything is read
    code = as_agency.upper()
    own = _own_set(code, kind)
    if not own:
        err.print(f"{code} has no {kind.value} to match: nothing was sent")
        return
    if sent_in_clear(endpoint):
        err.print(
            Text("warning:", style="yellow"),
            "plain HTTP to another host: the token and the blinded set cross unencrypted; use "
            "https between instances",
        )
    session = psi_with_peer(peer, token, kind, own, timeout=timeout)
    result = session.result
    _audit(
        "match_psi",
        f"peer:{session.endpoint}",
        {
            "agency": code,
            "kind": kind.value,
            "session": session.session,
            "own_size": result.own_size,
            "their_size": result.their_size,
            "matches": len(result.matches),
        },
    )
    _print_values(result.matches, as_json)
    err.print(
        f"{len(result.matches)} {kind.value} values in common: {result.own_size} here "
        f"({code}), {result.their_size} at the peer"
    )


@match_app.command("tokens")
def match_tokens(kind: KindOption, as_agency: AsOption, key_file: KeyFileOption) -> None:
    """Print the keyed token (HMAC-SHA256 under the group key) of every value of the agency's
    set, one a line, sorted. Anyone holding the key can brute-force phone numbers and account
    numbers out of them: publish them only where every key holder may see the list."""
    key = _group_key(key_file)
    code = as_agency.upper()
    tokens = keyed_tokens(_own_set(code, kind), key)
    _audit("match_tokens", f"kind:{kind.value}", {"agency": code, "tokens": len(tokens)})
    for token in tokens:
        typer.echo(token)
    err.print(f"{len(tokens)} {kind.value} tokens of {code}")


@match_app.command("compare")
def match_compare(
    tokens_file: Annotated[
        Path, typer.Argument(help="A peer's tokens, one a line (`scamwall match tokens`).")
    ],
    kind: KindOption,
    as_agency: AsOption,
    key_file: KeyFileOption,
    as_json: JsonFlag = False,
) -> None:
    """Print the agency's values whose keyed token is in the peer's token file, one a line.
    Lines that are not a token are refused with their number (on stderr); the rest count."""
    key = _group_key(key_file)
    if not tokens_file.is_file():
        raise NotFound(f"no file {tokens_file}")
    theirs: set[str] = set()
    refused = 0
    with tokens_file.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            token = line.strip().lower()
            if not token:
                continue
            if _TOKEN.fullmatch(token):
                theirs.add(token)
                continue
            refused += 1
            if refused <= REJECTS_SHOWN:
                err.print(
                    f"{tokens_file}:{number}: not a token (64 hex digits)",
                    markup=False,
                    soft_wrap=True,
                )
    if refused > REJECTS_SHOWN:
        err.print(f"… and {refused - REJECTS_SHOWN} more lines refused")
    code = as_agency.upper()
    own = _own_set(code, kind)
    found = keyed_matches(own, theirs, key)
    _audit(
        "match_compare",
        f"kind:{kind.value}",
        {"agency": code, "own_size": len(own), "their_tokens": len(theirs), "matches": len(found)},
    )
    _print_values(found, as_json)
    err.print(
        f"{len(found)} {kind.value} values in common: {len(own)} here ({code}), "
        f"{len(theirs)} tokens in {tokens_file}"
        + (f" ({refused} lines refused)" if refused else ""),
        markup=False,
        soft_wrap=True,
    )
