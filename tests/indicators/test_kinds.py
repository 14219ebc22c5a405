"""Each indicator kind parsed from the messy ways people and scammers write it.

Every valid case checks the exact canonical form (the thing ids are computed from); every invalid
case checks that :class:`InvalidIndicator` is raised, names the kind and says why.
"""

from __future__ import annotations

import re
import uuid

import pytest

from scamwall.errors import InvalidIndicator, InvalidInput, ScamwallError
from scamwall.indicators import (
    INDICATOR_NAMESPACE,
    Indicator,
    IndicatorKind,
    accounts,
    guess_kind,
    indicator_id,
    parse_indicator,
    parse_kind,
)
from scamwall.indicators.network import nat64_ipv4, url_host


def parsed(value: str, kind: str | None, region: str | None = None) -> Indicator:
    return parse_indicator(value, kind, region)


def assert_invalid(
    value: str, kind: str | None, reason: str, region: str | None = None, *, named: str | None = ""
) -> InvalidIndicator:
    """Parsing fails with InvalidIndicator naming ``named`` (default: ``kind``) and ``reason``."""
    expected_kind = kind if named == "" else named
    with pytest.raises(InvalidIndicator) as caught:
        parse_indicator(value, kind, region)
    error = caught.value
    assert error.kind == expected_kind
    label = f"not a valid {expected_kind}" if expected_kind else "not a recognisable indicator"
    assert error.message.startswith(f"{label}: ")
    assert reason in error.message
    assert error.to_dict()["error"]["code"] == "invalid_indicator"
    return error


# --------------------------------------------------------------------------------------------
# phone
# --------------------------------------------------------------------------------------------

THAI_MOBILE = "+66812345678"


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("081 234 5678", "TH"),
        ("081-234-5678", "TH"),
        ("081.234.5678", "TH"),
        ("(081) 234-5678", "TH"),
        ("081/234/5678", "TH"),
        ("  0812345678  ", "TH"),
        ("0812345678", "th"),  # region codes are case-insensitive
        ("0812345678", " TH "),
        ("66812345678", "TH"),  # country code without + but with the region
        ("+66 81 234 5678", None),
        ("+66-81-234-5678", None),
        ("+66 (0) 81 234 5678", None),  # the (0) trunk prefix people insert
        ("+66 (0)81-234-5678", "TH"),
        ("0066812345678", None),  # 00 international prefix without a region
        ("0066 81 234 5678", None),
        ("tel:+66812345678", None),
        ("TEL:+66812345678", None),
        ("０８１２３４５６７８", "TH"),  # full-width digits
        ("＋６６ ８１ ２３４ ５６７８", None),  # full-width plus too
        ("๐๘๑๒๓๔๕๖๗๘", "TH"),  # Thai digits
        ("๐๘๑-๒๓๔-๕๖๗๘", "TH"),
        ("٠٨١٢٣٤٥٦٧٨", "TH"),  # Arabic-Indic digits
        ("081\u200b234\u200b5678", "TH"),  # zero-width spaces inside the number
        ("081\u2011234\u20135678", "TH"),  # non-breaking hyphen and en dash
    ],
)
def test_thai_mobile_written_many_ways_is_one_e164(raw: str, region: str | None) -> None:
    indicator = parsed(raw, "phone", region)
    assert indicator.kind is IndicatorKind.PHONE
    assert indicator.canonical == THAI_MOBILE
    assert indicator.registered_domain is None


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # China
        ("138 0013 8000", "CN", "+8613800138000"),
        ("138-0013-8000", "CN", "+8613800138000"),
        ("+86 138 0013 8000", None, "+8613800138000"),
        ("0086 138 0013 8000", None, "+8613800138000"),
        ("0086 138 0013 8000", "CN", "+8613800138000"),
        ("１３８００１３８０００", "CN", "+8613800138000"),
        # Myanmar, in Latin and in Burmese digits
        ("09 451 234 567", "MM", "+959451234567"),
        ("၀၉ ၄၅၁ ၂၃၄ ၅၆၇", "MM", "+959451234567"),
        ("၀၉၄၅၁၂၃၄၅၆၇", "MM", "+959451234567"),
        ("+95 9 451 234 567", None, "+959451234567"),
        # Laos, in Latin and in Lao digits
        ("020 5551 2345", "LA", "+8562055512345"),
        ("໐໒໐ ໕໕໕໑ ໒໓໔໕", "LA", "+8562055512345"),
        ("+856 20 5551 2345", None, "+8562055512345"),
        # Vietnam
        ("0912 345 678", "VN", "+84912345678"),
        ("0912.345.678", "VN", "+84912345678"),
        ("+84 912 345 678", None, "+84912345678"),
        # Cambodia, in Latin and in Khmer digits
        ("012 345 678", "KH", "+85512345678"),
        ("០១២ ៣៤៥ ៦៧៨", "KH", "+85512345678"),
        ("+855 12 345 678", None, "+85512345678"),
        # North America
        ("(202) 555-0143", "US", "+12025550143"),
        ("+1 (202) 555-0143", None, "+12025550143"),
    ],
)
def test_regional_numbers(raw: str, region: str | None, expected: str) -> None:
    assert parsed(raw, "phone", region).canonical == expected


def test_local_number_needs_a_region() -> None:
    assert_invalid("081 234 5678", "phone", "a local number needs a region")
    # the same digits with a region are fine, and the region changes the answer
    assert parsed("012 345 678", "phone", "KH").canonical == "+85512345678"
    assert (
        parsed("0912 345 678", "phone", "VN").canonical
        != parsed("0912 345 678", "phone", "TH").canonical
    )


def test_guessed_phone_without_region_asks_for_one() -> None:
    assert_invalid("0812345678", None, "needs a region", named="phone")


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("+66 8", None, "too short"),
        ("+999 1234567", None, "unknown country calling code"),
        ("08a1234567", "TH", "only digits, +, spaces, dashes, dots and brackets"),
        ("+66 81 234 5678 ext. 12", None, "only digits"),
        ("12345678901234567890", "TH", "too long"),
        ("+66 12", None, "wrong length for a number of TH"),
        ("+1 202 555 01", None, "wrong length for a number of +1"),
        ("0812345678", "XX", "unknown region 'XX'"),
        ("0812345678", "Thailand", "unknown region"),
    ],
)
def test_invalid_phones(raw: str, region: str | None, reason: str) -> None:
    assert_invalid(raw, "phone", reason, region)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # Thailand's own exit codes are 00[1-9]; written down, 00 still means + (regression:
        # 0066… was read as Wallis and Futuna, 0086 138… as an Australian number)
        ("0066 81 234 5678", "TH", THAI_MOBILE),
        ("0086 138 0013 8000", "TH", "+8613800138000"),
        ("0086 138 0013 8000", "KH", "+8613800138000"),
        ("001 86 138 0013 8000", "TH", "+8613800138000"),  # a real Thai exit code
        ("0044 20 7946 0958", "US", "+442079460958"),
        ("011 44 20 7946 0958", "US", "+442079460958"),  # the US exit code
    ],
)
def test_00_prefix_means_plus_whatever_the_region(
    raw: str, region: str | None, expected: str
) -> None:
    assert parsed(raw, "phone", region).canonical == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("081 234 56", "TH"),  # regression: came out as +6608123456, trunk 0 kept
        ("0000000000", "US"),
    ],
)
def test_number_cut_short_is_not_kept_with_its_trunk_prefix(raw: str, region: str) -> None:
    assert_invalid(raw, "phone", "wrong length for a number of", region)


