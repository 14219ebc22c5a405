"""Bulk intake throughput: ``ingest_file`` on NDJSON and CSV, into SQLite and PostgreSQL.

Generates an NDJSON and a CSV file of ``--rows`` sightings (default 200,000) in a temp dir: distinct
phone numbers, domains, URLs and wallets (real domains and wallets from ``../shared/data`` when it
exists, generated values for the rest), each with observed_at, confidence, tlp, source_kind and
kind. Each file is ingested into a fresh store, then ingested again (every row a duplicate). A
baseline in the same run stores the first ``--naive-rows`` sightings of the NDJSON file with a naive
row-by-row SQLAlchemy Core insert (one ``execute`` per row and table, one transaction), so the
ratio to ``ingest_file`` is printed.

SQLite is a temp file; PostgreSQL runs when ``--postgres URL`` is given, each store in a fresh
schema ``bench_<random>`` that is dropped at the end.
Run: ``python bench/bench_intake.py [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import secrets
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url

from bench_parse import DATA, gen_domain, gen_url, gen_wallet, real_domains, real_wallets
from scamwall.errors import InvalidRecord
from scamwall.intake import IntakeOptions, ingest_file
from scamwall.intake.readers import read_records
from scamwall.intake.records import RecordDefaults, sighting_from_record
from scamwall.store import Agency, Sighting, Store
from scamwall.store.schema import indicators, sightings
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

TARGET_ROWS_PER_SECOND = 20_000
COLUMNS = ("value", "kind", "observed_at", "confidence", "tlp", "source_kind")
_TLPS = ("amber", "TLP:AMBER", "green", "TLP:GREEN", "red", "clear", "amber+strict")
_SOURCES = ("victim_report", "telecom_detection", "police_case", "bank_report", "partner_feed")
_ICT = timezone(timedelta(hours=7))


# ---------------------------------------------------------------------------------------------
# the files


def _phone(n: int) -> str:
    """A distinct number for each ``n``: five number spaces that never meet, as reports write."""
    style, k = n % 5, n // 5
    if style == 0:  # Thai mobile, local form: read with the agency's country (TH)
        digits = f"08{k:08d}"
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    if style == 1:
        return f"+66 9{k:08d}"
    if style == 2:
        return f"+86 139 {k:08d}"
    if style == 3:
        return f"+95 9 {k:09d}"
    return f"+44 7{k:09d}"


def generate_rows(count: int, seed: int = 20261130) -> Iterator[dict[str, Any]]:
    """``count`` intake records with distinct values: 40% phones, 25% domains, 20% URLs, 15%
    wallets, observed over the past year."""
    rng = random.Random(seed)
    domains = list(dict.fromkeys(real_domains()))
    rng.shuffle(domains)
    wallets = list(dict.fromkeys(real_wallets()))
    real_domain_iter = iter(domains)
    real_wallet_iter = iter(wallets)
    seen: set[str] = set()
    start = datetime(2025, 6, 1, tzinfo=_ICT)
    phones = urls = 0
    for i in range(count):
        pick = rng.random()
        while True:
            if pick < 0.40:
                value, kind = _phone(phones), "phone"
                phones += 1
            elif pick < 0.65:
                value, kind = next(real_domain_iter, None) or gen_domain(rng, i), "domain"
            elif pick < 0.85:
                host = gen_domain(rng, i) if urls % 2 else next(real_domain_iter, None)
                value, kind = gen_url(rng, host or gen_domain(rng, i), i), "url"
                urls += 1
            else:
                value, kind = next(real_wallet_iter, None) or gen_wallet(rng), "crypto_wallet"
            if value not in seen:
                break
        seen.add(value)
        observed = start + timedelta(seconds=i * 13 + rng.randrange(13))
        yield {
            "value": value,
            "kind": kind,
            "observed_at": observed.isoformat() if i % 2 else observed.astimezone(UTC).isoformat(),
            "confidence": rng.randrange(30, 101),
            "tlp": rng.choice(_TLPS),
            "source_kind": rng.choice(_SOURCES),
        }


def write_files(folder: Path, count: int, seed: int = 20261130) -> tuple[Path, Path]:
    """The same ``count`` records as ``intake.ndjson`` and ``intake.csv`` in ``folder``."""
    ndjson_path, csv_path = folder / "intake.ndjson", folder / "intake.csv"
    with (
        ndjson_path.open("w", encoding="utf-8") as ndjson_file,
        csv_path.open("w", encoding="utf-8", newline="") as csv_file,
    ):
        writer = csv.DictWriter(csv_file, fieldnames=COLUMNS)
        writer.writeheader()
        for row in generate_rows(count, seed):
            ndjson_file.write(json.dumps(row, ensure_ascii=False) + "\n")
            writer.writerow(row)
    return ndjson_path, csv_path


def write_ndjson(path: Path, count: int, seed: int = 20261130) -> Path:
    """``count`` records as NDJSON only (for the memory benchmark)."""
    with path.open("w", encoding="utf-8") as stream:
        for row in generate_rows(count, seed):
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


# ---------------------------------------------------------------------------------------------
# stores


@dataclass
class Backend:
    """Hands out fresh, empty stores of one database, and cleans up after them."""

    name: str
    make_url: Callable[[str], str]
    cleanup: Callable[[], None] = lambda: None
    stores: list[Store] = field(default_factory=list)

    def fresh(self, label: str) -> tuple[Store, Agency]:
        store = Store.open(self.make_url(label), require_schema=False)
        store.initialise()
        agency = store.add_agency("BENCH", name="bench", country="TH", kind=AgencyKind.POLICE)
        self.stores.append(store)
        return store, agency

    def close(self) -> None:
        for store in self.stores:
            store.close()
        self.cleanup()


def sqlite_backend(folder: Path) -> Backend:
    return Backend("SQLite", lambda label: f"sqlite:///{folder / f'{label}.db'}")


def postgres_backend(base_url: str) -> Backend:
    """Each store in its own new schema, reached through the connection's search_path."""
    url = make_url(base_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    schemas: list[str] = []

    def make(label: str) -> str:
        schema = f"bench_{secrets.token_hex(4)}_{label}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
        return scoped.render_as_string(hide_password=False)

    def cleanup() -> None:
        with admin.connect() as connection:
            for schema in schemas:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return Backend("PostgreSQL", make, cleanup)


# ---------------------------------------------------------------------------------------------
# runs


@dataclass
class Run:
    label: str
    rows: int
    seconds: float
    accepted: int
    duplicates: int
    rejected: int

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def time_ingest(
    store: Store, agency: Agency, path: Path, *, rows: int, options: IntakeOptions, label: str
) -> Run:
    start = time.perf_counter()
    report = ingest_file(store, path, agency, options)
    seconds = time.perf_counter() - start
    return Run(label, rows, seconds, report.accepted, report.duplicates, report.rejected)


def parsed_sightings(path: Path, agency: Agency, limit: int) -> tuple[list[Sighting], float]:
    """The first ``limit`` valid sightings of an NDJSON file, and the seconds reading took."""
    defaults = RecordDefaults(datetime.now(UTC), Tlp.AMBER, SourceKind.AGENCY_UPLOAD, 50, None)
    now = datetime.now(UTC)
    found: list[Sighting] = []
    start = time.perf_counter()
    with path.open("rb") as raw:
        for record in read_records(io.BufferedReader(raw, 1 << 20), "ndjson"):
            if len(found) >= limit:
                break
            if record.fields is None:
                continue
            try:
                found.append(
                    sighting_from_record(record.fields, agency=agency, defaults=defaults, now=now)
                )
            except InvalidRecord:
                continue
    return found, time.perf_counter() - start


def naive_insert(store: Store, batch: list[Sighting]) -> float:
    """Seconds to store ``batch`` one row at a time with SQLAlchemy Core, skipping known keys."""
    dialect_insert = (
        postgresql_insert if store.engine.dialect.name == "postgresql" else sqlite_insert
    )
    add_indicator = dialect_insert(indicators).on_conflict_do_nothing()
    add_sighting = dialect_insert(sightings).on_conflict_do_nothing()
    start = time.perf_counter()
    with store.engine.begin() as connection:
        for s in batch:
            now = datetime.now(UTC)
            connection.execute(
                add_indicator,
                {
                    "id": s.indicator.id,
                    "kind": s.indicator.kind.value,
                    "canonical": s.indicator.canonical,
                    "registered_domain": s.indicator.registered_domain,
                    "created_at": now,
                },
            )
            connection.execute(
                add_sighting,
                {
                    "id": s.id,
                    "indicator_id": s.indicator.id,
                    "agency_id": s.agency.id,
                    "observed_at": s.observed_at,
                    "reported_at": now,
                    "source_kind": s.source_kind.value,
                    "confidence": s.confidence,
                    "tlp": s.tlp.value,
                    "note": s.note,
                    "evidence_ref": s.evidence_ref,
                    "import_id": None,
                },
            )
    return time.perf_counter() - start


def bench_backend(
    backend: Backend,
    ndjson: Path,
    csv_path: Path,
    *,
    rows: int,
    naive_rows: int,
    options: IntakeOptions,
) -> tuple[list[Run], tuple[int, float, float]]:
    runs: list[Run] = []
    for fmt, path in (("ndjson", ndjson), ("csv", csv_path)):
        store, agency = backend.fresh(fmt)
        for label in (f"{fmt}, first run", f"{fmt}, again (duplicates)"):
            runs.append(time_ingest(store, agency, path, rows=rows, options=options, label=label))
    store, agency = backend.fresh("naive")
    batch, parse_s = parsed_sightings(ndjson, agency, naive_rows)
    insert_s = naive_insert(store, batch)
    return runs, (len(batch), parse_s, insert_s)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rows", type=int, default=200_000, help="records per file")
    parser.add_argument(
        "--naive-rows", type=int, default=20_000, help="rows the naive baseline inserts"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=IntakeOptions().batch_size,
        help="IntakeOptions.batch_size",
    )
    parser.add_argument("--postgres", metavar="URL", help="also bench PostgreSQL at this URL")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (files, SQLite)")
    args = parser.parse_args()
    command = shlex.join([sys.executable, *sys.argv])

    folder = Path(tempfile.mkdtemp(prefix="scamwall-bench-intake-"))
    start = time.perf_counter()
    ndjson, csv_path = write_files(folder, args.rows)
    generated_s = time.perf_counter() - start
    options = IntakeOptions(batch_size=args.batch_size, reject_dir=folder / "rejects")

    backends: list[Backend] = []
    if not args.no_sqlite:
        backends.append(sqlite_backend(folder))
    if args.postgres:
        backends.append(postgres_backend(args.postgres))

    print(f"command: {command}")
    print(
        f"data: {DATA if DATA.is_dir() else 'absent (generated values only)'}; "
        f"python {sys.version.split()[0]}; batch size {args.batch_size}"
    )
    print(
        f"files: {args.rows:,} records each, NDJSON {ndjson.stat().st_size / 1e6:.1f} MB, "
        f"CSV {csv_path.stat().st_size / 1e6:.1f} MB "
        f"(generated in {generated_s:.1f} s, in {folder})"
    )
    try:
        for backend in backends:
            try:
                runs, (naive_n, parse_s, insert_s) = bench_backend(
                    backend,
                    ndjson,
                    csv_path,
                    rows=args.rows,
                    naive_rows=args.naive_rows,
                    options=options,
                )
            finally:
                backend.close()
            print()
            print(f"{backend.name}:")
            for run in runs:
                print(
                    f"  ingest_file {run.label:<26} {run.rate:>8,.0f} rows/s "
                    f"({run.seconds:6.2f} s; accepted {run.accepted:,}, duplicates "
                    f"{run.duplicates:,}, rejected {run.rejected:,})"
                )
            naive_rate = naive_n / insert_s
            naive_total = naive_n / (parse_s + insert_s)
            first = [r for r in runs if "first" in r.label]
            slowest = min(r.rate for r in first)
            print(
                f"  naive row-by-row Core insert     {naive_rate:>8,.0f} rows/s "
                f"(first {naive_n:,} sightings, already parsed; {insert_s:.2f} s)"
            )
            print(
                f"  naive end to end                 {naive_total:>8,.0f} rows/s "
                f"(same reader and sighting_from_record, then the inserts)"
            )
            print(
                f"  reading + sighting_from_record   {naive_n / parse_s:>8,.0f} rows/s "
                f"(the same {naive_n:,} rows, no database: the ceiling of any writer)"
            )
            for run in first:
                print(
                    f"  ratio ingest_file {run.label.split(',')[0]:<6}/ naive insert: "
                    f"{run.rate / naive_rate:.2f}x; / naive end to end: "
                    f"{run.rate / naive_total:.2f}x"
                )
            print(
                f"  target >= {TARGET_ROWS_PER_SECOND:,} rows/s (first runs, both formats): "
                f"{'MET' if slowest >= TARGET_ROWS_PER_SECOND else 'MISSED'} "
                f"(slowest {slowest:,.0f})"
            )
    finally:
        if not args.keep:
            for path in sorted(folder.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
            folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
