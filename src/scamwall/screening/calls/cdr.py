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
import re
import re._parser as _regex_parser  # type: ignore[import-not-found]  # sre_parse is deprecated
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from scamwall.errors import InvalidIndicator, InvalidInput, NotFound
from scamwall.indicators.phone import canonical_phone, check_region

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


def _leading_digits(pattern: str, skip: str = "") -> frozenset[str]:
    """The digits a match of ``pattern`` (a libphonenumber prefix rule) can start with, once
    the literal ``skip`` it starts with is matched; all ten where the rule is beyond this
    reading, none where it cannot start with ``skip``. An empty match strips nothing."""
    every = frozenset("0123456789")

    def first(items: Any) -> tuple[frozenset[str], bool]:
        found: set[str] = set()
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                return frozenset(found | {chr(arg)}), False
            if name == "IN":
                digits = set()
                for kind, value in arg:
                    if str(kind) == "LITERAL":
                        digits.add(chr(value))
                    elif str(kind) == "RANGE":
                        digits.update(chr(c) for c in range(value[0], value[1] + 1))
                    else:  # a class such as \d, or a negation
                        return every, False
                return frozenset(found | digits), False
            if name == "SUBPATTERN":
                inner, empty = first(arg[-1])
            elif name == "BRANCH":
                parts = [first(branch) for branch in arg[1]]
                inner = frozenset().union(*(part for part, _ in parts))
                empty = any(e for _, e in parts)
            elif name in ("MAX_REPEAT", "MIN_REPEAT"):
                inner, empty = first(arg[2])
                empty = empty or arg[0] == 0
            elif name == "AT":
                continue
            else:
                return every, False
            found |= inner
            if not empty:
                return frozenset(found), False
        return frozenset(found), True

    try:
        items = list(_regex_parser.parse(pattern))
    except (re.error, TypeError, ValueError):
        return every
    for digit in skip:
        start, _ = first(items[:1])
        if digit not in start:
            return frozenset()
        if str(items[0][0]) != "LITERAL":
            return every
        items = items[1:]
    return first(items)[0]


@lru_cache(maxsize=64)
def _national_as_read(region: str | None) -> tuple[str, str, str, int] | None:
    """For a national number of ``region`` written with its trunk prefix (``081 234 5678`` in
    TH), the shape of those libphonenumber reads as the trunk prefix and the national number
    that follows (``+66812345678``), the pattern that number must match (the region's plan),
    the prefix and the country code; None where the region's rules are beyond this."""
    if region is None:
        return None
    metadata = PhoneMetadata.metadata_for_region(region)
    code = metadata.country_code if metadata is not None else None
    prefix = metadata.national_prefix_for_parsing if metadata is not None else None
    if (
        metadata is None
        or code is None
        or metadata.general_desc is None
        or not prefix
        or not prefix.isdigit()
        or prefix.startswith(str(code))  # read as the country code first
        or metadata.national_prefix_transform_rule
    ):
        return None
    international = metadata.international_prefix or ""
    # the prefix followed by these digits would be read as the international prefix
    barred = {"0"} | (_leading_digits(international, prefix) if international else set())
    first = "".join(d for d in "123456789" if d not in barred)
    lengths = sorted(n for n in metadata.general_desc.possible_length if n > 0)
    plan = metadata.general_desc.national_number_pattern
    if not first or not lengths or not plan:
        return None
    # stripped only where the number left matches the plan (and the first digit is no 0, which
    # Italy would keep); accepted only at a length the plan allows
    rest = "|".join(f"[0-9]{{{n - 1}}}" for n in lengths)
    length = f"(?:[{first}](?:{rest}))"
    return rf"^{prefix}{length}$", rf"^(?:{plan})$", prefix, code


@lru_cache(maxsize=1)
def _e164_as_written() -> str:
    """A regular expression for the E.164 text libphonenumber gives back unchanged: ``+``, a
    country calling code, and a national number of a length the code's numbering plan allows
    (``is_possible_number``) whose first digit cannot be read as a trunk prefix (a national
    number starting with 0 keeps it in Italy, loses it elsewhere)."""
    alternatives = []
    for code in sorted(COUNTRY_CODE_TO_REGION_CODE):
        region = phonenumbers.region_code_for_country_code(code)
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
        if metadata is None or metadata.general_desc is None:
            continue
        prefix = metadata.national_prefix_for_parsing
        barred = {"0"} | (_leading_digits(prefix) if prefix else set())
        first = "".join(d for d in "123456789" if d not in barred)
        lengths = sorted(n for n in metadata.general_desc.possible_length if n > 0)
        if not lengths or not first:
            continue
        rest = "|".join(f"[0-9]{{{n - 1}}}" for n in lengths)
        alternatives.append(f"{code}[{first}](?:{rest})")
    return rf"^\+(?:{'|'.join(alternatives)})$"