# --------------------------------------------------------------------------------------------
# sms_sender
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("KBank", "kbank"),
        ("KBANK", "kbank"),
        ("  K  Bank ", "k bank"),  # runs of spaces collapse
        ("AIS-Promo", "ais-promo"),
        ("Lazada.TH", "lazada.th"),
        ("B&Q", "b&q"),
        ("95588", "95588"),  # ICBC's short code
        ("1155", "1155"),
        ("123456789012345", "123456789012345"),
    ],
)
def test_sms_senders(raw: str, expected: str) -> None:
    indicator = parsed(raw, "sms_sender")
    assert indicator.kind is IndicatorKind.SMS_SENDER
    assert indicator.canonical == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12", "a numeric sender has 3-15 digits"),
        ("1234567890123456", "a numeric sender has 3-15 digits"),
        ("ABCDEFGHIJKL", "1-11 letters, digits, spaces or .&_-"),  # 12 characters
        ("ธนาคาร", "1-11 letters"),
        ("_bank", "1-11 letters"),
        ("bank!", "1-11 letters"),
    ],
)
def test_invalid_sms_senders(raw: str, reason: str) -> None:
    assert_invalid(raw, "sms_sender", reason)


def test_short_code_is_guessed_as_sms_sender() -> None:
    assert parsed("95588", None).kind is IndicatorKind.SMS_SENDER


@pytest.mark.parametrize(
    "raw",
    [
        "null",
        "None",
        "NIL",
        "n/a",
        "N/A",
        "na",
        "unknown",
        "TBD",
        "test",
        "-",
        "?",
        "undefined",
        "empty",
    ],
)
def test_placeholder_is_not_guessed_as_a_sender(raw: str) -> None:
    assert_invalid(raw, None, "is a placeholder, not an indicator", named=None)
    with pytest.raises(InvalidIndicator, match="give its kind"):
        guess_kind(f" {raw} ")


def test_placeholder_given_as_a_sender_is_one() -> None:
    assert parsed("Test", "sms_sender").canonical == "test"


@pytest.mark.parametrize("raw", ["KBANK", "AIS", "SCB", "AIS-Promo", "NAVY", "Nana"])
def test_real_senders_are_still_guessed(raw: str) -> None:
    assert parsed(raw, None).kind is IndicatorKind.SMS_SENDER


# --------------------------------------------------------------------------------------------
# url
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # scheme and host lower-case; path case kept
        ("HTTPS://EXAMPLE.COM/Login", "https://example.com/Login"),
        ("HtTp://WWW.Example.COM/A/B", "http://www.example.com/A/B"),
        # default port dropped, other ports kept
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com:443/", "https://example.com/"),
        ("ftp://files.example:21/x", "ftp://files.example/x"),
        ("https://example.com:8443/", "https://example.com:8443/"),
        ("http://example.com:/x", "http://example.com/x"),
        # fragment dropped, query kept
        ("https://example.com/a?x=1#frag", "https://example.com/a?x=1"),
        ("https://example.com/#top", "https://example.com/"),
        # empty path becomes /
        ("https://example.com", "https://example.com/"),
        ("http://example.com?q=1", "http://example.com/?q=1"),
        # dot-segments resolved
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("https://example.com/a/../../b", "https://example.com/b"),
        # percent-encoding: unreserved characters decoded, hex upper-cased, reserved kept
        ("http://example.com/%7Euser/%41%2f", "http://example.com/~user/A%2F"),
        ("http://example.com/?q=%e4", "http://example.com/?q=%E4"),
        ("http://Example.COM/?B=%41", "http://example.com/?B=A"),
        # trailing dot of the host dropped
        ("http://example.com./x", "http://example.com/x"),
        # no scheme means http
        ("example.com/path", "http://example.com/path"),
        ("//example.com/path", "http://example.com/path"),
        # internationalised names become punycode
        ("http://bücher.de/", "http://xn--bcher-kva.de/"),
        ("https://ธนาคาร.ไทย/login", "https://xn--42c3bd5b5db.xn--o3cw4h/login"),
        ("https://例子.中国/领取", "https://xn--fsqu00a.xn--fiqs8s/%E9%A2%86%E5%8F%96"),
        ("http://exämple.com。/", "http://xn--exmple-cua.com/"),
        # full-width text is folded
        ("ｈｔｔｐｓ：／／ｅｖｉｌ．ｅｘａｍｐｌｅ／ｐａｙ", "https://evil.example/pay"),
        # IP hosts
        ("http://192.168.1.1/x", "http://192.168.1.1/x"),
        ("http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
        ("http://[::1]:80/", "http://[::1]/"),
        # the userinfo is how phishing links hide; it stays
        ("http://bank.com@Evil.Example/login", "http://bank.com@evil.example/login"),
    ],
)
def test_url_normalisation(raw: str, expected: str) -> None:
    indicator = parsed(raw, "url")
    assert indicator.kind is IndicatorKind.URL
    assert indicator.canonical == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hxxps://scam-bank[.]co[.]th/login", "https://scam-bank.co.th/login"),
        ("hXXp://evil(.)example/pay", "http://evil.example/pay"),
        ("hxxp://evil[dot]example/pay", "http://evil.example/pay"),
        ("hxxp://evil{.}example/pay", "http://evil.example/pay"),
        ("hxxps[:]//evil.example/x", "https://evil.example/x"),
        ("hxxps[://]evil.example/x", "https://evil.example/x"),
        ("fxp://files[.]example/a", "ftp://files.example/a"),
        ("evil [.] example/pay", "http://evil.example/pay"),
        ("ev\u200bil.exa\u200dmple/pay", "http://evil.example/pay"),
    ],
)
def test_defanged_urls_are_refanged(raw: str, expected: str) -> None:
    assert parsed(raw, "url").canonical == expected


