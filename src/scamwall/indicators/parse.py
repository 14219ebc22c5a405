"""One entry point from a raw value to its canonical :class:`Indicator`, guessing the kind."""

from __future__ import annotations

import re
from collections.abc import Callable

from scamwall.errors import InvalidIndicator
from scamwall.indicators.accounts import (
    PLATFORM_ALIASES,
    canonical_file_hash,
    canonical_handle,
    canonical_sms_sender,
    handle_from_link,
)
from scamwall.indicators.finance import canonical_bank_account, canonical_wallet
from scamwall.indicators.kinds import Indicator, IndicatorKind
from scamwall.indicators.network import (
    canonical_cidr,
    canonical_domain,
    canonical_email,
    canonical_ip,
    canonical_url,
    registered_domain,
    url_host,
)
from scamwall.indicators.phone import canonical_phone, check_region
from scamwall.indicators.text import normalize_for_matching

__all__ = ["guess_kind", "parse_indicator", "parse_kind"]

MAX_VALUE_LENGTH = 4096

# A link: "http:x" and "http:/x" open x as "http://x" does (the URL parser reads them so), and
# "//x/y" (scheme-relative) and "x.example:8080" (a host and port) are links too.
_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|(?:https?|ftp):|//)", re.IGNORECASE)
# a name whose last label holds a letter, or a dotted-quad address, then a port: not a time
# or a score such as 12.30:45
_HOST_PORT = re.compile(
    r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[^\s/:@]+\.[^\s/:@.]*[A-Za-z][^\s/:@.]*):\d{1,5}(?:[/?#]|$)"
)
_IPV4ISH = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?$")
_IPV6ISH = re.compile(r"^\[?[0-9a-f:.]*:[0-9a-f:.]*\]?(?:/\d{1,3})?$", re.IGNORECASE)
_WALLET = re.compile(
    r"^(?:0x[0-9a-f]{40}|(?:bc|ltc)1[0-9a-z]{8,87}|[13LMDTr9A][1-9A-HJ-NP-Za-km-z]{24,34})$",
    re.IGNORECASE,
)
_HASH = re.compile(r"^(?:sha-?256:)?[0-9a-f]{64}$", re.IGNORECASE)
_IBAN = re.compile(r"^[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){10,30}$", re.IGNORECASE)
_BANK_TRIPLE = re.compile(r"^[A-Z]{2}[:/][^:/]+[:/][^:/]+$", re.IGNORECASE)
_DOMAINISH = re.compile(r"^[^\s/@:]+\.[^\s/@:.]+\.?$")
_PHONEISH = re.compile(r"^(?:tel:)?\+?[\d\s().\-/]{5,}$", re.IGNORECASE)
_SENDERISH = re.compile(r"^[\w.&-]{1,11}$")
# A surrogate code point alone is no character: JSON's "\ud800" decodes to one, and no
# library below takes it (UTF-8 cannot even encode it).
_SURROGATE = re.compile("[\ud800-\udfff]")
# What a form or a spreadsheet holds where nothing was known. Guessed, most of them would be
# short alphanumeric sender IDs; given with kind sms_sender, they are read as one.
_PLACEHOLDERS = frozenset(
    {
        "null", "none", "nil", "n/a", "#n/a", "na", "n.a.", "nan", "unknown", "tbd", "tba",
        "test", "-", "--", "?", "??", "undefined", "empty", "blank", "missing",
    }
)  # fmt: skip


def parse_kind(kind: str | IndicatorKind) -> IndicatorKind:
    """Read a kind name, saying which kinds exist when it is none of them."""
    try:
        return IndicatorKind(str(kind).strip().lower())
    except ValueError:
        choices = ", ".join(k.value for k in IndicatorKind)
        raise InvalidIndicator(None, f"unknown kind {kind!r}; use one of {choices}") from None


def guess_kind(value: str) -> IndicatorKind:
    """The kind a raw value most likely is, from its shape alone (no look-ups)."""
    return _guess_normalized(normalize_for_matching(value).text.strip())


def _guess_normalized(text: str) -> IndicatorKind:
    if text.casefold() in _PLACEHOLDERS:
        raise InvalidIndicator(
            None,
            f"{text!r} is a placeholder, not an indicator; if it really is a sender ID, "
            "give its kind (sms_sender)",
        )
    head = text.split(":", 1)[0].lower()
    if ":" in text and head in PLATFORM_ALIASES and not text.lower().startswith(("http", "ftp")):
        return IndicatorKind.HANDLE
    if handle_from_link(text) is not None:
        return IndicatorKind.HANDLE
    if _SCHEME.match(text) or _HOST_PORT.match(text):
        return IndicatorKind.URL
    if _IPV4ISH.match(text) or (text.count(":") >= 2 and _IPV6ISH.match(text)):
        return IndicatorKind.CIDR if "/" in text else IndicatorKind.IP
    if _HASH.match(text):
        return IndicatorKind.FILE_HASH
    if _WALLET.match(text) and not text.isdigit():
        return IndicatorKind.CRYPTO_WALLET
    if "@" in text and "." in text.rsplit("@", 1)[-1] and not text.startswith("@"):
        return IndicatorKind.EMAIL
    if _BANK_TRIPLE.match(text) or (_IBAN.match(text) and not text[:2].isdigit()):
        return IndicatorKind.BANK_ACCOUNT
    if text.isdigit() and len(text) <= 6:
        return IndicatorKind.SMS_SENDER  # a short code such as 95588
    if _PHONEISH.match(text) and sum(ch.isdigit() for ch in text) >= 7:
        return IndicatorKind.PHONE
    if "/" in text.split("?", 1)[0] and "." in text.split("/", 1)[0]:
        return IndicatorKind.URL
    if _DOMAINISH.match(text) and not text.replace(".", "").isdigit():
        return IndicatorKind.DOMAIN
    if _SENDERISH.match(text):
        return IndicatorKind.SMS_SENDER
    raise InvalidIndicator(None, "cannot tell what kind of indicator this is; give its kind")


def _cidr(text: str, region: str | None) -> Indicator:
    network, single_host = canonical_cidr(text)
    if single_host:  # 203.0.113.7/32 is the address itself: one indicator, not two
        return Indicator(IndicatorKind.IP, canonical_ip(network.split("/", 1)[0]))
    return Indicator(IndicatorKind.CIDR, network)


def _domain(text: str, region: str | None) -> Indicator:
    canonical = canonical_domain(text)
    return Indicator(IndicatorKind.DOMAIN, canonical, registered_domain(canonical))


def _url(text: str, region: str | None) -> Indicator:
    canonical = canonical_url(text)
    host = url_host(canonical)
    on_ip = host.replace(".", "").isdigit() or ":" in host
    return Indicator(IndicatorKind.URL, canonical, None if on_ip else registered_domain(host))


def _email(text: str, region: str | None) -> Indicator:
    canonical = canonical_email(text)
    return Indicator(IndicatorKind.EMAIL, canonical, registered_domain(canonical.rsplit("@", 1)[1]))


def _simple(kind: IndicatorKind, function: Callable[[str], str]) -> Callable[..., Indicator]:
    def parse(text: str, region: str | None) -> Indicator:
        return Indicator(kind, function(text))

    return parse


_PARSERS: dict[IndicatorKind, Callable[[str, str | None], Indicator]] = {
    IndicatorKind.PHONE: lambda text, region: Indicator(
        IndicatorKind.PHONE, canonical_phone(text, region)
    ),
    IndicatorKind.HANDLE: lambda text, region: Indicator(
        IndicatorKind.HANDLE, canonical_handle(text, region)
    ),
    IndicatorKind.SMS_SENDER: _simple(IndicatorKind.SMS_SENDER, canonical_sms_sender),
    IndicatorKind.URL: _url,
    IndicatorKind.DOMAIN: _domain,
    IndicatorKind.IP: _simple(IndicatorKind.IP, canonical_ip),
    IndicatorKind.CIDR: _cidr,
    IndicatorKind.EMAIL: _email,
    IndicatorKind.BANK_ACCOUNT: _simple(IndicatorKind.BANK_ACCOUNT, canonical_bank_account),
    IndicatorKind.CRYPTO_WALLET: _simple(IndicatorKind.CRYPTO_WALLET, canonical_wallet),
    IndicatorKind.FILE_HASH: _simple(IndicatorKind.FILE_HASH, canonical_file_hash),
}


def parse_indicator(
    value: str, kind: IndicatorKind | str | None = None, region: str | None = None
) -> Indicator:
    """Parse a raw value into its canonical indicator.

    ``kind`` is guessed from the value's shape when not given; ``region`` (ISO 3166 alpha-2) reads
    local phone numbers. Disguises (full-width or native digits, zero-width characters, ``hxxp``,
    ``[.]``) are undone first. Raises :class:`~scamwall.errors.InvalidIndicator` and nothing else.
    """
    if not isinstance(value, str):
        raise InvalidIndicator(None, f"expected text, got {type(value).__name__}")
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidIndicator(None, f"longer than {MAX_VALUE_LENGTH} characters")
    if "\x00" in value:
        raise InvalidIndicator(None, "contains a NUL character")
    surrogate = None if value.isascii() else _SURROGATE.search(value)
    if surrogate is not None:
        raise InvalidIndicator(
            None, f"not valid Unicode: a lone surrogate at position {surrogate.start() + 1}"
        )
    region = check_region(region)
    text = normalize_for_matching(value).text.strip()
    if not text:
        raise InvalidIndicator(None, "empty value")
    resolved = parse_kind(kind) if kind is not None else _guess_normalized(text)
    return _PARSERS[resolved](text, region)
