"""Domains, URLs, IP addresses, CIDR blocks and e-mail addresses in canonical form.

Registered domains come from the public suffix list shipped inside ``publicsuffixlist``: nothing is
fetched at run time. Besides the TLDs on that list, the names reserved for documentation and
testing by RFC 2606 / RFC 6761 (``.example``, ``.test``, ``.invalid``) are accepted, so examples and
tests never point at somebody's real site.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import SplitResult, quote, unquote, urlsplit

import idna
import rfc3986
from email_validator import EmailNotValidError, validate_email
from publicsuffixlist import PublicSuffixList

from scamwall.errors import InvalidIndicator

__all__ = [
    "canonical_cidr",
    "canonical_domain",
    "canonical_email",
    "canonical_ip",
    "canonical_url",
    "has_known_suffix",
    "nat64_ipv4",
    "registered_domain",
    "url_page_forms",
]

RESERVED_TLDS = frozenset({"example", "test", "invalid"})
URL_SCHEMES = {"http": 80, "https": 443, "ftp": 21}
MAX_URL_LENGTH = 2048

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_URL_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
# What a host may not hold once its percent-escapes are decoded (WHATWG's forbidden host code
# points): it would end the host, or make it another part of the URL.
_FORBIDDEN_IN_HOST = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
# An RFC 5322 dot-atom local part of ASCII letters, digits and common symbols, and a host name.
_PLAIN_EMAIL = re.compile(
    r"^([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@([A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+)$"
)
_SAFE_IN_PATH = "/:@!$&'()*+,;=-._~%"
_WHITESPACE = re.compile(r"\s")
# After a scheme browsers treat as special, any run of '/' and '\' leads to the host (WHATWG);
# any other scheme is followed by "//" in the URLs read here.
_SPECIAL_SCHEME = re.compile(r"^(https?|ftp|wss?):([/\\]*)", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# "mailto:x", "tel:+66…", "javascript:…": a scheme without "//" (a port would be digits)
_OTHER_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):(?![0-9/])", re.IGNORECASE)
# A path or query made of these is already in RFC 3986 normal form (nothing to decode or encode).
_NORMAL_PART = re.compile(r"^[A-Za-z0-9\-_~!$&'()*+,;=:@/?]*$")
# ipaddress keeps any text after '%' as an IPv6 zone id (newlines, ';', '}' too), and every feed
# and export would carry it; the reason does not repeat it for the same cause.
_ZONE_REASON = (
    "has a zone id (after '%'): it names a network interface of one machine, not a host on "
    "the internet; give the address without it"
)
_HEX_NUMBER = re.compile(r"0[xX][0-9a-fA-F]*")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_UNRESERVED_ESCAPE = re.compile(r"%(2[DdEe]|3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|5[Ff]|7[Ee])")


@lru_cache(maxsize=1)
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()


@lru_cache(maxsize=1)
def _icann_suffix_list() -> PublicSuffixList:
    return PublicSuffixList(only_icann=True)


def has_known_suffix(host: str) -> bool:
    """True when a name ends in a suffix of the public suffix list or a TLD reserved for
    examples. The whole name is asked, not its last label: .za has rules only below it
    (co.za, org.za)."""
    return (
        host.rsplit(".", 1)[-1] in RESERVED_TLDS
        or _suffix_list().publicsuffix(host, accept_unknown=False) is not None
    )


def registered_domain(domain: str, *, icann_only: bool = False) -> str | None:
    """The registrable part of a canonical domain (``scam.co.th`` for ``pay.scam.co.th``). The
    public suffix list's private part counts hosting platforms' names as suffixes
    (``shop.wixsite.com`` is registrable); ``icann_only`` leaves it out (``wixsite.com``)."""
    labels = domain.rsplit(".", 2)
    if labels[-1] in RESERVED_TLDS:
        return ".".join(labels[-2:]) if len(labels) >= 2 else None
    suffixes = _icann_suffix_list() if icann_only else _suffix_list()
    result = suffixes.privatesuffix(domain)
    return str(result) if result else None


def _host_to_ascii(host: str, kind: str) -> str:
    if host.isascii():
        ascii_host = host.lower()
        if "xn--" in ascii_host:
            try:  # a punycode label must decode, or it is junk dressed as IDN
                idna.decode(ascii_host)
            except idna.IDNAError as exc:
                raise InvalidIndicator(kind, f"bad punycode label ({exc})") from None
        return ascii_host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidIndicator(kind, f"not a valid internationalised name ({exc})") from None


def canonical_domain(value: str, kind: str = "domain", *, underscores: bool = False) -> str:
    """Lower-case ASCII (punycode) form of a domain name, without a trailing dot.
    ``underscores``: labels may hold '_', as URL hosts may (browsers open ``x_y.example``, and
    DNS serves it); a domain indicator keeps to host-name rules, which every feed format takes."""
    text = value.strip().rstrip(".")
    if not text:
        raise InvalidIndicator(kind, "empty name")
    if "/" in text or "@" in text or ":" in text:
        raise InvalidIndicator(kind, "contains '/', '@' or ':'; give a URL or e-mail as such")
    host = _host_to_ascii(text, kind)
    if len(host) > 253:
        raise InvalidIndicator(kind, "longer than 253 characters")
    labels = host.split(".")
    if len(labels) < 2:
        raise InvalidIndicator(kind, "needs at least two labels (name.tld)")
    pattern, allowed = (
        (_URL_LABEL, "letters, digits, '_' or inner hyphens")
        if underscores
        else (_LABEL, "letters, digits or inner hyphens")
    )
    for label in labels:
        if not pattern.match(label):
            raise InvalidIndicator(kind, f"label {label!r} must be 1-63 {allowed}")
    if not has_known_suffix(host):
        raise InvalidIndicator(kind, f"unknown top-level domain .{labels[-1]}")
    if registered_domain(host) is None:
        raise InvalidIndicator(kind, f"{host} is a public suffix, not a registrable domain")
    return host


def canonical_ip(value: str) -> str:
    """Compressed form of an IPv4 or IPv6 address; IPv4-mapped IPv6 becomes IPv4."""
    text = value.strip().removeprefix("[").removesuffix("]")
    if "%" in text:
        raise InvalidIndicator("ip", _ZONE_REASON)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidIndicator("ip", f"{text!r} is not an IPv4 or IPv6 address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def canonical_cidr(value: str) -> tuple[str, bool]:
    """``(network/prefix, is_single_host)``; host bits are cleared (``10.1.2.3/8`` -> ``10/8``);
    an IPv4-mapped network becomes IPv4 (``::ffff:10.0.0.0/104`` -> ``10.0.0.0/8``), as its
    addresses do."""
    text = value.strip()
    if "/" not in text:
        raise InvalidIndicator("cidr", "needs a prefix length, e.g. 203.0.113.0/24")
    if "%" in text:
        raise InvalidIndicator("cidr", _ZONE_REASON)
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise InvalidIndicator("cidr", str(exc)) from None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            network = ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return str(network), network.prefixlen == network.max_prefixlen


def _percent_decoded_host(hostname: str) -> str:
    """A URL host with its percent-escapes decoded, as browsers decode them before reading it:
    ``scam%2Dbank.com`` opens scam-bank.com, and must be judged as scam-bank.com."""
    try:
        decoded = unquote(hostname, errors="strict")
    except UnicodeDecodeError:
        raise InvalidIndicator("url", "the host's percent-escapes are not UTF-8") from None
    forbidden = _FORBIDDEN_IN_HOST.search(decoded)
    if forbidden is not None:
        raise InvalidIndicator("url", f"the host holds {forbidden.group()!r} once decoded")
    return decoded.lower()


def _whatwg_ipv4(host: str) -> str | None:
    """The dotted address of a URL host browsers read as an IPv4 address (WHATWG URL standard):
    one whose last label, a trailing dot aside, is a number. Then it has one to four parts,
    each decimal, ``0x`` hex or ``0``-led octal, the last filling the bytes left:
    ``3325256711``, ``0xc6.0x33.0x64.0x07``, ``0306.063.0144.07`` and ``198.51.25607`` are all
    198.51.100.7. None for a host that does not end in a number (a name: the common case, told
    from the last label alone); one that does but is no address is refused, as browsers refuse
    it."""
    name = host[:-1] if host.endswith(".") else host
    label = name.rpartition(".")[2]
    if not label.isascii() or not (
        label.isdigit() or (label[:2] in ("0x", "0X") and _HEX_NUMBER.fullmatch(label))
    ):
        return None
    *leading, last = [_whatwg_ipv4_number(part) for part in name.split(".")]
    bytes_ = [number for number in leading if number is not None and number <= 255]
    if (
        len(leading) > 3
        or len(bytes_) < len(leading)
        or last is None
        or last >= 256 ** (4 - len(leading))
    ):
        raise InvalidIndicator("url", f"host {host!r} ends in a number but is no IPv4 address")
    return str(ipaddress.IPv4Address(last + sum(b << 8 * (3 - i) for i, b in enumerate(bytes_))))


def _whatwg_ipv4_number(part: str) -> int | None:
    """One part of a WHATWG IPv4 host: ``0x`` hex, ``0``-led octal or decimal; None if none."""
    radix = 10
    if part[:2] in ("0x", "0X"):
        part, radix = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        part, radix = part[1:], 8
    if not part:
        return 0 if radix != 10 else None
    if not part.isascii() or not part.isalnum():
        return None
    try:
        return int(part, radix)
    except ValueError:
        return None


def nat64_ipv4(address: str) -> str | None:
    """The IPv4 address a NAT64 address (``64:ff9b::/96``, RFC 6052) reaches, for look-ups and
    matching; None for any other address. Unlike an IPv4-mapped address, which is the IPv4
    address written in IPv6 and so canonical as IPv4, a NAT64 address is the translator's own:
    the value given stays canonical, and the IPv4 address behind it is matched too."""
    if not address.startswith("64:ff9b::"):
        return None
    try:
        found = ipaddress.IPv6Address(address)
    except ValueError:
        return None
    if found not in _NAT64:
        return None
    return str(ipaddress.IPv4Address(int(found) & 0xFFFFFFFF))


def _decode_unreserved(component: str) -> str:
    return _UNRESERVED_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), component)


def _canonical_authority(parts: SplitResult) -> str:
    try:
        hostname = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise InvalidIndicator("url", f"bad host or port ({exc})") from None
    if not hostname:
        raise InvalidIndicator("url", "has no host")
    if "%" in hostname and ":" in hostname:
        # A zone id ("[fe80::1%25eth0]", RFC 6874) names an interface of the visitor's machine;
        # the host reached is the same one. Dropped rather than refused: refused, "%25x" would
        # hide a link from screening; kept, it would make the same link a second URL that
        # misses the blocklist.
        hostname = hostname.partition("%")[0]
    if ":" not in hostname:  # a name, or an IPv4 address in any notation browsers read
        if "%" in hostname:
            hostname = _percent_decoded_host(hostname)
        numeric = _whatwg_ipv4(hostname)
        host = (
            numeric
            if numeric is not None
            else canonical_domain(hostname, kind="url", underscores=True)
        )
    else:
        try:
            host = canonical_ip(hostname)
            if ":" in host:
                host = f"[{host}]"
        except InvalidIndicator:
            host = canonical_domain(hostname, kind="url")
    if port is not None and port != URL_SCHEMES[parts.scheme.lower()]:
        host = f"{host}:{port}"
    netloc = parts.netloc
    if "@" in netloc:  # keep the userinfo: "bank.com@evil.example" is how phishing links hide
        host = f"{netloc.rsplit('@', 1)[0]}@{host}"
    return host


def _backslashes_as_slashes(url: str) -> str:
    """A '\\' before the query is a '/' to browsers in http, https and ftp URLs (WHATWG URL
    standard): ``http://scam.example\\@bank.example/`` opens scam.example. Read as RFC 3986
    reads it, the link would be judged as the host it only shows."""
    scheme, _, rest = url.partition("://")
    end = len(rest)
    for mark in "?#":
        found = rest.find(mark, 0, end)
        if found >= 0:
            end = found
    authority_and_path = rest[:end].replace("\\", "/")
    return f"{scheme}://{authority_and_path}{rest[end:]}"


def canonical_url(value: str) -> str:
    """RFC 3986 normal form: lower-case scheme and host, punycode, no default port or fragment,
    dot-segments resolved, percent-encoding normalised. A missing scheme means ``http``. What
    browsers open is read as they read it (WHATWG URL standard): slashes after the scheme, a
    backslash, a host in another IPv4 notation or with percent-escapes."""
    text = value.strip()
    if not text:
        raise InvalidIndicator("url", "empty")
    if _WHITESPACE.search(text):
        raise InvalidIndicator("url", "contains whitespace")
    special = _SPECIAL_SCHEME.match(text)
    if special is not None:
        if special.group(2) != "//":  # http:x, http:/x, http:///x, http:\\x all open x
            text = f"{special.group(1)}://{text[special.end() :]}"
    elif _SCHEME.match(text) is None:  # "x.example/?u=http://y" has no scheme of its own
        other = _OTHER_SCHEME.match(text)
        if other is not None:
            raise InvalidIndicator(
                "url", f"scheme {other.group(1).lower()!r} is not one of http, https, ftp"
            )
        text = "http:" + text if text.startswith("//") else "http://" + text
    if "\\" in text:
        text = _backslashes_as_slashes(text)
    if len(text) > MAX_URL_LENGTH:
        raise InvalidIndicator("url", f"longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise InvalidIndicator("url", str(exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES:
        raise InvalidIndicator("url", f"scheme {scheme!r} is not one of http, https, ftp")
    authority = _canonical_authority(parts)
    path, query = parts.path or "/", parts.query or None
    if (
        _NORMAL_PART.match(path) is None
        or "/." in path
        or (query is not None and _NORMAL_PART.match(query) is None)
    ):
        # non-ASCII becomes UTF-8 escapes and escaped unreserved characters are decoded first,
        # so %2e%2e is a dot-segment like ".." and both spellings of a link are one URL
        path = _decode_unreserved(quote(path, safe=_SAFE_IN_PATH))
        if query is not None:
            query = _decode_unreserved(quote(query, safe=_SAFE_IN_PATH + "?"))
        reference = rfc3986.URIReference(scheme, authority, path, query, None).normalize()
        path, query = reference.path or "/", reference.query
    result = f"{scheme}://{authority}{path}"
    if query is not None:
        result += f"?{query}"
    return result


def is_ip_host(host: str) -> bool:
    """Whether a host as :func:`url_host` gives it is an IPv4 or IPv6 address, not a name."""
    return ":" in host or host.replace(".", "").isdigit()


_OTHER_WEB_SCHEME = {"http": "https", "https": "http"}


def url_page_forms(canonical: str) -> list[str]:
    """Other ways reports may write the page a canonical URL opens: with the other of http and
    https, with or without a '/' at the end of its path, and without its query (a report of
    ``/pay`` covers ``/pay?id=2``; one of ``/pay?id=1`` does not: a query may name another
    page, as ``profile.php?id=`` does). Seven keys at most, each one dictionary look-up."""
    scheme, _, rest = canonical.partition("://")
    address, mark, query = rest.partition("?")
    slash = address.find("/")
    authority, path = address[:slash], address[slash:]
    schemes = [scheme]
    if scheme in _OTHER_WEB_SCHEME:
        schemes.append(_OTHER_WEB_SCHEME[scheme])
    paths = [path]
    if path != "/":
        paths.append(path[:-1] if path.endswith("/") else f"{path}/")
    queries = [f"?{query}", ""] if mark else [""]
    forms = [f"{s}://{authority}{p}{q}" for q in queries for p in paths for s in schemes]
    return [form for form in forms if form != canonical]


def url_host(canonical: str) -> str:
    """The host of a canonical URL, without userinfo, port, IPv6 brackets or zone id (a URL
    stored before zone ids were dropped may still hold one)."""
    return (urlsplit(canonical).hostname or "").partition("%")[0]


def canonical_email(value: str) -> str:
    """Lower-case ``local@domain`` with the domain in punycode; syntax only, no DNS look-up."""
    text = value.strip().removeprefix("mailto:")
    plain = _PLAIN_EMAIL.match(text)
    if plain is not None:  # the common case, valid by construction; the rest goes to the library
        local, domain = plain.group(1), plain.group(2)
        return f"{local.lower()}@{canonical_domain(domain, kind='email')}"
    local, at, domain_text = text.rpartition("@")
    if not at:
        raise InvalidIndicator("email", "an e-mail address must have an @-sign")
    domain = canonical_domain(domain_text, kind="email")
    try:  # the library judges the local part; the domain follows our own rules, as everywhere
        checked = validate_email(
            f"{local}@example.com", check_deliverability=False, allow_smtputf8=True
        )
    except EmailNotValidError as exc:
        raise InvalidIndicator("email", str(exc)) from None
    return f"{checked.local_part.lower()}@{domain}"
