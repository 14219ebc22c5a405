"""MISP export and import throughput on one core, with pymisp's own event loading as baseline.

Builds ``--sightings`` generated sightings of ten kinds (phones, SMS senders, URLs, domains, IPs,
e-mails, bank accounts, ETH wallets, Telegram handles, file hashes) from a fixed seed, then times:

* export: :func:`export_misp_event` and ``to_json`` (sightings/s);
* import: :func:`import_misp_json` on that JSON, canonicalising every value (attributes/s);
* baseline: ``pymisp.MISPEvent().load`` of the same JSON, which builds pymisp's object model and
  validates types but canonicalises nothing; the ratio says what scamwall's reading costs on top.

Run: ``python bench/bench_misp.py`` (``--help`` for options). Takes about 10 s.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pymisp import MISPEvent

from scamwall.exchange.misp import export_misp_event, import_misp_json
from scamwall.indicators import parse_indicator
from scamwall.store import Agency, Sighting
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

AGENCY = Agency(1, "TH-CCIB", "Cyber Crime Investigation Bureau", "TH", AgencyKind.POLICE)
PEER = Agency(2, "PEER", "MISP peers", "TH", AgencyKind.CERT)
START = datetime(2026, 1, 1, tzinfo=UTC)


def raw_value(index: int, rng: random.Random) -> tuple[str, str]:
    """(value, kind) of the index-th generated indicator: the ten kinds in turn."""
    n = rng.randrange(10**7)
    digest = hashlib.sha256(f"{index}".encode()).hexdigest()
    values = (
        (f"+6681{n:07d}", "phone"),
        (f"snd{n % 10**8}", "sms_sender"),
        (f"https://pay-{n}.scam-bank.co.th/login?id={index}", "url"),
        (f"verify-{n}-{index}.top", "domain"),
        (f"198.{n % 256}.{index % 256}.{(n >> 8) % 256}", "ip"),
        (f"agent{index}@scam-{n}.top", "email"),
        (f"TH:KBANK:{n:010d}", "bank_account"),
        ("0x" + digest[:40], "crypto_wallet"),
        (f"telegram:support_{n}_{index}", "handle"),
        (digest, "file_hash"),
    )
    return values[index % len(values)]


def sightings(count: int, seed: int) -> list[Sighting]:
    rng = random.Random(seed)
    tlps = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER]
    return [
        Sighting(
            indicator=parse_indicator(*raw_value(i, rng)),
            agency=AGENCY,
            observed_at=START + timedelta(minutes=i),
            source_kind=SourceKind.POLICE_CASE,
            confidence=rng.choice([25, 50, 75, 100]),
            tlp=tlps[i % 3],
            note=f"case {i}" if i % 4 == 0 else None,
        )
        for i in range(count)
    ]


def best_of(runs: int, function: Callable[[], object]) -> float:
    """The shortest of ``runs`` timings of ``function()`` in seconds (the least disturbed)."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sightings", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-pin", action="store_true", help="do not pin to core 0")
    args = parser.parse_args(argv)
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})

    facts = sightings(args.sightings, args.seed)
    text = export_misp_event(facts, info="bench", agency=AGENCY).to_json()
    now = START + timedelta(days=365)
    imported = import_misp_json(text, PEER, now=now)
    assert len(imported.facts) == len(facts), imported.rejects[:3]

    export_s = best_of(
        args.runs, lambda: export_misp_event(facts, info="bench", agency=AGENCY).to_json()
    )
    import_s = best_of(args.runs, lambda: import_misp_json(text, PEER, now=now))
    baseline_s = best_of(args.runs, lambda: MISPEvent().load(text))

    n = len(facts)
    print(f"command: python {shlex.join(['bench/bench_misp.py', *sys.argv[1:]])}")
    print(f"sightings: {n}, JSON: {len(text) / 1e6:.1f} MB, best of {args.runs} runs")
    print(f"export (build event + to_json):  {n / export_s:10,.0f} sightings/s")
    print(f"import (read + canonicalise):    {n / import_s:10,.0f} attributes/s")
    print(f"baseline pymisp MISPEvent.load:  {n / baseline_s:10,.0f} attributes/s")
    print(f"import / baseline throughput:    {baseline_s / import_s:10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
