"""Call commands: screen call-detail records, and generate synthetic traffic to try them on."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from scamwall.cli.common import RegionOption, app, emit, err, opened_store, store_if_present
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
    source: Annotated[Path, typer.Argument(help="CDR file: CSV with a header, or Parquet.")],
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
) -> None:
    """Flag fraud numbers from their calling behaviour: one JSON line per flagged number and
    window, {"number", "score", "flags", "reasons", "window"}. Bad rows are refused with their
    line and reason (on stderr); the others are screened."""
    from scamwall.screening.calls.cdr import read_cdrs  # noqa: PLC0415 - Polars loads here only
    from scamwall.screening.calls.detectors import call_thresholds, detect  # noqa: PLC0415
    from scamwall.screening.calls.features import number_features  # noqa: PLC0415

    if ingest and agency is None:
        raise typer.BadParameter("--ingest needs --agency CODE", param_hint="--agency")
    settings = get_settings()
    thresholds = call_thresholds(settings.calls_thresholds)
    home = (region or settings.calls_home_country).upper()
    started = time.perf_counter()
    batch = read_cdrs(source, region=home)
    for problem in batch.rejected[:REJECTS_SHOWN]:
        err.print(f"line {problem['line']}: {problem['field']}: {problem['error']}")
    if len(batch.rejected) > REJECTS_SHOWN:
        err.print(f"… and {len(batch.rejected) - REJECTS_SHOWN} more rows refused")
    known_victims = _victims(victims, home)
    store = store_if_present()
    try:
        snapshot = snapshot_for(store, settings)
    finally:
        if store is not None:
            store.close()
    callers = batch.records.get_column("caller").unique().to_list()
    reputation = {
        number: found.score
        for number in callers
        if (found := snapshot.lookup_value(IndicatorKind.PHONE, number)) is not None
        and found.score > 0
    }
    features = number_features(
        batch.records.lazy(),
        victims=known_victims,
        home_country=home,
        short_call_s=thresholds.short_call_s,
    )
    flagged = detect(features, thresholds, reputation=reputation)
    results = [_result(row) for row in flagged.iter_rows(named=True)]
    for result in results:
        emit(result)
    elapsed = time.perf_counter() - started
    err.print(
        f"{batch.records.height} calls screened ({len(batch.rejected)} rows refused), "
        f"{len(results)} numbers flagged in {elapsed:.2f} s"
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


def _ingest(source: Path, results: list[dict[str, Any]], agency_code: str, region: str) -> None:
    """Flags become sightings of the agency (source kind telecom_detection): the reputation and
    the numbers feed pick them up. The same file screened twice stores nothing new."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
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
        written = store.record_sightings(facts)
    err.print(
        f"{written.inserted} detections stored as sightings of {agency_code} "
        f"({written.duplicates} already known)"
    )


@calls_app.command("generate")
def calls_generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write into.")],
    subscribers: Annotated[int, typer.Option(help="Ordinary subscribers.")] = 10_000,
    days: Annotated[int, typer.Option(help="Days of traffic.")] = 2,
    fraud_rate: Annotated[float, typer.Option(help="Share of numbers that are fraud.")] = 0.01,
    seed: Annotated[int, typer.Option(help="Seed: the same seed, the same traffic.")] = 0,
    region: RegionOption = None,
    parquet: Annotated[bool, typer.Option(help="Write Parquet instead of CSV.")] = False,
) -> None:
    """Write synthetic CDRs (SYNTHETIC, not real traffic) with the ground truth of the fraud
    patterns planted in them (truth.csv) and the reported victims (victims.txt)."""
    from scamwall.screening.calls.synthetic import generate_traffic, write_traffic  # noqa: PLC0415

    traffic = generate_traffic(
        subscribers=subscribers,
        days=days,
        fraud_rate=fraud_rate,
        seed=seed,
        home_country=(region or get_settings().calls_home_country).upper(),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = write_traffic(traffic, out_dir, form="parquet" if parquet else "csv")
    err.print(
        f"{traffic.records.height} synthetic calls, {traffic.truth.height} planted fraud numbers, "
        f"{len(traffic.victims)} victims: " + ", ".join(str(p) for p in written.values())
    )
