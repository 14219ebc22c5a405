"""The web screener: the blocklist, reputation, the allowlist guard, signals and the model."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from scamwall.enforcement.blocklist import Blocklist
from scamwall.enforcement.feeds import FeedEntry
from scamwall.indicators import IndicatorKind
from scamwall.reputation.allowlist import AllowEntry, Allowlist, shipped_entries
from scamwall.reputation.snapshot import Reputation, ReputationSnapshot
from scamwall.screening.web import WebScreener

EXPIRES = datetime.now(UTC) + timedelta(days=90)
GUARD = Allowlist(
    [
        *shipped_entries(),
        AllowEntry(IndicatorKind.DOMAIN, "partner.example", "our partner", "operator"),
    ]
)


@pytest.fixture(scope="module")
def screener() -> WebScreener:
    return WebScreener()


def _snapshot(*reputations: Reputation) -> ReputationSnapshot:
    return ReputationSnapshot.of("test", reputations, GUARD)


def _blocklist(*entries: tuple[IndicatorKind, str]) -> Blocklist:
    return Blocklist.from_entries(
        4, (FeedEntry(i, kind, value, 0.9, EXPIRES) for i, (kind, value) in enumerate(entries))
    )


def test_listed_names_block_their_subdomains_and_urls(screener: WebScreener) -> None:
    blocklist = _blocklist((IndicatorKind.DOMAIN, "scam-shop.example"))
    verdicts = screener.screen(
        ["pay.scam-shop.example", "https://m.pay.scam-shop.example/x?y=1", "notscam-shop.example"],
        _snapshot(),
        blocklist,
    )
    assert [v.verdict for v in verdicts[:2]] == ["block", "block"]
    assert verdicts[0].reasons[0]["type"] == "blocked"
    assert verdicts[0].reasons[0]["entry"] == "scam-shop.example"
    assert verdicts[0].reasons[0]["serial"] == 4
    assert all(r["type"] != "blocked" for r in verdicts[2].reasons)


def test_addresses_match_listed_and_reported_blocks(screener: WebScreener) -> None:
    blocklist = _blocklist((IndicatorKind.CIDR, "2001:db8:5::/48"))
    snapshot = _snapshot(
        Reputation(IndicatorKind.CIDR, "198.51.100.0/24", 0.95, agencies=2, sightings=2)
    )
    v6, v4, other = screener.screen(
        ["2001:db8:5::17", "http://198.51.100.20/login", "192.0.2.1"], snapshot, blocklist
    )
    assert v6.verdict == "block"
    assert v6.reasons[0]["entry"] == "2001:db8:5::/48"
    assert v4.verdict == "block"
    assert v4.reasons[0] == {
        "type": "reported",
        "kind": "cidr",
        "indicator": "198.51.100.0/24",
        "score": 0.95,
        "agencies": 2,
        "evidence": [],
        "covers": "198.51.100.20",
    }
    assert other.verdict == "allow"
    assert other.reasons == []  # no model for bare addresses


def test_reports_on_a_parent_count_for_its_subdomains(screener: WebScreener) -> None:
    snapshot = _snapshot(
        Reputation(IndicatorKind.DOMAIN, "loan-fast.example", 0.6, agencies=1, sightings=1)
    )
    (verdict,) = screener.screen(["apply.loan-fast.example"], snapshot)
    assert verdict.verdict == "warn"
    assert verdict.category == "fraud"
    assert verdict.reasons[0]["covers"] == "apply.loan-fast.example"


def test_the_allowlist_wins_and_reports_the_conflict(screener: WebScreener) -> None:
    snapshot = _snapshot(Reputation(IndicatorKind.DOMAIN, "partner.example", 0.0, sightings=3))
    blocklist = _blocklist((IndicatorKind.DOMAIN, "partner.example"))
    listed, clean = screener.screen(
        ["www.partner.example", "kasikornbank.com"], snapshot, blocklist
    )
    assert (listed.verdict, listed.score) == ("allow", 0.0)
    assert [r["type"] for r in listed.reasons] == ["allowlisted", "conflict"]
    assert listed.reasons[0]["reason"] == "on this instance's list"
    assert clean.verdict == "allow"
    assert [r["type"] for r in clean.reasons] == ["allowlisted"]


def test_look_alikes_of_protected_brands_are_caught_without_reports(screener: WebScreener) -> None:
    fake, real = screener.screen(["kasikornbank-verify.xyz", "someblog.net"], _snapshot())
    assert fake.verdict == "block"
    assert fake.category == "phishing"
    assert {r.get("signal") for r in fake.reasons} >= {"lookalike", "risky_tld"}
    assert real.verdict == "allow"


def test_each_bad_line_gets_an_error_and_the_rest_is_screened(screener: WebScreener) -> None:
    verdicts = screener.screen(
        ["", "+66812345678", "x" * 5000, "not a host!", "ok.example"], _snapshot()
    )
    assert [v.error is not None for v in verdicts] == [True, True, True, True, False]
    assert "empty" in str(verdicts[0].error)
    assert "phone" in str(verdicts[1].error)
    assert verdicts[4].as_dict().keys() == {"input", "verdict", "score", "category", "reasons"}
    assert verdicts[1].as_dict().keys() == {"input", "error"}


def test_a_reported_page_on_an_allowlisted_host_is_judged_by_its_own_reports(
    screener: WebScreener,
) -> None:
    page = "https://sites.google.com/view/kbank-refund"
    snapshot = _snapshot(Reputation(IndicatorKind.URL, page, 0.97, agencies=2, sightings=2))
    reported, host = screener.screen([page, "https://sites.google.com/view/bakery"], snapshot)
    assert (reported.verdict, reported.category) == ("block", "fraud")
    assert [r["type"] for r in reported.reasons] == ["reported", "allowlisted_host"]
    assert host.verdict == "allow"


def test_a_label_in_front_or_a_user_page_on_a_platform_is_judged_by_the_registered_domain(
    screener: WebScreener,
) -> None:
    """Top sites come without labels in front; the model must not read one as a bad sign."""
    names = ["heart.org", "careers.heart.org", "intranet.heart.org", "joesbakery.wixsite.com"]
    verdicts = screener.screen(names, _snapshot())
    assert [v.verdict for v in verdicts] == ["allow"] * 4
    scores = screener.model.scores(names)
    assert scores[0] == scores[1] == scores[2]
    assert scores[3] == screener.model.scores(["wixsite.com"])[0]


def test_a_backslash_ends_the_host_as_browsers_read_it(screener: WebScreener) -> None:
    blocklist = _blocklist((IndicatorKind.DOMAIN, "scam-shop.example"))
    verdicts = screener.screen(
        [
            "http://scam-shop.example\\@accounts.google.com/",
            "https://scam-shop.example\\.google.com/",
        ],
        _snapshot(),
        blocklist,
    )
    assert [v.verdict for v in verdicts] == ["block", "block"]
    assert all(v.reasons[0]["entry"] == "scam-shop.example" for v in verdicts)


def test_a_lone_surrogate_is_an_error_line_the_answer_can_carry(screener: WebScreener) -> None:
    verdicts = screener.screen(["\ud800scam.com", "http://x.com/\udfff", "ok.example"], _snapshot())
    assert [v.as_dict().get("input") for v in verdicts] == [
        "\ufffdscam.com",
        "http://x.com/\ufffd",
        "ok.example",
    ]
    assert "not valid Unicode: a lone surrogate at position 1" in str(verdicts[0].error)
    assert "position 14" in str(verdicts[1].error)
    assert verdicts[2].error is None
    json.dumps([v.as_dict() for v in verdicts], ensure_ascii=False).encode("utf-8")


def test_a_reported_page_is_found_however_its_link_is_written(screener: WebScreener) -> None:
    reported = "https://scam-host.example/pay?id=1"
    snapshot = _snapshot(
        Reputation(IndicatorKind.URL, reported, 0.95, agencies=2, sightings=2),
        Reputation(IndicatorKind.URL, "http://scam-host.example/login", 0.95, sightings=2),
    )
    same_page = [
        "http://scam-host.example/pay?id=1",
        "https://scam-host.example/pay/?id=1",
        "http://scam-host.example/pay/?id=1#top",
    ]
    verdicts = screener.screen(
        [
            *same_page,
            "https://scam-host.example/login/?next=%2F",
            "https://scam-host.example/pay?id=2",
        ],
        snapshot,
    )
    for verdict in verdicts[:3]:
        assert verdict.verdict == "block", verdict
        assert verdict.reasons[0]["indicator"] == reported
        assert verdict.reasons[0]["text"] == f"reported as {reported}"
    assert verdicts[3].verdict == "block"  # a report of the page without a query covers any
    assert verdicts[3].reasons[0]["covers"] == "https://scam-host.example/login/?next=%2F"
    assert verdicts[4].verdict == "allow"  # another query may be another page


def test_a_reported_page_written_another_way_on_an_allowlisted_host_is_blocked(
    screener: WebScreener,
) -> None:
    page = "http://sites.google.com/view/kbank-refund"
    snapshot = _snapshot(Reputation(IndicatorKind.URL, page, 0.97, agencies=2, sightings=2))
    (verdict,) = screener.screen(["https://sites.google.com/view/kbank-refund/"], snapshot)
    assert verdict.verdict == "block"
    assert [r["type"] for r in verdict.reasons] == ["reported", "allowlisted_host"]
    assert verdict.reasons[0]["text"] == f"reported as {page}"


def test_a_listed_address_is_found_in_every_notation_browsers_accept(
    screener: WebScreener,
) -> None:
    blocklist = _blocklist((IndicatorKind.IP, "198.51.100.7"))
    snapshot = _snapshot(Reputation(IndicatorKind.IP, "198.51.100.7", 0.95, sightings=2))
    inputs = [
        "http://3325256711/",
        "http://0xc6.0x33.0x64.0x07/",
        "http://0306.063.0144.07/",
        "http://198.51.25607/",
        "http://198.51.100.7./",
        "http://[::ffff:198.51.100.7]/",
        "http://[64:ff9b::c633:6407]/",
        "64:ff9b::c633:6407",
    ]
    verdicts = screener.screen(inputs, snapshot, blocklist)
    assert [v.verdict for v in verdicts] == ["block"] * len(inputs), verdicts
    assert all(v.reasons[0]["entry"] == "198.51.100.7" for v in verdicts)
    nat64 = verdicts[-1].reasons[1]
    assert (nat64["indicator"], nat64["covers"]) == ("198.51.100.7", "64:ff9b::c633:6407")


def test_hosts_with_underscores_or_escapes_are_screened_as_browsers_open_them(
    screener: WebScreener,
) -> None:
    blocklist = _blocklist((IndicatorKind.DOMAIN, "scam-shop.example"))
    inputs = ["http://x_y.scam-shop.example/", "http://scam%2Dshop.example/"]
    verdicts = screener.screen(inputs, _snapshot(), blocklist)
    assert [v.verdict for v in verdicts] == ["block"] * 2, verdicts


def test_a_chat_link_is_judged_by_its_account_reports_on_its_host(screener: WebScreener) -> None:
    snapshot = _snapshot(
        Reputation(IndicatorKind.HANDLE, "telegram:job_abroad_hr", 0.95, agencies=2, sightings=2)
    )
    reported, other, bare, handle = screener.screen(
        ["https://t.me/job_abroad_hr", "wa.me/66812345678", "t.me/job_abroad_hr", "line:kbank"],
        snapshot,
    )
    assert (reported.verdict, reported.category) == ("block", "fraud")
    assert [r["type"] for r in reported.reasons] == ["reported", "allowlisted_host", "note"]
    assert reported.reasons[0]["indicator"] == "telegram:job_abroad_hr"
    assert reported.reasons[0]["covers"] == "https://t.me/job_abroad_hr"
    assert (other.verdict, [r["type"] for r in other.reasons]) == ("allow", ["allowlisted", "note"])
    assert "whatsapp:+66812345678" in other.reasons[1]["text"]
    assert bare.verdict == "block"
    assert "handle" in str(handle.error)  # an account, not a link: nothing a browser opens


def test_a_whatsapp_link_carries_its_numbers_reports(screener: WebScreener) -> None:
    """A WhatsApp account is a phone number: the number's reports are the link's; a report
    that weighs nothing is no conflict with the host's allowlist entry."""
    reported = Reputation(IndicatorKind.PHONE, "+66812345678", 0.95, agencies=2, sightings=2)
    weightless = Reputation(
        IndicatorKind.HANDLE, "whatsapp:+66899999999", 0.0, agencies=1, sightings=1
    )
    blocked, quiet = screener.screen(
        ["https://wa.me/66812345678", "https://wa.me/66899999999"],
        _snapshot(reported, weightless),
    )
    assert blocked.verdict == "block"
    assert blocked.reasons[0]["indicator"] == "+66812345678"
    assert quiet.verdict == "allow"
    assert "conflict" not in [r["type"] for r in quiet.reasons]


