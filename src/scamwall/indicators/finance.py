"""Bank accounts and crypto wallets: where the victims' money goes.

Bank accounts are IBANs (checksum and per-country format from ``python-stdnum``) or, where a
country has no IBAN (China, Thailand, Myanmar, Laos…), ``COUNTRY:BANK:NUMBER``. Bank codes are
kept as given (``KBANK``, a BIC or a national code): the same bank written two ways is two
indicators, a limit of this form.

Wallets are checked against their own checksums: Base58Check (Bitcoin legacy, Litecoin, Dogecoin,
TRON, XRP), Bech32/Bech32m (segwit) and EIP-55 (Ethereum and every EVM chain). USDT on TRON is the
currency of the region's scam compounds.
"""

from __future__ import annotations

import re

import base58
import bech32m
import phonenumbers
from Crypto.Hash import keccak
from stdnum import iban
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from scamwall.errors import InvalidIndicator

__all__ = ["canonical_bank_account", "canonical_wallet", "eip55"]

BANK = "bank_account"
WALLET = "crypto_wallet"

_IBAN_SHAPE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$")
_BANK_CODE = re.compile(r"^[A-Z0-9]{2,11}$")
_ACCOUNT_NUMBER = re.compile(r"^[A-Z0-9]{4,34}$")
_BANK_NOISE = re.compile(r"[\s\-.]")
_IBAN_REASONS: dict[type[ValidationError], str] = {
    InvalidChecksum: "IBAN checksum fails",
    InvalidLength: "IBAN has the wrong length for its country",
    InvalidFormat: "IBAN does not match its country's account format",
    InvalidComponent: "IBAN country or bank part is unknown",
}

_ETH = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BASE58_CHARS = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{25,35}$")
# Base58Check version byte -> chain, for the first byte of the decoded payload.
_BASE58_VERSIONS = {
    0x00: "bitcoin",
    0x05: "bitcoin",  # P2SH; Litecoin's old P2SH shares it
    0x30: "litecoin",
    0x32: "litecoin",
    0x1E: "dogecoin",
    0x16: "dogecoin",
    0x41: "tron",
}
_BECH32_HRPS = {"bc": "bitcoin", "ltc": "litecoin"}


def canonical_bank_account(value: str) -> str:
    """An IBAN without spaces, or ``CC:BANK:NUMBER`` (``TH:KBANK:1234567890``)."""
    text = value.strip().upper()
    compact = _BANK_NOISE.sub("", text)
    if _IBAN_SHAPE.match(compact) and ":" not in text and "/" not in text:
        try:
            return str(iban.validate(compact))
        except ValidationError as exc:
            reason = next(
                (r for cls, r in _IBAN_REASONS.items() if isinstance(exc, cls)), "invalid IBAN"
            )
            raise InvalidIndicator(BANK, reason) from None
    parts = [p for p in re.split(r"[:/]", text) if p.strip()]
    if len(parts) != 3:
        raise InvalidIndicator(
            BANK, "give an IBAN, or COUNTRY:BANK:NUMBER such as TH:KBANK:123-4-56789-0"
        )
    country, bank, number = (_BANK_NOISE.sub("", p) for p in parts)
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidIndicator(BANK, f"unknown country code {country!r}")
    if not _BANK_CODE.match(bank):
        raise InvalidIndicator(BANK, f"bank code {bank!r} must be 2-11 letters or digits")
    if not _ACCOUNT_NUMBER.match(number):
        raise InvalidIndicator(BANK, "account number must be 4-34 letters or digits")
    return f"{country}:{bank}:{number}"


def eip55(address: str) -> str:
    """The EIP-55 mixed-case checksum form of a 20-byte hex address."""
    lower = address.lower().removeprefix("0x")
    digest = keccak.new(digest_bits=256, data=lower.encode("ascii")).hexdigest()
    return "0x" + "".join(
        ch.upper() if ch.isalpha() and int(digest[i], 16) >= 8 else ch for i, ch in enumerate(lower)
    )


def _ethereum(text: str) -> str:
    checksummed = eip55(text)
    body = text[2:]
    if body != body.lower() and body != body.upper() and checksummed != "0x" + body:
        raise InvalidIndicator(WALLET, "EIP-55 checksum fails (the mixed case does not match)")
    return checksummed


def _bech32(text: str) -> str:
    lower = text.lower()
    if text != lower and text != text.upper():
        raise InvalidIndicator(WALLET, "bech32 address mixes upper and lower case")
    hrp = lower.split("1", 1)[0]
    try:
        bech32m.decode(hrp, lower)
    except Exception:  # the library raises bare errors for every kind of bad input
        raise InvalidIndicator(WALLET, "bech32 checksum fails") from None
    return lower


def _base58check(text: str, alphabet: bytes = base58.BITCOIN_ALPHABET) -> bytes:
    try:
        return bytes(base58.b58decode_check(text, alphabet=alphabet))
    except ValueError:
        raise InvalidIndicator(WALLET, "Base58Check checksum fails") from None


def canonical_wallet(value: str) -> str:
    """The address as its chain writes it: EIP-55 for EVM, lower-case Bech32, Base58 as is."""
    text = value.strip()
    if _ETH.match(text):
        return _ethereum(text)
    if "1" in text and text.lower().split("1", 1)[0] in _BECH32_HRPS:
        return _bech32(text)
    if _BASE58_CHARS.match(text):
        if text.startswith("r"):  # XRP: Base58Check over Ripple's own alphabet
            _base58check(text, base58.RIPPLE_ALPHABET)
            return text
        payload = _base58check(text)
        if len(payload) != 21 or payload[0] not in _BASE58_VERSIONS:
            raise InvalidIndicator(WALLET, "unknown address version (not BTC, LTC, DOGE or TRON)")
        return text
    raise InvalidIndicator(
        WALLET, "not a Bitcoin, Ethereum/EVM, TRON, Litecoin, Dogecoin or XRP address"
    )
