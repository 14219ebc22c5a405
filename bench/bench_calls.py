"""Call screening on synthetic traffic: detection quality per pattern, and speed.

    python bench/bench_calls.py [--subscribers 100000] [--days 2] [--fraud-rate 0.01]
    POLARS_MAX_THREADS=1 python bench/bench_calls.py --no-pin ...   # Polars on one thread

Generates SYNTHETIC traffic with planted fraud numbers (``scamwall.screening.calls.synthetic``),
computes the per-number features and runs the detectors, then compares the flagged numbers with
the ground truth: per pattern, precision (flagged with the pattern and planted with it) and
recall (planted with it and flagged with it, in any window); on ordinary subscribers, the share
flagged at all (false-positive rate). Speed: generation, feature extraction (CDRs/s), detection,
end to end: ``scamwall screen calls`` on the written CSV in a process of its own (wall time,
peak RSS).

Single calls: ``CallScreener.screen`` latency in process, p50 and p99.

Targets (issue 6): precision >= 0.95 and recall >= 0.90 per pattern at 1% fraud prevalence;
FPR <= 0.1% on ordinary subscribers; features >= 1,000,000 CDRs/s on one core; 10,000,000
CDRs end to end in <= 30 s with peak memory <= 4 GB; a single call p99 <= 5 ms in process.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from scamwall.indicators import IndicatorKind
from scamwall.reputation.allowlist import Allowlist
from scamwall.reputation.snapshot import Reputation, ReputationSnapshot
from scamwall.screening.calls.detectors import detect
from scamwall.screening.calls.features import number_features
from scamwall.screening.calls.realtime import CallScreener
from scamwall.screening.calls.synthetic import FRAUD_PATTERNS, generate_traffic, write_traffic


def _quality(flagged: pl.DataFrame, truth: pl.DataFrame, callers: pl.Series) -> None:
    per_number = (
        flagged.select("number", "flags")
        .explode("flags")
        .group_by("number")
        .agg(pl.col("flags").unique())
    )
    planted = dict(zip(truth["number"].to_list(), truth["pattern"].to_list(), strict=True))
    flags = {row["number"]: set(row["flags"]) for row in per_number.iter_rows(named=True)}
    print(f"{'pattern':<20}{'planted':>8}{'flagged':>8}{'precision':>11}{'recall':>8}")
    for pattern in FRAUD_PATTERNS:
        wanted = {n for n, p in planted.items() if p == pattern}
        hit = {n for n, f in flags.items() if pattern in f}
        right = len(wanted & hit)
        precision = right / len(hit) if hit else 0.0
        recall = right / len(wanted) if wanted else 0.0
        verdict = "met" if precision >= 0.95 and recall >= 0.9 else "MISSED"
        print(
            f"{pattern:<20}{len(wanted):>8}{len(hit):>8}{precision:>11.3f}{recall:>8.3f}  {verdict}"
        )
    ordinary = set(callers.to_list()) - set(planted)
    false = {n for n in flags if n in ordinary}
    rate = len(false) / len(ordinary) if ordinary else 0.0
    verdict = "met" if rate <= 0.001 else "MISSED"
    print(
        f"ordinary and legitimate numbers flagged: {len(false)} of {len(ordinary):,} = "
        f"{rate:.4%}  {verdict}"
    )
    truly = {n for n in flags if n in planted}
    print(f"any flag on a planted number: {len(truly)} of {len(planted)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--fraud-rate", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-file", action="store_true", help="Skip the end-to-end CSV run.")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    if not args.no_pin:
        os.sched_setaffinity(0, {0})
    threads = os.environ.get("POLARS_MAX_THREADS", "(all)")
    print(f"POLARS_MAX_THREADS={threads}, pinned: {not args.no_pin}")
    started = time.perf_counter()
    traffic = generate_traffic(
        subscribers=args.subscribers, days=args.days, fraud_rate=args.fraud_rate, seed=args.seed
    )
    calls = traffic.records.height
    print(f"generated {calls:,} SYNTHETIC CDRs in {time.perf_counter() - started:.2f} s")

    started = time.perf_counter()
    features = number_features(traffic.records.lazy(), victims=traffic.victims)
    extracted = time.perf_counter() - started
    rate = calls / extracted
    print(
        f"features: {features.height:,} number-windows in {extracted:.2f} s = {rate:,.0f} "
        f"CDRs/s  target >= 1,000,000: {'met' if rate >= 1e6 else 'MISSED'}"
    )
    started = time.perf_counter()
    flagged = detect(features)
    print(f"detection: {flagged.height:,} flagged in {time.perf_counter() - started:.3f} s")
    _quality(flagged, traffic.truth, traffic.records.get_column("caller"))
    _single_calls(traffic.records.get_column("caller").unique().head(100_000).to_list())

    if not args.no_file:
        with tempfile.TemporaryDirectory(prefix="bench-calls-") as folder:
            written = write_traffic(traffic, Path(folder))
            del traffic, features, flagged
            _end_to_end(written)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the generating process: {peak:,.0f} MB")


def _single_calls(traffic_numbers: list[str], count: int = 20_000) -> None:
    """Latency of one call through ``CallScreener.screen`` against a snapshot holding the
    numbers' reputations, in process."""
    snapshot = ReputationSnapshot.of(
        "bench",
        [Reputation(IndicatorKind.PHONE, n, 0.8, agencies=1, sightings=1) for n in traffic_numbers],
        Allowlist(()),
    )
    screener = CallScreener(home_country="TH")
    rng = random.Random(5)
    callers = [rng.choice(traffic_numbers) for _ in range(count)]
    callees = [rng.choice(traffic_numbers) for _ in range(count)]
    trunks = [rng.choice([None, None, None, "KH"]) for _ in range(count)]
    times = []
    for caller, callee, trunk in zip(callers, callees, trunks, strict=True):
        started = time.perf_counter()
        screener.screen(caller, callee, snapshot, trunk_country=trunk)
        times.append(time.perf_counter() - started)
    times.sort()
    p50, p99 = times[len(times) // 2] * 1e3, times[int(len(times) * 0.99)] * 1e3
    print(
        f"single calls in process ({len(traffic_numbers):,} reported numbers): p50 {p50:.3f} ms, "
        f"p99 {p99:.3f} ms; target p99 <= 5 ms: {'met' if p99 <= 5 else 'MISSED'}"
    )


def _end_to_end(written: dict[str, Path]) -> None:
    """`scamwall screen calls` on the CSV in a process of its own: wall time and peak RSS."""
    size = written["records"].stat().st_size / 1e6
    command = [
        sys.executable,
        "-m",
        "scamwall",
        "screen",
        "calls",
        str(written["records"]),
        "--victims",
        str(written["victims"]),
    ]
    env = {
        **os.environ,
        "SCAMWALL_DATABASE_URL": "sqlite:///" + str(written["records"].parent / "none.db"),
    }
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    flagged = len(done.stdout.splitlines())
    print(
        f"end to end, `scamwall screen calls` on the CSV ({size:,.0f} MB): {elapsed:.2f} s, "
        f"peak {peak:,.0f} MB, {flagged:,} flagged; target <= 30 s and <= 4 GB: "
        f"{'met' if elapsed <= 30 and peak <= 4096 else 'MISSED'}"
    )
    print(f"  {done.stderr.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