@pytest.mark.parametrize(
    ("raw", "registered"),
    [
        ("https://pay.scam-bank.co.th/login", "scam-bank.co.th"),
        ("http://a.b.example.co.uk/", "example.co.uk"),
        ("http://bank.com@evil.example/login", "evil.example"),
        ("https://foo.github.io/x", "foo.github.io"),
        ("http://[2001:db8::1]/", None),
    ],
)
def test_url_registered_domain(raw: str, registered: str | None) -> None:
    assert parsed(raw, "url").registered_domain == registered


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("http://example.com/a b", "contains whitespace"),
        ("gopher://example.com/", "scheme 'gopher' is not one of http, https, ftp"),
        ("http:///", "has no host"),
        ("http://example.com:99999/", "bad host or port"),
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://example.zzzz/", "unknown top-level domain .zzzz"),
        ("http://co.th/", "co.th is a public suffix"),
        ("http://-bad-.com/", "label '-bad-' must be"),
        ("http://a..com/", "label '' must be"),
        ("http://xn--zz.com/", "bad punycode label"),
        ("https://a.com/" + "x" * 2100, "longer than 2048 characters"),
    ],
)
def test_invalid_urls(raw: str, reason: str) -> None:
    assert_invalid(raw, "url", reason)


@pytest.mark.parametrize(
    "raw", ["http://192.168.1.1/x", "hxxp://203[.]0[.]113[.]7/admin", "http://[2001:db8::1]/"]
)
def test_url_on_an_ip_has_no_registered_domain(raw: str) -> None:
    # regression: http://192.168.1.1/x had the registered domain "1.1"
    assert parsed(raw, "url").registered_domain is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # regression: %2e%2e was decoded after dot-segment removal, leaving /a/../b
        ("http://example.com/a/%2e%2e/b", "http://example.com/b"),
        ("http://example.com/a/%2E/b", "http://example.com/a/b"),
        ("http://example.com/a/.hidden/x", "http://example.com/a/.hidden/x"),
    ],
)
def test_percent_encoded_dot_segments_are_dot_segments(raw: str, expected: str) -> None:
    canonical = parsed(raw, "url").canonical
    assert canonical == expected
    assert parsed(canonical, "url").canonical == canonical


def test_non_ascii_path_and_its_percent_encoding_are_one_url() -> None:
    # regression: the IRI and URI spellings of one link had two canonicals and two ids
    iri = parsed("http://example.com/パス", "url")
    uri = parsed("http://example.com/%e3%83%91%e3%82%b9", "url")
    assert iri.canonical == uri.canonical == "http://example.com/%E3%83%91%E3%82%B9"
    assert iri.id == uri.id


@pytest.mark.parametrize(
    ("raw", "scheme"),
    [
        ("mailto:a@b.com", "mailto"),
        ("javascript:alert(1)", "javascript"),
        ("tel:+66812345678", "tel"),
    ],
)
def test_other_schemes_are_not_http_urls(raw: str, scheme: str) -> None:
    # regression: mailto:a@b.com became http://mailto:a@b.com/
    assert_invalid(raw, "url", f"scheme {scheme!r} is not one of http, https, ftp")


def test_host_and_port_without_scheme_is_still_http() -> None:
    assert parsed("example.com:8080/x", "url").canonical == "http://example.com:8080/x"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # a browser reads '\' as '/' before the query: these open scam-bank.com, not google.com
        (
            "http://scam-bank.com\\@accounts.google.com/",
            "http://scam-bank.com/@accounts.google.com/",
        ),
        ("https://scam-bank.com\\.google.com/", "https://scam-bank.com/.google.com/"),
        ("http://198.51.100.7\\.google.com/", "http://198.51.100.7/.google.com/"),
        ("http://[2001:db8::7]\\.google.com/", "http://[2001:db8::7]/.google.com/"),
        ("scam-bank.com\\.google.com/x", "http://scam-bank.com/.google.com/x"),
        ("http://scam-bank.com\\x\\y?q=a\\b", "http://scam-bank.com/x/y?q=a%5Cb"),
    ],
)
def test_backslash_ends_the_host_as_browsers_read_it(raw: str, expected: str) -> None:
    indicator = parsed(raw, None)
    assert (indicator.kind, indicator.canonical) == (IndicatorKind.URL, expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # after http:, https: or ftp: any run of '/' and '\' leads to the host, as browsers read it
        ("http:scam-bank.com", "http://scam-bank.com/"),
        ("http:/scam-bank.com/x", "http://scam-bank.com/x"),
        ("http:///scam-bank.com/", "http://scam-bank.com/"),
        ("HTTPS:\\\\scam-bank.com\\x", "https://scam-bank.com/x"),
        ("ftp:\\/files.example/a", "ftp://files.example/a"),
        # a "://" in the query is not a scheme of the link's own
        ("evil.example/r?u=http://x.example", "http://evil.example/r?u=http://x.example"),
    ],
)
def test_scheme_written_as_browsers_still_read_it(raw: str, expected: str) -> None:
    assert parsed(raw, "url").canonical == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # browsers decode a host's escapes before reading it: these open scam-bank.com
        ("http://scam%2Dbank.com/", "http://scam-bank.com/"),
        ("http://scam-bank%2Ecom/x", "http://scam-bank.com/x"),
        ("http://SCAM%2dBANK.com/", "http://scam-bank.com/"),
        ("http://%E4%BE%8B%E5%AD%90.%E4%B8%AD%E5%9B%BD/", "http://xn--fsqu00a.xn--fiqs8s/"),
        ("http://%31%39%38.51.100.7/", "http://198.51.100.7/"),
        # underscores are in real hosts' labels, and browsers open them
        ("http://x_y.scam-bank.com/", "http://x_y.scam-bank.com/"),
        ("https://_dmarc.example.com/", "https://_dmarc.example.com/"),
    ],
)
def test_url_hosts_as_browsers_read_them(raw: str, expected: str) -> None:
    indicator = parsed(raw, "url")
    assert indicator.canonical == expected
    assert parsed(indicator.canonical, "url").canonical == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("http://a%2Fb.com/", "the host holds '/' once decoded"),
        ("http://a%20b.com/", "the host holds ' ' once decoded"),
        ("http://a%2540.com/", "the host holds '%' once decoded"),
        ("http://%ff.com/", "the host's percent-escapes are not UTF-8"),
        ("http://-x.com/", "label '-x' must be 1-63 letters, digits, '_' or inner hyphens"),
    ],
)
def test_url_hosts_browsers_refuse(raw: str, reason: str) -> None:
    assert_invalid(raw, "url", reason)


def test_a_domain_indicator_keeps_to_host_name_rules() -> None:
    # every feed format takes it: an underscore stays out of domain indicators
    assert_invalid("x_y.scam-bank.com", "domain", "label 'x_y' must be")


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        # a name whose every dot is escaped, as a regular expression writes it, is refanged
        ("evil\\.example", "domain", "evil.example"),
        ("pay\\.scam-bank\\.co\\.th", "domain", "pay.scam-bank.co.th"),
        ("evil\\.example/pay", "url", "http://evil.example/pay"),
        # a host with a dot of its own ends at the '\', as a linkified name does
        ("scam-bank.com\\.google.com", "url", "http://scam-bank.com/.google.com"),
        # an analyst's defanged link is no browser's: its escaped dots are dots
        ("hxxp://evil\\.example/login", "url", "http://evil.example/login"),
        ("hxxps://www\\.evil\\.example/", "url", "https://www.evil.example/"),
        ("hxxp[:]//evil\\.example", "url", "http://evil.example/"),
        ("evil[.]example\\.com", "domain", "evil.example.com"),
    ],
)
def test_escaped_dots_are_refanged_only_where_they_end_no_host(
    raw: str, kind: str, expected: str
) -> None:
    assert parsed(raw, kind).canonical == expected


