"""Call commands: screen call-detail records, and generate synthetic traffic to try them on."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from scamwall.cli.common import (
    Engine,
    EngineOption,
    RegionOption,
    app,
    emit,
    err,
    local_file,
    opened_store,
    record_audited,
    store_if_present,
)
from scamwall.cli.screen import screen_app
from scamwall.errors import NotFound
from scamwall.indicators import IndicatorKind, parse_indicator
from scamwall.reputation import snapshot_for
from scamwall.settings import get_settings
from scamwall.store import Sighting
from scamwall.vocabulary import SourceKind, Tlp

calls_app = typer.Typer(
    help="Synthetic call traffic for trying call screening.", no_args_is_help=True
)
app.add_typer(calls_app, name="calls")

#: Rejected rows printed by name (all are counted).
REJECTS_SHOWN = 20


def _victims(path: Path | None, region: str) -> list[str]:
    if path is None:
        return []
    if not path.is_file():
        raise NotFound(f"no file {path}")
    numbers = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            numbers.append(parse_indicator(line.strip(), IndicatorKind.PHONE, region).canonical)
    return numbers


@screen_app.command("calls")
def screen_calls(
    source: Annotated[
        str,
        typer.Argument(
            help="CDR file: CSV with a header, or Parquet; with --engine spark also a URI."
        ),
    ],
    region: RegionOption = None,
    victims: Annotated[
        Path | None,
        typer.Option(help="Numbers of reported victims, one a line (for victim contact)."),
    ] = None,
    ingest: Annotated[
        bool,
        typer.Option(help="Store each flagged number as a telecom_detection sighting."),
    ] = False,
    agency: Annotated[
        str | None, typer.Option(help="Code of the agency whose detections --ingest stores.")
    ] = None,
    engine: EngineOption = Engine.LOCAL,
) -> None:
    """Flag fraud numbers from their calling behaviour: one JSON line per flagged number and
    window, {"number", "score", "flags", "reasons", "window"}. Bad rows are refused with their
    line and reason (on stderr); the others are screened. Both engines give the same output."""
    from scamwall.screening.calls.batch import (  # noqa: PLC0415 - Polars loads here only
        CallScreening,
        reported_numbers,
    )
    from scamwall.screening.calls.detectors import call_thresholds  # noqa: PLC0415

    if ingest and agency is None:
        raise typer.BadParameter("--ingest needs --agency CODE", param_hint="--agency")
    settings = get_settings()
    home = (region or settings.calls_home_country).upper()
    source = local_file(source, engine)
    started = time.perf_counter()
    store = store_if_present()
    try:
        snapshot = snapshot_for(store, settings)
    finally:
        if store is not None:
            store.close()
    screening = CallScreening(
        home,
        call_thresholds(settings.calls_thresholds),
        victims=tuple(_victims(victims, home)),
        reputation=reported_numbers(snapshot),
    )
    if engine is Engine.SPARK:
        from scamwall.engines.spark import screen_calls as on_spark  # noqa: PLC0415
        from scamwall.engines.spark import spark_session  # noqa: PLC0415

        found = on_spark(spark_session(settings), source, screening, region=home)
        calls, rejected, flagged = found.calls, found.rejected, found.flagged
    else:
        from scamwall.screening.calls.cdr import read_cdrs  # noqa: PLC0415

        batch = read_cdrs(Path(source), region=home)
        calls, rejected = batch.records.height, batch.rejected
        flagged = screening.flag(batch.records.lazy())
    for problem in rejected[:REJECTS_SHOWN]:
        where = f"{problem['field']}: " if problem["field"] else ""  # None: the whole record
        err.print(f"line {problem['line']}: {where}{problem['error']}")
    if len(rejected) > REJECTS_SHOWN:
        err.print(f"… and {len(rejected) - REJECTS_SHOWN} more rows refused")
    results = [_result(row) for row in flagged.iter_rows(named=True)]
    for result in results:
        emit(result)
    elapsed = time.perf_counter() - started
    err.print(
        f"{calls} calls screened ({len(rejected)} rows refused), "
        f"{len(results)} numbers flagged in {elapsed:.2f} s ({engine.value} engine)"
    )
    if ingest and results:
        assert agency is not None
        _ingest(source, results, agency, home)


def _result(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": row["number"],
        "score": round(float(row["score"]), 4),
        "flags": list(row["flags"]),
        "reasons": list(row["reasons"]),
        "window": {
            "start": row["window_start"].isoformat(),
            "end": row["window_end"].isoformat(),
        },
    }


def _ingest(source: str, results: list[dict[str, Any]], agency_code: str, region: str) -> None:
    """Flags become sightings of the agency (source kind telecom_detection): the reputation and
    the numbers feed pick them up. The same file screened twice stores nothing new."""
    if "://" in source:
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    else:
        with Path(source).open("rb") as data:
            digest = hashlib.file_digest(data, "sha256").hexdigest()[:16]
    with opened_store() as store:
        agency = store.get_agency(agency_code)
        facts = [
            Sighting(
                indicator=parse_indicator(result["number"], IndicatorKind.PHONE, region),
                agency=agency,
                observed_at=datetime.fromisoformat(result["window"]["end"]).astimezone(UTC),
                source_kind=SourceKind.TELECOM_DETECTION,
                confidence=max(1, min(100, round(result["score"] * 100))),
                tlp=Tlp.GREEN,
                note="; ".join(result["reasons"])[:2000],
                evidence_ref=f"cdr:{digest}:{','.join(result['flags'])}",
            )
            for result in results
        ]
        written = record_audited(
            store, facts, "calls_ingest", target=f"agency:{agency.code}", cdrs=digest
        )
    err.print(
        f"{written.inserted} detections stored as sightings of {agency_code} "
        f"({written.duplicates} already known)"
    )


def _start(text: str) -> date | datetime:
    """A day or an instant, as ISO 8601 writes them."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither an ISO 8601 date nor time, such as 2026-03-02 or "
            "2026-03-02T09:00:00+07:00",
            param_hint="--start",
        ) from None


