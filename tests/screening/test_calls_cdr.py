"""Reading call-detail records: columns, conversions, and rows refused with line and reason."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scamwall.errors import InvalidIndicator, InvalidInput, NotFound
from scamwall.indicators.phone import canonical_phone
from scamwall.screening.calls import numbers
from scamwall.screening.calls.cdr import CDR_SCHEMA, read_cdrs, read_csv_records
from scamwall.screening.calls.numbers import (
    _e164_as_written,
    _leading_digits,
    _national_as_read,
    number_column,
)

HEADER = "caller,callee,start,duration_s,answered,direction,origin_country,cell_id,extra\n"


def _write(tmp_path: Path, rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "cdr.csv"
    path.write_text(header + rows, encoding="utf-8")
    return path


def test_good_rows_are_converted_and_bad_ones_refused_with_their_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "081-234-5678,+8613800138000,2026-11-30T10:00:00+07:00,12,true,out,th,C1,x\n"
        "+66812345679,004420 7946 0958,2026-11-30 03:00Z,0,no,IN,TH,,y\n"
        "not a number,+66812345678,2026-11-30T10:00:00,5,true,out,TH,C1,z\n"
        "+66812345679,+66812345678,yesterday,5,true,out,TH,C1,z\n"
        "+66812345679,+66812345678,2026-11-30T10:00:00,-3,true,out,TH,C1,z\n"
        "+66812345679,+66812345678,2026-11-30T10:00:00,3,maybe,out,TH,C1,z\n"
        "+66812345679,+66812345678,2026-11-30T10:00:00,3,true,sideways,TH,C1,z\n"
        "+66812345679,+66812345678,2026-11-30T10:00:00,3,true,out,Thailand,C1,z\n",
    )
    batch = read_cdrs(path, region="TH")
    assert batch.records.schema == pl.Schema(CDR_SCHEMA)
    first, second = batch.records.iter_rows(named=True)
    assert first["caller"] == "+66812345678"
    assert first["start"] == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert first["answered"] is True
    assert first["cell_id"] == "C1"
    assert second["callee"] == "+442079460958"
    assert second["direction"] == "in"
    assert second["duration_s"] == 0.0
    assert [(r["line"], r["field"]) for r in batch.rejected] == [
        (4, "caller"),
        (5, "start"),
        (6, "duration_s"),
        (7, "answered"),
        (8, "direction"),
        (9, "origin_country"),
    ]


def _one_call(**columns: list[object]) -> pl.DataFrame:
    """One call's record as a frame, with ``columns`` in place of the defaults."""
    return pl.DataFrame(
        {
            "caller": ["+66812345678"],
            "callee": ["+66812345679"],
            "start": ["2026-11-30T10:00:00Z"],
            "duration_s": [30],
            "answered": [True],
            "direction": ["out"],
            "origin_country": ["TH"],
            **columns,
        }
    )


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    frame = _one_call()
    path = tmp_path / "cdr.parquet"
    frame.write_parquet(path)
    batch = read_cdrs(path)
    assert batch.rejected == []
    assert batch.records["duration_s"].to_list() == [30.0]
    assert batch.records["imsi"].to_list() == [None]


def test_missing_columns_and_files_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "+66812345678,+66812345679\n", header="caller,callee\n")
    with pytest.raises(InvalidInput, match="start, duration_s, answered"):
        read_cdrs(path)
    with pytest.raises(NotFound):
        read_cdrs(tmp_path / "missing.csv")


ROW = ",2026-11-30T10:00:00Z,5,true,out,TH,C1,x\n"