#: The separators ``canonical_phone`` drops, the ASCII ones: Python and Polars do not count the
#: same Unicode characters as spaces, so a value with another one is left to the parser.
_SEPARATORS = r"[ \t\n\r\f\v().\-/]"
#: The kinds of number ``is_valid_number`` tries, in its order.
_NUMBER_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
)


def _matches_desc(number: pl.Expr, desc: Any) -> pl.Expr:
    """libphonenumber's ``_is_number_matching_desc`` in Polars: a length the description lists
    (when it lists any) and a full match of its pattern."""
    if desc is None or not desc.national_number_pattern:
        return pl.lit(False)
    matches = number.str.contains(rf"^(?:{desc.national_number_pattern})$")
    if desc.possible_length:
        matches = matches & number.str.len_bytes().is_in(list(desc.possible_length))
    return matches


def _valid_in(metadata: PhoneMetadata, national: pl.Expr) -> pl.Expr:
    """``is_valid_number`` in Polars for a national number of the region ``metadata`` tells,
    when that region is the only one of its country code: the plan's, then a type's."""
    types = [_matches_desc(national, getattr(metadata, kind)) for kind in _NUMBER_TYPES]
    if not metadata.same_mobile_and_fixed_line_pattern:
        types.append(_matches_desc(national, metadata.mobile))
    return _matches_desc(national, metadata.general_desc) & pl.any_horizontal(types)


_Rule = tuple[pl.Expr, pl.Expr]


def _bulk_rules(region: str | None) -> list[_Rule]:
    """Vectorised readings of ``compact`` (a value without separators): each a condition and
    the E.164 text ``canonical_phone`` gives where it holds (the tests hold them equal over
    every region): E.164 as written; ``00`` or the region's international prefix for ``+``;
    a national number with its trunk prefix; the region's country code without ``+``."""
    compact = pl.col("compact")
    e164 = _e164_as_written()
    rules: list[_Rule] = [(compact.str.contains(e164), compact)]
    # 00 is + to canonical_phone when the number after it is valid, or there is no region
    plus = "+" + compact.str.slice(2)
    doubled = compact.str.starts_with("00") & plus.str.contains(e164)
    metadata = PhoneMetadata.metadata_for_region(region) if region else None
    if metadata is None or metadata.country_code is None:
        return [*rules, (doubled, plus)]
    code = str(metadata.country_code)
    if COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code) == (region,):
        own = plus.str.starts_with(f"+{code}")
        rules.append((doubled & own & _valid_in(metadata, plus.str.slice(1 + len(code))), plus))
    idd = metadata.international_prefix
    if idd:  # the prefix as libphonenumber matches it: leftmost-first, as Polars does
        end = compact.str.extract(f"^({idd})", 1).str.len_bytes()
        after = "+" + compact.str.slice(end)
        # past 00 the reading above stands, unless the prefix ends there (not TH's 00[1-9])
        ends = ~compact.str.starts_with("00") | (end == 2)
        rules.append(((end > 0) & ends & after.str.contains(e164), after))
    national = _national_as_read(region)
    if national is not None:
        shape, plan, prefix, country = national
        stripped = compact.str.slice(len(prefix))
        read = compact.str.contains(shape) & stripped.str.contains(plan)
        rules.append((read, f"+{country}" + stripped))
    if metadata.general_desc is not None:
        read = _country_code_read(metadata, metadata.general_desc, idd)
        rules.append((read, "+" + compact))
    return rules