# --------------------------------------------------------------------------------------------
# domain
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected", "registered"),
    [
        ("Example.COM", "example.com", "example.com"),
        ("WWW.Example.COM.", "www.example.com", "example.com"),
        ("pay.scam-bank.co.th", "pay.scam-bank.co.th", "scam-bank.co.th"),
        ("a.b.c.d.example.co.uk", "a.b.c.d.example.co.uk", "example.co.uk"),
        ("icbc.com.cn", "icbc.com.cn", "icbc.com.cn"),
        ("kbzbank.com.mm", "kbzbank.com.mm", "kbzbank.com.mm"),
        ("bcel.com.la", "bcel.com.la", "bcel.com.la"),
        ("ababank.com.kh", "ababank.com.kh", "ababank.com.kh"),
        ("login.vietcombank.com.vn", "login.vietcombank.com.vn", "vietcombank.com.vn"),
        ("foo.github.io", "foo.github.io", "foo.github.io"),  # private-section suffix
        ("bücher.DE", "xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("ธนาคาร.ไทย", "xn--42c3bd5b5db.xn--o3cw4h", "xn--42c3bd5b5db.xn--o3cw4h"),
        ("例子.中国", "xn--fsqu00a.xn--fiqs8s", "xn--fsqu00a.xn--fiqs8s"),
        ("www.例子.中国", "www.xn--fsqu00a.xn--fiqs8s", "xn--fsqu00a.xn--fiqs8s"),
        ("example。com", "example.com", "example.com"),  # ideographic full stop
        ("ｅｘａｍｐｌｅ．ｃｏｍ", "example.com", "example.com"),  # full-width
        ("scam[.]example", "scam.example", "scam.example"),  # defanged, reserved TLD
        ("pay.scam(.)test", "pay.scam.test", "scam.test"),
    ],
)
def test_domains(raw: str, expected: str, registered: str) -> None:
    indicator = parsed(raw, "domain")
    assert indicator.kind is IndicatorKind.DOMAIN
    assert indicator.canonical == expected
    assert indicator.registered_domain == registered


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("co.th", "co.th is a public suffix, not a registrable domain"),
        ("com.cn", "com.cn is a public suffix"),
        ("github.io", "github.io is a public suffix"),
        ("com", "needs at least two labels"),
        ("example.zzzz", "unknown top-level domain .zzzz"),
        ("scam.notatld", "unknown top-level domain .notatld"),
        ("192.0.2.1", "unknown top-level domain .1"),
        ("example.com/x", "contains '/', '@' or ':'"),
        ("user@example.com", "contains '/', '@' or ':'"),
        ("-bad.com", "label '-bad' must be 1-63 letters, digits or inner hyphens"),
        ("a_b.com", "label 'a_b' must be"),
        ("a" * 64 + ".com", "must be 1-63"),
        (".".join(["a" * 60] * 5) + ".com", "longer than 253 characters"),
        ("xn--abc-.com", "bad punycode label"),
        ("...", "empty name"),
    ],
)
def test_invalid_domains(raw: str, reason: str) -> None:
    assert_invalid(raw, "domain", reason)


@pytest.mark.parametrize(
    ("raw", "registered"),
    [
        ("absa.co.za", "absa.co.za"),
        ("login.absa.co.za", "absa.co.za"),
        ("wits.ac.za", "wits.ac.za"),
    ],
)
def test_south_african_domains_are_known(raw: str, registered: str) -> None:
    # regression: .za has public-suffix rules only below it (co.za…) and was "unknown"
    assert parsed(raw, "domain").registered_domain == registered
    assert parsed(f"https://{raw}/login", "url").registered_domain == registered
    assert parsed(f"help@{raw}", "email").registered_domain == registered


def test_bare_za_suffix_is_still_not_registrable() -> None:
    assert_invalid("co.za", "domain", "co.za is a public suffix")


# --------------------------------------------------------------------------------------------
# ip and cidr
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("203[.]0[.]113[.]7", "203.0.113.7"),
        ("１９２．０．２．１", "192.0.2.1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4-mapped IPv6 is the IPv4 address
    ],
)
def test_ips(raw: str, expected: str) -> None:
    indicator = parsed(raw, "ip")
    assert indicator.kind is IndicatorKind.IP
    assert indicator.canonical == expected


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("203.0.113.0/24", IndicatorKind.CIDR, "203.0.113.0/24"),
        ("203.0.113.7/24", IndicatorKind.CIDR, "203.0.113.0/24"),  # host bits cleared
        ("10.1.2.3/8", IndicatorKind.CIDR, "10.0.0.0/8"),
        ("2001:DB8:0:0:1::/48", IndicatorKind.CIDR, "2001:db8::/48"),
        ("2001:db8::/32", IndicatorKind.CIDR, "2001:db8::/32"),
        ("203.0.113.7/32", IndicatorKind.IP, "203.0.113.7"),  # a single host is an ip
        ("2001:db8::1/128", IndicatorKind.IP, "2001:db8::1"),
        # IPv4-mapped networks are IPv4 networks, as IPv4-mapped addresses are IPv4 addresses
        ("::ffff:10.0.0.0/104", IndicatorKind.CIDR, "10.0.0.0/8"),
        ("::FFFF:203.0.113.7/120", IndicatorKind.CIDR, "203.0.113.0/24"),
        ("::ffff:0:0/96", IndicatorKind.CIDR, "0.0.0.0/0"),
        ("::ffff:0:0/95", IndicatorKind.CIDR, "::fffe:0:0/95"),  # wider than the mapped range
    ],
)
def test_cidrs(raw: str, kind: IndicatorKind, expected: str) -> None:
    for given_kind in ("cidr", None):
        indicator = parsed(raw, given_kind)
        assert (indicator.kind, indicator.canonical) == (kind, expected)


def test_ipv4_mapped_single_host_cidr_is_the_ipv4_address() -> None:
    # regression: ::ffff:203.0.113.7/128 became the ip ::ffff:cb00:7107 (a second id)
    assert parsed("::ffff:203.0.113.7/128", "cidr") == parsed("::ffff:203.0.113.7", "ip")
    assert parsed("::ffff:203.0.113.7/128", "cidr").canonical == "203.0.113.7"


