"""The public API is exactly `scamwall.__all__`; changing it is a decision, made here."""

from __future__ import annotations

import scamwall

PUBLIC = {
    "Agency",
    "AgencyKind",
    "AlreadyExists",
    "ConfigurationError",
    "FoundIndicator",
    "Indicator",
    "IndicatorKind",
    "InvalidIndicator",
    "InvalidInput",
    "InvalidRecord",
    "NotFound",
    "ScamwallError",
    "Settings",
    "Sighting",
    "SourceKind",
    "Store",
    "StoreUnavailable",
    "Tlp",
    "UsageError",
    "__version__",
    "extract_indicators",
    "get_settings",
    "guess_kind",
    "indicator_id",
    "parse_indicator",
}


def test_public_api_is_frozen() -> None:
    assert set(scamwall.__all__) == PUBLIC
    for name in scamwall.__all__:
        assert hasattr(scamwall, name), name