def test_a_link_padded_past_the_url_limit_is_judged_by_its_host(screener: WebScreener) -> None:
    blocklist = _blocklist((IndicatorKind.DOMAIN, "scam-shop.example"))
    padded = [
        "http://scam-shop.example/?q=" + "a" * 2040,
        "https://" + "a" * 2040 + "@scam-shop.example/",
        "scam-shop.example/" + "a" * 3000,
        "scam-shop.example?x=" + "a" * 2100,  # no scheme, no path: read as a name before
    ]
    verdicts = screener.screen(padded, _snapshot(), blocklist)
    for verdict in verdicts:
        assert verdict.verdict == "block", verdict.error
        assert verdict.reasons[-1] == {
            "type": "note",
            "text": "the link is longer than 2048 characters: judged by its host "
            "scam-shop.example alone",
        }


def test_a_padded_chat_link_keeps_its_account(screener: WebScreener) -> None:
    reported = [
        Reputation(IndicatorKind.HANDLE, "telegram:scammer_th", 0.95, agencies=2, sightings=2),
        Reputation(IndicatorKind.PHONE, "+66925550199", 0.95, agencies=2, sightings=2),
    ]
    padded = [
        "https://t.me/scammer_th?x=" + "a" * 2100,
        # the account in the query, the padding in the prefilled text after it
        "https://api.whatsapp.com/send?phone=66925550199&text=" + "a" * 2100,
    ]
    for verdict in screener.screen(padded, _snapshot(*reported), _blocklist()):
        assert verdict.verdict == "block", verdict.error
        assert verdict.reasons[-1]["text"].startswith("the link is longer than 2048 characters")


