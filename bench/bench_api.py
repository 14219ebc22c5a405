"""Indicator look-up over HTTP on loopback, with 100,000 indicators stored.

A `scamwall serve` process answers `GET /v1/indicators/lookup` for an analyst's token; `wrk`
(Debian's package) in a second process is the load. Values are drawn at random from the stored
indicators (90% GREEN or CLEAR, 10% AMBER: AMBER reads are audited, so each costs a write).

    python bench/bench_api.py [--indicators 100000] [--seconds 20] [--connections 16] [--workers 2]
                              [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Targets (issue 3): >= 2,000 requests/s with p99 <= 20 ms on this 2-core machine.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from common import parse_wrk, scratch_postgres, serving  # type: ignore[import-not-found]
from scamwall.exchange.policy import Role
from scamwall.indicators import parse_indicator
from scamwall.store import Sighting, Store
from scamwall.store.access import Access
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp


def _populate(url: str, count: int, amber_every: int) -> tuple[str, list[str]]:
    store = Store.open(url, require_schema=False)
    store.initialise()
    agency = store.add_agency("TH-CCIB", name="bench", country="TH", kind=AgencyKind.POLICE)
    store.add_agency("CN-MPS", name="bench", country="CN", kind=AgencyKind.POLICE)
    access = Access(store)
    access.add_group("Mekong", members=["TH-CCIB", "CN-MPS"])
    token = access.issue_token_for(agency_code="CN-MPS", role=Role.ANALYST, user_name="bench")
    rng = random.Random(7)
    now = datetime.now(UTC)
    values: list[str] = []
    batch: list[Sighting] = []
    for i in range(count):
        raw = f"+6681{i:07d}" if i % 2 else f"shop-{i}.example"
        tlp = (
            Tlp.AMBER
            if amber_every and i % amber_every == 0
            else (Tlp.GREEN if i % 3 else Tlp.CLEAR)
        )
        batch.append(
            Sighting(
                parse_indicator(raw),
                agency,
                now - timedelta(minutes=rng.randrange(100_000)),
                SourceKind.VICTIM_REPORT,
                80,
                tlp,
                groups=frozenset({1}) if tlp is Tlp.AMBER else frozenset(),
            )
        )
        values.append(raw)
        if len(batch) == 10_000:
            store.record_sightings(batch)
            batch.clear()
    store.record_sightings(batch)
    store.close()
    return token.secret, values


def _wrk_script(path: Path, token: str, values: list[str]) -> None:
    sample = random.Random(11).sample(values, min(20_000, len(values)))
    quoted = ",".join(f'"{quote(v, safe="")}"' for v in sample)
    path.write_text(
        f"local values = {{{quoted}}}\n"
        'local headers = {["Authorization"] = "Bearer ' + token + '"}\n'
        "math.randomseed(42)\n"
        "request = function()\n"
        "  local v = values[math.random(#values)]\n"
        '  return wrk.format("GET", "/v1/indicators/lookup?value=" .. v, headers)\n'
        "end\n",
        encoding="utf-8",
    )


def _run(url: str, label: str, args: argparse.Namespace, workdir: Path) -> None:
    started = time.perf_counter()
    token, values = _populate(url, args.indicators, args.amber_every)
    print(
        f"[{label}] stored {args.indicators:,} indicators in {time.perf_counter() - started:.1f} s"
    )
    with serving(url, args.workers) as port:
        script = workdir / f"lookup-{label}.lua"
        _wrk_script(script, token, values)
        base = [
            "wrk",
            "-t1",
            f"-c{args.connections}",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ]
        subprocess.run([*base[:-1], "-d3s", base[-1]], capture_output=True, check=True)  # warm-up
        result = subprocess.run(
            [*base[:-1], f"-d{args.seconds}s", base[-1]], capture_output=True, check=True, text=True
        )
        rps, p99, non2xx, total = parse_wrk(result.stdout)
        print(result.stdout)
        print(
            f"[{label}] {rps:,.0f} requests/s, p99 {p99:.1f} ms, non-2xx {non2xx} of "
            f"{abs(total):,}  (target >= 2,000/s, p99 <= 20 ms: "
            f"{'met' if rps >= 2000 and p99 <= 20 else 'NOT met'})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--amber-every",
        type=int,
        default=10,
        help="every Nth indicator is AMBER (an audited read); 0 for none",
    )
    parser.add_argument("--postgres", help="also run against this PostgreSQL URL")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    print("command:", " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]))
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        _run(f"sqlite:///{workdir / 'bench.db'}", "sqlite", args, workdir)
        if args.postgres:
            with scratch_postgres(args.postgres) as url:
                _run(url, "postgresql", args, workdir)


if __name__ == "__main__":
    main()
