"""Private set intersection between two instances over HTTP, with the same PSI in one process as
baseline.

The responder is a temporary SQLite store holding ``--elements`` GREEN phone numbers of its own
agency, served by uvicorn on a free loopback port in a thread of this process; the initiator is
:func:`scamwall.exchange.matching_peer.psi_with_peer`, what `scamwall match psi` runs, with
``--elements`` numbers of which ``--common`` are the responder's too. Times, best of ``--runs``:

* over HTTP: request built, sent, answered by ``POST /v1/match/psi`` (the responder reads its
  set through the sharing policy, blinds both lists and audits the session), finished;
* the responder's set read alone (:func:`matching_set`);
* baseline: :func:`private_intersection` on the same two lists in one process, every message
  through JSON; the ratio says what HTTP, the store and the audit cost on top.

Run: ``python bench/bench_matching.py`` (``--help`` for options). About 30 s at 10,000.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

from common import free_port  # type: ignore[import-not-found]
from scamwall.api import create_app
from scamwall.api.matching import router as matching_router
from scamwall.exchange.legal import DefaultLegalBasis
from scamwall.exchange.matching_peer import psi_with_peer
from scamwall.exchange.matching_sets import MatchKind, matching_set
from scamwall.exchange.policy import Role
from scamwall.exchange.private_matching import private_intersection
from scamwall.indicators import Indicator, parse_indicator
from scamwall.settings import Settings
from scamwall.store import Sighting, Store
from scamwall.store.access import Access
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp


def phones(numbers: range) -> list[Indicator]:
    return [parse_indicator(f"+6681{n:07d}") for n in numbers]


@contextmanager
def serving(store: Store, url: str, max_elements: int) -> Iterator[str]:
    """The responder's API on a free loopback port, in a thread."""
    settings = Settings(
        database_url=url, match_max_elements=max_elements, api_max_body_bytes=256 * 2**20
    )
    app = create_app(settings, store=store)
    if not any(getattr(route, "path", None) == "/v1/match/psi" for route in app.routes):
        app.include_router(matching_router)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", loop="asyncio")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the responder did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def best_of(runs: int, function: Callable[[], object]) -> tuple[float, list[float]]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings), timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--elements", type=int, default=10_000, help="each side's set size")
    parser.add_argument("--common", type=int, default=5_000, help="elements both hold")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--no-pin", action="store_true", help="do not pin to core 0")
    args = parser.parse_args(argv)
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})

    n, common = args.elements, min(args.common, args.elements)
    theirs = phones(range(n - common, 2 * n - common))
    ours = phones(range(n))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'responder.db'}"
        store = Store.open(url, require_schema=False)
        store.initialise()
        own = store.add_agency("MM-MPF", name="MPF", country="MM", kind=AgencyKind.POLICE)
        store.add_agency("TH-CCIB", name="CCIB", country="TH", kind=AgencyKind.POLICE)
        token = Access(store).issue_token_for(
            agency_code="TH-CCIB", role=Role.ANALYST, user_name="bench"
        )
        caller = Access(store).authenticate(token.secret)
        observed = datetime(2026, 5, 1, tzinfo=UTC)
        store.record_sightings(
            [Sighting(i, own, observed, SourceKind.POLICE_CASE, 80, Tlp.GREEN) for i in theirs]
        )
        read_s, _ = best_of(
            args.runs,
            lambda: matching_set(store, caller, MatchKind.PHONE, legal=DefaultLegalBasis()),
        )
        with serving(store, url, n) as base:
            found: list[int] = []

            def over_http() -> None:
                session = psi_with_peer(base, token.secret, MatchKind.PHONE, ours)
                found.append(len(session.result.matches))

            http_s, http_all = best_of(args.runs, over_http)
        store.close()
    assert set(found) == {common}, found
    baseline_s, base_all = best_of(args.runs, lambda: private_intersection(ours, theirs))

    print(f"command: python {shlex.join(['bench/bench_matching.py', *sys.argv[1:]])}")
    print(f"{n:,} + {n:,} phone numbers, {common:,} in common, best of {args.runs} runs")
    print(
        f"over HTTP (psi_with_peer -> POST /v1/match/psi): {http_s:6.2f} s "
        f"({', '.join(f'{t:.2f}' for t in http_all)}) = {2 * n / http_s:7,.0f} elements/s"
    )
    print(f"responder's set read (matching_set):         {read_s:6.2f} s")
    print(
        f"baseline private_intersection in one process:  {baseline_s:6.2f} s "
        f"({', '.join(f'{t:.2f}' for t in base_all)}) = {2 * n / baseline_s:7,.0f} elements/s"
    )
    print(f"over HTTP / baseline time:                     {http_s / baseline_s:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
