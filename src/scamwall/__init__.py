"""scamwall: pool, screen and block cross-border online fraud signals across agencies.

The public API is re-exported here; everything else is an implementation detail that may move.
"""

from scamwall.errors import (
    AlreadyExists,
    ConfigurationError,
    InvalidIndicator,
    InvalidInput,
    InvalidRecord,
    NotFound,
    ScamwallError,
    StoreUnavailable,
    UsageError,
)
from scamwall.indicators import (
    FoundIndicator,
    Indicator,
    IndicatorKind,
    extract_indicators,
    guess_kind,
    indicator_id,
    parse_indicator,
)
from scamwall.settings import Settings, get_settings
from scamwall.store import Agency, Sighting, Store
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

__version__ = "0.1.0"

__all__ = [
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
]
