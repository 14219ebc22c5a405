"""Lexical signals of host names: look-alikes caught, real sites left alone."""

from __future__ import annotations

import pytest

from scamwall.indicators import IndicatorKind
from scamwall.reputation.allowlist import AllowEntry, Allowlist, shipped_entries
from scamwall.screening.domain_signals import (
    DOMAIN_SIGNALS,
    DomainSignal,
    domain_brands,
    domain_signals,
    is_popular,
)


@pytest.fixture(scope="module")
def shipped() -> Allowlist:
    return Allowlist(shipped_entries())


def _names(host: str, allowlist: Allowlist) -> list[str]:
    return [signal.name for signal in domain_signals(host, allowlist)]


def _lookalike(host: str, allowlist: Allowlist) -> DomainSignal | None:
    return next((s for s in domain_signals(host, allowlist) if s.name == "lookalike"), None)


@pytest.mark.parametrize(
    ("host", "brand", "how"),
    [
        ("kasikornbank-th.xyz", "kasikornbank", "uses the name"),
        ("secure-kasikorn-bank.com", "kasikornbank", "uses the name"),
        ("kasikornbank.com.verify-account.xyz", "kasikornbank", "uses the name"),
        ("paypal.com.secure-login.info", "paypal", "uses the name"),
        ("kerryexpress-parcel.top", "kerryexpress", "uses the name"),
        ("sf-express-delivery.com", "sfexpress", "uses the name"),
        ("paypa1.com", "paypal", "with digits for letters"),
        ("amaz0n-refund.top", "amazon", "with digits for letters"),
        ("1cbc.com", "icbc", "with digits for letters"),
        ("rnicrosoft-support.com", "microsoft", "with 'rn' for 'm'"),
        ("kasikornbnk.com", "kasikornbank", "one letter off"),
        ("vietcombamk.com", "vietcombank", "one letter off"),
        ("lnstagram-help.com", "instagram", "one letter off"),
        ("faecbook.com", "facebook", "one letter off"),
        # "pаypal" with a Cyrillic а, and "kasikornbаnk" likewise, as punycode
        ("xn--pypal-4ve.com", "paypal", "in look-alike letters"),
        ("xn--kasikornbnk-6ij.com", "kasikornbank", "in look-alike letters"),
    ],
)
def test_lookalikes_are_caught(host: str, brand: str, how: str, shipped: Allowlist) -> None:
    signal = _lookalike(host, shipped)
    assert signal is not None, host
    assert repr(brand) in signal.detail
    assert how in signal.detail
    assert signal.weight == pytest.approx(0.7)


@pytest.mark.parametrize(
    "host",
    [
        "kasikornbank.com",
        "www.kasikornbank.com",
        "online.kasikornbank.com",
        "scb.co.th",
        "icbc.com.cn",
        "paypal.com",
        "www.paypal.com",
    ],
)
def test_the_real_sites_get_no_signal(host: str, shipped: Allowlist) -> None:
    assert domain_signals(host, shipped) == []


@pytest.mark.parametrize(
    "host",
    [
        "weather.com",
        "wikipedia.org",
        "bangkokpost.com",
        "finance.yahoo.com",
        "united.com",
        "pcloud.com",
        "alphabet.com",
        "better-homes.com",
        "shopee.co.th",
        "mbbank.com.vn",
    ],
)
def test_ordinary_names_are_not_lookalikes(host: str, shipped: Allowlist) -> None:
    assert _lookalike(host, shipped) is None


def test_the_allowlist_given_decides_what_is_a_real_site() -> None:
    host = "kasikornbank-th.com"
    assert _lookalike(host, Allowlist([])) is not None
    operator = AllowEntry(IndicatorKind.DOMAIN, host, "the bank's campaign site", "operator")
    assert domain_signals(host, Allowlist([operator])) == []


def test_a_brand_name_on_a_cheap_domain_is_a_lookalike_even_bare() -> None:
    assert _lookalike("kasikornbank.xyz", Allowlist([])) is not None
    assert _lookalike("kasikornbank.co", Allowlist([])) is None  # possibly the bank's own


