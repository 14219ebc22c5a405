"""Rebuild the shipped top-sites allowlist and the popular-sites list from the Tranco list in the
shared data.

    python scripts/make_allowlist.py [../shared/data/domains/benign_top.txt] [--top 1000]
        [--popular 10000]

Takes the names in rank order that scamwall reads as registrable domains: the first ``--top``
go to ``src/scamwall/reputation/data/top_sites.txt`` (allowlisted: never blocked), the next
ones up to rank ``--popular`` to ``src/scamwall/screening/data/popular_sites.txt`` (judged by
reports only, not by what their names look like). Names only, as the data's rules allow.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scamwall.errors import InvalidIndicator
from scamwall.indicators.network import canonical_domain

ROOT = Path(__file__).resolve().parent.parent
TOP = ROOT / "src" / "scamwall" / "reputation" / "data" / "top_sites.txt"
POPULAR = ROOT / "src" / "scamwall" / "screening" / "data" / "popular_sites.txt"
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "domains" / "benign_top.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--top", type=int, default=1000)
    parser.add_argument("--popular", type=int, default=10_000)
    args = parser.parse_args()
    names: list[str] = []
    with args.source.open(encoding="utf-8") as lines:
        for rank, line in enumerate(lines, 1):
            if rank > args.popular:
                break
            try:
                names.append(canonical_domain(line.strip()))
            except InvalidIndicator:
                continue
    top, popular = names[: args.top], names[args.top :]
    TOP.write_text(
        f"# The {len(top)} most visited registrable names of the Tranco list (names only),\n"
        "# written by scripts/make_allowlist.py; see docs/reputation.md.\n" + "\n".join(top) + "\n",
        encoding="utf-8",
    )
    POPULAR.write_text(
        f"# The next {len(popular)} most visited registrable names of the Tranco list (ranks\n"
        f"# {args.top + 1:,} to {args.popular:,} at most; names only), written by\n"
        "# scripts/make_allowlist.py: judged by reports, not by their names' looks; see\n"
        "# docs/screening.md.\n" + "\n".join(popular) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {len(top)} names to {TOP} and {len(popular)} to {POPULAR}")


if __name__ == "__main__":
    main()
