"""The consumer harness itself, fed hand-written feeds: BIND's checker, nft and Unbound judge
them as an operator's resolver or firewall would, and each check can fail."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.enforcement import consumers
from tests.enforcement.conftest import WORLD, StartUnbound
from tests.enforcement.consumers import Record, RpzHit, named_checkzone, nft_check

RPZ_ORIGIN = "rpz.scamwall."

MINIMAL_RPZ = """\
$TTL 300
@ IN SOA localhost. hostmaster.scamwall.test. 2024060101 3600 600 86400 300
@ IN NS localhost.
scam.test CNAME .
*.scam.test CNAME .
walled.test CNAME warning.scamwall.test.
"""

NFT_SCRIPT = """\
add table inet scamwall
add set inet scamwall blocked_v4 { type ipv4_addr; flags interval; size 1024; }
add set inet scamwall blocked_v6 { type ipv6_addr; flags interval; size 1024; }
add element inet scamwall blocked_v4 { 192.0.2.0/24, 198.51.100.7 }
add element inet scamwall blocked_v6 { 2001:db8::/32, 2001:db9::1 }
add chain inet scamwall output { type filter hook output priority 0; policy accept; }
add rule inet scamwall output ip daddr @blocked_v4 drop
add rule inet scamwall output ip6 daddr @blocked_v6 drop
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- named-checkzone -------------------------------------------------------------------------


def test_named_checkzone_loads_a_minimal_rpz_zone(tmp_path: Path) -> None:
    result = named_checkzone(_write(tmp_path / "rpz.zone", MINIMAL_RPZ), RPZ_ORIGIN)
    assert result.ok, result.output
    assert "loaded serial 2024060101" in result.output


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        pytest.param(
            lambda zone: zone.replace("@ IN SOA", "; @ IN SOA"), "0 SOA records", id="no-soa"
        ),
        pytest.param(
            lambda zone: zone + "scam.test A 192.0.2.1\n",
            "CNAME and other data",
            id="cname-and-other-data",
        ),
        pytest.param(
            lambda zone: zone + "walled.test CNAME (\n", "unbalanced parentheses", id="syntax"
        ),
    ],
)
def test_named_checkzone_rejects_a_broken_zone(
    tmp_path: Path, change: Callable[[str], str], complaint: str
) -> None:
    result = named_checkzone(_write(tmp_path / "rpz.zone", change(MINIMAL_RPZ)), RPZ_ORIGIN)
    assert not result.ok
    assert complaint in result.output


# --- nft -c ----------------------------------------------------------------------------------


def test_nft_accepts_interval_sets_of_both_families(tmp_path: Path) -> None:
    result = nft_check(_write(tmp_path / "scamwall.nft", NFT_SCRIPT))
    assert result.ok, result.output


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        pytest.param("size 1024; }\nadd set", "size 1024;\nadd set", "syntax error", id="syntax"),
        pytest.param("198.51.100.7", "192.0.2.7", "conflicting intervals", id="overlap"),
        pytest.param("2001:db9::1", "192.0.2.9", "Address family", id="wrong-family"),
        pytest.param("size 1024", "size 1", "Could not process rule", id="over-size"),
    ],
)
def test_nft_rejects_a_script_it_could_not_load(
    tmp_path: Path, old: str, new: str, complaint: str
) -> None:
    assert old in NFT_SCRIPT
    result = nft_check(_write(tmp_path / "scamwall.nft", NFT_SCRIPT.replace(old, new, 1)))
    assert not result.ok
    assert complaint in result.output


# --- Unbound ---------------------------------------------------------------------------------


def test_without_feeds_every_name_resolves_locally(start_unbound: StartUnbound) -> None:
    resolver = start_unbound()
    for name, address in WORLD.items():
        answer = resolver.query(name)
        assert (answer.rcode, answer.addresses) == ("NOERROR", [address]), name
    # Names outside the local root are NXDOMAIN at once: nothing is asked of the internet.
    assert resolver.query("example.com").rcode == "NXDOMAIN"
    assert resolver.query("nowhere.test", "AAAA").rcode == "NXDOMAIN"
    assert resolver.rpz_hits() == []