@pytest.mark.parametrize(
    "host",
    ["kasikornbank.web.app", "paypal.netlify.app", "binance.vercel.app", "scbeasy.github.io"],
)
def test_a_brand_name_on_a_hosting_platform_is_a_lookalike_even_bare(host: str) -> None:
    # anyone may take a name on a platform's suffix: it is no country site of the brand
    assert _lookalike(host, Allowlist([])) is not None


def test_official_allowlist_names_are_brands_and_so_is_the_data_file() -> None:
    brands = domain_brands()
    assert {"kasikornbank", "icbc", "kbzpay", "vietcombank"} <= brands  # official.tsv
    assert {"paypal", "thailandpost", "kerry", "jtexpress", "sfexpress", "lazada"} <= brands


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("xn--fiqs8s.cn", ["punycode"]),
        ("bit.ly", ["shortener"]),
        ("promo-deals.xyz", ["risky_tld"]),
        ("bet888.com", ["gambling_words"]),
        ("ufabet168.com", ["gambling_words"]),
        ("tyc8888.com", ["gambling_words"]),
        ("huay-vip.net", ["gambling_words"]),
        ("bocai-yule.com", ["gambling_words"]),
        ("royal.casino", ["gambling_words"]),
        ("wallet-airdrop-claim.net", ["scam_words"]),
        ("casino-login.vip", ["gambling_words", "risky_tld", "scam_words"]),
    ],
)
def test_other_signals(host: str, expected: list[str], shipped: Allowlist) -> None:
    assert sorted(_names(host, shipped)) == sorted(expected)


def test_words_are_named_in_the_detail(shipped: Allowlist) -> None:
    (signal,) = domain_signals("ufabet168.com", shipped)
    assert signal.detail.endswith("ufabet")  # the "bet" inside it is not a second word
    (signal,) = domain_signals("wallet-airdrop-claim.net", shipped)
    assert "wallet, airdrop, claim" in signal.detail


def test_a_shortener_is_reported_even_when_allowlisted() -> None:
    shortener = AllowEntry(IndicatorKind.DOMAIN, "bit.ly", "top site", "shipped:top_sites")
    assert _names("bit.ly", Allowlist([shortener])) == ["shortener"]


def test_signals_come_strongest_first_and_read_as_reasons(shipped: Allowlist) -> None:
    signals = domain_signals("xn--pypal-4ve.xyz", shipped)
    assert [s.weight for s in signals] == sorted((s.weight for s in signals), reverse=True)
    assert {s.name for s in signals} <= set(DOMAIN_SIGNALS)
    reason = signals[0].as_reason()
    assert reason == {
        "type": "signal",
        "signal": "lookalike",
        "weight": signals[0].weight,
        "text": signals[0].detail,
    }
    assert all(0 < s.weight <= 1 for s in signals)


def test_a_punycode_label_that_does_not_decode_is_still_punycode(shipped: Allowlist) -> None:
    assert _names("xn--zz.com", shipped) == ["punycode"]


def test_an_official_name_with_a_hyphen_is_a_brand_without_it() -> None:
    # names are searched with hyphens dropped: "sf-express" could never match as written
    assert "sfexpress" in domain_brands()
    assert "krungthaiaxa" in domain_brands()
    assert not any("-" in brand for brand in domain_brands())


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("microsoftonline.us", []),  # a brand inside it
        ("www.arduino.cc", []),  # a risky TLD
        ("nobelprize.org", []),  # a phishing word
        ("bingoplus.com", ["gambling_words"]),  # what it says it is still counts
        ("cutt.ly", ["shortener"]),
        ("login.arduino.cc", ["risky_tld", "scam_words"]),  # other subdomains: judged
    ],
)
def test_a_popular_site_is_not_judged_by_its_looks(
    host: str, expected: list[str], shipped: Allowlist
) -> None:
    assert [s.name for s in domain_signals(host, shipped)] == expected


def test_popular_sites_are_names_beyond_the_allowlist() -> None:
    assert is_popular("tesla.com")
    assert is_popular("www.tesla.com")
    assert not is_popular("careers.tesla.com")
    assert not is_popular("tesla.com.evil.example")
    assert not is_popular("google.com")  # allowlisted instead
