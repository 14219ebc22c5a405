"""Call screening on synthetic traffic: detection quality per pattern, and speed.

    python bench/bench_calls.py [--subscribers 100000] [--days 2] [--fraud-rate 0.01]
    POLARS_MAX_THREADS=1 python bench/bench_calls.py --no-pin ...   # Polars on one thread

Generates SYNTHETIC traffic with planted fraud numbers (``scamwall.screening.calls.synthetic``),
computes the per-number features and runs the detectors, then compares the flagged numbers with
the ground truth: per pattern, precision (flagged with the pattern and planted with it) and
recall (planted with it and flagged with it, in any window); on ordinary subscribers, the share
flagged at all (false-positive rate). Speed: generation, feature extraction (CDRs/s), detection,
end to end from a CSV file; peak memory of the process (``ru_maxrss``).

Targets (issue 6): precision >= 0.95 and recall >= 0.90 per pattern at 1% fraud prevalence;
FPR <= 0.1% on ordinary subscribers; features >= 1,000,000 CDRs/s on one core; 10,000,000
CDRs end to end in <= 30 s with peak memory <= 4 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import polars as pl

from scamwall.screening.calls.cdr import read_cdrs
from scamwall.screening.calls.detectors import detect
from scamwall.screening.calls.features import number_features
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

    if not args.no_file:
        with tempfile.TemporaryDirectory(prefix="bench-calls-") as folder:
            written = write_traffic(traffic, Path(folder))
            del traffic, features, flagged
            started = time.perf_counter()
            batch = read_cdrs(written["records"], region="TH")
            read = time.perf_counter() - started
            victims = written["victims"].read_text(encoding="utf-8").split()
            flagged = detect(number_features(batch.records.lazy(), victims=victims))
            total = time.perf_counter() - started
            size = written["records"].stat().st_size / 1e6
            print(
                f"end to end from CSV ({size:.0f} MB): read and checked {read:.2f} s, total "
                f"{total:.2f} s, {flagged.height:,} flagged, {len(batch.rejected)} rows refused"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