def test_every_way_of_writing_a_link_browsers_open_is_screened(screener: WebScreener) -> None:
    blocklist = _blocklist(
        (IndicatorKind.DOMAIN, "scam-shop.example"), (IndicatorKind.IP, "198.51.100.7")
    )
    inputs = [
        "http:scam-shop.example",
        "http:/scam-shop.example/x",
        "//scam-shop.example/x",
        "scam-shop.example:8080",
        "198.51.100.7:8080",
        "scam%2dshop.example",
        "x_y.scam-shop.example",
    ]
    verdicts = screener.screen(inputs, _snapshot(), blocklist)
    assert [v.verdict for v in verdicts] == ["block"] * len(inputs), verdicts


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("javascript:alert(1)", "scheme 'javascript' is not one of http, https, ftp"),
        ("data:text/html,x", "scheme 'data' is not one of http, https, ftp"),
        ("not a host!", "contains whitespace"),
        ("!!!", "needs at least two labels (name.tld)"),
    ],
)
def test_a_line_of_no_kind_says_why_it_is_no_link_and_asks_for_no_kind(
    screener: WebScreener, line: str, reason: str
) -> None:
    (verdict,) = screener.screen([line], _snapshot())
    assert verdict.error == f"not a URL, domain name or IP address: {reason}"