@pytest.mark.parametrize(
    ("raw", "kind", "reason"),
    [
        ("256.1.1.1", "ip", "'256.1.1.1' is not an IPv4 or IPv6 address"),
        ("203.0.113", "ip", "is not an IPv4 or IPv6 address"),
        ("203.000.113.7", "ip", "is not an IPv4 or IPv6 address"),  # ambiguous leading zeros
        ("2001:db8:::1", "ip", "is not an IPv4 or IPv6 address"),
        ("10.0.0.0", "cidr", "needs a prefix length"),
        ("10.0.0.0/33", "cidr", "does not appear to be an IPv4 or IPv6 network"),
        ("2001:db8::/129", "cidr", "does not appear to be an IPv4 or IPv6 network"),
    ],
)
def test_invalid_ips_and_cidrs(raw: str, kind: str, reason: str) -> None:
    assert_invalid(raw, kind, reason)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("2600::3%a\nadd scamwall-v4 8.8.8.8", "ip"),  # a newline would add a line to a feed
        ("2001:4860:4860::8888%1", "ip"),  # would be a second id for an allowlisted address
        ("fe80::1%eth0", "ip"),
        ("[2001:db8::1%25x]", "ip"),
        ("2600:1::%y/48", "cidr"),  # crashed the nft export
        ("2001:db8::%a}; flush ruleset/64", "cidr"),
    ],
)
def test_zone_id_is_refused_in_ips_and_cidrs(raw: str, kind: str) -> None:
    error = assert_invalid(raw, kind, "has a zone id (after '%')")
    assert "\n" not in error.message


@pytest.mark.parametrize(
    "raw",
    [
        "http://[2001:db8::5%25eth0]/",
        "http://[2001:DB8::5%eth0]/",
        "http://[2001:db8::5%25a;b]:80/",
    ],
)
def test_url_on_an_ipv6_host_drops_the_zone_id(raw: str) -> None:
    indicator = parsed(raw, None)
    assert indicator == parsed("http://[2001:db8::5]/", "url")
    assert url_host(indicator.canonical) == "2001:db8::5"


@pytest.mark.parametrize(
    "raw",
    [
        "http://3325256711/",
        "http://0xc6.0x33.0x64.0x07/",
        "http://0XC6.0X33.0X64.0X07/",
        "http://0306.063.0144.07/",
        "http://198.51.25607/",
        "http://198.0x336407/",
        "http://198.51.100.7./",
        "http://198.051.100.07/",  # 0-led parts are octal: 051 is 41, not 51
    ],
)
def test_url_on_an_ipv4_host_in_another_notation_browsers_accept(raw: str) -> None:
    indicator = parsed(raw, "url")
    expected = "41" if "051" in raw else "51"
    assert indicator.canonical == f"http://198.{expected}.100.7/"
    assert indicator.registered_domain is None


@pytest.mark.parametrize(
    "raw",
    ["http://1.2.3.256/", "http://1.2.65536/", "http://4294967296/", "http://1.2.3.4.5/",
     "http://09.1.1.1/", "http://a.0x1f/", "http://example.123/", "http://1..1/"],
)  # fmt: skip
def test_url_host_ending_in_a_number_must_be_an_ipv4_address(raw: str) -> None:
    assert_invalid(raw, "url", "ends in a number but is no IPv4 address")


@pytest.mark.parametrize("raw", ["3325256711", "0xc6.0x33.0x64.0x07", "198.51.25607"])
def test_bare_ip_addresses_are_only_read_in_dotted_notation(raw: str) -> None:
    assert_invalid(raw, "ip", "is not an IPv4 or IPv6 address")


def test_nat64_address_stays_itself_and_reaches_its_ipv4_address() -> None:
    assert parsed("http://[64:FF9B::198.51.100.7]/", "url").canonical == (
        "http://[64:ff9b::c633:6407]/"
    )
    assert parsed("64:ff9b::c633:6407", "ip").canonical == "64:ff9b::c633:6407"
    assert nat64_ipv4("64:ff9b::c633:6407") == "198.51.100.7"
    assert nat64_ipv4("64:ff9b:1::c633:6407") is None  # the local-use prefix is another's
    assert nat64_ipv4("2001:db8::c633:6407") is None


def test_url_host_drops_a_zone_id_stored_with_the_url() -> None:
    assert url_host("http://[2001:db8::5%25eth0]/x") == "2001:db8::5"


# --------------------------------------------------------------------------------------------
# email
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected", "registered"),
    [
        ("John.Doe@Example.COM", "john.doe@example.com", "example.com"),
        ("mailto:support@scam-bank.co.th", "support@scam-bank.co.th", "scam-bank.co.th"),
        ("help@pay.scam-bank.co.th", "help@pay.scam-bank.co.th", "scam-bank.co.th"),
        ("scam[at]evil[.]example", "scam@evil.example", "evil.example"),
        ("scam (at) evil.example", "scam@evil.example", "evil.example"),
        ("scam[@]evil.example", "scam@evil.example", "evil.example"),
        ("ＳＣＡＭ＠ＥＶＩＬ．ＥＸＡＭＰＬＥ", "scam@evil.example", "evil.example"),
        ("user@bücher.de", "user@xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("用户@例子.中国", "用户@xn--fsqu00a.xn--fiqs8s", "xn--fsqu00a.xn--fiqs8s"),
        ("first+tag@example.com", "first+tag@example.com", "example.com"),
    ],
)
def test_emails(raw: str, expected: str, registered: str) -> None:
    indicator = parsed(raw, "email")
    assert indicator.kind is IndicatorKind.EMAIL
    assert indicator.canonical == expected
    assert indicator.registered_domain == registered


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("no-at-sign.example", "must have an @-sign"),
        ("a@b", "needs at least two labels"),
        ("a@@b.com", "invalid characters"),
        (".a@example.com", "cannot start with a period"),
        ("a@co.th", "co.th is a public suffix"),
        ("a@example.zzzz", "unknown top-level domain .zzzz"),
    ],
)
def test_invalid_emails(raw: str, reason: str) -> None:
    assert_invalid(raw, "email", reason)


@pytest.mark.parametrize("raw", ["help@scam.test", "Help@Pay.Scam.Example", "x@y.invalid"])
def test_email_under_reserved_example_tlds(raw: str) -> None:
    # the names reserved for examples and tests work for e-mail as for domains and URLs
    assert parsed(raw, "email").canonical == raw.lower()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("用户@scam.test", "用户@scam.test"),
        ("user@bücher.test", "user@xn--bcher-kva.test"),
        ("用户@scam.invalid", "用户@scam.invalid"),
    ],
)
def test_bug_non_ascii_email_under_reserved_tlds(raw: str, expected: str) -> None:
    assert parsed(raw, "email").canonical == expected