@calls_app.command("generate")
def calls_generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write into.")],
    subscribers: Annotated[int, typer.Option(help="Ordinary subscribers.")] = 10_000,
    days: Annotated[int, typer.Option(help="Days of traffic.")] = 2,
    fraud_rate: Annotated[float, typer.Option(help="Share of numbers that are fraud.")] = 0.01,
    seed: Annotated[
        int, typer.Option(help="Seed: the same seed and --start, the same traffic.")
    ] = 0,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            "-r",
            help="Home country of the operator, one the generator knows: TH, MY, PH or VN "
            "(default: SCAMWALL_CALLS_HOME_COUNTRY).",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="First day (ISO 8601 date: from its local midnight) or instant (ISO 8601 "
            "time, UTC without an offset) of the traffic. Default: the last --days whole days, "
            "ending at the last local midnight.",
            show_default=False,
        ),
    ] = None,
    parquet: Annotated[bool, typer.Option(help="Write Parquet instead of CSV.")] = False,
) -> None:
    """Write synthetic CDRs (SYNTHETIC, not real traffic) with the ground truth of the fraud
    patterns planted in them (truth.csv) and the reported victims (victims.txt)."""
    from scamwall.screening.calls.synthetic import (  # noqa: PLC0415 - NumPy loads here only
        generate_traffic,
        recent_start,
        write_traffic,
    )

    home = (region or get_settings().calls_home_country).upper()
    traffic = generate_traffic(
        subscribers=subscribers,
        days=days,
        fraud_rate=fraud_rate,
        seed=seed,
        home_country=home,
        start=recent_start(days, home) if start is None else _start(start),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = write_traffic(traffic, out_dir, form="parquet" if parquet else "csv")
    err.print(
        f"{traffic.records.height} synthetic calls, {traffic.truth.height} planted fraud numbers, "
        f"{len(traffic.victims)} victims: " + ", ".join(str(p) for p in written.values())
    )