@pytest.mark.parametrize(
    ("written", "region", "e164"),
    [
        ("13800138000", "CN", "+8613800138000"),
        ("2025550123", "US", "+12025550123"),
        ("0612345678", "IT", "+390612345678"),
        ("+66 (0)81 234 5678", "TH", "+66812345678"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        ("001 44 20 7946 0958", "TH", "+442079460958"),
        ("0812345678", "TH", "+66812345678"),
        ("+8613800138000", "TH", "+8613800138000"),
    ],
)
def test_numbers_are_read_as_libphonenumber_reads_them(
    tmp_path: Path, written: str, region: str, e164: str
) -> None:
    path = _write(tmp_path, f'"{written}",+66812345679{ROW}')
    batch = read_cdrs(path, region=region)
    assert batch.rejected == []
    assert batch.records["caller"].to_list() == [e164]
    assert canonical_phone(written, region) == e164


def test_numbers_that_do_not_parse_are_refused_with_the_reason(tmp_path: Path) -> None:
    path = _write(tmp_path, f"+1234567,+66812345679{ROW}0812345678,+66812345679{ROW}")
    batch = read_cdrs(path)
    assert batch.records.height == 0
    assert batch.rejected == [
        {
            "line": 2,
            "field": "caller",
            "error": "not a phone number (E.164, or local with --region): "
            "wrong length for a number of +1",
        },
        {
            "line": 3,
            "field": "caller",
            "error": "not a phone number (E.164, or local with --region): "
            "a local number needs a region (e.g. TH) or its +country code",
        },
    ]


def test_numbers_kept_as_written_are_what_the_phone_parser_gives() -> None:
    shape = re.compile(_e164_as_written())
    region_checks = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number(region)
        if example is None:
            continue
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        if shape.match(e164):
            assert canonical_phone(e164) == e164
        national = _national_as_read(region)
        if national is not None:
            written = national[2] + phonenumbers.national_significant_number(example)
            if re.match(national[0], written) and re.match(
                national[1], written[len(national[2]) :]
            ):
                assert canonical_phone(written, region) == e164
                region_checks += 1
    assert region_checks > 50


REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


def _as_canonical(value: str, region: str | None) -> tuple[str | None, str | None]:
    try:
        return canonical_phone(value, region), None
    except InvalidIndicator as exc:
        return None, exc.reason


def _read_as_canonical(values: list[str], region: str | None) -> list[tuple[str, str | None]]:
    """The values the CDR reader reads otherwise than ``canonical_phone``, with the region."""
    read = number_column(pl.DataFrame({"n": values}, schema={"n": pl.String}), "n", region)
    found = zip(read["number"].to_list(), read["reason"].to_list(), strict=True)
    return [
        (value, region)
        for value, got in zip(values, found, strict=True)
        if got != _as_canonical(value, region)
    ]


def _spaced(text: str, cuts: list[int], separator: str) -> str:
    for cut in sorted(set(cuts), reverse=True):
        text = text[:cut] + separator + text[cut:]
    return text


def _written_forms(e164: str, region: str | None, national: str) -> list[str]:
    """A number as CDRs write it: E.164, with separators, after 00 or an exit code, without
    +, and the region's own number ``national`` with and without code and trunk prefix."""
    digits = e164[1:]
    forms = [e164, _spaced(e164, [3, 5, 8], " "), f"00{digits}", f"011{digits}", digits]
    forms += [f"001{digits}", f"0011{digits}", f"810{digits}", f"00 {digits[:2]}-{digits[2:]}"]
    if region is not None:
        code = str(phonenumbers.country_code_for_region(region))
        forms += [code + national, f"00{code}{national}", f"0{national}", national]
        forms += [f"{code}{national}1", f"{code}{national[:-1]}", f"{code}0{national}"]
        forms += [_spaced(f"{code}{national}", [len(code), len(code) + 2], "-")]
    return forms


def _count_parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The values the phone parser reads one by one, as they come (the others are read in
    bulk)."""
    parsed: list[str] = []
    reader = numbers._read_numbers

    def counted(values: pl.Series, region: str | None) -> pl.DataFrame:
        parsed.extend(values.drop_nulls().to_list())
        return reader(values, region)

    monkeypatch.setattr(numbers, "_read_numbers", counted)
    return parsed


def test_every_region_reads_numbers_in_bulk_as_the_phone_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each vectorised reading (E.164, separators, 00 and exit codes, trunk prefix, country
    code without +) against ``canonical_phone``, on every type's example number of every
    region written in every form, each region reading the others' numbers too."""
    examples = []
    for home in REGIONS:
        for kind in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(home, kind)
            if example is not None:
                examples.append((home, example))
    parsed = _count_parsed(monkeypatch)
    wrong = []
    written = 0
    for region in [None, *REGIONS]:
        values = []
        for index, (home, number) in enumerate(examples):
            if region is not None and home != region and (index + REGIONS.index(region)) % 400:
                continue  # every region's own numbers, and a sample of the others'
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            national = phonenumbers.national_significant_number(number)
            values += _written_forms(e164, region, national)
        written += len(set(values))
        wrong += _read_as_canonical(values, region)
    assert wrong == []
    assert written - len(parsed) > written // 4  # many forms are meant for the parser


@settings(max_examples=300, deadline=None)
@given(
    st.from_regex(_e164_as_written(), fullmatch=True),
    st.sampled_from([None, *REGIONS]),
    st.from_regex(r"[0-9]{1,16}", fullmatch=True).filter(str.isascii),
    st.lists(st.integers(1, 12), max_size=3),
    st.sampled_from([" ", "-", ".", "/", "(", ")", "\t"]),
)
def test_any_number_read_in_bulk_is_what_the_phone_parser_gives(
    number: str, region: str | None, national: str, cuts: list[int], separator: str
) -> None:
    assert canonical_phone(number) == number
    forms = _written_forms(number, region, national)
    forms += [_spaced(form, cuts, separator) for form in forms]
    assert _read_as_canonical(forms, region) == []


def test_common_forms_of_numbers_are_read_in_bulk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MSISDNs without +, 00-prefixed numbers and numbers with separators are what switches
    write; read one at a time by the parser, 100,000 distinct took seconds."""
    parsed = _count_parsed(monkeypatch)
    callers = [
        "66812345678",
        "0066812345679",
        "+66 81 234 5670",
        "081-234-5671",
        "00 66 81 234 5672",
    ]
    rows = "".join(f"{caller},+66812345679{ROW}" for caller in callers)
    batch = read_cdrs(_write(tmp_path, rows), region="TH")
    assert batch.rejected == []
    assert batch.records["caller"].to_list() == [
        "+66812345678",
        "+66812345679",
        "+66812345670",
        "+66812345671",
        "+66812345672",
    ]
    assert parsed == []


def test_leading_digits_reads_every_region_s_prefix_rules() -> None:
    """``_leading_digits`` reads libphonenumber's patterns with Python's private regular
    expression parser: a change there must show here, not as a wrong number."""
    digits = frozenset("0123456789")
    patterns = 0
    for region in REGIONS:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        assert metadata is not None
        international = metadata.international_prefix or ""
        prefix = metadata.national_prefix_for_parsing or ""
        for pattern in (international, prefix):
            if pattern:
                patterns += 1
                assert _leading_digits(pattern) <= digits
                assert _leading_digits(pattern) != frozenset()
        if international and prefix.isdigit():
            assert _leading_digits(international, prefix) <= digits
    assert _leading_digits("00[1-9]", "0") == frozenset("0")
    assert _leading_digits("00[1-9]", "00") == frozenset("123456789")
    assert _leading_digits("0|180020") == frozenset("01")
    assert patterns > 300


def test_floating_point_number_columns_are_refused(tmp_path: Path) -> None:
    frame = _one_call(caller=[66812345678.0])
    path = tmp_path / "cdr.parquet"
    frame.write_parquet(path)
    with pytest.raises(InvalidInput, match="caller holds floating-point values") as caught:
        read_cdrs(path, region="TH")
    assert caught.value.details["field"] == "caller"
    frame.with_columns(pl.col("caller").cast(pl.Int64)).write_parquet(path)
    assert read_cdrs(path, region="TH").records["caller"].to_list() == ["+66812345678"]


@pytest.mark.parametrize("duration", ["NaN", "inf", "-inf", "1e308", "86401"])
def test_durations_that_are_no_length_of_a_call_are_refused(tmp_path: Path, duration: str) -> None:
    good = "+66812345678,+66812345679,2026-11-30T10:00:00Z,86400,true,out,TH,C1,x\n"
    bad = f"+66812345678,+66812345679,2026-11-30T10:00:00Z,{duration},true,out,TH,C1,x\n"
    batch = read_cdrs(_write(tmp_path, good + bad))
    assert batch.records["duration_s"].to_list() == [86400.0]
    assert batch.rejected == [
        {"line": 3, "field": "duration_s", "error": "not a number of seconds from 0 to 86,400"}
    ]


GOOD = "+66812345678,+66812345679,2026-11-30T10:00:00Z,5,true,out,TH,C1,x\n"


def test_a_row_with_extra_fields_is_refused_alone(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + GOOD.replace(",x\n", ",x,y\n") + GOOD)
    batch = read_cdrs(path)
    assert batch.records.height == 2
    assert batch.rejected == [
        {"line": 3, "field": None, "error": "10 fields where the header has 9"}
    ]


def test_a_quote_never_closed_is_refused_on_its_line_and_reading_goes_on(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + GOOD.replace("C1", '"C1') + GOOD + GOOD)
    batch = read_cdrs(path)
    assert batch.records.height == 3
    assert [(r["line"], r["field"]) for r in batch.rejected] == [(3, None)]
    assert "quote" in batch.rejected[0]["error"]


def test_a_stray_quote_inside_a_value_is_refused_on_its_row(tmp_path: Path) -> None:
    stray = GOOD.replace("+66812345678", '+668999"99999', 1)
    batch = read_cdrs(_write(tmp_path, GOOD + stray + GOOD + GOOD.replace(",x\n", ",x,y\n")))
    assert batch.records.height == 2
    assert [(r["line"], r["field"]) for r in batch.rejected] == [(3, "caller"), (5, None)]
    assert "only digits" in batch.rejected[0]["error"]


NOT_CLOSED = {
    "line": 3,
    "field": None,
    "error": "not CSV: a quoted value does not close on its line",
}
STRAY = {
    "line": 5,
    "field": "caller",
    "error": "not a phone number (E.164, or local with --region): "
    "only digits, +, spaces, dashes, dots and brackets may appear",
}
#: A caller id written ``"+66811111111`` and one written ``+66822222222"`` two rows later.
SPANNING = (
    GOOD
    + GOOD.replace("+66812345678", '"+66811111111', 1)
    + GOOD.replace("+66812345678", "+66812345670", 1)
    + GOOD.replace("+66812345678", '+66822222222"', 1)
    + GOOD.replace("+66812345678", "+66812345671", 1)
)


@pytest.mark.parametrize("extra", ["", GOOD.replace(",x\n", ",x,y\n")], ids=["whole", "by-record"])
def test_a_quote_closed_rows_later_refuses_the_row_it_opens_on_alone(
    tmp_path: Path, extra: str
) -> None:
    """A CDR is one line: a quote closed rows later must not make one record of the rows
    between (whose calls vanished); the rows after the broken one are read on their own."""
    batch = read_cdrs(_write(tmp_path, SPANNING + extra))
    assert batch.records["caller"].to_list() == ["+66812345678", "+66812345670", "+66812345671"]
    assert batch.rejected[:2] == [NOT_CLOSED, STRAY]
    assert [r["line"] for r in batch.rejected[2:]] == ([7] if extra else [])


def test_a_task_s_lines_are_refused_as_the_local_engine_refuses_them(tmp_path: Path) -> None:
    """The Spark engine reads a task's lines under the header, with the line of its first."""
    local = read_cdrs(_write(tmp_path, SPANNING))
    task = read_csv_records(io.BytesIO((HEADER + SPANNING).encode()), name="task", first_line=12)
    assert task.records.equals(local.records)
    assert task.rejected == [{**NOT_CLOSED, "line": 13}, {**STRAY, "line": 15}]


ROWS = {
    "good": GOOD,
    "quoted": GOOD.replace("+66812345678", '"+66 81 234 5678"', 1),
    "opens": GOOD.replace("+66812345678", '"+66811111111', 1),
    "closes": GOOD.replace("+66812345678", '+66822222222"', 1),
    "extra": GOOD.replace(",x\n", ",x,y\n"),
    "blank": "\n",
}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(sorted(ROWS)), max_size=40), st.booleans())
def test_each_line_of_a_csv_read_record_by_record_is_read_on_its_own(
    kinds: list[str], crlf: bool
) -> None:
    """Each good row is kept, in file order; each other one is refused once, on its line."""
    rows = [
        ROWS[kind].replace("+66812345679", f"+6681234{line:04d}")
        for line, kind in enumerate(kinds, 2)
    ]
    text = HEADER + "".join(rows)
    data = (text.replace("\n", "\r\n") if crlf else text).encode()
    batch = read_csv_records(io.BytesIO(data), name="cdr.csv")
    kept = [line for line, kind in enumerate(kinds, 2) if kind in ("good", "quoted")]
    assert batch.records["callee"].to_list() == [f"+6681234{line:04d}" for line in kept]
    refused = [line for line in range(2, len(kinds) + 2) if line not in kept]
    assert [r["line"] for r in batch.rejected] == refused
    broken = [line for line, kind in enumerate(kinds, 2) if kind in ("opens", "extra")]
    assert [r["line"] for r in batch.rejected if r["field"] is None] == broken


def test_a_file_that_is_not_parquet_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_text("garbage\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad\.parquet: not a readable Parquet file"):
        read_cdrs(path)
