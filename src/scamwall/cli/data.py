"""Data commands: init, settings, parse, extract, ingest, stats, demo, and agencies."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
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
from scamwall.demo import run_demo
from scamwall.errors import ScamwallError
from scamwall.indicators import extract_indicators, parse_indicator
from scamwall.intake import FORMATS, IntakeOptions, ingest_file
from scamwall.settings import get_settings, render_settings_markdown, settings_table
from scamwall.store.audit import AuditLog
from scamwall.vocabulary import AgencyKind, SourceKind, parse_tlp

agency_app = typer.Typer(help="Agencies that report and read sightings.", no_args_is_help=True)
app.add_typer(agency_app, name="agency")


@app.command()
def init() -> None:
    """Create the database, or upgrade it to this version's schema."""
    with opened_store(require_schema=False) as store:
        store.initialise()
        where = store.engine.url.render_as_string(hide_password=True)
    err.print(f"database ready: {where}")


@app.command()
def settings(
    as_json: JsonFlag = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print docs/settings.md, generated.")
    ] = False,
) -> None:
    """Show every setting, its value here, its environment variable and what it does."""
    if markdown:
        sys.stdout.write(render_settings_markdown())
        return
    rows = settings_table(get_settings())
    if as_json:
        for row in rows:
            emit(row)
        return
    table = Table("variable", "value", "help")
    for row in rows:
        table.add_row(str(row["variable"]), str(row["value"]), str(row["help"]))
    out.print(table)


@agency_app.command("add")
def agency_add(
    code: Annotated[str, typer.Argument(help="Stable short code, e.g. TH-CCIB.")],
    country: Annotated[str, typer.Option(help="ISO 3166 alpha-2 country, e.g. TH.")],
    kind: Annotated[AgencyKind, typer.Option(help="What kind of organisation it is.")],
    name: Annotated[str, typer.Option(help="Full name; defaults to the code.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Register an agency."""
    with opened_store() as store:
        agency = store.add_agency(code, name=name, country=country, kind=kind)
        AuditLog(store).record(
            local_operator(), "agency_add", target=f"agency:{agency.code}", origin="cli"
        )
    if as_json:
        emit(
            {
                "code": agency.code,
                "name": agency.name,
                "country": agency.country,
                "kind": agency.kind.value,
            }
        )
    else:
        err.print(f"added agency {agency.code} ({agency.country}, {agency.kind.value})")


@agency_app.command("list")
def agency_list(as_json: JsonFlag = False) -> None:
    """List the agencies."""
    with opened_store() as store:
        agencies = store.list_agencies()
    if as_json:
        for a in agencies:
            emit({"code": a.code, "name": a.name, "country": a.country, "kind": a.kind.value})
        return
    table = Table("code", "name", "country", "kind")
    for a in agencies:
        table.add_row(a.code, a.name, a.country, a.kind.value)
    out.print(table)


@app.command()
def parse(
    values: Annotated[list[str], typer.Argument(help="Raw values: numbers, links, wallets…")],
    kind: Annotated[
        str | None, typer.Option("--kind", "-k", help="Kind; guessed if absent.")
    ] = None,
    region: RegionOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Canonicalise values: kind, canonical form and deterministic id (exit 0 even if invalid)."""
    region = region or get_settings().default_region
    table = Table("input", "kind", "canonical", "id / error")
    for value in values:
        try:
            indicator = parse_indicator(value, kind, region)
        except ScamwallError as exc:
            if as_json:
                emit({"input": value, "error": exc.message})
            else:
                table.add_row(value, "", "", Text(exc.message, style="red"))
            continue
        if as_json:
            emit({"input": value, **indicator.as_dict()})
        else:
            table.add_row(value, indicator.kind.value, indicator.canonical, indicator.id)
    if not as_json:
        out.print(table)


@app.command()
def extract(
    source: Annotated[
        str, typer.Argument(help="File of messages, one a line; '-' reads standard input.")
    ] = "-",
    region: RegionOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Find the indicators in each message (one message a line)."""
    region = region or get_settings().default_region
    stream = sys.stdin if source == "-" else Path(source).open(encoding="utf-8", errors="replace")  # noqa: SIM115
    with stream:
        for number, line in enumerate(stream, start=1):
            text = line.rstrip("\r\n")
            found = [f.as_dict() for f in extract_indicators(text, region)]
            if as_json:
                emit({"line": number, "indicators": found})
            elif found:
                listed = ", ".join(f"{f['kind']} {f['canonical']}" for f in found)
                out.print(f"{number}: {listed}")


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV (with a header row), JSON array or NDJSON.")],
    agency: Annotated[str, typer.Option("--agency", "-a", help="Code of the reporting agency.")],
    file_format: Annotated[
        str | None, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")
    ] = None,
    tlp: Annotated[
        str | None, typer.Option(help="TLP of records that name none [default: setting].")
    ] = None,
    source_kind: Annotated[
        SourceKind, typer.Option(help="Source kind of records that name none.")
    ] = SourceKind.AGENCY_UPLOAD,
    confidence: Annotated[
        int | None, typer.Option(min=0, max=100, help="Confidence of records that give none.")
    ] = None,
    region: RegionOption = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the reject file (named after file and import) [default: setting]."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Bulk-load sightings reported by one agency; bad rows go to a reject file."""
    config = get_settings()
    options = IntakeOptions(
        file_format=file_format,
        tlp=parse_tlp(tlp or config.default_tlp),
        source_kind=source_kind,
        confidence=config.default_confidence if confidence is None else confidence,
        region=region,
        fallback_region=config.default_region,
        batch_size=config.intake_batch_size,
        reject_dir=rejects or Path(config.reject_dir),
    )
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with (
        opened_store() as store,
        Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar,
    ):
        task = bar.add_task(f"ingesting {file.name}", total=None)
        report = ingest_file(
            store,
            file,
            store.get_agency(agency),
            options,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            actor=local_operator(),
        )
    if as_json:
        emit(report.as_dict())
        return
    out.print(
        f"accepted {report.accepted}, duplicates {report.duplicates}, rejected {report.rejected}"
    )
    if report.rejected:
        out.print(f"rejects: {report.reject_path}")
    if report.ignored_fields:
        err.print(f"ignored unknown fields: {', '.join(sorted(report.ignored_fields))}")


@app.command()
def stats(as_json: JsonFlag = False) -> None:
    """Totals: agencies, indicators per kind, sightings per TLP."""
    with opened_store() as store:
        counts = store.counts()
    if as_json:
        emit(
            {
                "agencies": counts.agencies,
                "indicators": counts.indicators_by_kind,
                "sightings": counts.sightings,
                "sightings_by_tlp": counts.sightings_by_tlp,
            }
        )
        return
    table = Table("what", "count")
    table.add_row("agencies", str(counts.agencies))
    for kind, n in counts.indicators_by_kind.items():
        table.add_row(f"indicators: {kind}", str(n))
    for tlp, n in counts.sightings_by_tlp.items():
        table.add_row(f"sightings: TLP:{tlp.upper()}", str(n))
    out.print(table)


@app.command()
def demo() -> None:
    """Load the demo sample (synthetic, written for scamwall) into a new database and show what
    to try next; refused on a database holding other data."""
    with opened_store(require_schema=False) as store:
        run_demo(store, out, actor=local_operator())
