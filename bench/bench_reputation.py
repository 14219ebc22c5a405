"""Reputation snapshot: build from the store with 1,000,000 indicators, then look-ups in memory.

    python bench/bench_reputation.py [--indicators 1000000] [--postgres URL] [--no-pin]

The store gets ``--indicators`` phone numbers and domains (under the TLDs blocklists are full of),
each with one sighting, and every
tenth with a second one from another agency (1.1 sightings per indicator; 10% AMBER, the rest
GREEN or CLEAR), written with the bulk path intake uses. Then ``build_snapshot`` reads them all
(one streaming query) and scores them, and the snapshot answers look-ups of reported and unknown
values.

Target (issue 4): 1,000,000 indicators loaded in <= 10 s; look-ups without the database.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import scratch_postgres  # type: ignore[import-not-found]
from scamwall.indicators import Indicator, IndicatorKind
from scamwall.reputation.allowlist import Allowlist, shipped_entries
from scamwall.reputation.snapshot import build_snapshot
from scamwall.store import Store
from scamwall.store.bulk import insert_ignoring_known
from scamwall.store.records import sighting_id
from scamwall.store.repository import INDICATOR_COLUMNS, SIGHTING_COLUMNS
from scamwall.store.schema import indicators, sightings
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

_CHUNK = 50_000
#: Top-level domains of the reported names, as blocklists hold them.
_TLDS = ("com", "top", "xyz", "cn", "vip", "net", "cc", "shop")


def _populate(store: Store, count: int) -> list[Indicator]:
    first = store.add_agency("TH-CCIB", name="bench", country="TH", kind=AgencyKind.POLICE)
    second = store.add_agency("CN-MPS", name="bench", country="CN", kind=AgencyKind.POLICE)
    now = datetime.now(UTC)
    made: list[Indicator] = []
    for start in range(0, count, _CHUNK):
        rows_i, rows_s = [], []
        for i in range(start, min(count, start + _CHUNK)):
            if i % 2:
                indicator = Indicator(IndicatorKind.PHONE, f"+6681{i:07d}")
            else:
                tld = _TLDS[i % len(_TLDS)]
                indicator = Indicator(IndicatorKind.DOMAIN, f"reported-{i}.{tld}")
            made.append(indicator)
            rows_i.append((indicator.id, indicator.kind.value, indicator.canonical, None, now))
            for agency in (first, second) if i % 10 == 0 else (first,):
                observed = now - timedelta(days=i % 200)
                tlp = Tlp.AMBER if i % 10 == 3 else Tlp.GREEN if i % 3 else Tlp.CLEAR
                sid = sighting_id(indicator.id, agency.code, observed, SourceKind.POLICE_CASE, None)
                rows_s.append(
                    (
                        sid,
                        indicator.id,
                        agency.id,
                        observed,
                        now,
                        "police_case",
                        80,
                        tlp.value,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                    )
                )
        with store.transaction() as connection:
            insert_ignoring_known(connection, indicators, INDICATOR_COLUMNS, rows_i)
            insert_ignoring_known(connection, sightings, SIGHTING_COLUMNS, rows_s)
    return made


def _run(url: str, label: str, count: int) -> None:
    store = Store.open(url, require_schema=False)
    store.initialise()
    started = time.perf_counter()
    made = _populate(store, count)
    print(f"{label}: stored {count:,} indicators in {time.perf_counter() - started:.1f} s")
    allowlist = Allowlist(shipped_entries())
    for attempt in (1, 2):
        started = time.perf_counter()
        snapshot = build_snapshot(store, allowlist=allowlist)
        elapsed = time.perf_counter() - started
        print(
            f"  build_snapshot run {attempt}: {len(snapshot):,} indicators in {elapsed:.2f} s "
            f"({len(snapshot) / elapsed:,.0f}/s)"
        )
    probes = made[::7][:200_000]
    started = time.perf_counter()
    found = sum(snapshot.lookup(p) is not None for p in probes)
    elapsed = time.perf_counter() - started
    print(f"  look-ups of reported values: {len(probes) / elapsed:,.0f}/s ({found:,} found)")
    unknown = [Indicator(IndicatorKind.PHONE, f"+6689{i:07d}") for i in range(200_000)]
    started = time.perf_counter()
    missing = sum(snapshot.lookup(p) is None for p in unknown)
    elapsed = time.perf_counter() - started
    print(f"  look-ups of unknown values: {len(unknown) / elapsed:,.0f}/s ({missing:,} unknown)")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (a scratch schema)")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    if not args.no_pin:
        os.sched_setaffinity(0, {0})
    print(
        f"python bench/bench_reputation.py --indicators {args.indicators}"
        + (f" --postgres {args.postgres}" if args.postgres else "")
    )
    with tempfile.TemporaryDirectory() as folder:
        _run(f"sqlite:///{Path(folder) / 'bench.db'}", "SQLite", args.indicators)
    if args.postgres:
        with scratch_postgres(args.postgres) as url:
            _run(url, "PostgreSQL", args.indicators)


if __name__ == "__main__":
    main()