def test_a_host_name_shown_before_an_at_sign_is_a_signal(screener: WebScreener) -> None:
    shown, both, credentials = screener.screen(
        [
            "http://www.kasikornbank.com@evil.example/",
            "http://paypal.com@198.51.100.99/",
            "ftp://user:secret@files.example/",
        ],
        _snapshot(),
    )
    assert (shown.verdict, shown.category) == ("warn", "phishing")
    signal = next(r for r in shown.reasons if r.get("signal") == "userinfo_host")
    assert (
        signal["text"] == "the link shows www.kasikornbank.com before an @ but goes to evil.example"
    )
    assert (both.verdict, both.category) == ("warn", "phishing")
    assert {r.get("signal") for r in both.reasons} >= {"userinfo_host", "ip_host"}
    assert all(r.get("signal") != "userinfo_host" for r in credentials.reasons)


def test_only_a_trusted_name_shown_before_an_at_sign_is_a_signal(screener: WebScreener) -> None:
    """A user name that reads as a host is common (mark.me@); posing as a trusted site is the
    trick: an allowlisted name or a protected brand, however its end is escaped."""
    plain, escaped, schemed = screener.screen(
        [
            "http://mark.me@shop.example/",
            "http://kasikornbank.com%2F@evil.example/",
            "http://https%3A%2F%2Fwww.kasikornbank.com@evil.example/",
        ],
        _snapshot(),
    )
    assert all(r.get("signal") != "userinfo_host" for r in plain.reasons)
    for verdict in (escaped, schemed):
        assert "userinfo_host" in [r.get("signal") for r in verdict.reasons], verdict.error