def test_unbound_applies_the_rpz_zone(tmp_path: Path, start_unbound: StartUnbound) -> None:
    rpz = _write(tmp_path / "rpz.zone", MINIMAL_RPZ)
    resolver = start_unbound(rpz_zone_file=rpz, rpz_origin=RPZ_ORIGIN)

    assert resolver.query("scam.test") == consumers.Answer("NXDOMAIN", ())
    assert resolver.query("pay.scam.test") == consumers.Answer("NXDOMAIN", ())
    ok = resolver.query("ok.test")
    assert (ok.rcode, ok.addresses) == ("NOERROR", [WORLD["ok.test."]])
    walled = resolver.query("walled.test")
    assert walled.rcode == "NOERROR"
    assert walled.records == (
        Record("walled.test.", "CNAME", "warning.scamwall.test."),
        Record("warning.scamwall.test.", "A", WORLD["warning.scamwall.test."]),
    )
    assert resolver.rpz_hits() == [
        RpzHit("scam.test.", "rpz-nxdomain", "scam.test.", "A"),
        RpzHit("*.scam.test.", "rpz-nxdomain", "pay.scam.test.", "A"),
        RpzHit("walled.test.", "rpz-local-data", "walled.test.", "A"),
    ]


def test_local_data_answers_before_rpz(tmp_path: Path, start_unbound: StartUnbound) -> None:
    """Why an RPZ feed must not be combined with local-data for the same names."""
    rpz = _write(tmp_path / "rpz.zone", MINIMAL_RPZ)
    local = _write(tmp_path / "local.conf", 'local-data: "scam.test. A 192.0.2.50"\n')
    resolver = start_unbound(rpz_zone_file=rpz, unbound_include=local)

    assert resolver.query("scam.test").addresses == ["192.0.2.50"]
    assert resolver.query("pay.scam.test").rcode == "NXDOMAIN"
    assert [hit.qname for hit in resolver.rpz_hits()] == ["pay.scam.test."]


@pytest.mark.parametrize("header", ["", "server:\n"], ids=["bare-lines", "server-clause"])
def test_unbound_applies_the_local_zone_feed(
    tmp_path: Path, start_unbound: StartUnbound, header: str
) -> None:
    feed = _write(
        tmp_path / "scamwall.conf", header + '    local-zone: "scam.test." always_nxdomain\n'
    )
    resolver = start_unbound(unbound_include=feed)

    assert resolver.query("scam.test").rcode == "NXDOMAIN"
    assert resolver.query("sub.scam.test").rcode == "NXDOMAIN"
    assert resolver.query("ok.test").addresses == [WORLD["ok.test."]]
    assert resolver.query("walled.test").addresses == [WORLD["walled.test."]]


def test_unbound_refusing_a_feed_fails_the_test_with_its_log(
    tmp_path: Path, start_unbound: StartUnbound
) -> None:
    rpz = _write(tmp_path / "rpz.zone", MINIMAL_RPZ + "ok.test CNAMEX .\n")
    with pytest.raises(pytest.fail.Exception, match=r"(?s)exited with status 1.*rpz\.zone"):
        start_unbound(rpz_zone_file=rpz)


# --- skipping, never failing, where a consumer cannot run --------------------------------------


@pytest.mark.parametrize(
    ("program", "package"),
    [("named-checkzone", "bind9-utils"), ("nft", "nftables"), ("unbound", "unbound")],
)
def test_a_missing_program_skips_naming_its_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, program: str, package: str
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(consumers, "SYSTEM_BIN_DIRS", ())
    with pytest.raises(pytest.skip.Exception, match=f"{program} is not installed.*{package}"):
        consumers.find_program(program)


def test_nft_without_netlink_rights_skips_quoting_nft(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    nft = consumers.find_program("nft")
    wrapper = tmp_path / "bin" / "nft"
    wrapper.parent.mkdir()
    # The real nft, run without CAP_NET_ADMIN, as in a container that forbids netlink.
    wrapper.write_text(
        f'#!/bin/sh\nexec {setpriv} --bounding-set=-net_admin --inh-caps=-net_admin {nft} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(pytest.skip.Exception, match="Operation not permitted"):
        nft_check(_write(tmp_path / "scamwall.nft", NFT_SCRIPT))
