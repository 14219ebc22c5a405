"""Which MISP attributes carry which kind of indicator: read on import, written on export.

On import a top-level attribute is read by its ``type`` (a composite type such as ``domain|ip``
gives one indicator per part, ``filename|sha256`` only the hash), and an attribute inside an
object by the object's template and its ``object_relation``. Only the relations that name the
scam's infrastructure are read (an e-mail object's sender, never its recipients, who are
victims); the others describe it, and reading them gives ``None``.

On export phone numbers, bank accounts, wallets, chat handles and SMS senders become objects of
the templates pymisp ships (``phone-number``, ``bank-account``, ``coin-address``,
``telegram-account`` or ``user-account``, ``short-message-service``); the other kinds are plain
attributes of :data:`ATTRIBUTE_TYPES`. Both directions sit side by side here, so what one writes
the other reads back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from scamwall.errors import InvalidIndicator
from scamwall.exchange.misp.fields import RejectedField, read_text
from scamwall.indicators import Indicator, IndicatorKind, guess_kind
from scamwall.indicators.accounts import PLATFORM_ALIASES

__all__ = ["ATTRIBUTE_TYPES", "indicator_values", "object_shape"]

K = IndicatorKind


def _kinds(table: str) -> dict[str, tuple[IndicatorKind | None, ...]]:
    """``type kind[|kind]`` lines; ``-`` marks a part of a composite value that is not read."""
    rows = (line.split() for line in table.strip().splitlines())
    return {t: tuple(None if k == "-" else K(k) for k in kinds.split("|")) for t, kinds in rows}


# Top-level attribute types scamwall reads, one kind per "|"-separated part of the value.
_TYPES = _kinds("""
    phone-number phone
    domain domain
    hostname domain
    url url
    link url
    ip-src ip
    ip-dst ip
    ip-src|port ip|-
    ip-dst|port ip|-
    hostname|port domain|-
    domain|ip domain|ip
    email email
    email-src email
    email-reply-to email
    iban bank_account
    bank-account-nr bank_account
    btc crypto_wallet
    xmr crypto_wallet
    dash crypto_wallet
    sha256 file_hash
    sha1 file_hash
    md5 file_hash
    filename|sha256 -|file_hash
    filename|sha1 -|file_hash
    filename|md5 -|file_hash
    text handle
