"""Call-detail records (CDRs): the columns scamwall reads, and reading them with reasons.

Input: CSV with a header, or Parquet, with the columns

==================  =========================================================================
column              meaning
==================  =========================================================================
``caller``          the calling number: E.164, or local to ``--region``
``callee``          the called number, the same
``start``           when the call started, ISO 8601 (a time without zone is UTC)
``duration_s``      seconds of conversation (0 for an unanswered call)
``answered``        ``true`` / ``false`` (also 1/0, yes/no)
``direction``       ``in`` or ``out``, seen from the operator that wrote the record
``origin_country``  ISO 3166 alpha-2 country the call came from (the trunk's, for SIM boxes
                    the local one)
``cell_id``         optional: the cell the caller's SIM used
``imsi``, ``imei``  optional: the caller's SIM and handset
==================  =========================================================================

Extra columns are ignored. A row with a bad value is rejected with its line number, column and
reason; the others are kept. The records in memory follow :data:`CDR_SCHEMA` (Polars types):
numbers canonical E.164 text, ``start`` a UTC datetime in microseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
import polars as pl

from scamwall.errors import InvalidInput, NotFound

__all__ = [
    "CDR_COLUMNS",
    "CDR_SCHEMA",
    "OPTIONAL_COLUMNS",
    "CdrBatch",
    "normalise_cdrs",
    "read_cdrs",
]

#: The columns every CDR file must have.
CDR_COLUMNS = (
    "caller",
    "callee",
    "start",
    "duration_s",
    "answered",
    "direction",
    "origin_country",
)
#: Columns read when present.
OPTIONAL_COLUMNS = ("cell_id", "imsi", "imei")
#: The records as the analytics read them.
CDR_SCHEMA: Mapping[str, pl.DataType] = {
    "caller": pl.String(),
    "callee": pl.String(),
    "start": pl.Datetime("us", "UTC"),
    "duration_s": pl.Float64(),
    "answered": pl.Boolean(),
    "direction": pl.String(),
    "origin_country": pl.String(),
    "cell_id": pl.String(),
    "imsi": pl.String(),
    "imei": pl.String(),
}

_TRUE = ("true", "1", "yes", "y", "t")
_FALSE = ("false", "0", "no", "n", "f")


@dataclass
class CdrBatch:
    """Records that passed, and the rows refused with their line and reason."""

    records: pl.DataFrame
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _e164(column: str, region: str | None) -> pl.Expr:
    """A number column made E.164 text, vectorised (millions of rows): separators dropped,
    ``+`` and ``00`` international prefixes read, a national number (trunk prefix ``0``) given
    the region's country code. Switches write well-formed numbers; the per-number validation of
    intake (``canonical_phone``) would cost microseconds a row."""
    digits = pl.col(column).cast(pl.String).str.strip_chars().str.replace_all(r"[\s\-().]", "")
    plus = digits.str.starts_with("+")
    international = digits.str.starts_with("00")
    bare = digits.str.replace(r"^\+", "").str.replace(r"^00", "")
    code = phonenumbers.country_code_for_region(region.upper()) if region else None
    code = code or None
    national = (
        pl.lit(f"+{code}") + bare.str.replace(r"^0", "")
        if code is not None
        else pl.lit(None, dtype=pl.String)
    )
    return (
        pl.when(plus | international)
        .then(pl.lit("+") + bare)
        .when(bare.str.starts_with("0"))
        .then(national)
        .otherwise(pl.lit("+") + bare)
    )


def _utc_time(column: str) -> pl.Expr:
    """ISO 8601 text as a UTC datetime: with an offset or ``Z`` converted, without one taken as
    UTC; a space for ``T`` and minutes without seconds accepted."""
    text = (
        pl.col(column)
        .str.strip_chars()
        .str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T")
        .str.replace(r"Z$", "+00:00")
        .str.replace(r"T(\d\d:\d\d)($|[+-])", "T${1}:00${2}")
    )
    with_offset = text.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_unit="us"
    ).dt.convert_time_zone("UTC")
    without = text.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us"
    ).dt.replace_time_zone("UTC")
    return pl.coalesce(with_offset, without)


_E164 = r"^\+[1-9][0-9]{6,14}$"
_ISO_UTC = "%Y-%m-%dT%H:%M:%S%.fZ"


def _number_column(raw: pl.DataFrame, column: str, region: str | None) -> pl.Series:
    """The column as E.164: as it is when every value already is (what switches write: no
    regular expression over millions of rows), else normalised (:func:`_e164`)."""
    values = raw.get_column(column)
    if values.null_count() == 0 and values.str.contains(_E164).all():
        return values
    return raw.select(_e164(column, region)).to_series()


def _time_column(raw: pl.DataFrame, column: str) -> pl.Series:
    """The column as UTC datetimes: one fast parse when every value is ISO 8601 with ``Z``,
    the general forms (:func:`_utc_time`) only for the rows it could not read."""
    text = raw.get_column(column)
    fast = text.str.to_datetime(_ISO_UTC, strict=False, time_unit="us", time_zone="UTC")
    missed = fast.is_null() & text.is_not_null()
    if not missed.any():
        return fast
    general = raw.select(_utc_time(column)).to_series()
    return pl.select(pl.when(missed).then(general).otherwise(fast)).to_series()


def normalise_cdrs(
    frame: pl.DataFrame, *, region: str | None = None, first_line: int = 2
) -> CdrBatch:
    """Check and convert raw CDR columns (all text or any types) to :data:`CDR_SCHEMA`; rows
    with a bad value are refused with their line (``first_line`` is the first row's)."""
    missing = [c for c in CDR_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"CDR columns missing: {', '.join(missing)}; a CDR file needs {', '.join(CDR_COLUMNS)}",
            field=missing[0],
        )
    raw = frame.select(
        [pl.col(c).cast(pl.String).alias(c) for c in CDR_COLUMNS]
        + [
            (
                pl.col(c).cast(pl.String) if c in frame.columns else pl.lit(None, dtype=pl.String)
            ).alias(c)
            for c in OPTIONAL_COLUMNS
        ]
    ).with_row_index("line", offset=first_line)
    answered = pl.col("answered").str.strip_chars().str.to_lowercase()
    converted = raw.with_columns(
        caller_e164=_number_column(raw, "caller", region),
        callee_e164=_number_column(raw, "callee", region),
        start_utc=_time_column(raw, "start"),
        duration=pl.col("duration_s").str.strip_chars().cast(pl.Float64, strict=False),
        answered_bool=pl.when(answered.is_in(_TRUE))
        .then(True)
        .when(answered.is_in(_FALSE))
        .then(False)
        .otherwise(None),
        direction_norm=pl.col("direction").str.strip_chars().str.to_lowercase(),
        country=pl.col("origin_country").str.strip_chars().str.to_uppercase(),
    )
    valid_number = r"^\+[1-9][0-9]{6,14}$"
    problems = [
        (
            ~pl.col("caller_e164").fill_null("").str.contains(valid_number),
            "caller",
            "not a phone number (E.164, or local with --region)",
        ),
        (
            ~pl.col("callee_e164").fill_null("").str.contains(valid_number),
            "callee",
            "not a phone number (E.164, or local with --region)",
        ),
        (pl.col("start_utc").is_null(), "start", "not an ISO 8601 time"),
        (
            pl.col("duration").is_null() | (pl.col("duration") < 0),
            "duration_s",
            "not a number of seconds >= 0",
        ),
        (pl.col("answered_bool").is_null(), "answered", "not true or false"),
        (
            ~pl.col("direction_norm").fill_null("").is_in(["in", "out"]),
            "direction",
            "not 'in' or 'out'",
        ),
        (
            ~pl.col("country").fill_null("").str.contains(r"^[A-Z]{2}$"),
            "origin_country",
            "not an ISO 3166 alpha-2 code",
        ),
    ]
    reason = pl.lit(None, dtype=pl.String)
    where = pl.lit(None, dtype=pl.String)
    for condition, column, text in reversed(problems):
        reason = pl.when(condition).then(pl.lit(text)).otherwise(reason)
        where = pl.when(condition).then(pl.lit(column)).otherwise(where)
    checked = converted.with_columns(reason=reason, field=where)
    bad = checked.filter(pl.col("reason").is_not_null())
    good = checked.filter(pl.col("reason").is_null()).select(
        caller=pl.col("caller_e164"),
        callee=pl.col("callee_e164"),
        start=pl.col("start_utc"),
        duration_s=pl.col("duration"),
        answered=pl.col("answered_bool"),
        direction=pl.col("direction_norm"),
        origin_country=pl.col("country"),
        cell_id=pl.col("cell_id"),
        imsi=pl.col("imsi"),
        imei=pl.col("imei"),
    )
    rejected = [
        {"line": row["line"], "field": row["field"], "error": row["reason"]}
        for row in bad.select("line", "field", "reason").iter_rows(named=True)
    ]
    return CdrBatch(good.cast(pl.Schema(CDR_SCHEMA)), rejected)


def read_cdrs(path: Path, *, region: str | None = None) -> CdrBatch:
    """Read a CSV (with header) or Parquet CDR file; bad rows refused with line and reason."""
    if not path.is_file():
        raise NotFound(f"no file {path}")
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pl.read_parquet(path)
    else:
        try:
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
        except pl.exceptions.PolarsError as exc:
            raise InvalidInput(f"{path.name}: not a CSV file with a header ({exc})") from None
    return normalise_cdrs(frame, region=region)
