"""Screening: pure functions that judge messages, calls and web addresses against a snapshot."""
