"""Reputation: scores derived from sightings, allowlists that always win, immutable snapshots."""

from __future__ import annotations

from scamwall.reputation.allowlist import load_allowlist
from scamwall.reputation.scoring import ScoringRules
from scamwall.reputation.snapshot import ReputationSnapshot, build_snapshot
from scamwall.settings import Settings
from scamwall.store import Store

__all__ = ["rules_from_settings", "snapshot_for"]


def rules_from_settings(settings: Settings) -> ScoringRules:
    """The scoring rules the settings describe."""
    return ScoringRules.from_settings(
        half_life_days=settings.reputation_half_life_days,
        agency_trust=settings.reputation_agency_trust,
        max_tlp=settings.reputation_max_tlp,
    )


def snapshot_for(store: Store | None, settings: Settings) -> ReputationSnapshot:
    """A fresh snapshot of ``store`` (or of no store: the allowlist alone) per the settings."""
    allowlist = load_allowlist(store, shipped=settings.reputation_shipped_allowlist)
    return build_snapshot(store, rules_from_settings(settings), allowlist=allowlist)
