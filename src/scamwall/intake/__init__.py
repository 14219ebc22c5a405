"""Bulk intake of CSV, JSON and NDJSON files, with reject files and safe re-runs."""

from scamwall.intake.readers import FORMATS, guess_format, read_records
from scamwall.intake.records import KNOWN_FIELDS, RecordDefaults, sighting_from_record
from scamwall.intake.run import IntakeOptions, IntakeReport, ingest_file, reject_path_for

__all__ = [
    "FORMATS",
    "KNOWN_FIELDS",
    "IntakeOptions",
    "IntakeReport",
    "RecordDefaults",
    "guess_format",
    "ingest_file",
    "read_records",
    "reject_path_for",
    "sighting_from_record",
]
