"""Reputation: scores derived from sightings, allowlists that always win, immutable snapshots."""