# --------------------------------------------------------------------------------------------
# bank_account
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
        ("gb82-west-1234-5698-7654-32", "GB82WEST12345698765432"),
        ("GB82WEST12345698765432", "GB82WEST12345698765432"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("TH:KBANK:123-4-56789-0", "TH:KBANK:1234567890"),
        ("th/kbank/123 4 56789 0", "TH:KBANK:1234567890"),
        ("TH : SCB : 123.456.7890", "TH:SCB:1234567890"),
        ("CN:ICBC:6222 0212 3456 7890 123", "CN:ICBC:6222021234567890123"),
        ("MM:KBZ:12345678901234567", "MM:KBZ:12345678901234567"),
        ("LA:BCEL:0101-12-00-12345678-001", "LA:BCEL:0101120012345678001"),
        ("VN:VCB:0071 0012 34567", "VN:VCB:0071001234567"),
        ("KH:ABA:000 123 456", "KH:ABA:000123456"),
    ],
)
def test_bank_accounts(raw: str, expected: str) -> None:
    indicator = parsed(raw, "bank_account")
    assert indicator.kind is IndicatorKind.BANK_ACCOUNT
    assert indicator.canonical == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("GB82 WEST 1234 5698 7654 33", "IBAN checksum fails"),
        ("DE89 3704 0044 0532 0130 01", "IBAN checksum fails"),
        ("GB83 WEST 1234 5698 7654 32", "IBAN checksum fails"),
        ("XX:KBANK:1234567", "unknown country code 'XX'"),
        ("TH:K:1234567", "bank code 'K' must be 2-11 letters or digits"),
        ("TH:KBANK:12", "account number must be 4-34 letters or digits"),
        ("TH:KBANK", "give an IBAN, or COUNTRY:BANK:NUMBER"),
        ("TH:KBANK:123:4", "give an IBAN, or COUNTRY:BANK:NUMBER"),
        ("1234567890", "give an IBAN, or COUNTRY:BANK:NUMBER"),
    ],
)
def test_invalid_bank_accounts(raw: str, reason: str) -> None:
    assert_invalid(raw, "bank_account", reason)


def test_iban_is_guessed_and_checked() -> None:
    assert parsed("GB82 WEST 1234 5698 7654 32", None).kind is IndicatorKind.BANK_ACCOUNT
    assert_invalid("GB82 WEST 1234 5698 7654 33", None, "IBAN checksum fails", named="bank_account")


# --------------------------------------------------------------------------------------------
# crypto_wallet
# --------------------------------------------------------------------------------------------

# The checksummed test vectors of EIP-55 itself, including its all-caps and all-lower cases.
EIP55_VECTORS = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
]


@pytest.mark.parametrize("address", EIP55_VECTORS)
def test_eth_checksummed_address_is_its_own_canonical(address: str) -> None:
    assert parsed(address, "crypto_wallet").canonical == address


@pytest.mark.parametrize("address", EIP55_VECTORS)
def test_eth_single_case_input_becomes_eip55(address: str) -> None:
    for written in ("0x" + address[2:].lower(), "0x" + address[2:].upper()):
        assert parsed(written, "crypto_wallet").canonical == address
        assert parsed(written, None).canonical == address  # guessed as a wallet too


@pytest.mark.parametrize(
    "address",
    [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",  # last letter's case flipped
        "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # second letter's case flipped
        "0xfb6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    ],
)
def test_eth_wrong_mixed_case_is_rejected(address: str) -> None:
    assert_invalid(address, "crypto_wallet", "EIP-55 checksum fails")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Bitcoin legacy P2PKH and P2SH (Base58Check)
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
        ("  1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 ", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
        # Bitcoin segwit v0 (bech32) and taproot v1 (bech32m), lower-case canonical
        (
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        ),
        (
            "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        ),
        (
            "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",
            "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",
        ),
        # TRON (USDT-TRC20, the currency of the region's scam compounds)
        ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
        ("TPcDNYz4AxCaLCY2Xx4i95jGYwCjUrxg5r", "TPcDNYz4AxCaLCY2Xx4i95jGYwCjUrxg5r"),
        # XRP and Dogecoin
        ("rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh", "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"),
        ("DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", "DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L"),
    ],
)
def test_wallets(raw: str, expected: str) -> None:
    indicator = parsed(raw, "crypto_wallet")
    assert indicator.kind is IndicatorKind.CRYPTO_WALLET
    assert indicator.canonical == expected
    assert parsed(raw, None).canonical == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "Base58Check checksum fails"),
        ("TPcDNYz4AxCaLCY2Xx4i95jGYwCjUrxg5s", "Base58Check checksum fails"),
        ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T", "Base58Check checksum fails"),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp", "bech32 checksum fails"),
        ("Bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "bech32 address mixes upper and lower"),
        ("tpcdnyz4axcalcy2xx4i95jgywcjurxg5r", "not a Bitcoin, Ethereum/EVM, TRON"),
        ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", "not a Bitcoin"),  # 39 hex digits
        ("0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "not a Bitcoin"),
        ("13pisM9vRmrZCWs3EBSSDxOHdtPsmncpEx", "not a Bitcoin"),  # 'O' is not Base58
        ("hello", "not a Bitcoin"),
    ],
)
def test_invalid_wallets(raw: str, reason: str) -> None:
    assert_invalid(raw, "crypto_wallet", reason)


# --------------------------------------------------------------------------------------------
# handle
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # telegram
        ("telegram:@Scam_Support", None, "telegram:scam_support"),
        ("tg:scam_support", None, "telegram:scam_support"),
        ("TELEGRAM: scam_support", None, "telegram:scam_support"),
        ("t.me/Scam_Support", None, "telegram:scam_support"),
        ("https://t.me/Scam_Support/", None, "telegram:scam_support"),
        ("https://telegram.me/scam_support", None, "telegram:scam_support"),
        ("http://www.t.me/scam_support", None, "telegram:scam_support"),
        ("hxxps://t[.]me/scam_support", None, "telegram:scam_support"),
        ("https://t.me/+AbCdEfGhIjKl", None, "telegram:+AbCdEfGhIjKl"),  # invite keeps case
        ("https://t.me/joinchat/AbCdEfGhIjKl", None, "telegram:+AbCdEfGhIjKl"),
        # whatsapp: the account's phone number
        ("wa.me/66812345678", None, "whatsapp:+66812345678"),
        ("https://wa.me/+66812345678", None, "whatsapp:+66812345678"),
        ("https://api.whatsapp.com/send?phone=66812345678", None, "whatsapp:+66812345678"),
        ("whatsapp:081 234 5678", "TH", "whatsapp:+66812345678"),
        ("wa:+86 138 0013 8000", None, "whatsapp:+8613800138000"),
        # line
        ("line.me/ti/p/~Scam.Line", None, "line:scam.line"),
        ("https://line.me/R/ti/p/@abc_shop", None, "line:abc_shop"),
        ("https://line.me/ti/p/%40abc_shop", None, "line:abc_shop"),
        ("line:@Abc-Shop", None, "line:abc-shop"),
        ("LINE:abc", None, "line:abc"),
        # wechat
        ("wechat:Scam_Kefu88", None, "wechat:scam_kefu88"),
        ("weixin:kefu-8888", None, "wechat:kefu-8888"),
        ("wx:kefu_8888", None, "wechat:kefu_8888"),
        # qq
        ("qq:12345678", None, "qq:12345678"),
        ("QQ: 12345", None, "qq:12345"),
    ],
)
def test_handles(raw: str, region: str | None, expected: str) -> None:
    indicator = parsed(raw, "handle", region)
    assert indicator.kind is IndicatorKind.HANDLE
    assert indicator.canonical == expected


