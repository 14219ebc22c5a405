"""Fixtures of the enforcement tests: real Unbound resolvers over a small world of names.

``start_unbound(...)`` starts an Unbound with the given feeds (see ``consumers.running_unbound``)
and answers names from :data:`WORLD` unless told otherwise. Every Unbound a test starts is
stopped when the test ends.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

import pytest

from tests.enforcement.consumers import Resolver, running_unbound

#: The names the test resolvers know, with their addresses (documentation ranges, RFC 5737).
#: Every name a feed blocks has a real address here, so an NXDOMAIN can only come from the feed.
WORLD: Mapping[str, str] = {
    "scam.test.": "192.0.2.1",
    "pay.scam.test.": "192.0.2.2",
    "sub.scam.test.": "192.0.2.3",
    "walled.test.": "192.0.2.4",
    "ok.test.": "192.0.2.5",
    "warning.scamwall.test.": "192.0.2.100",
}


class StartUnbound(Protocol):
    """Starts an Unbound loading the given feeds; returns the resolver to query."""

    def __call__(
        self,
        *,
        rpz_zone_file: Path | None = None,
        rpz_origin: str = "rpz.scamwall.",
        unbound_include: Path | None = None,
        authoritative: Mapping[str, str] = WORLD,
    ) -> Resolver: ...


@pytest.fixture
def start_unbound(tmp_path: Path) -> Iterator[StartUnbound]:
    """Start Unbound resolvers, each in a folder of its own; all are stopped after the test."""
    with ExitStack() as running:
        started = 0

        def start(
            *,
            rpz_zone_file: Path | None = None,
            rpz_origin: str = "rpz.scamwall.",
            unbound_include: Path | None = None,
            authoritative: Mapping[str, str] = WORLD,
        ) -> Resolver:
            nonlocal started
            started += 1
            return running.enter_context(
                running_unbound(
                    tmp_path / f"unbound-{started}",
                    rpz_zone_file=rpz_zone_file,
                    rpz_origin=rpz_origin,
                    authoritative=authoritative,
                    unbound_include=unbound_include,
                )
            )

        yield start