def _bulk_numbers(values: pl.Series, region: str | None) -> tuple[pl.DataFrame, pl.Series]:
    """The ``value`` and ``number`` of the values a rule of :func:`_bulk_rules` reads, each
    rule tried on the values the ones before it left; and the values left for the parser."""
    left = values.to_frame("value").with_columns(
        compact=pl.col("value").str.replace_all(_SEPARATORS, "")
    )
    digits = pl.col("compact").str.contains(r"^\+?[0-9]+$").fill_null(False)
    unread = left.filter(~digits).get_column("value")
    left = left.filter(digits)
    read = []
    for condition, number in _bulk_rules(region):
        if left.is_empty():
            break
        left = left.with_columns(hit=condition.fill_null(False))
        read.append(left.filter("hit").select("value", number=number))
        left = left.filter(~pl.col("hit"))
    found = (
        pl.concat(read) if read else pl.DataFrame(schema={"value": pl.String, "number": pl.String})
    )
    return found, pl.concat([unread, left.get_column("value")])


def _country_code_read(metadata: PhoneMetadata, general: Any, idd: str | None) -> pl.Expr:
    """Digits that start with the region's country code and that libphonenumber reads as that
    code and a national number (``66812345678`` in TH, ``_maybe_extract_country_code``): no
    international prefix before, no trunk prefix after the code, and the digits too long for
    the region's plan or matching it only without the code."""
    compact = pl.col("compact")
    code = str(metadata.country_code)
    rest = compact.str.slice(len(code))
    size = compact.str.len_bytes()
    lengths = list(general.possible_length)
    beyond = pl.lit(False)
    if lengths and lengths[0] != -1:
        beyond = (size > max(lengths)) & ~size.is_in(list(general.possible_length_local_only))
    plan = general.national_number_pattern
    if plan:
        beyond = beyond | (
            ~compact.str.contains(f"^(?:{plan})$") & rest.str.contains(f"^(?:{plan})$")
        )
    read = (
        compact.str.contains(r"^[0-9]+$")
        & compact.str.starts_with(code)
        & ("+" + compact).str.contains(_e164_as_written())
        & beyond
    )
    if idd:
        read = read & ~compact.str.contains(f"^(?:{idd})")
    prefix = metadata.national_prefix_for_parsing
    if prefix:  # a trunk prefix after the code would be stripped (or transformed): parser
        found = rest.str.extract(f"^({prefix})", 1)
        if metadata.national_prefix_transform_rule:
            read = read & found.is_null()
        else:
            read = read & (found.fill_null("") == "")
    return read


