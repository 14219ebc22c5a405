"""The feeds as the programs operators run load them: BIND's checker, Unbound, nft.

Every feed here is written by scamwall from a real publication (reports in a store, the
allowlist applied), then handed to the real program.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from scamwall.enforcement.feeds import FeedEntry, FeedState, feed_state, publish
from scamwall.enforcement.formats import FORMATS, FeedOptions, render_change, render_full
from scamwall.indicators import IndicatorKind, parse_indicator
from scamwall.reputation.allowlist import AllowEntry, Allowlist
from scamwall.reputation.snapshot import build_snapshot
from scamwall.store import Sighting, Store
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp
from tests.enforcement.conftest import WORLD, StartUnbound
from tests.enforcement.consumers import named_checkzone, nft_check

GARDEN = "warning.scamwall.test"
#: ok.test is reported too, but the operator allowlisted it: it must keep resolving.
GUARD = Allowlist([AllowEntry(IndicatorKind.DOMAIN, "ok.test", "our partner", "operator")])


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[FeedState, FeedState]:
    """The feeds at serial 1 and 2 of a SQLite store."""
    path = tmp_path_factory.mktemp("feeds") / "scamwall.db"
    store = Store.open(f"sqlite:///{path}", require_schema=False)
    store.initialise()
    store.add_agency("TH-POLICE", name="Thai police", country="TH", kind=AgencyKind.POLICE)

    def report(*values: str) -> None:
        store.record_sightings(
            [
                Sighting(
                    indicator=parse_indicator(value, region="TH"),
                    agency=store.get_agency("TH-POLICE"),
                    observed_at=datetime.now(UTC),
                    source_kind=SourceKind.POLICE_CASE,
                    confidence=100,
                    tlp=Tlp.GREEN,
                )
                for value in values
            ]
        )

    def publish_now() -> None:
        publish(store, build_snapshot(store, allowlist=GUARD), min_score=0.7, entry_days=90)

    report("scam.test", "ok.test", "198.51.100.0/24", "198.51.100.7", "2001:db8::/48")
    publish_now()
    report("walled.test", "203.0.113.5", "2001:db8:1::/64")
    publish_now()
    try:
        return feed_state(store, serial=1), feed_state(store)
    finally:
        store.close()


def _write(
    tmp_path: Path, name: str, state: FeedState, options: FeedOptions, file_name: str
) -> Path:
    path = tmp_path / file_name
    text = render_full(
        FORMATS[name],
        state.entries,
        serial=state.serial,
        published_at=state.published_at,
        options=options,
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("garden", [None, GARDEN])
def test_named_checkzone_accepts_every_rpz(
    published: tuple[FeedState, FeedState], tmp_path: Path, garden: str | None
) -> None:
    options = FeedOptions(walled_garden=garden)
    for state in published:
        zone = _write(tmp_path, "rpz", state, options, f"rpz-{state.serial}.zone")
        result = named_checkzone(zone, "rpz.scamwall.")
        assert result.ok, result.output
        assert f"loaded serial {state.serial}" in result.output
    empty = FeedState(0, None, ())
    result = named_checkzone(_write(tmp_path, "rpz", empty, options, "empty.zone"), "rpz.scamwall.")
    assert result.ok, result.output


def test_unbound_answers_nxdomain_for_blocked_names_and_their_subdomains(
    published: tuple[FeedState, FeedState], tmp_path: Path, start_unbound: StartUnbound
) -> None:
    zone = _write(tmp_path, "rpz", published[1], FeedOptions(), "rpz.zone")
    resolver = start_unbound(rpz_zone_file=zone)
    assert resolver.query("scam.test").rcode == "NXDOMAIN"
    assert resolver.query("pay.scam.test").rcode == "NXDOMAIN"
    assert resolver.query("walled.test").rcode == "NXDOMAIN"
    allowed = resolver.query("ok.test")
    assert allowed.rcode == "NOERROR"
    assert allowed.addresses == [WORLD["ok.test."]]
    assert {hit.qname.rstrip(".") for hit in resolver.rpz_hits()} >= {"scam.test", "pay.scam.test"}


def test_unbound_sends_blocked_names_to_the_walled_garden(
    published: tuple[FeedState, FeedState], tmp_path: Path, start_unbound: StartUnbound
) -> None:
    zone = _write(tmp_path, "rpz", published[1], FeedOptions(walled_garden=GARDEN), "rpz.zone")
    resolver = start_unbound(rpz_zone_file=zone)
    answer = resolver.query("sub.scam.test")
    assert answer.rcode == "NOERROR"
    assert answer.cname_targets == [f"{GARDEN}."]
    assert answer.addresses == [WORLD[f"{GARDEN}."]]
    assert resolver.query("ok.test").addresses == [WORLD["ok.test."]]


@pytest.mark.parametrize("garden", [None, GARDEN])
def test_unbound_loads_the_local_zone_feed(
    published: tuple[FeedState, FeedState],
    tmp_path: Path,
    start_unbound: StartUnbound,
    garden: str | None,
) -> None:
    config = _write(tmp_path, "unbound", published[1], FeedOptions(walled_garden=garden), "f.conf")
    resolver = start_unbound(unbound_include=config)
    for name in ("scam.test", "sub.scam.test"):
        answer = resolver.query(name)
        if garden is None:
            assert answer.rcode == "NXDOMAIN", name
        else:
            assert answer.cname_targets == [f"{GARDEN}."], name
    assert resolver.query("ok.test").addresses == [WORLD["ok.test."]]


def test_nft_accepts_the_sets_and_the_changes(
    published: tuple[FeedState, FeedState], tmp_path: Path
) -> None:
    first, second = published
    options = FeedOptions()
    full = _write(tmp_path, "nft", first, options, "full.nft")
    result = nft_check(full)
    assert result.ok, result.output
    # a firewall holding serial 1 applies the change to serial 2
    change = render_change(
        FORMATS["nft"],
        first.entries,
        second.entries,
        since=1,
        serial=2,
        published_at=second.published_at,
        options=options,
    )
    both = tmp_path / "full-then-change.nft"
    both.write_text(full.read_text(encoding="utf-8") + change, encoding="utf-8")
    result = nft_check(both)
    assert result.ok, result.output
    whole = _write(tmp_path, "nft", second, options, "full-2.nft")
    text = whole.read_text(encoding="utf-8")
    assert "198.51.100.7" not in text  # inside a listed /24: interval sets refuse overlaps
    result = nft_check(whole)
    assert result.ok, result.output


def test_names_too_long_for_the_zone_are_left_out_and_big_changes_are_sent_in_parts(
    tmp_path: Path,
) -> None:
    expires = datetime.now(UTC)
    # 203 characters: *.name.origin would pass the 255 octets a DNS name may have
    long_name = ".".join(["a" * 60] * 3) + ".b" * 10 + ".test"
    entries = [FeedEntry(1, IndicatorKind.DOMAIN, long_name, 0.9, expires)]
    entries += [
        FeedEntry(i, IndicatorKind.DOMAIN, f"n{i}.test", 0.9, expires) for i in range(2, 1000)
    ]
    origin = "a-much-longer-origin-for-the-policy-zone.rpz.scamwall."
    options = FeedOptions(rpz_origin=origin)
    zone = tmp_path / "long.zone"
    zone.write_text(
        render_full(FORMATS["rpz"], entries, serial=3, published_at=None, options=options),
        encoding="utf-8",
    )
    text = zone.read_text(encoding="utf-8")
    assert long_name not in text
    assert "1 left out" in text.splitlines()[0]
    result = named_checkzone(zone, origin)
    assert result.ok, result.output
    script = render_change(
        FORMATS["rpz"], [], entries, since=0, serial=3, published_at=None, options=options
    )
    assert script.count("send\n") == 5  # 999 names, 200 per message
