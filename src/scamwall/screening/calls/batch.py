"""Batch call screening, from checked CDRs to flagged numbers: the one definition every engine
runs (the local engine on all the records, the Spark engine on each caller's share of them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from scamwall.indicators import IndicatorKind
from scamwall.reputation.snapshot import ReputationSnapshot
from scamwall.screening.calls.detectors import CallThresholds, detect
from scamwall.screening.calls.features import number_features

__all__ = ["CallScreening", "reported_numbers"]


@dataclass(frozen=True)
class CallScreening:
    """What screening CDRs needs besides the records. Plain data, so an engine can ship it to
    the machines that do the work."""

    #: ISO 3166 alpha-2 country of the operator whose calls are screened.
    home_country: str
    thresholds: CallThresholds = field(default_factory=CallThresholds)
    #: Known victims' numbers (E.164).
    victims: tuple[str, ...] = ()
    #: Numbers with a reputation above 0 (:func:`reported_numbers`).
    reputation: Mapping[str, float] = field(default_factory=dict)

    def flag(self, records: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
        """The flagged numbers and windows of ``records`` (columns of
        :data:`~scamwall.screening.calls.detectors.DETECTION_SCHEMA`), highest score first."""
        features = number_features(
            records,
            victims=self.victims,
            home_country=self.home_country,
            short_call_s=self.thresholds.short_call_s,
        )
        return detect(features, self.thresholds, reputation=self.reputation)


def reported_numbers(snapshot: ReputationSnapshot) -> dict[str, float]:
    """Every phone number the snapshot scores above 0 (allowlist and disputes applied), with
    its score: the reputation behind the ``reported`` pattern."""
    scores = {}
    for entry in snapshot.listed([IndicatorKind.PHONE], min_score=1e-9):
        found = snapshot.lookup_value(IndicatorKind.PHONE, entry.canonical)
        if found is not None and found.score > 0:
            scores[entry.canonical] = found.score
    return scores
