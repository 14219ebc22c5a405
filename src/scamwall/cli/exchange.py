"""Exchange commands: MISP events in and out (what leaves is what the sharing policy lets the
receiving agency see, never RED or AMBER+STRICT)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from scamwall.cli.common import (
    JsonFlag,
    RegionOption,
    app,
    emit,
    err,
    local_operator,
    opened_store,
    record_audited,
)
from scamwall.errors import NotFound
from scamwall.exchange.legal import DefaultLegalBasis
from scamwall.exchange.reads import MAX_PAGE, shared_sightings
from scamwall.settings import get_settings
from scamwall.store import Sighting, Store
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog
from scamwall.vocabulary import Tlp

stix_app = typer.Typer(
    help="STIX 2.1 bundles: import from peers, export for them.", no_args_is_help=True
)
app.add_typer(stix_app, name="stix")
misp_app = typer.Typer(
    help="MISP events: import from peers, export for them.", no_args_is_help=True
)
app.add_typer(misp_app, name="misp")

#: Rejected attributes printed by name (all are counted).
REJECTS_SHOWN = 20

ForOption = Annotated[
    str,
    typer.Option(
        "--for",
        help="Code of the agency the export is for: it holds what that agency may see.",
    ),
]
AddedAfterOption = Annotated[
    datetime | None,
    typer.Option(help="Only sightings that arrived here after this time (ISO 8601; UTC)."),
]


def _is_stdout(out_file: Path) -> bool:
    """``--out -`` is standard output, as for ``scamwall export``."""
    return str(out_file) == "-"


def _where(out_file: Path) -> str:
    return "standard output" if _is_stdout(out_file) else str(out_file)


@contextmanager
def _written(out_file: Path) -> Iterator[TextIO]:
    """The file ``--out`` names to write, or standard output for ``-`` (left open)."""
    if _is_stdout(out_file):
        yield sys.stdout
        sys.stdout.flush()
        return
    with out_file.open("w", encoding="utf-8") as stream:
        yield stream


def _audit_export(
    store: Store,
    action: str,
    recipient: str,
    out_file: Path,
    by_tlp: Counter[Tlp],
    **detail: Any,
) -> None:
    """One audit entry for an export, by the server's operator: for whom, where it was
    written, and how many sightings of each TLP left (the AMBER ones are audited one by one as
    they are read for the recipient)."""
    AuditLog(store).record(
        local_operator(),
        action,
        target=f"agency:{recipient}",
        detail={
            "file": "stdout" if _is_stdout(out_file) else str(out_file),
            "sightings": by_tlp.total(),
            "by_tlp": {tlp.value: by_tlp[tlp] for tlp in Tlp if by_tlp[tlp]},
            **detail,
        },
        origin="cli",
    )


def sightings_for(
    store: Store, agency_code: str, added_after: datetime | None, **narrowing: Any
) -> Iterator[Sighting]:
    """Every sighting that may go to the agency, in arrival order (read through the policy, a
    page at a time), each carrying the legal basis it leaves under (its own, or the configured
    default); ``narrowing``: ``shared_sightings``'s ``countries``, ``not_agencies``..."""
    reader = Access(store).agency_reader(agency_code)
    legal = DefaultLegalBasis.from_settings(get_settings())
    cursor = None
    while True:
        page = shared_sightings(
            store,
            reader,
            legal=legal,
            added_after=added_after,
            cursor=cursor,
            limit=MAX_PAGE,
            **narrowing,
        )
        yield from (item.outgoing for item in page.items)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


