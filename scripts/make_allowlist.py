"""Rebuild the shipped top-sites allowlist from the Tranco list in the shared data.

    python scripts/make_allowlist.py [../shared/data/domains/benign_top.txt] [--top 1000]

Takes the first ``--top`` names in rank order, keeps those scamwall reads as registrable domains,
and writes ``src/scamwall/reputation/data/top_sites.txt`` (names only, as the data's rules allow).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scamwall.errors import InvalidIndicator
from scamwall.indicators.network import canonical_domain

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "scamwall" / "reputation" / "data" / "top_sites.txt"
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "domains" / "benign_top.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--top", type=int, default=1000)
    args = parser.parse_args()
    names: list[str] = []
    with args.source.open(encoding="utf-8") as lines:
        for line in lines:
            if len(names) == args.top:
                break
            try:
                names.append(canonical_domain(line.strip()))
            except InvalidIndicator:
                continue
    header = (
        f"# The {len(names)} most visited registrable names of the Tranco list (names only),\n"
        "# written by scripts/make_allowlist.py; see docs/reputation.md.\n"
    )
    OUT.write_text(header + "\n".join(names) + "\n", encoding="utf-8")
    print(f"wrote {len(names)} names to {OUT}")


if __name__ == "__main__":
    main()
