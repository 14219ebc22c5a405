"""Indicators: kinds, parsing to one canonical form, deterministic ids, extraction from text."""

from scamwall.indicators.extract import FoundIndicator, extract_indicators
from scamwall.indicators.kinds import INDICATOR_NAMESPACE, Indicator, IndicatorKind, indicator_id
from scamwall.indicators.parse import guess_kind, parse_indicator, parse_kind

__all__ = [
    "INDICATOR_NAMESPACE",
    "FoundIndicator",
    "Indicator",
    "IndicatorKind",
    "extract_indicators",
    "guess_kind",
    "indicator_id",
    "parse_indicator",
    "parse_kind",
]