@misp_app.command("export")
def misp_export(
    for_agency: ForOption,
    source_agency: Annotated[
        str, typer.Option("--from", help="Code of the agency the event comes from (its creator).")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="File to write the event (JSON) to; '-' for stdout.")
    ],
    info: Annotated[str, typer.Option(help="The event's title.")] = "scamwall fraud indicators",
    added_after: AddedAfterOption = None,
) -> None:
    """Write one MISP event, created by the --from agency, with the sightings of its country's
    agencies the receiving agency may see (TLP CLEAR, GREEN, AMBER shared with it; never RED or
    AMBER+STRICT), with TLP and fraud taxonomy tags."""
    from scamwall.exchange.misp import export_misp_event  # noqa: PLC0415 - pymisp loads here

    with opened_store() as store:
        creator = store.get_agency(source_agency.upper())
        recipient = store.get_agency(for_agency.upper())
        # the event speaks as its creator, so it holds what the creator's country reported (a
        # national instance speaks for its agencies), less the recipient's own, which it has
        sightings = list(
            sightings_for(
                store,
                recipient.code,
                added_after,
                countries=[creator.country],
                not_agencies=[recipient.id],
            )
        )
        exported = export_misp_event(sightings, info=info, agency=creator)
        with _written(out_file) as stream:
            stream.write(exported.to_json(indent=2))
        sent = set(exported.exported)
        _audit_export(
            store,
            "misp_export",
            recipient.code,
            out_file,
            Counter(s.tlp for s in sightings if s.id in sent),
            creator=creator.code,
            refused=len(exported.refused),
            receipts=len(exported.receipts),
        )
    err.print(
        f"{len(exported.exported)} sightings exported for {recipient.code} to {_where(out_file)}"
        f" (of {creator.country}'s agencies; not {recipient.code}'s own)"
        + (f" ({len(exported.refused)} refused by their marking)" if exported.refused else "")
        + (
            f" ({len(exported.receipts)} enforcement receipts kept home: a block is not a report)"
            if exported.receipts
            else ""
        )
    )


@misp_app.command("import")
def misp_import(
    source: Annotated[Path, typer.Argument(help="MISP event JSON file, or a MISP feed folder.")],
    peer: Annotated[str, typer.Option(help="Code of the agency the events come from.")],
    tlp: Annotated[
        Tlp, typer.Option(help="Marking of attributes whose event carries no TLP tag.")
    ] = Tlp.AMBER,
    confidence: Annotated[
        int, typer.Option(min=0, max=100, help="Confidence when the event gives none.")
    ] = 50,
    group: Annotated[
        list[str] | None,
        typer.Option(help="Sharing group that sees the imported AMBER sightings (repeatable)."),
    ] = None,
    region: RegionOption = None,
) -> None:
    """Import MISP events as sightings of the peer agency. Attributes that cannot be read are
    refused one by one with the event, the attribute and the reason (on stderr); the others
    are stored. Importing the same events again stores nothing new."""
    from scamwall.exchange.misp import (  # noqa: PLC0415 - pymisp loads here
        MispImportOptions,
        import_misp_feed,
        import_misp_file,
    )

    if not source.exists():
        raise NotFound(f"no file or folder {source}")
    with opened_store() as store:
        agency = store.get_agency(peer.upper())
        options = MispImportOptions(
            default_tlp=tlp,
            default_confidence=confidence,
            region=region,
            groups=Access(store).group_ids_by_name(group or []),
        )
        read = import_misp_feed if source.is_dir() else import_misp_file
        found = read(source, agency, options)
        written = record_audited(
            store,
            list(found.facts),
            "misp_import",
            target=f"agency:{agency.code}",
            file=source.name,
            refused=len(found.rejects),
        )
    for reject in found.rejects[:REJECTS_SHOWN]:
        err.print(reject.message)
    if len(found.rejects) > REJECTS_SHOWN:
        err.print(f"… and {len(found.rejects) - REJECTS_SHOWN} more attributes refused")
    err.print(
        f"{found.events} events read: {written.inserted} sightings stored "
        f"({written.duplicates} already known), {len(found.rejects)} refused, "
        f"{found.ignored} descriptive attributes ignored"
    )


@app.command("sync")
def sync(
    peer: Annotated[
        str,
        typer.Option(
            help="The peer instance's base URL (https://…), or its TAXII discovery or API root."
        ),
    ],
    token: Annotated[
        str,
        typer.Option(
            envvar="SCAMWALL_PEER_TOKEN",
            help="Our token on the peer (or set SCAMWALL_PEER_TOKEN, which keeps the secret out "
            "of the process list).",
        ),
    ],
    agency: Annotated[
        str, typer.Option(help="Code of the peer's agency here: its sightings are recorded so.")
    ],
    collection: Annotated[
        str | None, typer.Option(help="Only this collection of the peer (its id).")
    ] = None,
    pull: Annotated[bool, typer.Option(help="Take what the peer shares with us.")] = True,
    push: Annotated[bool, typer.Option(help="Send what we share with the peer.")] = True,
    as_json: JsonFlag = False,
) -> None:
    """Exchange sightings with a peer instance over TAXII 2.1: pull what it shares with us, push
    what its agency may see here (never RED or AMBER+STRICT). Goes on where the last sync
    stopped; running it twice stores nothing twice."""
    from scamwall.exchange.sync import sync_with_peer  # noqa: PLC0415 - requests loads here

    with opened_store() as store:
        report = sync_with_peer(
            store,
            peer,
            token,
            peer_agency_code=agency,
            collection_id=collection,
            pull=pull,
            push=push,
            legal=DefaultLegalBasis.from_settings(get_settings()),
            actor=local_operator(),
        )
    for problem in report.rejected[:REJECTS_SHOWN] + report.push_failures[:REJECTS_SHOWN]:
        err.print(problem)
    if as_json:
        emit(report.as_dict())
        return
    err.print(
        f"pulled {report.pulled_objects} objects: {report.pulled_new} new sightings, "
        f"{report.pulled_known} known, {len(report.rejected)} refused; pushed {report.pushed} "
        f"({len(report.push_failures)} refused by the peer)"
    )