def _read_numbers(values: pl.Series, region: str | None) -> pl.DataFrame:
    """``number`` (E.164) and ``reason`` (why not) for each distinct value, read by
    :func:`~scamwall.indicators.phone.canonical_phone` as intake and real-time screening read
    a number: a national number in ``region``, trunk and international prefixes, ``(0)``."""
    numbers: list[str | None] = []
    reasons: list[str | None] = []
    for value in values:
        if value is None or not value.strip():
            numbers.append(None)
            reasons.append("missing")
            continue
        try:
            numbers.append(canonical_phone(value, region))
            reasons.append(None)
        except InvalidIndicator as exc:
            numbers.append(None)
            reasons.append(exc.reason)
    return pl.DataFrame(
        {"value": values, "number": numbers, "reason": reasons},
        schema={"value": pl.String, "number": pl.String, "reason": pl.String},
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


_ISO_UTC = "%Y-%m-%dT%H:%M:%S%.fZ"
_NOT_A_NUMBER = "not a phone number (E.164, or local with --region)"


def _number_column(raw: pl.DataFrame, column: str, region: str | None) -> pl.DataFrame:
    """The column as E.164 (``number``) with the reason a value is not a number (``reason``).
    Values libphonenumber would give back unchanged (what switches write) pass as they are;
    the other distinct values are read in vectorised passes (:func:`_bulk_number`) where those
    give what the phone parser gives, and the rest once each by the parser."""
    values = raw.get_column(column)
    as_written = values.str.contains(_e164_as_written()).fill_null(False)
    if as_written.all():
        return values.to_frame("number").with_columns(reason=pl.lit(None, dtype=pl.String))
    found, left = _bulk_numbers(values.filter(~as_written).unique(), region)
    read = pl.concat(
        [found.with_columns(reason=pl.lit(None, dtype=pl.String)), _read_numbers(left, region)]
    )
    return (
        values.to_frame("value")
        .join(read, on="value", how="left", nulls_equal=True, maintain_order="left")
        .select(
            number=pl.when(as_written).then(pl.col("value")).otherwise(pl.col("number")),
            reason=pl.when(as_written).then(None).otherwise(pl.col("reason")),
        )
    )


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
    caller = _number_column(raw, "caller", region)
    callee = _number_column(raw, "callee", region)
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
    lines = None
    if _newlines(path) != frame.height + 1:
        lines = _physical_lines(frame)  # a quoted value spans lines (or blank lines at the end)
    return normalise_cdrs(frame, region=region, lines=lines)


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


def _physical_lines(frame: pl.DataFrame) -> pl.Series:
    """The line each row starts on, counting the line breaks inside quoted values before it."""
    breaks = pl.sum_horizontal(
        pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in frame.columns
    )
    return frame.select(
        (pl.int_range(pl.len()) + 2 + breaks.cum_sum().shift(1, fill_value=0)).alias("line")
    ).to_series()


def _read_csv_row_by_row(path: Path, region: str | None) -> CdrBatch:
    with path.open("rb") as data:
        return read_csv_records(data, name=path.name, region=region)


def read_csv_records(
    data: BinaryIO,
    *,
    name: str,
    region: str | None = None,
    first_line: int = 2,
    one_line: bool = False,
) -> CdrBatch:
    """A CSV (header first) Polars cannot read whole (a row with more fields than the header,
    a quote never closed, a quote inside an unquoted value): each record read by Python's
    ``csv`` on its own, the broken ones refused with their line (``first_line`` is the first
    record's), the others written out again as well-formed CSV for Polars. ``one_line``
    refuses a value quoted over several lines (the Spark engine reads one CDR a line). Slower
    than reading the file at once, so only for such files."""
    kept, lines, spans, refused = _scan_csv(data)
    shift = first_line - 2
    for row in refused:
        row["line"] += shift
    if one_line and spans:
        raise InvalidInput(
            f"line {spans[0] + shift}: a quoted value spans lines; the Spark engine reads one "
            "CDR a line"
        )
    if not lines:
        return CdrBatch(pl.DataFrame(schema=pl.Schema(CDR_SCHEMA)), refused)
    try:
        frame = pl.read_csv(kept, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.PolarsError as exc:
        raise InvalidInput(f"{name}: not a CSV file with a header ({_first_line(exc)})") from None
    if frame.height != len(lines):
        raise InvalidInput(f"{name}: not a CSV file with a header (records do not line up)")
    numbers = pl.Series(lines, dtype=pl.Int64) + shift
    batch = normalise_cdrs(frame, region=region, lines=numbers)
    batch.rejected = sorted(refused + batch.rejected, key=lambda row: int(row["line"]))
    return batch


def _scan_csv(data: BinaryIO) -> tuple[bytes, list[int], list[int], list[dict[str, Any]]]:
    """The header and the records it allows, written again with ``csv.writer``; the first
    line of each of those records, and of those that span lines; and the records refused:
    more fields than the header, or not CSV (a quote never closed is refused on its line, and
    reading goes on with the next)."""
    lines: list[int] = []
    spans: list[int] = []
    refused: list[dict[str, Any]] = []
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    header = next(csv.reader([data.readline().decode("utf-8-sig", errors="replace")]), [])
    writer.writerow(header)
    width = len(header)
    consumed = 1  # lines read so far
    while True:
        resume = data.tell()
        base = consumed
        decoded = (line.decode("utf-8", errors="replace") for line in data)
        reader = csv.reader(decoded, strict=True)
        try:
            for record in reader:
                first, consumed = consumed + 1, base + reader.line_num
                if len(record) > width:
                    refused.append(
                        {
                            "line": first,
                            "field": None,
                            "error": f"{len(record)} fields where the header has {width}",
                        }
                    )
                else:
                    lines.append(first)
                    if consumed > first:
                        spans.append(first)
                    # a blank line stays one: a row of empty values, refused by its checks
                    writer.writerow(record or [""] * max(width, 1))
            break
        except csv.Error as exc:
            first = consumed + 1
            unclosed = "end of data" in str(exc) or "field limit" in str(exc)
            error = "a quote opened on this line is never closed" if unclosed else exc
            refused.append({"line": first, "field": None, "error": f"not CSV: {error}"})
            data.seek(resume)
            for _ in range(first - base):  # resume on the line after the broken record's first
                data.readline()
            consumed = first
    return text.getvalue().encode("utf-8"), lines, spans, refused
