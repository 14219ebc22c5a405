"""Publishing the feeds: serials, expiry, the allowlist guard, appeals and receipts."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from scamwall.enforcement.appeals import decide_appeal, get_appeal, list_appeals, submit_appeal
from scamwall.enforcement.blocklist import Blocklist
from scamwall.enforcement.feeds import feed_state, publish
from scamwall.enforcement.formats import FORMATS, FeedOptions, render_change, render_full
from scamwall.enforcement.receipts import record_receipts
from scamwall.errors import InvalidInput, NotFound, PermissionDenied, UsageError
from scamwall.exchange.legal import DefaultLegalBasis
from scamwall.exchange.policy import Caller, Role
from scamwall.exchange.reads import shared_sightings
from scamwall.indicators import Indicator, IndicatorKind, parse_indicator
from scamwall.reputation.allowlist import AllowEntry, Allowlist
from scamwall.reputation.false_positives import report_false_positive
from scamwall.reputation.snapshot import build_snapshot
from scamwall.store import Sighting, Store
from scamwall.store.schema import disputed_sightings, indicators, sightings
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

OPERATOR = Caller(name="cli:ops", role=Role.ADMIN)
PUBLIC = Caller.anonymous()
GUARD = Allowlist([AllowEntry(IndicatorKind.DOMAIN, "bank.test", "the real bank", "operator")])


@pytest.fixture
def police(store: Store) -> Store:
    store.add_agency("TH-POLICE", name="Thai police", country="TH", kind=AgencyKind.POLICE)
    store.add_agency("TH-ISP", name="Thai resolver", country="TH", kind=AgencyKind.OPERATOR)
    return store


def _report(store: Store, value: str, *, days_ago: float = 0, confidence: int = 100) -> None:
    store.record_sightings(
        [
            Sighting(
                indicator=parse_indicator(value, region="TH"),
                agency=store.get_agency("TH-POLICE"),
                observed_at=datetime.now(UTC) - timedelta(days=days_ago),
                source_kind=SourceKind.POLICE_CASE,
                confidence=confidence,
                tlp=Tlp.GREEN,
            )
        ]
    )


def _publish(
    store: Store, allowlist: Allowlist = GUARD, *, min_score: float = 0.7
) -> dict[str, object]:
    snapshot = build_snapshot(store, allowlist=allowlist)
    return publish(store, snapshot, min_score=min_score, entry_days=90).as_dict()


def _values(store: Store, serial: int | None = None) -> set[str]:
    return {e.value for e in feed_state(store, serial=serial).entries}


def test_publication_lists_what_scores_high_and_nothing_else(police: Store) -> None:
    _report(police, "scam.test")
    _report(police, "203.0.113.0/24")
    _report(police, "+66812345678")
    _report(police, "weak.test", confidence=50)  # 0.45: below the bar
    _report(police, "stale.test", days_ago=200)  # newest report older than 90 days
    _report(police, "bank.test")  # allowlisted: a conflict, never listed
    result = _publish(police)
    assert result["serial"] == 1
    assert result["added"] == 3
    assert _values(police) == {"scam.test", "203.0.113.0/24", "+66812345678"}
    assert result["conflicts"] == 1
    conflict = result["conflicts_shown"][0]  # type: ignore[index]
    assert conflict["value"] == "bank.test"
    assert conflict["allowlisted_by"]["reason"] == "on this instance's list"
    # nothing changed: no new serial
    assert _publish(police)["serial"] == 1
    assert _publish(police)["changed"] is False


def test_entries_leave_with_a_reason_and_old_serials_stay_readable(police: Store) -> None:
    _report(police, "scam.test")
    _report(police, "other.test")
    _publish(police)
    report_false_positive(
        police, "other.test", agency_code="TH-POLICE", caller=OPERATOR, note="a school"
    )
    second = _publish(police)
    assert second["serial"] == 2
    assert second["removed"] == {"score": 1}
    guarded = Allowlist([*GUARD, AllowEntry(IndicatorKind.DOMAIN, "scam.test", "x", "operator")])
    third = _publish(police, guarded)
    assert third["removed"] == {"allowlisted": 1}
    assert _values(police, serial=1) == {"scam.test", "other.test"}
    assert _values(police, serial=2) == {"scam.test"}
    assert _values(police) == set()
    with pytest.raises(NotFound, match="no serial 9: the feeds are at serial 3") as missing:
        feed_state(police, serial=9)
    assert missing.value.details == {"serial": 9, "latest": 3}
    with pytest.raises(InvalidInput, match="serial -1 is not a serial"):
        feed_state(police, serial=-1)


def test_entry_expires_after_its_newest_report(police: Store) -> None:
    _report(police, "scam.test", days_ago=10)
    _publish(police)
    (entry,) = feed_state(police).entries
    expected = datetime.now(UTC) - timedelta(days=10) + timedelta(days=90)
    assert abs((entry.expires_at - expected).total_seconds()) < 60
    # a new report pushes the expiry back without a new serial
    _report(police, "scam.test")
    assert _publish(police)["changed"] is False
    (renewed,) = feed_state(police).entries
    assert renewed.expires_at > entry.expires_at + timedelta(days=9)


def test_changes_since_a_serial_in_every_format(police: Store) -> None:
    _report(police, "scam.test")
    _report(police, "198.51.100.7")
    _report(police, "+66812345678")
    _publish(police)
    _report(police, "new.test")
    _report(police, "198.18.0.0/16")
    report_false_positive(police, "198.51.100.7", agency_code="TH-POLICE", caller=OPERATOR)
    _publish(police)
    before, after = feed_state(police, serial=1), feed_state(police)
    options = FeedOptions()
    texts = {
        name: render_change(
            form,
            before.entries,
            after.entries,
            since=1,
            serial=after.serial,
            published_at=after.published_at,
            options=options,
        )
        for name, form in FORMATS.items()
    }
    assert "update add new.test.rpz.scamwall. 300 CNAME .\n" in texts["rpz"]
    assert "scam.test" not in texts["rpz"]
    assert "new.test. always_nxdomain" in texts["unbound"]
    assert "+address=/new.test/" in texts["dnsmasq"]
    assert "+0.0.0.0 new.test" in texts["hosts"]
    assert "delete element inet scamwall blocked_v4 { 198.51.100.7 }" in texts["nft"]
    assert "add element inet scamwall blocked_v4 { 198.18.0.0/16 }" in texts["nft"]
    assert "del scamwall-v4 198.51.100.7" in texts["ipset"]
    changes = json.loads(texts["numbers.json"])
    assert changes["since"] == 1
    assert changes["added"] == changes["removed"] == []


def test_full_feeds_cover_subdomains_and_keep_sets_free_of_overlaps(police: Store) -> None:
    for value in ("scam.test", "pay.scam.test", "198.18.0.0/16", "198.18.5.0/24", "2001:db8::/32"):
        _report(police, value)
    _report(police, "+66812345678")
    _publish(police)
    state = feed_state(police)
    options = FeedOptions(walled_garden="warning.scamwall.test")

    def full(name: str) -> str:
        return render_full(
            FORMATS[name],
            state.entries,
            serial=state.serial,
            published_at=state.published_at,
            options=options,
        )

    rpz = full("rpz")
    assert "scam.test CNAME warning.scamwall.test.\n*.scam.test CNAME warning" in rpz
    assert "pay.scam.test" not in rpz  # its parent's wildcard covers it
    assert "IN SOA localhost. hostmaster.localhost. 1 " in rpz
    assert "0.0.0.0 pay.scam.test" in full("hosts")  # hosts files know no subdomains
    nft = full("nft")
    assert "{ 198.18.0.0/16 }" in nft
    assert "198.18.5.0/24" not in nft
    assert "size 1048576" in nft
    assert "type ipv6_addr" in nft
    assert "add scamwall-v4 198.18.5.0/24" in full("ipset")
    numbers = list(csv.DictReader(io.StringIO(full("numbers"))))  # a plain CSV, header first
    assert [(row["kind"], row["value"]) for row in numbers] == [("phone", "+66812345678")]


def test_blocklist_matches_suffixes_and_networks(police: Store) -> None:
    for value in ("scam.test", "198.18.0.0/16", "2001:db8::/32", "198.51.100.7", "+66812345678"):
        _report(police, value)
    _publish(police)
    blocklist = Blocklist.from_state(feed_state(police))
    assert blocklist.match_domain("a.b.scam.test") is not None
    assert blocklist.match_domain("notscam.test") is None
    assert blocklist.match_address("198.18.30.40") is not None
    assert blocklist.match_address("2001:db8:1::5") is not None
    assert blocklist.match_address("198.51.100.8") is None
    assert blocklist.match(IndicatorKind.PHONE, "+66812345678") is not None
    assert len(blocklist) == 5


def test_accepted_appeal_removes_the_entry_and_disputes_its_sightings(police: Store) -> None:
    _report(police, "scam.test", days_ago=1)
    _publish(police)
    with pytest.raises(InvalidInput, match="evidence"):
        submit_appeal(police, "scam.test", evidence="no", caller=PUBLIC)
    with pytest.raises(NotFound, match="on no block list"):
        submit_appeal(police, "fine.test", evidence="this is my shop", caller=PUBLIC)
    appeal = submit_appeal(
        police,
        "https://pay.scam.test/form",
        evidence="this is our school's payment page",
        contact="head@school.test",
        caller=PUBLIC,
    )
    assert (appeal.kind, appeal.value, appeal.status) == (
        IndicatorKind.DOMAIN,
        "pay.scam.test",
        "pending",
    )
    assert appeal.entries == ("scam.test",)
    # the analyst sees what accepting would take off: the whole domain, not only pay.
    (pending,) = list_appeals(police, status="pending")
    assert pending.entries == ("scam.test",)
    assert get_appeal(police, appeal.id).entries == ("scam.test",)
    decided = decide_appeal(police, appeal.id, accept=True, note="verified", caller=OPERATOR)
    assert decided.status == "accepted"
    assert decided.removed_at_serial == 2
    assert _values(police) == set()
    (listed,) = list_appeals(police, status="accepted")
    assert listed.has_contact is False  # erased once decided
    with police.reading() as connection:
        assert (
            connection.execute(select(func.count()).select_from(disputed_sightings)).scalar() == 1
        )
    # the disputed report no longer counts: the next publication does not put it back, and
    # it no longer goes to peers
    assert _publish(police)["changed"] is False
    peer = Caller("peer", Role.ANALYST, agency_id=police.get_agency("TH-ISP").id)
    assert shared_sightings(police, peer, legal=DefaultLegalBasis()).items == ()
    with pytest.raises(UsageError, match="already accepted"):
        decide_appeal(police, appeal.id, accept=False, note="again", caller=OPERATOR)
    # new evidence after the decision counts again
    _report(police, "scam.test")
    assert _publish(police)["added"] == 1
    assert len(shared_sightings(police, peer, legal=DefaultLegalBasis()).items) == 1


def test_an_accepted_appeal_disputes_a_report_dated_ahead_of_the_decision(police: Store) -> None:
    _report(police, "scam.test", days_ago=-0.8)  # within the clock skew intake allows
    _publish(police)
    appeal = submit_appeal(police, "scam.test", evidence="our club's own site", caller=PUBLIC)
    decided = decide_appeal(police, appeal.id, accept=True, note="checked", caller=OPERATOR)
    assert decided.removed_at_serial == 2
    assert _publish(police)["changed"] is False  # it stays off


def test_an_appeal_accepted_while_its_entry_is_off_the_feeds_keeps_it_off(police: Store) -> None:
    _report(police, "scam.test")
    _publish(police)
    appeal = submit_appeal(police, "pay.scam.test", evidence="our shop's payments", caller=PUBLIC)
    _publish(police, min_score=0.99)  # off the feeds for its score meanwhile
    assert _values(police) == set()
    decided = decide_appeal(police, appeal.id, accept=True, note="checked", caller=OPERATOR)
    assert decided.removed_at_serial is None
    with police.reading() as connection:
        assert (
            connection.execute(select(func.count()).select_from(disputed_sightings)).scalar() == 1
        )
    assert _publish(police)["changed"] is False  # its report no longer counts


def test_entries_gone_before_the_appeal_came_keep_their_sightings(police: Store) -> None:
    _report(police, "scam.test", confidence=80)  # 0.72
    _publish(police)
    _publish(police, min_score=0.75)  # the parent leaves, long before any appeal
    _report(police, "pay.scam.test")  # 0.9
    _publish(police, min_score=0.75)
    appeal = submit_appeal(police, "pay.scam.test", evidence="our shop's payments", caller=PUBLIC)
    _publish(police, min_score=0.99)  # it leaves after the appeal came
    decide_appeal(police, appeal.id, accept=True, note="checked", caller=OPERATOR)
    with police.reading() as connection:
        disputed = connection.execute(
            select(indicators.c.canonical)
            .join(sightings, sightings.c.indicator_id == indicators.c.id)
            .join(disputed_sightings, disputed_sightings.c.sighting_id == sightings.c.id)
        ).scalars()
        assert list(disputed) == ["pay.scam.test"]


def test_a_snapshot_built_before_a_decision_does_not_put_its_entries_back(
    police: Store,
) -> None:
    _report(police, "scam.test")
    _report(police, "198.51.100.0/24")
    _publish(police)
    # appealed by a name under the entry and an address inside the block: the entries that
    # go are the parent name and the block, not the values appealed
    older = submit_appeal(police, "pay.scam.test", evidence="our shop's payments", caller=PUBLIC)
    newer = submit_appeal(police, "198.51.100.9", evidence="our office gateway", caller=PUBLIC)
    decide_appeal(police, newer.id, accept=True, note="checked", caller=OPERATOR)
    stale = build_snapshot(police, allowlist=GUARD)
    # the older appeal decided after the snapshot: its id is lower than the newer one's
    decide_appeal(police, older.id, accept=True, note="checked", caller=OPERATOR)
    assert _values(police) == set()
    assert publish(police, stale, min_score=0.7, entry_days=90).changed is False
    assert _values(police) == set()
    # a snapshot built after both decisions sees the disputes: nothing to put back either
    assert _publish(police)["changed"] is False


def test_rejected_appeal_changes_nothing_but_itself(police: Store) -> None:
    _report(police, "198.51.100.0/24")
    _publish(police)
    appeal = submit_appeal(police, "198.51.100.9", evidence="my home router", caller=PUBLIC)
    assert appeal.entries == ("198.51.100.0/24",)
    decided = decide_appeal(
        police, appeal.id, accept=False, note="seen in 40 cases", caller=OPERATOR
    )
    assert decided.status == "rejected"
    assert decided.removed_at_serial is None
    assert _values(police) == {"198.51.100.0/24"}


def test_receipts_come_back_as_sightings_that_weigh_nothing(police: Store) -> None:
    _report(police, "scam.test")
    _publish(police)
    isp = police.get_agency("TH-ISP")
    resolver = Caller(name="dns1", role=Role.FEED, agency_id=isp.id, agency_code=isp.code)
    items = [
        {"value": "scam.test", "hits": 412},
        {"value": "not a value at all", "hits": 3},
        {"value": "scam.test", "hits": 0},
        "oops",
        {"value": "scam.test", "hits": 10**38},  # no resolver counts so many: a client's bug
    ]
    result = record_receipts(
        police,
        resolver,
        consumer="dns1.bkk",
        hits=items,
        period_start="2026-11-29T00:00:00Z",
        period_end="2026-11-30T00:00:00Z",
        max_batch=100,
    )
    assert result.accepted == 1
    assert [r["index"] for r in result.rejected] == [1, 2, 3, 4]
    assert result.rejected[1]["field"] == "hits"
    assert result.rejected[3]["field"] == "hits"
    again = record_receipts(
        police,
        resolver,
        consumer="dns1.bkk",
        hits=items[:1],
        period_start="2026-11-29T00:00:00Z",
        period_end="2026-11-30T00:00:00Z",
        max_batch=100,
    )
    assert again.duplicates == 1
    corrected = record_receipts(
        police,
        resolver,
        consumer="dns1.bkk",
        hits=[{"value": "scam.test", "hits": 500}],
        period_start="2026-11-29T00:00:00Z",
        period_end="2026-11-30T00:00:00Z",
        max_batch=100,
    )
    assert (corrected.accepted, corrected.duplicates) == (1, 0)  # not dropped as the same
    longer = record_receipts(
        police,
        resolver,
        consumer="dns1.bkk",
        hits=[{"value": "scam.test", "hits": 500}],
        period_start="2026-11-28T00:00:00Z",  # another period, though it ends the same
        period_end="2026-11-30T00:00:00Z",
        max_batch=100,
    )
    assert longer.accepted == 1
    with police.reading() as connection:
        notes = (
            connection.execute(
                select(sightings.c.note).where(sightings.c.source_kind == "enforcement_receipt")
            )
            .scalars()
            .all()
        )
    assert sorted(notes) == sorted(
        f"blocked at dns1.bkk: {hits} hits (2026-11-{day}T00:00:00+00:00 to "
        "2026-11-30T00:00:00+00:00)"
        for day, hits in (("28", 500), ("29", 412), ("29", 500))
    )
    before = build_snapshot(police, allowlist=GUARD).lookup(parse_indicator("scam.test"))
    assert before is not None
    assert before.agencies == 1
    listed_only = record_receipts(
        police,
        resolver,
        consumer="dns1.bkk",
        hits=[{"value": "www.scam.test", "hits": 2}, {"value": "innocent.test", "hits": 1}],
        max_batch=100,
        blocklist=Blocklist.from_state(feed_state(police)),
    )
    assert listed_only.accepted == 1
    assert "on no feed at serial 1" in listed_only.rejected[0]["error"]
    analyst = Caller(name="a", role=Role.INVESTIGATOR, agency_code="TH-POLICE")
    with pytest.raises(PermissionDenied):
        record_receipts(police, analyst, consumer="x", hits=[], max_batch=10)


def test_ranges_no_block_list_may_hold_and_parents_of_allowlisted_names_stay_off(
    police: Store,
) -> None:
    guard = Allowlist(
        [
            *GUARD,
            AllowEntry(IndicatorKind.DOMAIN, "agency.shared.test", "a ministry", "operator"),
            AllowEntry(IndicatorKind.IP, "203.0.113.53", "the resolver", "operator"),
        ]
    )
    special = ("192.168.4.0/24", "fe80::/64", "64:ff9b::/96", "192.0.0.0/24", "2002:c000::/32")
    for value in ("0.0.0.0/0", "10.0.0.0/8", "1.0.0.0/12", *special):
        _report(police, value)
    _report(police, "shared.test")  # would block agency.shared.test
    _report(police, "203.0.113.0/24")  # would block 203.0.113.53
    _report(police, "198.51.100.0/24")  # fine
    result = _publish(police, guard)
    assert _values(police) == {"198.51.100.0/24"}
    reasons = {c["value"]: c["reason"] for c in result["conflicts_shown"]}  # type: ignore[union-attr]
    assert reasons["0.0.0.0/0"] == "wider than /16"
    assert reasons["1.0.0.0/12"] == "wider than /16"
    assert reasons["10.0.0.0/8"].startswith("wider") or "special" in reasons["10.0.0.0/8"]
    for value in special:  # NAT64's prefix would cut IPv6-only phones off all of IPv4
        assert "special-purpose" in reasons[value]
    assert reasons["shared.test"] == "agency.shared.test, allowlisted, lies under it"
    assert reasons["203.0.113.0/24"] == "203.0.113.53, allowlisted, lies in it"


def test_an_address_stored_with_a_zone_id_stays_off_every_feed(police: Store) -> None:
    # stored before addresses refused zone ids: the text after '%' went into the files as is
    hostile = Indicator(IndicatorKind.IP, "2600::3%a\nadd scamwall-v4 8.8.8.8")
    police.record_sightings(
        [
            Sighting(
                indicator=hostile,
                agency=police.get_agency("TH-POLICE"),
                observed_at=datetime.now(UTC),
                source_kind=SourceKind.POLICE_CASE,
                confidence=100,
                tlp=Tlp.GREEN,
            )
        ]
    )
    _report(police, "198.51.100.0/24")
    result = _publish(police)
    assert _values(police) == {"198.51.100.0/24"}
    reasons = {c["value"]: c["reason"] for c in result["conflicts_shown"]}  # type: ignore[union-attr]
    assert "zone id" in reasons[hostile.canonical]


def test_a_parent_listed_first_leaves_when_a_name_under_it_is_allowlisted(police: Store) -> None:
    _report(police, "shared.test")
    _publish(police)
    guard = Allowlist(
        [*GUARD, AllowEntry(IndicatorKind.DOMAIN, "agency.shared.test", "a ministry", "operator")]
    )
    assert _publish(police, guard)["removed"] == {"allowlisted": 1}


def test_receipts_do_not_keep_an_entry_alive(police: Store) -> None:
    _report(police, "scam.test", days_ago=85)
    _publish(police, min_score=0.3)
    isp = police.get_agency("TH-ISP")
    resolver = Caller(name="dns1", role=Role.FEED, agency_id=isp.id, agency_code=isp.code)
    record_receipts(
        police, resolver, consumer="dns1", hits=[{"value": "scam.test", "hits": 9}], max_batch=9
    )
    (entry,) = feed_state(police).entries
    expected = datetime.now(UTC) - timedelta(days=85) + timedelta(days=90)
    assert abs((entry.expires_at - expected).total_seconds()) < 60


def test_expiry_follows_the_newest_report_not_the_strongest(police: Store) -> None:
    _report(police, "scam.test", days_ago=60, confidence=100)
    _publish(police, min_score=0.3)
    _report(police, "scam.test", confidence=60)
    _publish(police, min_score=0.3)
    (entry,) = feed_state(police).entries
    assert entry.expires_at > datetime.now(UTC) + timedelta(days=89)


def test_an_appeal_removes_every_entry_blocking_the_value(police: Store) -> None:
    _report(police, "scam.test")
    _report(police, "pay.scam.test")
    _report(police, "198.51.100.7")
    _report(police, "198.51.100.0/24")
    _publish(police)
    by_name = submit_appeal(
        police, "https://pay.scam.test/x", evidence="our registered shop", caller=PUBLIC
    )
    assert by_name.entries == ("pay.scam.test", "scam.test")
    by_address = submit_appeal(
        police, "http://198.51.100.7/login", evidence="our office NAT gateway", caller=PUBLIC
    )
    assert set(by_address.entries) == {"198.51.100.7", "198.51.100.0/24"}
    decide_appeal(police, by_name.id, accept=True, note="checked", caller=OPERATOR)
    decide_appeal(police, by_address.id, accept=True, note="checked", caller=OPERATOR)
    assert _values(police) == set()
    assert "value" not in by_name.as_public_dict()
