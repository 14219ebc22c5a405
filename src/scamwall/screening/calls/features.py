"""Behaviour of each calling number, window by window, from call-detail records.

:func:`number_features` turns CDRs (:data:`~scamwall.screening.calls.cdr.CDR_SCHEMA`) into one
row per calling number (``caller``) per tumbling window. Windows are a floor of ``start`` on the
local clock (counted from 1970-01-01 00:00 local time, so a window that divides a day starts at
local midnight): with the defaults (24 h, UTC+7) a window runs from one Thai midnight to the
next, and an ordinary subscriber's day is not cut in two. Every share is over all the calls of
the number in the window.

===========================  ===================================================================
column                       meaning
===========================  ===================================================================
``number``                   the calling number (E.164)
``window_start``             start of the window (UTC datetime; local midnight by default)
``window_end``               end of the window, excluded
``calls``                    calls made in the window
``calls_per_hour``           calls per hour of activity: over the time from the first call to the
                             last, and at least one hour
``distinct_callees``         distinct numbers called
``short_share``              share of calls under ``short_call_s`` seconds; an unanswered call
                             lasts 0 s, so it counts as short
``answer_rate``              share of calls answered
``zero_duration_share``      share of calls of 0 s
``night_share``              share of calls started in ``night_hours``, local time
``inbound_share``            share of calls of direction ``in`` (reaching the network from another)
``international_share``      share of calls crossing the border: to a number outside the home
                             country code, or inbound from a foreign ``origin_country``
``foreign_origin_share``     share of calls with an ``origin_country`` other than home
``victim_contacts``          distinct numbers called that are known victims
``victim_contacts_overall``  the same over all the records given, not only the window: calling
                             victims is slow (a few a day over days), so a window sees part of it
``cells``                    distinct ``cell_id`` the number's calls used (0 when none is known)
``imsis_per_imei``           the most SIMs (IMSIs) any handset (IMEI) of the number's calls in the
                             window was seen with, across all the records given (0: no IMEI)
``imeis_per_imsi``           the most handsets any SIM of those calls was seen in, the same way
``domestic_caller``          the number carries the home country code
===========================  ===================================================================

The work is one lazy Polars query run by the streaming engine, with no Python per record: times
are integer arithmetic on the epoch microseconds; numbers, cells, IMSIs and IMEIs are hashed to
64-bit integers before they are counted or joined (two values of one window sharing a hash is
vanishingly unlikely, and would only lower a distinct count by one); conditions are summed per
window and divided once per row of the result; handset sharing is counted once over the
distinct (IMEI, IMSI) pairs of all records and joined back to the calls.

Everything but handset sharing is per calling number, so records split by caller give the same
rows as all of them at once. Handset sharing crosses numbers: an engine that splits the records
(:mod:`scamwall.engines.spark`) counts it over all of them first and hands the counts in as the
:data:`HANDSET_COLUMNS`, which are then used as they are.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import timedelta

import phonenumbers
import polars as pl

from scamwall.errors import InvalidInput
from scamwall.screening.calls.cdr import CDR_COLUMNS, CDR_SCHEMA, OPTIONAL_COLUMNS

__all__ = ["FEATURE_COLUMNS", "FEATURE_SCHEMA", "HANDSET_COLUMNS", "number_features"]

#: The columns of :func:`number_features`, in order, with their types.
FEATURE_SCHEMA: Mapping[str, pl.DataType] = {
    "number": pl.String(),
    "window_start": pl.Datetime("us", "UTC"),
    "window_end": pl.Datetime("us", "UTC"),
    "calls": pl.UInt32(),
    "calls_per_hour": pl.Float64(),
    "distinct_callees": pl.UInt32(),
    "short_share": pl.Float64(),
    "answer_rate": pl.Float64(),
    "zero_duration_share": pl.Float64(),
    "night_share": pl.Float64(),
    "inbound_share": pl.Float64(),
    "international_share": pl.Float64(),
    "foreign_origin_share": pl.Float64(),
    "victim_contacts": pl.UInt32(),
    "victim_contacts_overall": pl.UInt32(),
    "cells": pl.UInt32(),
    "imsis_per_imei": pl.UInt32(),
    "imeis_per_imsi": pl.UInt32(),
    "domestic_caller": pl.Boolean(),
}
#: The feature columns, in order.
FEATURE_COLUMNS = tuple(FEATURE_SCHEMA)

#: Handset sharing counted beforehand over all the records, per call: how many IMSIs the call's
#: IMEI, and how many IMEIs its IMSI, were seen with (null when the call has none).
HANDSET_COLUMNS = ("imsis_of_imei", "imeis_of_imsi")

_US_PER_HOUR = 3_600_000_000
# Helper columns of the query, dropped from the result.
_START = "_start_us"
_WINDOW = "_window_us"
_CALLEE = "_callee_key"
_VICTIM = "_victim_key"
_CELL = "_cell_key"
_IMEI = "_imei_key"
_IMSI = "_imsi_key"
_IMSIS = "_imsis_of_imei"
_IMEIS = "_imeis_of_imsi"


def _country_prefix(home_country: str) -> str:
    """``+66`` for ``TH``: the E.164 prefix of a region (country codes are a prefix code)."""
    code = phonenumbers.country_code_for_region(home_country.upper())
    if not code:
        raise InvalidInput(
            f"unknown home country {home_country!r}; give an ISO 3166 alpha-2 code such as TH",
            field="home_country",
        )
    return f"+{code}"


def _check_options(window: timedelta, night_hours: tuple[int, int], short_call_s: float) -> None:
    """Refuse options that would make no sense as windows, hours or durations."""
    if window <= timedelta(0) or window % timedelta(microseconds=1):
        raise InvalidInput(
            f"window must be a positive whole number of microseconds, not {window}", field="window"
        )
    if not all(0 <= hour <= 24 for hour in night_hours):
        raise InvalidInput(
            f"night hours must be hours of the day 0-24, not {night_hours}", field="night_hours"
        )
    if short_call_s < 0:
        raise InvalidInput(
            f"short_call_s must be >= 0 seconds, not {short_call_s}", field="short_call_s"
        )


def _with_optional_columns(records: pl.LazyFrame) -> pl.LazyFrame:
    """The records with every CDR column, optional ones null when absent."""
    present = records.collect_schema().names()
    missing = [c for c in CDR_COLUMNS if c not in present]
    if missing:
        raise InvalidInput(
            f"CDR columns missing: {', '.join(missing)}; records need {', '.join(CDR_COLUMNS)}",
            field=missing[0],
        )
    absent = [c for c in OPTIONAL_COLUMNS if c not in present]
    if absent:
        records = records.with_columns(pl.lit(None, dtype=CDR_SCHEMA[c]).alias(c) for c in absent)
    return records


def _key(column: str) -> pl.Expr:
    """A 64-bit hash of a text column; null stays null."""
    return pl.when(pl.col(column).is_not_null()).then(pl.col(column).hash())


def _distinct_known(column: str) -> pl.Expr:
    """Distinct values of a column in a group, null not counted."""
    return pl.col(column).n_unique() - pl.col(column).is_null().any().cast(pl.UInt32)


def _is_night(local_hour: pl.Expr, night_hours: tuple[int, int]) -> pl.Expr:
    """Whether a local hour is in ``[first, last)``, wrapping past midnight (``(22, 5)``)."""
    first, last = night_hours
    if first <= last:
        return (local_hour >= first) & (local_hour < last)
    return (local_hour >= first) | (local_hour < last)


def _with_handset_sharing(calls: pl.LazyFrame) -> pl.LazyFrame:
    """Each call with how many IMSIs its IMEI, and how many IMEIs its IMSI, were seen with in
    all the records (a SIM box's slots show up in other numbers' calls too)."""
    pairs = calls.select(_IMEI, _IMSI).drop_nulls().unique()
    per_imei = pairs.group_by(_IMEI).agg(pl.len().alias(_IMSIS))
    per_imsi = pairs.group_by(_IMSI).agg(pl.len().alias(_IMEIS))
    return calls.join(per_imei, on=_IMEI, how="left").join(per_imsi, on=_IMSI, how="left")


def _with_victim_contacts(per_window: pl.LazyFrame, calls: pl.LazyFrame) -> pl.LazyFrame:
    """The distinct victims each number called, in each window and in all the records. Calls
    to victims are few: counted apart, they spare the main grouping a distinct count."""
    to_victims = calls.filter(pl.col(_VICTIM).is_not_null())
    in_window = to_victims.group_by("caller", _WINDOW).agg(
        pl.col(_VICTIM).n_unique().alias("victim_contacts")
    )
    overall = to_victims.group_by("caller").agg(
        pl.col(_VICTIM).n_unique().alias("victim_contacts_overall")
    )
    return (
        per_window.join(in_window, on=["caller", _WINDOW], how="left")
        .join(overall, on="caller", how="left")
        .with_columns(pl.col("victim_contacts", "victim_contacts_overall").fill_null(0))
    )


def number_features(
    records: pl.LazyFrame | pl.DataFrame,
    *,
    victims: Collection[str] = (),
    home_country: str = "TH",
    window: timedelta = timedelta(hours=24),
    night_hours: tuple[int, int] = (0, 6),
    utc_offset_hours: int = 7,
    short_call_s: float = 10.0,
) -> pl.DataFrame:
    """One row of behaviour features per calling number per window (columns in the module
    docstring), in no particular order; no records give an empty frame of those columns.

    ``victims`` are known victims' numbers (E.164); ``home_country`` is the ISO 3166 alpha-2
    country of the network; ``night_hours`` is ``[first, last)`` on the local clock of
    ``utc_offset_hours``, which also aligns the windows.
    """
    _check_options(window, night_hours, short_call_s)
    prefix = _country_prefix(home_country)
    home = home_country.upper()
    window_us = window // timedelta(microseconds=1)
    offset_us = utc_offset_hours * _US_PER_HOUR
    cdrs = _with_optional_columns(records.lazy())
    handsets_given = set(HANDSET_COLUMNS) <= set(cdrs.collect_schema().names())

    inbound = pl.col("direction") == "in"
    foreign = pl.col("origin_country") != home
    local_us = pl.col(_START) + offset_us
    # Conditions counted per window; each feature is its count over the calls.
    shares = {
        "short_share": pl.col("duration_s") < short_call_s,
        "answer_rate": pl.col("answered"),
        "zero_duration_share": pl.col("duration_s") == 0,
        "night_share": _is_night((local_us // _US_PER_HOUR) % 24, night_hours),
        "inbound_share": inbound,
        "international_share": ~pl.col("callee").str.starts_with(prefix) | (inbound & foreign),
        "foreign_origin_share": foreign,
    }
    victim_numbers = list(dict.fromkeys(victims))
    victim_list = pl.Series(victim_numbers, dtype=pl.String).implode()
    # Only narrow columns go on: the joins and the grouping then move numbers, not text.
    calls = cdrs.with_columns(pl.col("start").dt.epoch("us").alias(_START)).select(
        "caller",
        _START,
        ((local_us // window_us) * window_us - offset_us).alias(_WINDOW),
        pl.col("callee").hash().alias(_CALLEE),
        pl.when(pl.col("callee").is_in(victim_list)).then(pl.col("callee").hash()).alias(_VICTIM),
        _key("cell_id").alias(_CELL),
        _key("imei").alias(_IMEI),
        _key("imsi").alias(_IMSI),
        *(condition.fill_null(False).alias(name) for name, condition in shares.items()),
        *(
            (pl.col(HANDSET_COLUMNS[0]).alias(_IMSIS), pl.col(HANDSET_COLUMNS[1]).alias(_IMEIS))
            if handsets_given
            else ()
        ),
    )
    per_window = (
        (calls if handsets_given else _with_handset_sharing(calls))
        .group_by("caller", _WINDOW)
        .agg(
            pl.len().alias("calls"),
            (pl.col(_START).max() - pl.col(_START).min()).alias("_span_us"),
            pl.col(_CALLEE).n_unique().alias("distinct_callees"),
            _distinct_known(_CELL).alias("cells"),
            pl.col(_IMSIS).max().fill_null(0).alias("imsis_per_imei"),
            pl.col(_IMEIS).max().fill_null(0).alias("imeis_per_imsi"),
            *(pl.col(name).sum() for name in shares),
        )
    )
    with_victims = (
        _with_victim_contacts(per_window, calls)
        if victim_numbers
        else per_window.with_columns(
            pl.lit(0).alias("victim_contacts"), pl.lit(0).alias("victim_contacts_overall")
        )
    )
    span_hours = pl.col("_span_us") / _US_PER_HOUR
    features = with_victims.with_columns(
        number=pl.col("caller"),
        window_start=pl.col(_WINDOW).cast(pl.Datetime("us", "UTC")),
        window_end=(pl.col(_WINDOW) + window_us).cast(pl.Datetime("us", "UTC")),
        calls_per_hour=pl.col("calls") / pl.max_horizontal(span_hours, pl.lit(1.0)),
        domestic_caller=pl.col("caller").str.starts_with(prefix),
        **{name: pl.col(name) / pl.col("calls") for name in shares},
    ).select(pl.col(name).cast(dtype) for name, dtype in FEATURE_SCHEMA.items())
    return features.collect(engine="streaming")
