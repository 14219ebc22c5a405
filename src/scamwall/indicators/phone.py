"""Phone numbers in E.164, read with Google's libphonenumber metadata (``phonenumbers``)."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

from scamwall.errors import InvalidIndicator

__all__ = ["canonical_phone", "check_region", "valid_phone_in_text"]

KIND = "phone"
_ALLOWED = re.compile(r"^(?:tel:)?[\s+\d().\-/]+$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s().\-/]")

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country calling code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


@lru_cache(maxsize=512)
def check_region(region: str | None) -> str | None:
    """Upper-case a region code and check phonenumbers knows it (``TH``, ``CN``, ``MM``…).
    Asked once a text and once a candidate with the same few codes: the answers are kept
    (not the refusals, which raise)."""
    if region is None or region == "":
        return None
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidIndicator(
            KIND, f"unknown region {region!r}; give an ISO 3166 alpha-2 code such as TH or CN"
        )
    return code


def _parse(text: str, region: str | None) -> PhoneNumber:
    compact = _SEPARATORS.sub("", text.removeprefix("tel:").removeprefix("TEL:"))
    if compact.startswith("00"):
        # Written down, "00" almost always means "+": 0086 138… is a Chinese mobile even in a
        # Thai report, though Thailand's own exit codes (001, 008…) would read it otherwise.
        try:
            international = phonenumbers.parse("+" + compact[2:], None)
            if phonenumbers.is_valid_number(international) or region is None:
                return international
        except NumberParseException:
            if region is None:
                raise InvalidIndicator(KIND, "unknown country calling code after 00") from None
    if not compact.startswith("+") and region is None:
        raise InvalidIndicator(
            KIND,
            "a local number needs a region (e.g. TH) or its +country code",
        )
    try:
        return phonenumbers.parse(compact, region)
    except NumberParseException as exc:
        raise InvalidIndicator(KIND, _PARSE_REASONS.get(exc.error_type, str(exc))) from None


def canonical_phone(value: str, region: str | None = None) -> str:
    """The E.164 form of ``value`` (``+66812345678``).

    Numbers the length of the country's plan are accepted even where the range is not allocated:
    a spoofed caller ID is an indicator too. ``region`` reads local numbers (``081 234 5678``).
    """
    text = value.strip()
    if not _ALLOWED.match(text):
        raise InvalidIndicator(KIND, "only digits, +, spaces, dashes, dots and brackets may appear")
    number = _parse(text, check_region(region))
    national = phonenumbers.national_significant_number(number)
    if not phonenumbers.is_possible_number(number) or (
        national.startswith("0") and not phonenumbers.is_valid_number(number)
    ):  # a leading 0 left in the national number is a trunk prefix of a number cut short
        where = phonenumbers.region_code_for_number(number) or f"+{number.country_code}"
        raise InvalidIndicator(KIND, f"wrong length for a number of {where}")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def valid_phone_in_text(candidate: str, region: str | None) -> str | None:
    """E.164 of a number found in free text, or None; stricter than :func:`canonical_phone`.

    Text is full of digit runs (amounts, codes, dates), so only numbers valid for an allocated
    range count here.
    """
    try:
        number = _parse(candidate, region)
    except InvalidIndicator:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
