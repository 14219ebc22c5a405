"""The Spark engine against the local engine, on the same files, in the same run.

    python bench/bench_spark.py [--subscribers 100000] [--days 2] [--messages 20000]
                                [--master 'local[2]']

Writes SYNTHETIC CDRs (``scamwall.screening.calls.synthetic``) as CSV and real messages from
``../shared/data/messages`` as one-a-line text, then screens each with both engines: the local
engine as ``scamwall screen calls`` / ``screen text`` run it in process, and the Spark engine
(``scamwall.engines.spark``) on the given master. Prints wall times, the Spark engine's overhead
(its time over the local one's), the time to start the Spark session, and whether the outputs
are identical (they must be).

Target (issue 6): Spark local mode gives identical output; its overhead is recorded.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from itertools import islice
from pathlib import Path

from scamwall.engines.spark import screen_calls, screen_texts, spark_session
from scamwall.reputation.allowlist import Allowlist
from scamwall.reputation.snapshot import ReputationSnapshot
from scamwall.screening.calls.batch import CallScreening
from scamwall.screening.calls.cdr import read_cdrs
from scamwall.screening.calls.synthetic import generate_traffic, write_traffic
from scamwall.screening.configured import text_screener
from scamwall.screening.messages import read_messages
from scamwall.settings import Settings

MESSAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "messages"
TEXT_BATCH = 2_000


def _write_messages(path: Path, count: int) -> int:
    sources = sorted(MESSAGES.glob("*.jsonl"))
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for source in sources:
            with source.open(encoding="utf-8") as lines:
                for line in islice(lines, count // len(sources)):
                    out.write(json.dumps({"text": json.loads(line)["text"]}, ensure_ascii=False))
                    out.write("\n")
                    written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        traffic = generate_traffic(
            subscribers=args.subscribers, days=args.days, fraud_rate=0.01, seed=5
        )
        files = write_traffic(traffic, Path(folder), form="csv")
        screening = CallScreening("TH", victims=tuple(traffic.victims))
        print(f"CDRs: {traffic.records.height:,} (synthetic), master {args.master}")

        started = time.perf_counter()
        batch = read_cdrs(files["records"], region="TH")
        local = screening.flag(batch.records.lazy())
        local_s = time.perf_counter() - started
        print(f"local engine   : {local_s:6.2f} s  {batch.records.height / local_s:>12,.0f} CDR/s")

        started = time.perf_counter()
        spark = spark_session(
            Settings(spark_master=args.master, spark_conf={"spark.ui.enabled": "false"})
        )
        start_s = time.perf_counter() - started
        print(f"Spark session  : {start_s:6.2f} s to start")
        for run in (1, 2):
            started = time.perf_counter()
            found = screen_calls(spark, str(files["records"]), screening, region="TH")
            spark_s = time.perf_counter() - started
            print(
                f"Spark engine {run} : {spark_s:6.2f} s  {found.calls / spark_s:>12,.0f} CDR/s  "
                f"overhead {spark_s - local_s:+.2f} s ({spark_s / local_s:.1f}x)  "
                f"identical: {found.flagged.equals(local) and found.rejected == batch.rejected}"
            )

        texts = Path(folder) / "messages.txt"
        count = _write_messages(texts, args.messages)
        screener = text_screener(Settings())
        snapshot = ReputationSnapshot.empty(Allowlist(()))
        started = time.perf_counter()
        expected = []
        with texts.open("rb") as lines:
            messages = read_messages(lines)
            while chunk := list(islice(messages, TEXT_BATCH)):
                expected.extend(
                    json.dumps(v.as_dict(), ensure_ascii=False)
                    for v in screener.screen(chunk, snapshot)
                )
        local_s = time.perf_counter() - started
        print(f"\nmessages: {count:,} (real, shared data)")
        print(f"local engine   : {local_s:6.2f} s  {count / local_s:>12,.0f} msg/s")
        for run in (1, 2):
            started = time.perf_counter()
            found_texts = list(screen_texts(spark, str(texts), screener, snapshot))
            spark_s = time.perf_counter() - started
            print(
                f"Spark engine {run} : {spark_s:6.2f} s  {count / spark_s:>12,.0f} msg/s  "
                f"overhead {spark_s - local_s:+.2f} s ({spark_s / local_s:.1f}x)  "
                f"identical: {found_texts == expected}"
            )
        spark.stop()


if __name__ == "__main__":
    main()