""")
# Object relations read as indicators ("-": a phone number or an SMS sender ID, by its shape).
_RELATIONS = {
    name: kinds[0]
    for name, kinds in _kinds("""
        phone-number/phone-number phone
        phone/msisdn phone
        telegram-account/phone phone
        telegram-account/username handle
        user-account/username handle
        bank-account/iban bank_account
        bank-account/account bank_account
        coin-address/address crypto_wallet
        coin-address/address-crypto crypto_wallet
        coin-address/address-xmr crypto_wallet
        btc-wallet/wallet-address crypto_wallet
        short-message-service/from -
        domain-ip/domain domain
        domain-ip/hostname domain
        domain-ip/ip ip
        url/url url
        email/from email
        email/reply-to email
        email/return-path email
        file/sha256 file_hash
    """).items()
}
_REFERENCE_CATEGORIES = frozenset({"External analysis", "Internal reference"})
_BIC = re.compile(r"^[A-Z]{4}(?P<country>[A-Z]{2})[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")

#: Kinds exported as plain attributes, and their MISP type; the others become objects.
ATTRIBUTE_TYPES = {K.URL: "url", K.DOMAIN: "domain", K.IP: "ip-dst", K.CIDR: "ip-dst"}
ATTRIBUTE_TYPES |= {K.EMAIL: "email-src", K.FILE_HASH: "sha256"}
# Address prefix -> coin symbol (the coin-address template's list); EVM chains all read ETH.
_COIN_SYMBOLS = {"0x": "ETH", "bc1": "BTC", "1": "BTC", "3": "BTC", "ltc1": "LTC", "L": "LTC"}
_COIN_SYMBOLS |= {"M": "LTC", "T": "TRX", "D": "DOGE", "A": "DOGE", "9": "DOGE", "r": "XRP"}


# ---------------------------------------------------------------------------------------- import


def indicator_values(
    raw: dict[str, Any], obj: dict[str, Any] | None, region: str | None
) -> list[tuple[IndicatorKind | None, str]] | None:
    """(kind, text) pairs an attribute names; None when it describes rather than indicates.

    ``obj`` is the object the attribute sits in, if any; ``region`` reads a bank account number
    whose object gives no country. A kind of ``None`` is guessed from the text.
    """
    value = read_text(raw.get("value"), "value")
    if not value:
        raise RejectedField("value", "is required and empty")
    if obj is not None:
        relation = read_text(raw.get("object_relation"), "object_relation")
        return _object_values(obj, relation, value, region)
    type_name = read_text(raw.get("type"), "type")
    if type_name not in _TYPES:
        raise RejectedField("type", f"{type_name!r} is not a kind of indicator scamwall pools")
    category = read_text(raw.get("category"), "category") if type_name == "link" else None
    if category in _REFERENCE_CATEGORIES:
        reason = f"a link in {category!r} points to a report; give type url for the scam's"
        raise RejectedField("category", reason)
    if type_name == "text" and _guess(value) is not K.HANDLE:
        raise RejectedField(
            "value", "free text; only chat handles (platform:id) are read from text"
        )
    parts = value.split("|") if "|" in type_name else [value]
    kinds = _TYPES[type_name]
    if len(parts) != len(kinds):
        raise RejectedField("value", f"a {type_name} value has {len(kinds)} parts separated by |")
    return [
        (_ip_or_cidr(kind, part), part) for kind, part in zip(kinds, parts, strict=True) if kind
    ]


def _guess(value: str) -> IndicatorKind | None:
    try:
        return guess_kind(value)
    except InvalidIndicator:
        return None


def _ip_or_cidr(kind: IndicatorKind | None, text: str) -> IndicatorKind | None:
    return K.CIDR if kind is K.IP and "/" in text else kind


def _object_values(
    obj: dict[str, Any], relation: str | None, value: str, region: str | None
) -> list[tuple[IndicatorKind | None, str]] | None:
    name = obj["name"]
    if f"{name}/{relation}" not in _RELATIONS:
        return None
    kind = _RELATIONS[f"{name}/{relation}"]
    # Only text relations can be looked up; any other would not even be a key of a dict.
    siblings = {
        a["object_relation"]: a["value"]
        for a in obj.get("Attribute") or []
        if isinstance(a, dict)
        and isinstance(a.get("object_relation"), str)
        and isinstance(a.get("value"), str)
    }
    if name == "telegram-account" and relation == "username":
        value = f"telegram:{value}"
    elif name == "user-account":
        platform = str(siblings.get("account-type") or "").strip().lower()
        if platform not in PLATFORM_ALIASES:
            return None  # an account on a platform scamwall does not pool
        value = f"{platform}:{value}"
    elif name == "bank-account" and relation == "account":
        value = _bank_triple(value, siblings, region)
    elif kind is None:  # an SMS sender: a phone number or an alphanumeric sender ID
        guessed = _guess(value)
        kind = guessed if guessed in (K.PHONE, K.SMS_SENDER) else K.SMS_SENDER
    return [(_ip_or_cidr(kind, value), value)]


def _bank_triple(number: str, siblings: Mapping[str, str], region: str | None) -> str:
    """``COUNTRY:BANK:NUMBER`` from a bank-account object. The template has no country field: it
    comes from the ``text`` scamwall writes, else the BIC, else the region (a local account)."""
    written = siblings.get("text") or ""
    if written.count(":") == 2 and written.rsplit(":", 1)[1].strip() == number.strip():
        return written
    bic = (siblings.get("swift") or "").strip().upper()
    bank = bic or (siblings.get("institution-code") or "").strip()
    if not bank:
        raise RejectedField("value", "an account number needs its bank: swift or institution-code")
    match = _BIC.match(bic)
    country = match["country"] if match else region
    if not country:
        raise RejectedField("value", "an account number needs a country: give swift or a region")
    return f"{country}:{bank}:{number}"


# ---------------------------------------------------------------------------------------- export


def object_shape(indicator: Indicator) -> tuple[str, str, str, list[tuple[str, str]]]:
    """Template, relation and value of the indicator's attribute, and describing attributes
    (relation, value); for a kind not in :data:`ATTRIBUTE_TYPES`."""
    canonical = indicator.canonical
    if indicator.kind is K.PHONE:
        return "phone-number", "phone-number", canonical, []
    if indicator.kind is K.SMS_SENDER:
        return "short-message-service", "from", canonical, []
    if indicator.kind is K.CRYPTO_WALLET:
        symbol = next(
            (s for start, s in _COIN_SYMBOLS.items() if canonical.startswith(start)), None
        )
        relation = "address" if symbol == "BTC" else "address-crypto"
        return "coin-address", relation, canonical, [("symbol", symbol)] if symbol else []
    if indicator.kind is K.HANDLE:
        platform, ident = canonical.split(":", 1)
        if platform == "telegram" and not ident.startswith("+"):
            return "telegram-account", "username", ident, []
        return "user-account", "username", ident, [("account-type", platform)]
    if ":" not in canonical:  # an IBAN
        return "bank-account", "iban", canonical, []
    country, bank, number = canonical.split(":")
    extra = [("institution-code", bank), ("text", canonical)]
    match = _BIC.match(bank)
    if match and match["country"] == country:
        extra.insert(0, ("swift", bank))
    return "bank-account", "account", number, extra
