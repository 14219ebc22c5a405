"""Publishing the feeds: serials, expiry, the allowlist guard, appeals and receipts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from scamwall.enforcement.appeals import decide_appeal, list_appeals, submit_appeal
from scamwall.enforcement.blocklist import Blocklist
from scamwall.enforcement.feeds import feed_state, publish
from scamwall.enforcement.formats import FORMATS, FeedOptions, render_change, render_full
from scamwall.enforcement.receipts import record_receipts
from scamwall.errors import InvalidInput, NotFound, PermissionDenied, UsageError
from scamwall.exchange.policy import Caller, Role
from scamwall.indicators import IndicatorKind, parse_indicator
from scamwall.reputation.allowlist import AllowEntry, Allowlist
from scamwall.reputation.false_positives import report_false_positive
from scamwall.reputation.snapshot import build_snapshot
from scamwall.store import Sighting, Store
from scamwall.store.schema import disputed_sightings, sightings
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


def _publish(store: Store, allowlist: Allowlist = GUARD) -> dict[str, object]:
    snapshot = build_snapshot(store, allowlist=allowlist)
    return publish(store, snapshot, min_score=0.7, entry_days=90).as_dict()


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
    with pytest.raises(InvalidInput, match="no serial 9"):
        feed_state(police, serial=9)


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
    _report(police, "10.0.0.0/8")
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
    assert "add element inet scamwall blocked_v4 { 10.0.0.0/8 }" in texts["nft"]
    assert "del scamwall-v4 198.51.100.7" in texts["ipset"]
    changes = json.loads(texts["numbers.json"])
    assert changes["since"] == 1
    assert changes["added"] == changes["removed"] == []


def test_full_feeds_cover_subdomains_and_keep_sets_free_of_overlaps(police: Store) -> None:
    for value in ("scam.test", "pay.scam.test", "10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32"):
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
    assert "{ 10.0.0.0/8 }" in nft
    assert "10.1.0.0/16" not in nft
    assert "size 65536" in nft
    assert "type ipv6_addr" in nft
    assert "add scamwall-v4 10.1.0.0/16" in full("ipset")
    numbers = full("numbers").splitlines()
    assert numbers[1] == "kind,value,score,expires_at"
    assert numbers[2].startswith("phone,+66812345678,")


def test_blocklist_matches_suffixes_and_networks(police: Store) -> None:
    for value in ("scam.test", "10.0.0.0/8", "2001:db8::/32", "198.51.100.7", "+66812345678"):
        _report(police, value)
    _publish(police)
    blocklist = Blocklist.from_state(feed_state(police))
    assert blocklist.match_domain("a.b.scam.test") is not None
    assert blocklist.match_domain("notscam.test") is None
    assert blocklist.match_address("10.20.30.40") is not None
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
        "scam.test",
        "pending",
    )
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
    # the disputed report no longer counts: the next publication does not put it back
    assert _publish(police)["changed"] is False
    with pytest.raises(UsageError, match="already accepted"):
        decide_appeal(police, appeal.id, accept=False, note="again", caller=OPERATOR)
    # new evidence after the decision counts again
    _report(police, "scam.test")
    assert _publish(police)["added"] == 1


def test_rejected_appeal_changes_nothing_but_itself(police: Store) -> None:
    _report(police, "198.51.100.0/24")
    _publish(police)
    appeal = submit_appeal(police, "198.51.100.9", evidence="my home router", caller=PUBLIC)
    assert appeal.value == "198.51.100.0/24"
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
    assert [r["index"] for r in result.rejected] == [1, 2, 3]
    assert result.rejected[1]["field"] == "hits"
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
    with police.reading() as connection:
        notes = (
            connection.execute(
                select(sightings.c.note).where(sightings.c.source_kind == "enforcement_receipt")
            )
            .scalars()
            .all()
        )
    assert notes == [
        "blocked at dns1.bkk: 412 hits (2026-11-29T00:00:00+00:00 to 2026-11-30T00:00:00+00:00)"
    ]
    before = build_snapshot(police, allowlist=GUARD).lookup(parse_indicator("scam.test"))
    assert before is not None
    assert before.agencies == 1
    analyst = Caller(name="a", role=Role.INVESTIGATOR, agency_code="TH-POLICE")
    with pytest.raises(PermissionDenied):
        record_receipts(police, analyst, consumer="x", hits=[], max_batch=10)
