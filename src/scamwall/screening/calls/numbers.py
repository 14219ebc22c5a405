"""Phone numbers of call-detail records read as libphonenumber reads them, millions at a time.

A CDR's caller and callee are read as intake and real-time screening read a number
(:func:`~scamwall.indicators.phone.canonical_phone`: a national number in the region, trunk and
international prefixes, ``(0)``), so that one number is one indicator whichever path met it.
That parser costs tens of microseconds a number; a switch's day holds millions. So:

- values already E.164 as libphonenumber would give them back pass as written;
- the other distinct values are read by vectorised rules (Polars) wherever a rule provably gives
  what the parser gives: ``00`` or the region's international prefix for ``+``, a national number
  with its trunk prefix, the region's country code written without ``+``. The rules are built
  from libphonenumber's own metadata, and the tests hold them equal to the parser over every
  region's example numbers written in many forms;
- what no rule covers goes through the parser, once per distinct value.

The digits a libphonenumber prefix pattern may start with are read with Python's regular
expression parser (``re._parser``, no public equivalent); a test reads every region's patterns
with it, and a pattern it cannot read sends its numbers to the parser.
"""

from __future__ import annotations

import re
import re._parser as _regex_parser  # type: ignore[import-not-found]  # sre_parse is deprecated
from functools import lru_cache
from typing import Any

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from scamwall.errors import InvalidIndicator
from scamwall.indicators.phone import canonical_phone

__all__ = ["number_column"]


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


def number_column(raw: pl.DataFrame, column: str, region: str | None) -> pl.DataFrame:
    """The column as E.164 (``number``) with the reason a value is not a number (``reason``).
    Values libphonenumber would give back unchanged (what switches write) pass as they are;
    the other distinct values are read in vectorised passes (:func:`_bulk_numbers`) where those
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