@pytest.mark.parametrize(
    "raw",
    [
        "https://t.me/Scam_Support",
        "wa.me/66812345678",
        "line.me/ti/p/~scam.line",
        "telegram:scam_support",
        "qq:12345678",
    ],
)
def test_chat_links_are_guessed_as_handles(raw: str) -> None:
    assert parsed(raw, None).kind is IndicatorKind.HANDLE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://t.me/scam_support?start=abc", "telegram:scam_support"),
        ("https://t.me/scam_support/123", "telegram:scam_support"),  # a post
        ("https://t.me/s/scam_support", "telegram:scam_support"),  # the web preview
        ("t.me/s/Scam_Support/55?single#top", "telegram:scam_support"),
        ("https://t.me/+AbCd-EfGh_Ijkl", "telegram:+AbCd-EfGh_Ijkl"),
        ("https://api.whatsapp.com/send?phone=66812345678&text=hi", "whatsapp:+66812345678"),
        ("https://api.whatsapp.com/send/?text=hi&phone=%2B66812345678", "whatsapp:+66812345678"),
        ("https://wa.me/66812345678?text=hello", "whatsapp:+66812345678"),
        ("https://line.me/R/ti/p/@abc_shop?from=page", "line:abc_shop"),
    ],
)
def test_chat_link_with_more_after_it_names_the_same_account(raw: str, expected: str) -> None:
    assert parsed(raw, None) == Indicator(IndicatorKind.HANDLE, expected)
    assert parsed(raw, "handle").canonical == expected


def test_the_chat_link_pattern_never_reads_a_query(monkeypatch: pytest.MonkeyPatch) -> None:
    # the query is split apart from the pattern, so no repeat of the pattern can be made to try
    # every way of cutting a long query: what the pattern reads stays the same as queries grow
    pattern = accounts._LINKS
    read: list[int] = []

    class ReadPattern:
        def match(self, text: str) -> re.Match[str] | None:
            read.append(len(text))
            return pattern.match(text)

        def fullmatch(self, text: str) -> re.Match[str] | None:
            read.append(len(text))
            return pattern.fullmatch(text)

    monkeypatch.setattr(accounts, "_LINKS", ReadPattern())
    for copies in (3, 300, 5000):  # up to parse_indicator's 4 KB, then as extraction reads
        link = "https://api.whatsapp.com/send?" + "&phone=123456" * copies + "&phone=66812345678"
        assert accounts.handle_from_link(link + "#x") == "whatsapp:+66812345678"
        assert accounts.handle_from_link(link + "# x") is None  # a space ends a link
        if copies < 5000:
            assert parsed(link, None) == Indicator(IndicatorKind.HANDLE, "whatsapp:+66812345678")
    assert max(read, default=0) == len("https://api.whatsapp.com/send")


@pytest.mark.parametrize(
    "raw",
    [
        "https://t.me/share/url?url=https://evil.example",
        "https://t.me/share?url=https://evil.example",
        "https://t.me/proxy?server=203.0.113.7&port=443",
        "https://t.me/iv?url=https://evil.example",
        "https://t.me/c/1234567/89",
        "https://t.me/scam_support/about",
        "https://api.whatsapp.com/send?phone=66812345678x",
    ],
)
def test_telegram_pages_and_other_links_stay_urls(raw: str) -> None:
    assert parsed(raw, None).kind is IndicatorKind.URL


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("telegram:abc", "a telegram id is 5-32 letters, digits or _, got 'abc'"),
        ("telegram:1abcde", "a telegram id is 5-32"),  # must start with a letter
        ("telegram:abcde_", "a telegram id is 5-32"),  # cannot end with _
        ("telegram:" + "a" * 33, "a telegram id is 5-32"),
        ("line:@abcdefghijklmnopqrstu", "a line id is 1-20 letters"),
        ("weixin:abc", "a wechat id is 6-20 letters"),
        ("wx:1abcdef", "a wechat id is 6-20 letters"),
        ("qq:012345", "a qq id is 5-11 digits without a leading zero"),
        ("qq:1234", "a qq id is 5-11 digits"),
        ("qq:123456789012", "a qq id is 5-11 digits"),
        ("myspace:abc", "write it as platform:id"),
        ("scam_support", "write it as platform:id"),
        (":", "write it as platform:id"),
    ],
)
def test_invalid_handles(raw: str, reason: str) -> None:
    assert_invalid(raw, "handle", reason)


def test_whatsapp_handle_with_local_number_needs_region() -> None:
    # the id of a WhatsApp account is a phone number, and the error says so
    assert_invalid("whatsapp:081 234 5678", "handle", "needs a region", named="phone")


# --------------------------------------------------------------------------------------------
# file_hash
# --------------------------------------------------------------------------------------------

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    "raw",
    [
        EMPTY_SHA256,
        EMPTY_SHA256.upper(),
        f"sha256:{EMPTY_SHA256.upper()}",
        f"SHA-256:{EMPTY_SHA256}",
        f"  {EMPTY_SHA256}\n",
    ],
)
def test_file_hashes(raw: str) -> None:
    indicator = parsed(raw, "file_hash")
    assert (indicator.kind, indicator.canonical) == (IndicatorKind.FILE_HASH, EMPTY_SHA256)


def test_sha256_is_guessed_as_file_hash() -> None:
    assert parsed(f"sha256:{EMPTY_SHA256}", None).kind is IndicatorKind.FILE_HASH


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("d41d8cd98f00b204e9800998ecf8427e", "only SHA-256 is accepted"),  # MD5
        ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "only SHA-256 is accepted"),  # SHA-1
        ("cf83e135" * 16, "only SHA-256 is accepted"),  # SHA-512 length
        (EMPTY_SHA256[:-1], "a SHA-256 is 64 hexadecimal digits"),
        (EMPTY_SHA256[:-1] + "g", "a SHA-256 is 64 hexadecimal digits"),
    ],
)
def test_invalid_file_hashes(raw: str, reason: str) -> None:
    assert_invalid(raw, "file_hash", reason)


# --------------------------------------------------------------------------------------------
# kinds, guessing, input checks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("+66 81 234 5678", IndicatorKind.PHONE),
        ("https://example.com/x", IndicatorKind.URL),
        ("bit.ly/3abcDEF", IndicatorKind.URL),
        ("http:scam-bank.co.th", IndicatorKind.URL),
        ("//scam-bank.co.th/x", IndicatorKind.URL),
        ("scam-bank.co.th:8080", IndicatorKind.URL),
        ("203.0.113.7:8080", IndicatorKind.URL),
        ("scam-bank.co.th", IndicatorKind.DOMAIN),
        ("203.0.113.7", IndicatorKind.IP),
        ("2001:db8::1", IndicatorKind.IP),
        ("203.0.113.0/24", IndicatorKind.CIDR),
        ("help@example.com", IndicatorKind.EMAIL),
        ("TH:KBANK:1234567890", IndicatorKind.BANK_ACCOUNT),
        ("TPcDNYz4AxCaLCY2Xx4i95jGYwCjUrxg5r", IndicatorKind.CRYPTO_WALLET),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", IndicatorKind.CRYPTO_WALLET),
        ("t.me/scam_support", IndicatorKind.HANDLE),
        (EMPTY_SHA256, IndicatorKind.FILE_HASH),
        ("KBank", IndicatorKind.SMS_SENDER),
    ],
)
def test_guess_kind(raw: str, kind: IndicatorKind) -> None:
    assert guess_kind(raw) is kind
    assert parsed(raw, None).kind is kind


