"""TAXII pages over a large store, and a sync between two instances on loopback.

    python bench/bench_taxii.py [--sightings 1000000] [--postgres URL] [--sync 100000]

1. The store gets ``--sightings`` GREEN sightings of distinct domains from an agency of a sharing
   group, arriving in batches (each batch one ``reported_at``). A member of the group then reads
   its collection: a page of 1,000 objects at the start and in the middle (``added_after``
   half-way; and the ``next`` token of a paging that has come half-way, as a sync asks for it),
   through ``exchange.taxii.object_page`` (the policy applied in SQL, STIX built) and over HTTP
   (``GET …/objects/`` from ``scamwall serve`` on loopback: encoding and transport included).
   Medians and 95th percentiles of 15 runs each.
2. ``--sync N``: instance A holds N sightings, instance B (empty) runs ``sync_with_peer`` against
   A's TAXII server: wall time for B to hold them all. On SQLite, and with ``--postgres`` also
   with both instances on PostgreSQL.

Targets (issue 7): a page of 1,000 objects in <= 50 ms with 1,000,000 objects stored, on SQLite
and PostgreSQL; sync of 100,000 indicators between two loopback instances in <= 10 s. (The OASIS
reference server medallion needs about 6 minutes a page at 10,000 objects.)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import func, select

from common import scratch_postgres, serving  # type: ignore[import-not-found]
from scamwall.exchange.policy import Role
from scamwall.exchange.sync import sync_with_peer
from scamwall.exchange.taxii import collections_for, object_page
from scamwall.indicators import Indicator, IndicatorKind
from scamwall.store import Sighting, Store
from scamwall.store.access import Access
from scamwall.store.schema import sightings
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

BATCH = 20_000
GROUP = "Mekong joint operation"


def _populate(store: Store, count: int, *, prefix: str = "site") -> None:
    access = Access(store)
    for code, country in (("TH-CCIB", "TH"), ("CN-MPS", "CN")):
        store.add_agency(code, name=code, country=country, kind=AgencyKind.POLICE)
    access.add_group(GROUP, members=["TH-CCIB", "CN-MPS"])
    agency = store.get_agency("TH-CCIB")
    observed = datetime(2026, 11, 1, tzinfo=UTC)
    for start in range(0, count, BATCH):
        store.record_sightings(
            [
                Sighting(
                    indicator=Indicator(IndicatorKind.DOMAIN, f"{prefix}-{i}.example"),
                    agency=agency,
                    observed_at=observed + timedelta(seconds=i),
                    source_kind=SourceKind.POLICE_CASE,
                    confidence=80,
                    tlp=Tlp.GREEN,
                )
                for i in range(start, min(count, start + BATCH))
            ]
        )


def _timed(action: Callable[[], object], runs: int = 15) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def _pages(url: str, count: int) -> None:
    store = Store.open(url, require_schema=False)
    store.initialise()
    started = time.perf_counter()
    _populate(store, count)
    store.refresh_statistics()  # as an import of this size does at its end
    print(f"  {count:,} sightings stored in {time.perf_counter() - started:.1f} s")
    access = Access(store)
    token = access.issue_token_for(agency_code="CN-MPS", role=Role.ANALYST, user_name="li")
    reader = access.authenticate(token.secret)
    group = next(c for c in collections_for(store, reader) if c.group_id is not None)
    first = object_page(store, reader, group, limit=1000)
    with store.reading() as connection:
        newest = connection.execute(select(func.max(sightings.c.reported_at))).scalar_one()
    middle_at = first.entries[0].added + (newest - first.entries[0].added) / 2
    # a paging that has come half-way: the next token of the page at the middle
    half_way = min(middle_at, newest - timedelta(microseconds=1))  # one batch: from its start
    middle_next = object_page(store, reader, group, added_after=half_way).next
    assert middle_next is not None, "too few sightings for a page after the middle"
    print(f"  {'page of 1,000 objects':<34}{'median':>9}{'p95':>9}")
    for label, after in (("first", None), ("middle (added_after)", middle_at)):
        median, p95 = _timed(lambda a=after: object_page(store, reader, group, added_after=a))
        print(f"  object_page, {label:<21}{median:>7.1f} ms{p95:>6.1f} ms")
    median, p95 = _timed(lambda: object_page(store, reader, group, next_token=middle_next))
    print(f"  object_page, {'middle (next token)':<21}{median:>7.1f} ms{p95:>6.1f} ms")
    with serving(url, 1) as port:
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token.secret}"
        objects = f"{base}/taxii2/scamwall/collections/{group.id}/objects/"
        page = session.get(objects, params={"limit": 1000}, timeout=60)
        assert 990 <= len(page.json()["objects"]) <= 1000, page.text[:300]
        median, p95 = _timed(lambda: session.get(objects, params={"limit": 1000}, timeout=60))
        print(f"  HTTP GET objects/, first page     {median:>7.1f} ms{p95:>6.1f} ms")
        token_next = page.json()["next"]
        median, p95 = _timed(
            lambda: session.get(objects, params={"limit": 1000, "next": token_next}, timeout=60)
        )
        print(f"  HTTP GET objects/, with next      {median:>7.1f} ms{p95:>6.1f} ms")
        median, p95 = _timed(
            lambda: session.get(objects, params={"limit": 1000, "next": middle_next}, timeout=60)
        )
        print(f"  HTTP GET objects/, next at middle {median:>7.1f} ms{p95:>6.1f} ms")
    store.close()


def _sync(source_url: str, target_url: str, count: int) -> None:
    source = Store.open(source_url, require_schema=False)
    source.initialise()
    _populate(source, count, prefix="synced")
    source.refresh_statistics()  # as an import of this size does at its end
    token = Access(source).issue_token_for(
        agency_code="CN-MPS", role=Role.ANALYST, user_name="peer"
    )
    target = Store.open(target_url, require_schema=False)
    target.initialise()
    for code, country in (("TH-CCIB", "TH"), ("CN-MPS", "CN")):
        target.add_agency(code, name=code, country=country, kind=AgencyKind.POLICE)
    Access(target).add_group(GROUP, members=["TH-CCIB", "CN-MPS"])
    with serving(source_url, 1) as port:
        base = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        report = sync_with_peer(
            target, f"{base}/taxii2/", token.secret, peer_agency_code="TH-CCIB", push=False
        )
        elapsed = time.perf_counter() - started
    print(
        f"  sync of {count:,} sightings: {elapsed:.2f} s ({count / elapsed:,.0f}/s), "
        f"{report.pulled_objects:,} objects, {report.pulled_new:,} new, "
        f"{len(report.rejected)} refused"
    )
    source.close()
    target.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sightings", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="also on this PostgreSQL server (a scratch schema)")
    parser.add_argument("--sync", type=int, default=100_000, help="0 to skip")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(f"SQLite, {args.sightings:,} sightings")
        _pages(f"sqlite:///{Path(folder) / 'pages.db'}", args.sightings)
        if args.postgres:
            with scratch_postgres(args.postgres) as url:
                print(f"PostgreSQL, {args.sightings:,} sightings")
                _pages(url, args.sightings)
        if args.sync:
            print("sync between two instances on loopback (SQLite)")
            _sync(
                f"sqlite:///{Path(folder) / 'a.db'}",
                f"sqlite:///{Path(folder) / 'b.db'}",
                args.sync,
            )
        if args.sync and args.postgres:
            with (
                scratch_postgres(args.postgres) as source,
                scratch_postgres(args.postgres) as target,
            ):
                print("sync between two instances on loopback (PostgreSQL, a schema each)")
                _sync(source, target, args.sync)


if __name__ == "__main__":
    main()
