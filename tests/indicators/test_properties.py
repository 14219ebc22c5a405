"""Property tests: canonical forms are fixed points, parsing fails only one way, extraction finds
what was planted in multilingual text.

Valid values are generated independently of scamwall: phone numbers with libphonenumber's own
validity check, Base58Check and Bech32/Bech32m with the reference algorithms (BIP-173/350),
IBAN check digits with ISO 7064 mod 97-10.
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid

import phonenumbers
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scamwall.errors import InvalidIndicator
from scamwall.indicators import (
    INDICATOR_NAMESPACE,
    IndicatorKind,
    extract_indicators,
    indicator_id,
    parse_indicator,
)
from scamwall.indicators.extract import _extract

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Draw = st.DrawFn

# --------------------------------------------------------------------------------------------
# independent encoders
# --------------------------------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def base58check(payload: bytes) -> str:
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(raw, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def _polymod(values: list[int]) -> int:
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            check ^= generator[i] if (top >> i) & 1 else 0
    return check


def segwit_address(hrp: str, version: int, program: bytes) -> str:
    """BIP-173 (version 0, Bech32) / BIP-350 (version 1+, Bech32m) reference encoder."""
    accumulator, bits, data = 0, 0, [version]
    for byte in program:
        accumulator = (accumulator << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((accumulator >> bits) & 31)
    if bits:
        data.append((accumulator << (5 - bits)) & 31)
    constant = 1 if version == 0 else 0x2BC830A3
    expanded = [ord(ch) >> 5 for ch in hrp] + [0] + [ord(ch) & 31 for ch in hrp]
    mod = _polymod([*expanded, *data, 0, 0, 0, 0, 0, 0]) ^ constant
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[d] for d in data + checksum)


def iban(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    return f"{country}{98 - number % 97:02d}{bban}"


# --------------------------------------------------------------------------------------------
# decoration
# --------------------------------------------------------------------------------------------

DIGIT_SCRIPTS = {
    "ascii": 0x30,
    "fullwidth": 0xFF10,
    "thai": 0x0E50,
    "lao": 0x0ED0,
    "burmese": 0x1040,
    "khmer": 0x17E0,
    "arabic-indic": 0x0660,
}


def in_script(text: str, zero: int) -> str:
    return "".join(chr(zero + int(ch)) if ch.isdigit() else ch for ch in text)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@st.composite
def random_case(draw: Draw, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(ch.upper() if flip else ch.lower() for ch, flip in zip(text, flips, strict=True))


@st.composite
def defang_dots(draw: Draw, text: str) -> str:
    parts = text.split(".")
    out = parts[0]
    for part in parts[1:]:
        out += draw(st.sampled_from([".", ".", "[.]", "(.)", "[dot]", "{.}"])) + part
    return out


# --------------------------------------------------------------------------------------------
# valid values per kind: (raw value, region, expected canonical or None when only fixed-point)
# --------------------------------------------------------------------------------------------

REGIONS = ["TH", "CN", "MM", "LA", "VN", "KH", "US"]
_MOBILE = phonenumbers.PhoneNumberType.MOBILE


@st.composite
def valid_phone_numbers(draw: Draw) -> tuple[str, phonenumbers.PhoneNumber]:
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(region, _MOBILE)
    assert example is not None
    national = str(example.national_number)
    tail = draw(st.text("0123456789", min_size=4, max_size=4))
    number = phonenumbers.PhoneNumber(
        country_code=example.country_code, national_number=int(national[:-4] + tail)
    )
    assume(phonenumbers.is_valid_number(number))
    return region, number


@st.composite
def spaced(draw: Draw, digits: str, separators: list[str]) -> str:
    out = digits[0]
    for ch in digits[1:]:
        out += draw(st.sampled_from(separators)) + ch
    return out


@st.composite
def phones(draw: Draw, *, for_text: bool = False) -> tuple[str, str | None, str]:
    region, number = draw(valid_phone_numbers())
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    national_digits = "".join(ch for ch in national if ch.isdigit())
    style = draw(st.sampled_from(["national", "plus", "00"]))
    separators = ["", "", " ", "-"] if for_text else ["", " ", "-", ".", "  ", " - "]
    if style == "national":
        raw, given_region = draw(spaced(national_digits, separators)), region
    elif style == "plus":
        raw, given_region = "+" + draw(spaced(e164[1:], separators)), None
    else:  # 00 + country code, read without a region
        raw, given_region = "00" + draw(spaced(e164[1:], separators)), None
    if not for_text and style == "national" and draw(st.booleans()):
        raw = f"({raw[:3]}) {raw[3:]}"
    raw = in_script(raw, draw(st.sampled_from(sorted(DIGIT_SCRIPTS.values()))))
    if not for_text and draw(st.booleans()):
        raw = draw(st.sampled_from([" ", "\u200b"])) + raw + " "
    return raw, given_region, e164


LABEL = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,12}[a-z0-9])?\Z").filter(lambda s: "--" not in s)
SUFFIXES = ["com", "net", "org", "io", "co.th", "in.th", "com.cn", "cn", "com.mm", "com.la"]
SUFFIXES += ["com.vn", "vn", "com.kh", "co.uk", "example", "test", "top", "xyz"]
IDN_LABELS = {"ธนาคาร": "xn--42c3bd5b5db", "例子": "xn--fsqu00a", "bücher": "xn--bcher-kva"}


@st.composite
def hosts(draw: Draw, *, idn: bool = True) -> tuple[str, str]:
    """(written host, canonical host)."""
    labels = draw(st.lists(LABEL, min_size=1, max_size=3))
    # the name under the suffix gets a word, so it is never a suffix itself (it.com, ha.cn…)
    labels[-1] += "-" + draw(st.sampled_from(["pay", "bank", "shop", "vip", "xn"]))
    suffix = draw(st.sampled_from(SUFFIXES))
    if idn and draw(st.integers(0, 4)) == 0:
        unicode_label, ascii_label = draw(st.sampled_from(sorted(IDN_LABELS.items())))
        labels[-1] = unicode_label
        canonical = ".".join([*labels[:-1], ascii_label, suffix])
    else:
        canonical = ".".join([*labels, suffix])
    written = draw(random_case(".".join([*labels, suffix])))
    return written, canonical


@st.composite
def domains(draw: Draw) -> tuple[str, str | None, str]:
    written, canonical = draw(hosts())
    style = draw(st.sampled_from(["plain", "defanged", "fullwidth", "trailing-dot"]))
    if style == "defanged":
        written = draw(defang_dots(written))
    elif style == "fullwidth":
        written = fullwidth(written)
    elif style == "trailing-dot":
        written += "."
    return written, None, canonical


UNRESERVED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~"


@st.composite
def path_segments(draw: Draw) -> str:
    segment = draw(st.text(UNRESERVED + ".", min_size=0, max_size=8))
    if segment in (".", ".."):
        return segment  # literal dot-segments are resolved
    if segment and draw(st.booleans()):
        # percent-encode one character, with random hex case (decoded back: it is unreserved;
        # %2e and %2e%2e alone are dot-segments like . and ..)
        i = draw(st.integers(0, len(segment) - 1))
        escape = draw(random_case(f"%{ord(segment[i]):02x}"))
        segment = segment[:i] + escape + segment[i + 1 :]
    elif draw(st.integers(0, 5)) == 0:
        segment += draw(st.sampled_from(["パス", "ล็อกอิน", "领取", "ü"]))  # IRI: UTF-8 escapes
    return segment


@st.composite
def urls(draw: Draw) -> tuple[str, str | None, str | None]:
    scheme = draw(st.sampled_from(["http", "https"]))
    host, _ = draw(hosts())
    port = draw(st.sampled_from(["", "", f":{80 if scheme == 'http' else 443}", ":8080"]))
    path = "/" + "/".join(draw(st.lists(path_segments(), max_size=4)))
    query = draw(st.sampled_from(["", "?id=1", "?a=B&c=%7e", "?q=%E4%BD%A0"]))
    fragment = draw(st.sampled_from(["", "#top", "#/x/../y"]))
    written_scheme = draw(random_case(scheme))
    if draw(st.booleans()):
        written_scheme = written_scheme[0] + "xx" + written_scheme[3:]  # hxxp, hxxps
        host = draw(defang_dots(host))
    return f"{written_scheme}://{host}{port}{path}{query}{fragment}", None, None


@st.composite
def ips(draw: Draw) -> tuple[str, str | None, str]:
    address = draw(st.ip_addresses())
    canonical = str(address)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            canonical = str(address.ipv4_mapped)
        written = draw(st.sampled_from([address.exploded.upper(), str(address), f"[{address}]"]))
    else:
        written = draw(defang_dots(str(address)))
    return written, None, canonical


@st.composite
def cidrs(draw: Draw) -> tuple[str, str | None, str | None]:
    address = draw(st.ip_addresses(v=4) | st.ip_addresses(v=6))
    prefix = draw(st.integers(0, address.max_prefixlen))
    if isinstance(address, ipaddress.IPv6Address) and draw(st.integers(0, 5)) == 0:
        address = ipaddress.IPv6Address(f"::ffff:{draw(st.ip_addresses(v=4))}")  # IPv4-mapped
        prefix = draw(st.sampled_from([96, 120, 128]))
    return f"{address}/{prefix}", None, None


@st.composite
def emails(draw: Draw, *, idn: bool = True) -> tuple[str, str | None, str]:
    local = draw(st.from_regex(r"\A[a-z0-9](?:[a-z0-9_+-]{0,8}(?:\.[a-z0-9]{1,4})?)?\Z"))
    written_host, canonical_host = draw(hosts(idn=idn))
    if not canonical_host.isascii() or "xn--" in canonical_host:
        # IDN addresses under .test are refused: see test_bug_non_ascii_email_under_reserved_tlds
        assume(not canonical_host.endswith(".test"))
    written_local = draw(random_case(local))
    at = draw(st.sampled_from(["@", "@", "[at]", "(at)", " [at] ", "[@]"]))
    return f"{written_local}{at}{written_host}", None, f"{local}@{canonical_host}"


@st.composite
def bank_accounts(draw: Draw) -> tuple[str, str | None, str]:
    if draw(st.booleans()):
        if draw(st.booleans()):
            bank = draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4, max_size=4))
            canonical = iban("GB", bank + draw(st.text("0123456789", min_size=14, max_size=14)))
        else:
            canonical = iban("DE", draw(st.text("0123456789", min_size=18, max_size=18)))
        groups = [canonical[i : i + 4] for i in range(0, len(canonical), 4)]
        written = draw(st.sampled_from([" ", "", "-"])).join(groups)
        return draw(random_case(written)), None, canonical
    country = draw(st.sampled_from(["TH", "CN", "MM", "LA", "VN", "KH"]))
    bank = draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=11))
    number = draw(st.text("0123456789", min_size=4, max_size=20))
    written_number = draw(spaced(number, ["", "", "-", " ", "."]))
    separator = draw(st.sampled_from([":", "/", " : "]))
    written = draw(random_case(f"{country}{separator}{bank}{separator}{written_number}"))
    return written, None, f"{country}:{bank}:{number}"


@st.composite
def wallets(
    draw: Draw, *, chains: tuple[str, ...] = ("eth", "tron", "btc", "bech32")
) -> tuple[str, str | None, str | None]:
    chain = draw(st.sampled_from(chains))
    body = draw(st.binary(min_size=20, max_size=20))
    if chain == "eth":
        hex_body = body.hex()
        return "0x" + draw(st.sampled_from([hex_body, hex_body.upper()])), None, None
    if chain == "tron":
        address = base58check(b"\x41" + body)
        return address, None, address
    if chain == "btc":
        address = base58check(draw(st.sampled_from([b"\x00", b"\x05"])) + body)
        return address, None, address
    version = draw(st.sampled_from([0, 1]))
    program = body if version == 0 else body + draw(st.binary(min_size=12, max_size=12))
    address = segwit_address("bc", version, program)
    return draw(st.sampled_from([address, address.upper()])), None, address


TELEGRAM_NAME = st.from_regex(r"\A[a-z][a-z0-9_]{3,30}[a-z0-9]\Z")


@st.composite
def handles(draw: Draw) -> tuple[str, str | None, str]:
    platform = draw(st.sampled_from(["telegram", "line", "wechat", "qq", "whatsapp"]))
    if platform == "telegram":
        name = draw(TELEGRAM_NAME)
        written = draw(random_case(name))
        form = draw(st.sampled_from(["telegram:@{}", "tg:{}", "t.me/{}", "https://t.me/{}/"]))
        return form.format(written), None, f"telegram:{name}"
    if platform == "line":
        name = draw(st.from_regex(r"\A[a-z0-9_-][a-z0-9._-]{0,19}\Z"))
        form = draw(st.sampled_from(["line:@{}", "line:{}", "line.me/ti/p/~{}"]))
        return form.format(draw(random_case(name))), None, f"line:{name}"
    if platform == "wechat":
        name = draw(st.from_regex(r"\A[a-z][a-z0-9_-]{5,19}\Z"))
        form = draw(st.sampled_from(["wechat:{}", "weixin:{}", "wx:{}"]))
        return form.format(draw(random_case(name))), None, f"wechat:{name}"
    if platform == "qq":
        qq = draw(st.from_regex(r"\A[1-9][0-9]{4,10}\Z"))
        return draw(st.sampled_from(["qq:{}", "QQ: {}"])).format(qq), None, f"qq:{qq}"
    _, phone = draw(valid_phone_numbers())
    e164 = phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164)
    form = draw(st.sampled_from(["wa.me/{}", "https://wa.me/{}", "whatsapp:+{}"]))
    return form.format(e164[1:]), None, f"whatsapp:{e164}"


@st.composite
def sms_senders(draw: Draw) -> tuple[str, str | None, str]:
    if draw(st.booleans()):  # a numeric short code
        sender = draw(st.from_regex(r"\A[0-9]{3,15}\Z"))
    else:  # an alphanumeric sender ID, with at least one letter
        sender = draw(st.from_regex(r"\A[a-z0-9][a-z0-9.&_-]{0,4}(?: [a-z0-9.&_-]{1,4})?\Z"))
        assume(any(ch.isalpha() for ch in sender))
    written = draw(random_case(sender)).replace(" ", draw(st.sampled_from([" ", "  ", "\t"])))
    return f" {written} ", None, sender


@st.composite
def file_hashes(draw: Draw) -> tuple[str, str | None, str]:
    digest = draw(st.binary(min_size=32, max_size=32)).hex()
    prefix = draw(st.sampled_from(["", "sha256:", "SHA-256:"]))
    return prefix + draw(random_case(digest)), None, digest


STRATEGIES = {
    IndicatorKind.PHONE: phones(),
    IndicatorKind.SMS_SENDER: sms_senders(),
    IndicatorKind.URL: urls(),
    IndicatorKind.DOMAIN: domains(),
    IndicatorKind.IP: ips(),
    IndicatorKind.CIDR: cidrs(),
    IndicatorKind.EMAIL: emails(),
    IndicatorKind.BANK_ACCOUNT: bank_accounts(),
    IndicatorKind.CRYPTO_WALLET: wallets(),
    IndicatorKind.HANDLE: handles(),
    IndicatorKind.FILE_HASH: file_hashes(),
}


def test_every_kind_has_a_strategy() -> None:
    assert set(STRATEGIES) == set(IndicatorKind)


# --------------------------------------------------------------------------------------------
# (1) canonical forms are fixed points
# --------------------------------------------------------------------------------------------


def check_fixed_point(kind: IndicatorKind, value: tuple[str, str | None, str | None]) -> None:
    raw, region, expected = value
    first = parse_indicator(raw, kind, region)
    if expected is not None:
        assert first.canonical == expected
    # a /32 or /128 network comes back as an ip: re-read it as what it became
    again = parse_indicator(first.canonical, first.kind)
    assert again.canonical == first.canonical
    assert again.id == first.id
    assert again.registered_domain == first.registered_domain
    if region is not None:
        assert parse_indicator(first.canonical, kind, region) == first


@FAST
@given(st.data())
def test_phone_canonical_is_a_fixed_point(data: st.DataObject) -> None:
    check_fixed_point(IndicatorKind.PHONE, data.draw(STRATEGIES[IndicatorKind.PHONE]))


@FAST
@given(st.data())
def test_sms_sender_canonical_is_a_fixed_point(data: st.DataObject) -> None:
    check_fixed_point(IndicatorKind.SMS_SENDER, data.draw(STRATEGIES[IndicatorKind.SMS_SENDER]))


@FAST
@given(st.data())
def test_url_canonical_is_a_fixed_point(data: st.DataObject) -> None:
    check_fixed_point(IndicatorKind.URL, data.draw(STRATEGIES[IndicatorKind.URL]))


@FAST
@given(st.data())
def test_domain_canonical_is_a_fixed_point(data: st.DataObject) -> None:
    check_fixed_point(IndicatorKind.DOMAIN, data.draw(STRATEGIES[IndicatorKind.DOMAIN]))


@FAST
@given(st.data())
def test_ip_canonical_is_a_fixed_point(data: st.DataObject) -> None:
    check_fixed_point(IndicatorKind.IP, data.draw(STRATEGIES[IndicatorKind.IP]))


@FAST
@given(st.data())
def test_cidr_canonical_is_a_fixed_point(data: st.DataObject) -> None:
    check_fixed_point(IndicatorKind.CIDR, data.draw(STRATEGIES[IndicatorKind.CIDR]))


@FAST
@given(st.data())
def test_email_canonical_is_a_fixed_point(data: st.DataObject) -> None:
    check_fixed_point(IndicatorKind.EMAIL, data.draw(STRATEGIES[IndicatorKind.EMAIL]))


@FAST
@given(st.data())
def test_bank_account_canonical_is_a_fixed_point(data: st.DataObject) -> None:
    value = data.draw(STRATEGIES[IndicatorKind.BANK_ACCOUNT])
    check_fixed_point(IndicatorKind.BANK_ACCOUNT, value)


@FAST
@given(st.data())
def test_wallet_canonical_is_a_fixed_point(data: st.DataObject) -> None:
    value = data.draw(STRATEGIES[IndicatorKind.CRYPTO_WALLET])
    check_fixed_point(IndicatorKind.CRYPTO_WALLET, value)


@FAST
@given(st.data())
def test_handle_canonical_is_a_fixed_point(data: st.DataObject) -> None:
    check_fixed_point(IndicatorKind.HANDLE, data.draw(STRATEGIES[IndicatorKind.HANDLE]))


@FAST
@given(st.data())
def test_file_hash_canonical_is_a_fixed_point(data: st.DataObject) -> None:
    check_fixed_point(IndicatorKind.FILE_HASH, data.draw(STRATEGIES[IndicatorKind.FILE_HASH]))


@FAST
@given(st.sampled_from(sorted(STRATEGIES)).flatmap(lambda k: st.tuples(st.just(k), STRATEGIES[k])))
def test_guessed_kind_of_a_canonical_value_keeps_it(
    pair: tuple[IndicatorKind, tuple[str, str | None, str | None]],
) -> None:
    """Without a kind, a canonical value is read back to the same indicator (where the shape
    is unambiguous: a bare number or a short name could be several kinds)."""
    kind, (raw, region, _) = pair
    first = parse_indicator(raw, kind, region)
    assume(first.kind is not IndicatorKind.SMS_SENDER)  # "ab.cd" is a domain as well
    assert parse_indicator(first.canonical) == first


@FUZZ
@given(st.sampled_from(sorted(IndicatorKind)), st.text())
def test_id_is_the_standard_uuid5(kind: IndicatorKind, canonical: str) -> None:
    """The id is exactly RFC 4122 UUIDv5 of "kind:canonical", for any text (ids are shared
    with other instances, which compute them with their own UUID libraries)."""
    expected = str(uuid.uuid5(INDICATOR_NAMESPACE, f"{kind.value}:{canonical}"))
    assert indicator_id(kind, canonical) == expected
    assert indicator_id(kind.value, canonical) == expected


# --------------------------------------------------------------------------------------------
# (2) parsing fails only with InvalidIndicator
# --------------------------------------------------------------------------------------------

FRAGMENTS = [
    "http://",
    "https://",
    "hxxp://",
    "ftp://",
    "[.]",
    "(.)",
    "[dot]",
    "[at]",
    "[:]",
    "@",
    ":",
    "/",
    ".",
    "%",
    "%2e",
    "%zz",
    "#",
    "?",
    "[",
    "]",
    "::",
    "0x",
    "bc1",
    "ltc1",
    "T",
    "r",
    "1",
    "t.me/",
    "wa.me/",
    "line.me/ti/p/~",
    "tel:",
    "mailto:",
    "xn--",
    "xn--zz",
    "sha256:",
    "telegram:",
    "qq:",
    "whatsapp:",
    "line:",
    "wechat:",
    "TH:",
    "GB82",
    "DE89",
    ".com",
    ".co.th",
    ".za",
    "00",
    "+",
    "+66",
    "(",
    ")",
    "-",
    " ",
    "\u200b",
    "\u00ad",
    "๐๘๑",
    "１２３",
    "。",
    "．",
    "例子",
    "ธนาคาร",
    "\ud7ff",
    "\U0001f600",
    "\x00",
    "\t",
    "\n",
    "255",
    "999",
    "/32",
    "/129",
]
indicatorish = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=10
).map("".join)
any_text = st.one_of(st.text(), st.text(st.characters(codec="utf-8")), indicatorish)
any_kind = st.sampled_from([None, *IndicatorKind, "PHONE", " url "])
any_region = st.sampled_from([None, "TH", "cn", "MM", "LA", "VN", "KH", "US", ""])


@FUZZ
@given(any_text, any_kind, any_region)
def test_parse_fails_only_with_invalid_indicator(
    value: str, kind: str | None, region: str | None
) -> None:
    failure: InvalidIndicator | None = None
    try:
        indicator = parse_indicator(value, kind, region)
    except InvalidIndicator as error:  # anything else escapes and fails the test
        failure = error
    if failure is not None:
        assert failure.message
        assert failure.kind is None or failure.kind in set(IndicatorKind)
    else:
        assert indicator.canonical
        assert indicator.canonical == indicator.canonical.strip()


@FUZZ
@given(any_text, any_region)
def test_extraction_never_crashes_and_spans_are_in_the_text(text: str, region: str | None) -> None:
    for item in extract_indicators(text, region):
        assert 0 <= item.start < item.end <= len(text)


@FUZZ
@given(any_text, any_region)
def test_extraction_pre_checks_never_skip_a_find(text: str, region: str | None) -> None:
    # the cheap searches that let most texts skip most matchers, against every matcher on
    # every run of the text
    assert extract_indicators(text, region) == _extract(text, region, exhaustive=True)


# --------------------------------------------------------------------------------------------
# (3) extraction finds what was planted
# --------------------------------------------------------------------------------------------

# Filler never contains digits, '@', '.', ':' or '/', nor a word that names a chat platform: a
# keyword such as 微信 or "QQ" turns the token after it into a handle by design.
PLATFORM_WORDS = [
    "telegram",
    "tg",
    "line",
    "wechat",
    "weixin",
    "whatsapp",
    "wa",
    "qq",
    "vx",
    "wx",
    "id",
    "电报",
    "飞机",
    "纸飞机",
    "微信",
    "威信",
    "薇信",
    "徽信",
    "v信",
    "加v",
    "加微",
    "扣扣",
    "企鹅",
    "ไลน์",
    "ไลน",
    "เทเลแกรม",
    "แอด",
]
SCRIPTS = {
    "chinese": st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    "thai": st.characters(min_codepoint=0x0E01, max_codepoint=0x0E4E),
    "burmese": st.characters(min_codepoint=0x1000, max_codepoint=0x103F),
    "lao": st.characters(min_codepoint=0x0E81, max_codepoint=0x0ECD),
    "khmer": st.characters(min_codepoint=0x1780, max_codepoint=0x17D3),
    "vietnamese": st.sampled_from("aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệ"),
}
WORDS = [
    "urgent",
    "your",
    "account",
    "verify",
    "prize",
    "transfer",
    "now",
    "click",
    "refund",
    "您的账户",
    "异常",
    "立即",
    "领取",
    "ยินดีด้วย",
    "คุณได้รับเงินคืน",
    "ด่วน",
    "ငွေလွှဲ",
    "ဆုကြေး",
    "ເງິນ",
    "ດ່ວນ",
    "ប្រាក់",
    "ឥឡូវ",
    "tài khoản",
    "chuyển tiền",
    "ngay",
    "nhận quà",
]


def _clean_filler(word: str) -> bool:
    lowered = word.lower()
    return not any(platform in lowered for platform in PLATFORM_WORDS)


filler_word = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(sorted(SCRIPTS)).flatmap(
        lambda script: st.text(SCRIPTS[script], min_size=1, max_size=6)
    ),
).filter(lambda w: _clean_filler(w) and not any(ch.isdigit() for ch in w))
filler = st.lists(filler_word, max_size=4).map(" ".join)


@st.composite
def planted_values(draw: Draw) -> tuple[str, str, str | None]:
    """(kind, written value, region) for one indicator to hide in a message."""
    kind = draw(st.sampled_from(["phone", "url", "wallet", "telegram", "email"]))
    if kind == "phone":
        raw, region, _ = draw(phones(for_text=True))
        return "phone", raw, region
    if kind == "url":
        host, _ = draw(hosts(idn=False))
        path = "/".join(draw(st.lists(st.text(UNRESERVED, min_size=1, max_size=8), max_size=3)))
        scheme = draw(st.sampled_from(["http://", "https://", "hxxps://", ""]))
        written_host = draw(defang_dots(host)) if scheme == "hxxps://" else host
        return "url", f"{scheme}{written_host}/{path}", None
    if kind == "wallet":
        raw, _, _ = draw(wallets(chains=("eth", "tron")))
        return "crypto_wallet", raw, None
    if kind == "telegram":
        name = draw(TELEGRAM_NAME)
        return "handle", draw(st.sampled_from(["t.me/", "https://t.me/"])) + name, None
    raw, _, _ = draw(emails(idn=False))  # IDN addresses are not extracted: see test_extract.py
    return "email", raw.replace(" ", ""), None


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_extraction_finds_planted_indicators(data: st.DataObject) -> None:
    planted = data.draw(
        st.lists(planted_values(), min_size=1, max_size=3, unique_by=lambda p: p[0])
    )
    regions = {region for _, _, region in planted if region is not None}
    region = regions.pop() if regions else None
    assume(not regions)  # at most one phone, so at most one region

    pieces = [data.draw(filler)]
    positions = []
    for kind, raw, _ in planted:
        text_so_far = " ".join(p for p in pieces if p)
        start = len(text_so_far) + (1 if text_so_far else 0)
        pieces.append(raw)
        positions.append((kind, raw, start))
        pieces.append(data.draw(filler))
    text = " ".join(p for p in pieces if p)

    found = {
        (f.indicator.kind.value, f.indicator.canonical): f for f in extract_indicators(text, region)
    }
    for kind, raw, start in positions:
        assert text[start : start + len(raw)] == raw
        expected = parse_indicator(raw, kind, region)
        assert (kind, expected.canonical) in found, (text, raw)
        item = found[(kind, expected.canonical)]
        assert (item.start, item.end) == (start, start + len(raw)), (text, raw)
        assert text[item.start : item.end] == raw