@pytest.mark.parametrize("raw", ["12.30:45", "1.2.3:80", "3.14:15"])
def test_a_time_or_a_score_is_no_host_and_port(raw: str) -> None:
    # "12.30" would be read as the address 12.0.0.30 in a URL: not guessed as one
    with pytest.raises(InvalidIndicator):
        guess_kind(raw)


@pytest.mark.parametrize("name", ["PHONE", " url ", "Crypto_Wallet", IndicatorKind.EMAIL])
def test_parse_kind_accepts_any_case(name: str) -> None:
    assert parse_kind(name).value == str(name).strip().lower()


def test_unknown_kind_lists_the_kinds() -> None:
    error = assert_invalid("x", "nonsense", "unknown kind 'nonsense'", named=None)
    for kind in IndicatorKind:
        assert kind.value in error.message


@pytest.mark.parametrize(
    ("raw", "kind", "reason"),
    [
        ("", None, "empty value"),
        ("   ", "phone", "empty value"),
        ("\u200b\u200b", None, "empty value"),  # only invisible characters
        ("a\x00b", None, "contains a NUL character"),
        ("x" * 5000, None, "longer than 4096 characters"),
        ("!!!", None, "cannot tell what kind of indicator this is; give its kind"),
    ],
)
def test_unusable_values(raw: str, kind: str | None, reason: str) -> None:
    assert_invalid(raw, kind, reason, named=None)


@pytest.mark.parametrize(
    ("raw", "position"),
    [("\ud800scam.com", 1), ("http://x.com/\udfff", 14), ("a\udc80@scam.example", 2)],
)
@pytest.mark.parametrize("kind", [None, "url", "domain", "email", "phone", "handle", "ip"])
def test_a_lone_surrogate_is_invalid_in_any_kind(raw: str, position: int, kind: str | None) -> None:
    # regression: "http://x.com/\udfff" raised UnicodeEncodeError from the URL's escaping
    assert_invalid(
        raw, kind, f"not valid Unicode: a lone surrogate at position {position}", named=None
    )


def test_non_text_value_is_rejected() -> None:
    with pytest.raises(InvalidIndicator, match="expected text, got int"):
        parse_indicator(12345, "phone")  # type: ignore[arg-type]


def test_invalid_indicator_sits_in_the_error_tree() -> None:
    with pytest.raises(InvalidIndicator) as caught:
        parse_indicator("not a phone", "phone", "TH")
    error = caught.value
    assert isinstance(error, InvalidInput)
    assert isinstance(error, ScamwallError)
    assert (error.http_status, error.exit_code) == (422, 65)
    assert error.to_dict()["error"]["details"]["kind"] == "phone"


# --------------------------------------------------------------------------------------------
# deterministic ids
# --------------------------------------------------------------------------------------------


def test_namespace_never_changes() -> None:
    # ids are shared with other instances: a changed namespace would orphan every shared id
    assert uuid.UUID("5c0b3a4e-6a4f-5d2e-9b7e-2f1d0c9a8e71") == INDICATOR_NAMESPACE


@pytest.mark.parametrize(
    ("kind", "raws", "region"),
    [
        (
            "phone",
            ["+66 81 234 5678", "0066812345678", "tel:+66-81-234-5678", "＋６６８１２３４５６７８"],
            None,
        ),
        ("url", ["HTTPS://Example.COM:443/a/./b#x", "https://example.com/a/b"], None),
        ("domain", ["WWW.Example.COM.", "www.example.com", "www[.]example[.]com"], None),
        ("email", ["John@Example.COM", "john[at]example[.]com"], None),
        ("crypto_wallet", [EIP55_VECTORS[0], EIP55_VECTORS[0].lower()], None),
        ("handle", ["t.me/Scam_Support", "telegram:@scam_support", "tg:SCAM_SUPPORT"], None),
        ("bank_account", ["GB82 WEST 1234 5698 7654 32", "gb82west12345698765432"], None),
    ],
)
def test_same_canonical_same_id(kind: str, raws: list[str], region: str | None) -> None:
    indicators = [parsed(raw, kind, region) for raw in raws]
    assert len({i.canonical for i in indicators}) == 1
    assert len({i.id for i in indicators}) == 1
    assert len(set(indicators)) == 1  # equal and hashable alike


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("+66812345678", "phone"),
        ("https://scam-bank.co.th/login", "url"),
        ("pay.scam-bank.co.th", "domain"),
        ("203.0.113.0/24", "cidr"),
        ("TPcDNYz4AxCaLCY2Xx4i95jGYwCjUrxg5r", "crypto_wallet"),
        ("qq:12345678", "handle"),
    ],
)
def test_id_is_uuid5_of_kind_and_canonical(raw: str, kind: str) -> None:
    indicator = parsed(raw, kind)
    expected = str(uuid.uuid5(INDICATOR_NAMESPACE, f"{kind}:{indicator.canonical}"))
    assert indicator.id == expected
    assert indicator_id(kind, indicator.canonical) == expected
    assert indicator_id(IndicatorKind(kind), indicator.canonical) == expected
    assert uuid.UUID(indicator.id).version == 5
    assert indicator.as_dict() == {"kind": kind, "canonical": indicator.canonical, "id": expected}


def test_known_id_is_stable() -> None:
    # a fixed value: if this changes, ids no longer match those other instances hold
    assert parsed("+66 81 234 5678", "phone").id == str(
        uuid.uuid5(uuid.UUID("5c0b3a4e-6a4f-5d2e-9b7e-2f1d0c9a8e71"), "phone:+66812345678")
    )


def test_same_text_in_two_kinds_has_two_ids() -> None:
    sender = parsed("95588", "sms_sender")
    qq = parsed("qq:95588", "handle")
    assert sender.id != qq.id
    assert indicator_id("sms_sender", "12345") != indicator_id("file_hash", "12345")


def test_different_canonicals_have_different_ids() -> None:
    ids = {
        parsed(raw, "phone").id
        for raw in ("+66812345678", "+66812345679", "+8613800138000", "+959451234567")
    }
    assert len(ids) == 4


def test_registered_domain_does_not_change_identity() -> None:
    plain = Indicator(IndicatorKind.DOMAIN, "pay.example.com")
    with_registered = Indicator(IndicatorKind.DOMAIN, "pay.example.com", "example.com")
    assert plain == with_registered
    assert plain.id == with_registered.id
