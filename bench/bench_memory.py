"""Peak memory of bulk intake: ingest 1,000,000 sightings from NDJSON into SQLite.

Three processes keep the figure honest. Linux carries a process's peak RSS across ``fork`` and
``exec`` (``ru_maxrss`` starts at the parent's high-water mark), and ``RUSAGE_CHILDREN`` is the
maximum over every child reaped, so neither the file generator (which holds a set of a million
values to keep them distinct) nor a fat parent may be the ingest's ancestor or sibling:

1. a generator child writes the NDJSON file (same generator as ``bench_intake.py``: distinct
   phones, domains, URLs and wallets);
2. a lean launcher child (standard library only) runs the ingest child and reads its peak with
   ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``: the ingest is its only child;
3. the ingest child opens a new SQLite store, runs ``ingest_file`` and samples its RSS after each
   batch, to show whether memory grows with the file or stays flat.

Target: peak < 500 MB. Run: ``python bench/bench_memory.py`` (a few minutes; ``--rows`` for less).
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_PEAK_MB = 500


def _rss_kb() -> int:
    """Current resident set size of this process, in KiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _pss_kb(pid: str) -> int:
    """Proportional set size of a process, in KiB: pages shared by n processes count 1/n each."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next(
        (int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0
    )


def _tree_pss_kb() -> int:
    """Memory of this process and its children (intake's parsing processes), in KiB: the sum of
    their PSS, so the pages forked children share with this process are counted once."""
    pids = ["self"]
    for children in Path("/proc/self/task").glob("*/children"):
        pids += children.read_text().split()
    return sum(_pss_kb(pid) for pid in pids)


def child(path: Path, database: Path) -> None:
    """Ingest ``path`` into a new SQLite store at ``database``; print a JSON report."""
    started_kb = _rss_kb()  # the interpreter, before scamwall and its libraries load
    from scamwall.intake import IntakeOptions, ingest_file  # noqa: PLC0415
    from scamwall.store import Store  # noqa: PLC0415
    from scamwall.vocabulary import AgencyKind  # noqa: PLC0415

    store = Store.open(f"sqlite:///{database}", require_schema=False)
    store.initialise()
    agency = store.add_agency("BENCH", name="bench", country="TH", kind=AgencyKind.POLICE)
    ready_kb = _rss_kb()
    samples: list[tuple[float, int]] = []
    tree: list[int] = []

    def progress(done: int, total: int) -> None:
        samples.append((done / total, _rss_kb()))
        tree.append(_tree_pss_kb())

    options = IntakeOptions(reject_dir=database.parent / "rejects")
    start = time.perf_counter()
    report = ingest_file(store, path, agency, options, progress=progress)
    seconds = time.perf_counter() - start
    store.close()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "accepted": report.accepted,
                "duplicates": report.duplicates,
                "rejected": report.rejected,
                "interpreter_kb": started_kb,
                "ready_kb": ready_kb,
                "samples": samples,
                "self_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "tree_peak_kb": max(tree, default=0),
            }
        )
    )


def generate(path: Path, rows: int) -> None:
    """Write the NDJSON file (run in a child of its own: its memory must not count)."""
    from bench_intake import write_ndjson  # noqa: PLC0415

    write_ndjson(path, rows)


def _run_child(*arguments: str) -> str:
    """Run this script in a child with ``arguments``; its standard output, or exit on failure."""
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *arguments],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        sys.exit(result.returncode)
    return result.stdout


def launch(path: Path, database: Path) -> None:
    """Run the ingest child and print its report plus its peak RSS; standard library only."""
    launcher_kb = _rss_kb()  # the floor the child inherits as its high-water mark
    output = _run_child("--child", str(path), str(database))
    report = json.loads(output.strip().splitlines()[-1])
    report["launcher_kb"] = launcher_kb
    report["children_peak_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(report))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="records in the NDJSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--child", nargs=2, metavar=("NDJSON", "DB"), help=argparse.SUPPRESS)
    parser.add_argument("--launch", nargs=2, metavar=("NDJSON", "DB"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", metavar="NDJSON", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return 0
    if args.launch:
        launch(Path(args.launch[0]), Path(args.launch[1]))
        return 0
    if args.generate:
        generate(Path(args.generate), args.rows)
        return 0

    command = shlex.join([sys.executable, *sys.argv])
    folder = Path(tempfile.mkdtemp(prefix="scamwall-bench-memory-"))
    try:
        path, database = folder / "intake.ndjson", folder / "store.db"
        start = time.perf_counter()
        _run_child("--generate", str(path), "--rows", str(args.rows))
        generated_s = time.perf_counter() - start
        report = json.loads(_run_child("--launch", str(path), str(database)).splitlines()[-1])
        peak_kb = report["children_peak_kb"]
        database_mb = sum(p.stat().st_size for p in folder.glob("store.db*")) / 1e6
        file_mb = path.stat().st_size / 1e6
    finally:
        if not args.keep:
            for item in sorted(folder.rglob("*"), reverse=True):
                item.rmdir() if item.is_dir() else item.unlink()
            folder.rmdir()

    peak_mb = peak_kb / 1024
    rate = args.rows / report["seconds"]
    print(f"command: {command}")
    print(f"python {sys.version.split()[0]}; temp dir {folder}{' (kept)' if args.keep else ''}")
    print(
        f"file: {args.rows:,} NDJSON records, {file_mb:.0f} MB (generated in {generated_s:.0f} s); "
        f"SQLite store afterwards {database_mb:.0f} MB"
    )
    print(
        f"ingest: {report['seconds']:.1f} s = {rate:,.0f} rows/s; accepted {report['accepted']:,}, "
        f"duplicates {report['duplicates']:,}, rejected {report['rejected']:,}"
    )
    samples = report["samples"]
    picks = [samples[round(q * (len(samples) - 1))] for q in (0, 0.25, 0.5, 0.75, 1)]
    curve = ", ".join(f"{share:.0%}: {kb / 1024:.0f} MB" for share, kb in picks)
    print(
        f"RSS: launcher {report['launcher_kb'] / 1024:.0f} MB; ingest child: bare interpreter "
        f"{report['interpreter_kb'] / 1024:.0f} MB, store open and "
        f"libraries loaded {report['ready_kb'] / 1024:.0f} MB; during the ingest (share of the "
        f"file read) {curve}"
    )
    print(
        f"peak RSS of the ingest child (launcher's getrusage(RUSAGE_CHILDREN).ru_maxrss): "
        f"{peak_mb:.0f} MB"
    )
    tree_mb = max(peak_mb, report["tree_peak_kb"] / 1024)
    print(
        f"peak memory of the ingest child and its parsing processes (sum of PSS at each batch): "
        f"{report['tree_peak_kb'] / 1024:.0f} MB; "
        f"target < {TARGET_PEAK_MB} MB (larger of the two): "
        f"{'MET' if tree_mb < TARGET_PEAK_MB else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
