"""Closed vocabularies shared by every part: TLP 2.0, source kinds, agency kinds.

Values are the words of the standards where one exists (FIRST TLP 2.0); parsing is lenient about
case, spacing and the ``TLP:`` prefix, so values copied from reports and feeds are accepted.
"""

from __future__ import annotations

from enum import StrEnum

from scamwall.errors import InvalidRecord

__all__ = ["AgencyKind", "SourceKind", "Tlp", "parse_tlp"]


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 markings, least to most restricted."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"


_TLP_ALIASES = {
    "white": Tlp.CLEAR,  # TLP 1.0 name of CLEAR
    "amber-strict": Tlp.AMBER_STRICT,
    "amber_strict": Tlp.AMBER_STRICT,
    "amberstrict": Tlp.AMBER_STRICT,
    "amber strict": Tlp.AMBER_STRICT,
}


def parse_tlp(value: str) -> Tlp:
    """Read a TLP marking such as ``TLP:AMBER+STRICT``, ``amber`` or the TLP 1.0 ``WHITE``."""
    text = value.strip().lower()
    text = text.removeprefix("tlp:").removeprefix("tlp ").strip()
    try:
        return Tlp(text)
    except ValueError:
        if text in _TLP_ALIASES:
            return _TLP_ALIASES[text]
    choices = ", ".join(t.value for t in Tlp)
    raise InvalidRecord(f"unknown TLP {value!r}; use one of {choices}", field="tlp")


class SourceKind(StrEnum):
    """How the reporting agency came to see the indicator."""

    VICTIM_REPORT = "victim_report"
    PUBLIC_REPORT = "public_report"
    TELECOM_DETECTION = "telecom_detection"
    POLICE_CASE = "police_case"
    BANK_REPORT = "bank_report"
    PARTNER_FEED = "partner_feed"
    ANALYST = "analyst"
    AGENCY_UPLOAD = "agency_upload"
    ENFORCEMENT_RECEIPT = "enforcement_receipt"

    @classmethod
    def parse(cls, value: str) -> SourceKind:
        """Read a source kind, accepting spaces or dashes for underscores."""
        text = value.strip().lower().replace(" ", "_").replace("-", "_")
        try:
            return cls(text)
        except ValueError:
            choices = ", ".join(k.value for k in cls)
            raise InvalidRecord(
                f"unknown source kind {value!r}; use one of {choices}", field="source_kind"
            ) from None


class AgencyKind(StrEnum):
    """What kind of organisation an agency is."""

    POLICE = "police"
    TELECOM_REGULATOR = "telecom_regulator"
    INTERNET_REGULATOR = "internet_regulator"
    CERT = "cert"
    EMBASSY = "embassy"
    BANK = "bank"
    OPERATOR = "operator"