def test_a_link_to_a_bare_address_is_a_signal_as_in_text_screening(
    screener: WebScreener,
) -> None:
    link, address = screener.screen(
        ["http://198.51.100.99/paypal/login", "198.51.100.99"], _snapshot()
    )
    assert link.reasons == [
        {
            "type": "signal",
            "signal": "ip_host",
            "weight": 0.4,
            "text": "a link to the bare address 198.51.100.99",
        }
    ]
    assert (link.verdict, link.score) == ("allow", 0.4)
    assert (address.score, address.reasons) == (0.0, [])  # judged by the feeds and reports


def test_an_allowlisted_shortener_still_says_it_hides_the_link(screener: WebScreener) -> None:
    page = "https://bit.ly/3scam"
    snapshot = _snapshot(Reputation(IndicatorKind.URL, page, 0.97, agencies=2, sightings=2))
    link, reported = screener.screen(["https://bit.ly/abc", page], snapshot)
    assert (link.verdict, link.score) == ("allow", 0.0)
    assert [(r["type"], r.get("signal")) for r in link.reasons] == [
        ("allowlisted", None),
        ("signal", "shortener"),
    ]
    assert reported.verdict == "block"
    assert [r.get("signal", r["type"]) for r in reported.reasons] == [
        "reported",
        "allowlisted_host",
        "shortener",
    ]


@pytest.mark.parametrize(
    ("line", "called"),
    [
        ("a@scam-shop.example", "an e-mail address"),
        ("mailto:a@scam-shop.example", "an e-mail address"),
        ("KBank", "an SMS sender ID"),
        ("+66812345678", "a phone number"),
        ("203.0.113.0/24", "an address block (CIDR)"),
        ("line:kbank", "a chat handle"),
        ("TH:KBANK:1234567890", "a bank account"),
        ("TPcDNYz4AxCaLCY2Xx4i95jGYwCjUrxg5r", "a crypto-currency wallet"),
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "a file hash"),
    ],
)
def test_a_line_of_another_kind_is_named_with_its_article(
    screener: WebScreener, line: str, called: str
) -> None:
    (verdict,) = screener.screen([line], _snapshot())
    assert verdict.error == f"this is {called}, not a URL, domain name or IP address"


def test_a_popular_site_is_judged_by_reports_and_signals_not_the_model(
    screener: WebScreener,
) -> None:
    """tesla.com (ranks 1,001-10,000) read to the model as a scam name; its subdomains too,
    since the model reads the registrable name. A report still blocks it, and a subdomain's
    own look-alike label still warns."""
    names = ["tesla.com", "careers.tesla.com", "kasikornbank-verify.fc2.com"]
    allowed, careers, lookalike = screener.screen(names, _snapshot(), _blocklist())
    for verdict in (allowed, careers):
        assert verdict.verdict == "allow"
        assert verdict.score == 0.0
        assert [r["type"] for r in verdict.reasons] == ["note"]
        assert "tesla.com is among the 10,000 most visited" in verdict.reasons[0]["text"]
    assert lookalike.verdict == "warn"
    assert lookalike.category == "phishing"
    reported = Reputation(IndicatorKind.DOMAIN, "tesla.com", 0.95, agencies=2, sightings=2)
    (blocked,) = screener.screen(["tesla.com"], _snapshot(reported), _blocklist())
    assert blocked.verdict == "block"


def test_a_popular_name_the_model_reads_as_a_gambling_site_is_judged_so(
    screener: WebScreener,
) -> None:
    """A popular gambling site is a gambling site, which the region's law forbids all the
    same: the model's reading of it as one still counts."""
    (verdict,) = screener.screen(["supersportbet.com"], _snapshot(), _blocklist())
    assert verdict.verdict == "warn"
    assert verdict.category == "gambling"
    assert [r["type"] for r in verdict.reasons] == ["model"]