@stix_app.command("export")
def stix_export(
    for_agency: ForOption,
    out_file: Annotated[
        Path, typer.Option("--out", help="File to write the bundle (JSON) to; '-' for stdout.")
    ],
    added_after: AddedAfterOption = None,
) -> None:
    """Write a STIX 2.1 bundle with the sightings the receiving agency may see (never RED or
    AMBER+STRICT), each with its legal basis; streamed, so any size fits in memory."""
    from scamwall.exchange.stix_export import iter_bundle_json  # noqa: PLC0415

    by_tlp: Counter[Tlp] = Counter()

    def counted(sightings: Iterator[Sighting]) -> Iterator[Sighting]:
        for sighting in sightings:
            by_tlp[sighting.tlp] += 1
            yield sighting

    with opened_store() as store:
        recipient = store.get_agency(for_agency.upper())
        with _written(out_file) as out:
            sightings = counted(sightings_for(store, recipient.code, added_after))
            for chunk in iter_bundle_json(sightings, legal_basis=lambda s: s.legal_basis):
                out.write(chunk)
        _audit_export(store, "stix_export", recipient.code, out_file, by_tlp)
    count = by_tlp.total()
    err.print(f"{count} sightings exported for {recipient.code} to {_where(out_file)}")


@stix_app.command("import")
def stix_import(
    source: Annotated[Path, typer.Argument(help="STIX 2.1 bundle (JSON).")],
    peer: Annotated[str, typer.Option(help="Code of the agency the bundle comes from.")],
    tlp: Annotated[Tlp, typer.Option(help="Marking of objects that carry none.")] = Tlp.AMBER,
    group: Annotated[
        list[str] | None,
        typer.Option(help="Sharing group that sees the imported AMBER sightings (repeatable)."),
    ] = None,
    region: RegionOption = None,
) -> None:
    """Import a peer's STIX 2.1 bundle as sightings of the peer's agency (or of an agency of its
    country its identities name). Objects that cannot be read are refused one by one with their
    place, id and reason (on stderr); the rest is stored. The same bundle twice stores nothing
    new."""
    from scamwall.exchange.peers import peer_claims, peer_sightings  # noqa: PLC0415
    from scamwall.exchange.stix_import import StixImportOptions, import_bundle  # noqa: PLC0415

    if not source.is_file():
        raise NotFound(f"no file {source}")
    with opened_store() as store:
        agency = store.get_agency(peer.upper())
        local = {a.code: a for a in store.list_agencies()}
        groups = Access(store).group_ids_by_name(group or [])
        options = StixImportOptions(
            default_agency=agency.code,
            agencies=peer_claims(agency, local),
            default_tlp=tlp,
            region=region or agency.country,
        )
        result = import_bundle(source.read_bytes(), options)
        sightings, relayed = peer_sightings(result.facts, local, share_amber_with=groups)
        written = record_audited(
            store,
            sightings,
            "stix_import",
            target=f"agency:{agency.code}",
            file=source.name,
            refused=len(result.rejects),
            relayed=relayed,
        )
    for reject in result.rejects[:REJECTS_SHOWN]:
        err.print(str(reject))
    if len(result.rejects) > REJECTS_SHOWN:
        err.print(f"… and {len(result.rejects) - REJECTS_SHOWN} more objects refused")
    err.print(
        f"{written.inserted} sightings stored ({written.duplicates} already known), "
        f"{len(result.rejects)} objects refused"
        + (f", {relayed} relayed from another country's agency left out" if relayed else "")
    )
