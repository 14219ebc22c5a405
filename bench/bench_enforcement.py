"""Enforcement: the blocklist of 1,000,000 domains and 40,000 CIDR blocks, and the feed files.

    python bench/bench_enforcement.py [--domains 1000000] [--cidrs 40000] [--no-check] [--no-pin]

Generates ``--domains`` distinct names (real ones from the shared domain lists first, then
generated under the TLDs blocklists are full of) and ``--cidrs`` blocks (90% IPv4 /16-/32, 10%
IPv6 /32-/64) as feed entries, then times, on one core:

- the blocklist build (``Blocklist.from_entries``) — target <= 5 s;
- exact look-ups of listed names — target >= 1,000,000/s; suffix look-ups of subdomains of listed
  names (``a.b.<listed>``) and of unlisted names (walked to the top) — target >= 400,000/s;
  address look-ups (CIDR matching); baseline in the same run: ``ipaddress`` membership tested
  against every block, on a sample;
- the RPZ zone for every name, rendered and written — target <= 3 s — and ``named-checkzone``
  on it (accepted?);
- the nft and ipset files for the blocks — target <= 0.5 s each — and ``nft -c -f`` on the nft
  script where nft runs.

With ``--store``, also the path through a SQLite store: publication of the entries from an
in-memory snapshot and the read of the feeds back (``feed_state``), then the blocklist build.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from scamwall.enforcement.blocklist import Blocklist
from scamwall.enforcement.feeds import FeedEntry, Publication, feed_state, publish
from scamwall.enforcement.formats import FORMATS, FeedOptions, render_full
from scamwall.indicators import IndicatorKind
from scamwall.reputation.allowlist import Allowlist
from scamwall.reputation.snapshot import Reputation, ReputationSnapshot
from scamwall.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "domains"
_TLDS = ("com", "top", "xyz", "cn", "vip", "net", "cc", "shop", "online", "site")
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
T = TypeVar("T")


def _domains(count: int, rng: random.Random) -> list[str]:
    names: dict[str, None] = {}
    for file in ("scam.txt", "phishing.txt", "gambling.txt"):
        path = SHARED / file
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                name = line.strip().lower()
                if name and name.isascii():
                    names[name] = None
    listed = list(names)[:count]
    seen = set(listed)
    while len(listed) < count:
        label = "".join(rng.choice(_LETTERS) for _ in range(rng.randint(6, 14)))
        name = f"{label}.{rng.choice(_TLDS)}"
        if name not in seen:
            seen.add(name)
            listed.append(name)
    return listed


def _cidrs(count: int, rng: random.Random) -> list[str]:
    blocks: set[str] = set()
    while len(blocks) < count:
        if rng.random() < 0.9:
            length = rng.choice((16, 20, 22, 24, 24, 24, 28, 32))
            address = rng.getrandbits(32)
            network = ipaddress.IPv4Network((address >> (32 - length) << (32 - length), length))
        else:
            length = rng.choice((32, 48, 56, 64))
            address = (0x2001 << 112) | rng.getrandbits(112)
            network = ipaddress.IPv6Network((address >> (128 - length) << (128 - length), length))
        blocks.add(
            str(network)
            if network.prefixlen < network.max_prefixlen
            else str(network.network_address)
        )
    return sorted(blocks)


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _timed(label: str, action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    print(f"{label}: {elapsed:.3f} s")
    return result, elapsed


def _lookups(blocklist: Blocklist, names: list[str], count: int, rng: random.Random) -> None:
    probes = [rng.choice(names) for _ in range(count)]
    exact = blocklist.domains.exact
    started = time.perf_counter()
    hits = sum(1 for name in probes if exact(name) is not None)
    rate = count / (time.perf_counter() - started)
    print(
        f"exact look-ups: {rate:,.0f}/s ({hits:,} hits); target >= 1,000,000/s: {_met(rate >= 1e6)}"
    )

    match = blocklist.match_domain
    below = [f"a.b.{name}" for name in probes[: count // 2]]
    unlisted = [
        f"www.{''.join(rng.choice(_LETTERS) for _ in range(10))}.example.org"
        for _ in range(count // 2)
    ]
    started = time.perf_counter()
    hits = sum(1 for name in below if match(name) is not None)
    hits += sum(1 for name in unlisted if match(name) is not None)
    rate = (len(below) + len(unlisted)) / (time.perf_counter() - started)
    print(
        f"suffix look-ups (half under a listed name, half unlisted): {rate:,.0f}/s "
        f"({hits:,} hits); target >= 400,000/s: {_met(rate >= 4e5)}"
    )


def _address_lookups(
    blocklist: Blocklist, blocks: list[str], count: int, rng: random.Random
) -> None:
    addresses = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(count)]
    started = time.perf_counter()
    hits = sum(1 for a in addresses if blocklist.match_address(a) is not None)
    rate = count / (time.perf_counter() - started)
    print(f"address look-ups (CIDR matching): {rate:,.0f}/s ({hits:,} hits)")
    networks = [ipaddress.ip_network(b) for b in blocks]
    sample = addresses[:200]
    started = time.perf_counter()
    naive = sum(1 for a in sample if any(ipaddress.ip_address(a) in n for n in networks))
    baseline = len(sample) / (time.perf_counter() - started)
    print(
        f"  baseline, ipaddress against every block: {baseline:,.0f}/s ({naive} hits on "
        f"{len(sample)}); ratio {rate / baseline:,.0f}x"
    )


def _feeds(folder: Path, entries: list[FeedEntry], check: bool) -> None:
    options = FeedOptions()

    def write(form: str) -> Path:
        kinds = FORMATS[form].kinds  # what feed_state reads for the format
        wanted = [e for e in entries if e.kind in kinds]
        path = folder / f"feed.{form}"

        def render() -> None:
            text = render_full(FORMATS[form], wanted, serial=1, published_at=None, options=options)
            path.write_text(text, encoding="utf-8")

        _, elapsed = _timed(f"{form}: {len(wanted):,} entries rendered and written", render)
        limit = 3.0 if form == "rpz" else 0.5
        print(
            f"  {path.stat().st_size / 1e6:.1f} MB; target <= {limit} s: {_met(elapsed <= limit)}"
        )
        return path

    rpz, nft = write("rpz"), write("nft")
    write("ipset")
    if not check:
        return
    for command in (
        ["named-checkzone", "rpz.scamwall.", str(rpz)],
        ["nft", "-c", "-f", str(nft)],
    ):
        program = shutil.which(command[0]) or shutil.which(command[0], path="/usr/sbin:/sbin")
        if program is None:
            print(f"{command[0]}: not installed, not checked")
            continue
        started = time.perf_counter()
        checked = subprocess.run(
            [program, *command[1:]], capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - started
        said = (checked.stdout.strip() or checked.stderr.strip()).splitlines()[-1:] or [""]
        verdict = "accepted" if checked.returncode == 0 else "REFUSED"
        print(f"{command[0]}: {verdict} in {elapsed:.1f} s ({said[0][:200]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--domains", type=int, default=1_000_000)
    parser.add_argument("--cidrs", type=int, default=40_000)
    parser.add_argument("--lookups", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-check", action="store_true", help="Skip named-checkzone and nft.")
    parser.add_argument("--store", action="store_true", help="Also the path through SQLite.")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    if not args.no_pin:
        os.sched_setaffinity(0, {0})
    rng = random.Random(args.seed)
    names = _domains(args.domains, rng)
    blocks = _cidrs(args.cidrs, rng)
    expires = datetime.now(UTC) + timedelta(days=90)
    entries = [FeedEntry(i, IndicatorKind.DOMAIN, n, 0.9, expires) for i, n in enumerate(names)]
    for i, block in enumerate(blocks, len(names)):
        kind = IndicatorKind.CIDR if "/" in block else IndicatorKind.IP
        entries.append(FeedEntry(i, kind, block, 0.9, expires))
    origin = "shared lists first" if SHARED.exists() else "generated"
    print(f"{len(names):,} domains ({origin}), {len(blocks):,} blocks")

    blocklist, build = _timed("blocklist build", lambda: Blocklist.from_entries(1, entries))
    print(f"  target <= 5 s: {_met(build <= 5)}")
    _lookups(blocklist, names, args.lookups, rng)
    _address_lookups(blocklist, blocks, args.lookups // 5, rng)
    folder = Path(tempfile.mkdtemp(prefix="bench-enforcement-"))
    try:
        _feeds(folder, entries, not args.no_check)
        if args.store:
            _through_store(folder, names, blocks)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _through_store(folder: Path, names: list[str], blocks: list[str]) -> None:
    store = Store.open(f"sqlite:///{folder / 'feeds.db'}", require_schema=False)
    store.initialise()
    now = datetime.now(UTC)
    reputations = [Reputation(IndicatorKind.DOMAIN, n, 0.9) for n in names]
    for block in blocks:
        kind = IndicatorKind.CIDR if "/" in block else IndicatorKind.IP
        reputations.append(Reputation(kind, block, 0.9))
    snapshot = ReputationSnapshot.of("bench", reputations, Allowlist(()))

    def publish_now() -> Publication:
        return publish(store, snapshot, min_score=0.7, entry_days=90, now=now)

    first, _ = _timed("publication into SQLite (all new)", publish_now)
    print(f"  serial {first.serial}, {first.added:,} added")
    again, _ = _timed("publication again (nothing changed)", publish_now)
    print(f"  changed: {again.changed}")
    state, read = _timed("feeds read back (feed_state)", lambda: feed_state(store))
    _, build = _timed("blocklist build from them", lambda: Blocklist.from_state(state))
    print(f"  read + build: {read + build:.2f} s")
    store.close()


if __name__ == "__main__":
    main()
