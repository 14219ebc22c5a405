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

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from scamwall.errors import InvalidInput, NotFound
from scamwall.indicators.phone import check_region
from scamwall.screening.calls.numbers import number_column

__all__ = [
    "CDR_COLUMNS",
    "CDR_SCHEMA",
    "MAX_DURATION_S",
    "OPTIONAL_COLUMNS",
    "CdrBatch",
    "normalise_cdrs",
    "read_cdrs",
    "read_csv_records",
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

#: Longest call a record may hold, in seconds. Switches close a CDR within a day (a longer
#: call is written as partial records), so more is a corrupt field; unbounded, one such value
#: (or NaN, inf) would swamp the sums and means the detectors compare with their thresholds.
MAX_DURATION_S = 86_400

_TRUE = ("true", "1", "yes", "y", "t")
_FALSE = ("false", "0", "no", "n", "f")


@dataclass
class CdrBatch:
    """Records that passed, and the rows refused with their line and reason."""

    records: pl.DataFrame
    rejected: list[dict[str, Any]] = field(default_factory=list)


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


_ISO_UTC = "%Y-%m-%dT%H:%M:%S%.fZ"
_NOT_A_NUMBER = "not a phone number (E.164, or local with --region)"


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


def _integral_numbers(frame: pl.DataFrame) -> None:
    """Refuse number columns of floating-point values: a float has lost the number's form (a
    leading 0, a ``+``) and may have lost digits, and reads back with a ``.0``."""
    for column in ("caller", "callee"):
        if frame.schema[column].is_float():
            raise InvalidInput(
                f"CDR column {column} holds floating-point values ({frame.schema[column]}); "
                "write phone numbers as text (E.164, or local with --region) or as integers",
                field=column,
            )


def normalise_cdrs(
    frame: pl.DataFrame,
    *,
    region: str | None = None,
    first_line: int = 2,
    lines: pl.Series | None = None,
) -> CdrBatch:
    """Check and convert raw CDR columns (all text or any types) to :data:`CDR_SCHEMA`; rows
    with a bad value are refused with their line (``first_line`` is the first row's, or
    ``lines`` gives each row's)."""
    missing = [c for c in CDR_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"CDR columns missing: {', '.join(missing)}; a CDR file needs {', '.join(CDR_COLUMNS)}",
            field=missing[0],
        )
    _integral_numbers(frame)
    region = check_region(region)
    raw = frame.select(
        [pl.col(c).cast(pl.String).alias(c) for c in CDR_COLUMNS]
        + [
            (
                pl.col(c).cast(pl.String) if c in frame.columns else pl.lit(None, dtype=pl.String)
            ).alias(c)
            for c in OPTIONAL_COLUMNS
        ]
    )
    raw = (
        raw.with_row_index("line", offset=first_line)
        if lines is None
        else raw.with_columns(line=lines.cast(pl.UInt32))
    )
    answered = pl.col("answered").str.strip_chars().str.to_lowercase()
    caller = number_column(raw, "caller", region)
    callee = number_column(raw, "callee", region)
    converted = raw.with_columns(
        caller_e164=caller.get_column("number"),
        caller_reason=caller.get_column("reason"),
        callee_e164=callee.get_column("number"),
        callee_reason=callee.get_column("reason"),
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
    problems = [
        (
            pl.col("caller_reason").is_not_null(),
            "caller",
            pl.lit(f"{_NOT_A_NUMBER}: ") + pl.col("caller_reason"),
        ),
        (
            pl.col("callee_reason").is_not_null(),
            "callee",
            pl.lit(f"{_NOT_A_NUMBER}: ") + pl.col("callee_reason"),
        ),
        (pl.col("start_utc").is_null(), "start", pl.lit("not an ISO 8601 time")),
        (
            pl.col("duration").is_null()
            | ~pl.col("duration").is_finite()
            | (pl.col("duration") < 0)
            | (pl.col("duration") > MAX_DURATION_S),
            "duration_s",
            pl.lit(f"not a number of seconds from 0 to {MAX_DURATION_S:,}"),
        ),
        (pl.col("answered_bool").is_null(), "answered", pl.lit("not true or false")),
        (
            ~pl.col("direction_norm").fill_null("").is_in(["in", "out"]),
            "direction",
            pl.lit("not 'in' or 'out'"),
        ),
        (
            ~pl.col("country").fill_null("").str.contains(r"^[A-Z]{2}$"),
            "origin_country",
            pl.lit("not an ISO 3166 alpha-2 code"),
        ),
    ]
    reason = pl.lit(None, dtype=pl.String)
    where = pl.lit(None, dtype=pl.String)
    for condition, column, text in reversed(problems):
        reason = pl.when(condition).then(text).otherwise(reason)
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
        try:
            frame = pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise InvalidInput(
                f"{path.name}: not a readable Parquet file ({_first_line(exc)})"
            ) from None
        return normalise_cdrs(frame, region=region)
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.PolarsError:
        return _read_csv_row_by_row(path, region)
    if _newlines(path) != frame.height + 1 and _spans_lines(frame):
        # a CDR is one line: a quote opened on one row and closed on a later one (a stray
        # quote, or a caller id written so) must not make one record of the rows between
        return _read_csv_row_by_row(path, region)
    return normalise_cdrs(frame, region=region)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _newlines(path: Path) -> int:
    """How many lines the file has (a last line without ``\\n`` counted too)."""
    count, last = 0, b"\n"
    with path.open("rb") as data:
        while chunk := data.read(1 << 24):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _spans_lines(frame: pl.DataFrame) -> bool:
    """Whether a value holds a line break (was quoted over several lines)."""
    spans = pl.any_horizontal(
        pl.col(c).str.contains("\n", literal=True).any() for c in frame.columns
    )
    return bool(frame.select(spans).item())


def _read_csv_row_by_row(path: Path, region: str | None) -> CdrBatch:
    with path.open("rb") as data:
        return read_csv_records(data, name=path.name, region=region)


def read_csv_records(
    data: BinaryIO,
    *,
    name: str,
    region: str | None = None,
    first_line: int = 2,
) -> CdrBatch:
    """A CSV (header first) Polars cannot read whole, or not one record a line (a row with
    more fields than the header, a quote not closed on its line, a quote inside an unquoted
    value): each line read on its own, the broken ones refused with their line (``first_line``
    is the first record's), the others written out again as well-formed CSV for Polars. Slower
    than reading the file at once, so only for such files."""
    kept, lines, refused = _scan_csv(data)
    shift = first_line - 2
    for row in refused:
        row["line"] += shift
    if not lines:
        return CdrBatch(pl.DataFrame(schema=pl.Schema(CDR_SCHEMA)), refused)
    try:
        frame = pl.read_csv(kept, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.PolarsError as exc:
        raise InvalidInput(f"{name}: not a CSV file with a header ({_first_line(exc)})") from None
    if frame.height != len(lines):
        raise InvalidInput(f"{name}: not a CSV file with a header (records do not line up)")
    numbers = pl.Series(lines, dtype=pl.Int64)
    order = numbers.arg_sort()
    batch = normalise_cdrs(frame[order], region=region, lines=numbers[order] + shift)
    batch.rejected = sorted(refused + batch.rejected, key=lambda row: int(row["line"]))
    return batch


def _scan_csv(data: BinaryIO) -> tuple[bytes, list[int], list[dict[str, Any]]]:
    """The header and the records it allows, as well-formed CSV, with the line of each (not in
    order); and the lines refused: more fields than the header, or not CSV. A CDR is one line,
    so each line is read on its own: a quote that does not close on its line refuses that line,
    and reading goes on with the next (a stray quote lines later cannot make one record of the
    rows between). Lines without quotes, of at most the header's fields, are CSV as they are
    and kept so, found in bulk; only the others are read by Python's ``csv``."""
    header = next(csv.reader([data.readline().decode("utf-8-sig", errors="replace")]), [])
    width = len(header)
    split = data.read().decode("utf-8", errors="replace").split("\n")
    if split[-1] == "":
        split.pop()  # the last line's end, or no lines
    row = pl.col("row")
    rows = pl.DataFrame({"row": split}, schema={"row": pl.String}).select(
        line=pl.int_range(2, pl.len() + 2, dtype=pl.Int64),
        row=row.str.strip_suffix("\r"),  # as csv reads a CR LF line end
    )
    plain = rows.select(
        (row != "")
        & ~row.str.contains('"', literal=True)
        & ~row.str.contains("\r", literal=True)
        & (row.str.count_matches(",", literal=True) < width)
        & (row.str.len_chars() <= csv.field_size_limit())
    ).to_series()
    kept = [_csv_line(header)]
    as_they_are = rows.filter(plain)
    lines: list[int] = as_they_are["line"].to_list()
    if lines:
        kept.append(as_they_are.select(row.str.join("\n")).item() + "\n")
    refused: list[dict[str, Any]] = []
    for line, value in rows.filter(~plain).iter_rows():
        try:
            record = next(csv.reader([value], strict=True), [])
        except csv.Error as exc:
            error = _NOT_CLOSED if "end of data" in str(exc) else exc
            refused.append({"line": line, "field": None, "error": f"not CSV: {error}"})
            continue
        if len(record) > width:
            error = f"{len(record)} fields where the header has {width}"
            refused.append({"line": line, "field": None, "error": error})
            continue
        # a blank line stays one: a row of empty values, refused by its checks
        kept.append(_csv_line(record or [""] * max(width, 1)))
        lines.append(line)
    return "".join(kept).encode("utf-8"), lines, refused


_NOT_CLOSED = "a quoted value does not close on its line"


def _csv_line(record: list[str]) -> str:
    """A record as one well-formed CSV line."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(record)
    return text.getvalue()
